package authz

import (
	"context"

	"github.com/scopegate/authz/storage"
)

// viewGraph runs fn in a View with the graph of the revision the View sees.
func (c *Client) viewGraph(ctx context.Context, fn func(tx storage.Tx, g *graph) error) error {
	var seq uint64
	if c.versioner != nil {
		seq = c.versioner.Version()
	}
	return c.store.View(ctx, func(tx storage.Tx) error {
		g, err := c.graphAt(tx, seq, true)
		if err != nil {
			return err
		}
		return fn(tx, g)
	})
}
