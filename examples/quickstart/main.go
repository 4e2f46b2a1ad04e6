// Command quickstart builds a small two-tenant SaaS authorization model in
// one atomic batch, asks a dozen questions and prints what was decided and
// why. By default it uses an in-memory store; -db names a bbolt file
// instead, and -pg a PostgreSQL database (the model is loaded once; later
// runs reuse it).
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -db quickstart.bolt
//	go run ./examples/quickstart -pg postgres://localhost/app
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
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
)

func main() {
	db := flag.String("db", "", "bbolt `file` to use instead of an in-memory store")
	pg := flag.String("pg", "", "PostgreSQL connection `URL` to use instead of an in-memory store")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *db, *pg); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run opens the store (memstore, a bbolt file when path is set, or the
// PostgreSQL database of pgURL), loads the model unless it is there
// already, and prints one line per request.
func run(ctx context.Context, w io.Writer, path, pgURL string) (err error) {
	var s storage.Storage
	switch {
	case path != "" && pgURL != "":
		return errors.New("-db and -pg name two stores: give one")
	case path != "":
		bs, err := boltstore.Open(path, nil)
		if err != nil {
			return err
		}
		s = bs
	case pgURL != "":
		ps, err := pgstore.Open(ctx, pgURL, nil)
		if err != nil {
			return err
		}
		s = ps
	default:
		s = memstore.New()
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
