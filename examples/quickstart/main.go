// Command quickstart builds a small two-tenant SaaS authorization model in
// one atomic batch, asks a dozen questions and prints what was decided and
// why. By default it uses an in-memory store; -db names a bbolt file instead
// (the model is loaded once; later runs reuse it).
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -db quickstart.bolt
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

func main() {
	db := flag.String("db", "", "bbolt `file` to use instead of an in-memory store")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *db); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run opens the store (memstore, or a bbolt file when path is set), loads
// the model unless it is there already, and prints one line per request.
func run(ctx context.Context, w io.Writer, path string) (err error) {
	var s storage.Storage
	if path == "" {
		s = memstore.New()
	} else {
		bs, err := boltstore.Open(path, nil)
		if err != nil {
			return err
		}
		s = bs
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	c, err := authz.New(s, nil)
	if err != nil {
		return err
	}
	if _, err := c.GetScope(ctx, "acme"); errors.Is(err, authz.ErrNotFound) {
		res, err := c.Apply(authz.WithActor(ctx, "alice"), model())
		if err != nil {
			return fmt.Errorf("load model: %w", err)
		}
		fmt.Fprintf(w, "loaded %d scopes, %d subjects, %d resources in one batch\n\n", len(res.Scopes), len(res.Subjects), len(res.Resources))
	} else if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tDECISION\tWHY")
	for _, r := range requests() {
		d, err := c.Evaluate(ctx, r.in)
		if err != nil {
			return fmt.Errorf("%s: %w", r.what, err)
		}
		verdict := "denied"
		if d.Allowed {
			verdict = "allowed"
		}
		fmt.Fprintf(tw, "%s\t%s (%s)\t%s\n", r.what, verdict, d.DecidedBy, d.Explanation)
	}
	return tw.Flush()
}
