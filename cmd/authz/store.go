package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
)

// storeFlags adds --db, --pg and --pg-schema to cmd.
func storeFlags(cmd *cobra.Command, e *env) {
	cmd.Flags().StringVar(&e.db, "db", "", "the bolt file of the store (created if missing)")
	cmd.Flags().StringVar(&e.pg, "pg", "", "the PostgreSQL connection URL of the store")
	cmd.Flags().StringVar(&e.pgSchema, "pg-schema", pgstore.DefaultSchema, "the PostgreSQL schema of the store (with --pg)")
}

// openStore opens the store the flags name and a Client on it. The caller
// closes the store.
func (e *env) openStore(ctx context.Context) (storage.Storage, *authz.Client, error) {
	var (
		s   storage.Storage
		err error
	)
	switch {
	case e.db != "" && e.pg != "":
		return nil, nil, usageError{errors.New("--db and --pg name two stores: give one")}
	case e.db != "":
		s, err = boltstore.Open(e.db, nil)
	case e.pg != "":
		s, err = pgstore.Open(ctx, e.pg, &pgstore.Options{Schema: e.pgSchema, NoListen: !e.listen})
	default:
		return nil, nil, usageError{errors.New("no store: give --db FILE or --pg URL")}
	}
	if err != nil {
		return nil, nil, err
	}
	// Each command makes at most one evaluation or lookup: the graph is
	// built by the first, if any (serve makes its own Client).
	c, err := authz.New(s, &authz.Options{DeferGraph: true})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, c, nil
}

// withStore runs fn with the store the flags name, and closes it.
func (e *env) withStore(ctx context.Context, fn func(s storage.Storage, c *authz.Client) error) error {
	s, c, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	err = fn(s, c)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// progress reports the progress of long work on w: a progress bar when w
// is a terminal, otherwise a line every few seconds and one at the end.
// total is -1 when unknown. The returned functions report the count done
// so far and the end.
func progress(w io.Writer, total int64, what string) (update func(done int64), finish func()) {
	if isTerminal(w) {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		return func(done int64) { _ = bar.Set64(done) }, func() { _ = bar.Finish() }
	}
	// Quick work prints nothing: the first line comes after a few seconds.
	start, last := time.Now(), time.Time{}
	var count int64
	line := func() {
		if total >= 0 {
			fmt.Fprintf(w, "%s: %d of %d\n", what, count, total)
		} else {
			fmt.Fprintf(w, "%s: %d\n", what, count)
		}
	}
	return func(done int64) {
			count = done
			if time.Since(start) >= 2*time.Second && time.Since(last) >= 2*time.Second {
				last = time.Now()
				line()
			}
		}, func() {
			if !last.IsZero() {
				line()
			}
		}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
