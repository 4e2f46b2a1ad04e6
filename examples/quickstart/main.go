// Command quickstart checks that a store works: it writes a key, reads it
// back and says so. By default it uses an in-memory store; -db names a bbolt
// file instead.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -db quickstart.bolt
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

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

// run opens the store (memstore, or a bbolt file when path is set), writes
// and reads back a key, and reports to w.
func run(ctx context.Context, w io.Writer, path string) (err error) {
	var s storage.Storage
	name := "memstore"
	if path == "" {
		s = memstore.New()
	} else {
		bs, err := boltstore.Open(path, nil)
		if err != nil {
			return err
		}
		s, name = bs, "boltstore "+path
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()

	const table, key, value = "greetings", "hello", "world"
	err = s.Update(ctx, func(tx storage.Tx) error {
		return tx.Put(table, key, []byte(value))
	})
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	var got []byte
	err = s.View(ctx, func(tx storage.Tx) error {
		var err error
		got, err = tx.Get(table, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if string(got) != value {
		return fmt.Errorf("read back %s/%s: got %q; want %q", table, key, got, value)
	}
	_, err = fmt.Fprintf(w, "%s works: wrote and read back %s/%s = %q\n", name, table, key, got)
	return err
}
