// Command httpserver serves the original Bedrock HTTP API on top of the
// authz library, using only its public API and net/http. Every route needs
// "Authorization: Bearer <token>".
//
//	go run ./examples/httpserver -token secret            # memstore on :3000
//	go run ./examples/httpserver -db authz.bolt -addr :8080
//
// The token comes from -token or the AUTHZ_TOKEN environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

func main() {
	addr := flag.String("addr", ":3000", "listen `address`")
	db := flag.String("db", "", "bbolt `file` (default: an in-memory store)")
	token := flag.String("token", os.Getenv("AUTHZ_TOKEN"), "bearer `token` every request must carry (default $AUTHZ_TOKEN)")
	actor := flag.String("actor", "", "subject `id` writes are attributed to (createdBy, appliedBy; default \"system\")")
	flag.Parse()
	if err := run(*addr, *db, *token, *actor); err != nil {
		log.Fatal(err)
	}
}

func run(addr, db, token, actor string) error {
	if token == "" {
		return errors.New("httpserver: a token is required: pass -token or set AUTHZ_TOKEN")
	}
	var store storage.Storage = memstore.New()
	if db != "" {
		bs, err := boltstore.Open(db, nil)
		if err != nil {
			return err
		}
		store = bs
	}
	defer store.Close()
	c, err := authz.New(store, nil)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: newHandler(c, token, actor), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("httpserver: listening on %s", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("httpserver: shutdown: %w", err)
	}
	return nil
}
