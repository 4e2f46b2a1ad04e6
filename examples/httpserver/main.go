// Command httpserver serves the original Bedrock HTTP API on top of the
// authz library (the server is internal/httpapi, which uses only the
// library's public API and net/http; the authz command's serve runs the
// same). Every route needs "Authorization: Bearer <token>".
//
//	go run ./examples/httpserver -token secret            # memstore on :3000
//	go run ./examples/httpserver -db authz.bolt -addr :8080
//	go run ./examples/httpserver -pg postgres://localhost/app   # shared by every instance
//
// The token comes from -token or the AUTHZ_TOKEN environment variable, and
// writes are attributed to -actor. For a server used by several people or
// services, -tokens FILE gives one token per line, each with the subject id
// its writes are attributed to (createdBy, appliedBy, the default ownerId):
//
//	# token        actor
//	9f2c…e1        subject_alice
//	77ab…0c        subject_ci
//	b3d1…aa                        # no actor: "system"
//
// -token and -tokens may be given together. Tokens are compared in
// constant time and never logged.
//
// # Routes
//
// GET / lists every route (method, path, summary) and GET /openapi.json is
// an OpenAPI 3.1 document of them, both made from the table the server
// routes by. Besides POST /<kind>, POST /<kind>/batch, GET /<kind>?filters,
// GET, PATCH and DELETE /<kind>/{id} for every kind, there are the
// hierarchy queries (/scopes/{id}/parents, children, ancestors,
// descendants; the same under /resources/{id}/, with ?cascadeOnly=true),
// roles and permissions by scope, subjects by external id, the scope
// overrides by kind (GET at a scope, PUT of the state by id, PUT and DELETE
// by the scope and the role and/or permission ids), collection members and
// test, policies for a resource or collection, POST /evaluate, the
// lookups, GET /changes, and POST /batch: objects of several kinds in one
// atomic request, created in dependency order.
//
// Every list answers {"items": [...], "next": "<id>"}: next, present when
// more remain, is the after of the next page; limit is at most
// -max-lookup-limit, which is also the page of a list without a limit.
//
// # Request log
//
// Each request is logged to stderr (log/slog, text) once answered: method,
// route pattern, path, status, duration and a request id, which the answer
// carries in the X-Request-Id header.
//
// # Limits
//
// The server bounds what a client can hold of it. Each bound is a flag;
// every flag must be positive.
//
//	-read-header-timeout 5s   reading a request's line and headers
//	-read-timeout 10s         reading a whole request, headers and body
//	-write-timeout 20s        from the end of the headers to the end of the answer
//	                          (longer than -handler-timeout)
//	-idle-timeout 1m0s        a keep-alive connection waiting for its next request
//	-handler-timeout 15s      answering a request once its headers are read
//	-max-header-bytes 65536   the request line and headers
//	-max-concurrent 32        requests being answered at once
//	-max-body-bytes 10485760  the body of a write (create, batch, patch)
//	-max-context-bytes 65536  the context of an evaluate or lookup body
//	-max-lookup-limit 1000    the page of a lookup
//	-max-evaluation-cost 100000  the operations of conditions, match definitions
//	                             and patterns one decision of one subject may spend
//	                             (authz.Options.MaxEvaluationCost; a decision that
//	                             runs out is a denial that says so)
//
// The body of a request is read within -handler-timeout too; the default
// -read-timeout is shorter, so that a body that arrives too slowly is
// answered 408 and the route has the rest of the time for its work.
//
// What happens when a bound is reached:
//
//   - Headers that do not arrive within -read-header-timeout, or a body
//     that does not arrive within -read-timeout, close the connection (a
//     body cut off is answered 408 timeout first). A slow client holds a
//     connection (and, with the token, one of the -max-concurrent slots)
//     for at most -read-timeout.
//   - A request without the right token is answered 401 unauthenticated
//     before its body is read, with "Connection: close"; the connection is
//     closed at most 100 ms later (what of the body has arrived by then is
//     discarded, at most 256 KiB, so that the client reads the answer
//     rather than a connection reset).
//   - When -max-concurrent requests are being answered, another one is
//     answered 503 unavailable with "Retry-After: 1", its body unread, and
//     its connection closed as for a wrong token. 503 rather than 429: the
//     limit is the server's, shared by every client, not a client's rate.
//   - A request not answered within -handler-timeout is answered 503
//     timeout with "Connection: close"; its context is cancelled, so the
//     library stops at its next check of it, a read of its body in progress
//     fails, and whatever the route would write later is discarded.
//     The request still counts against -max-concurrent until the library
//     returns. A write that times out may have been applied: read it back.
//     The handler time includes reading the body.
//   - A client that closes its connection cancels the request's context
//     once its body has been read (net/http watches the connection from
//     then on); the library returns the context's error, and the answer
//     (503 canceled) goes nowhere.
//   - An answer not written within -write-timeout (counted from the end of
//     the headers) is cut off and the connection closed.
//   - A connection idle for -idle-timeout between requests is closed.
//   - A body larger than its bound is answered 413 too_large, before it is
//     read when its Content-Length says so. An evaluate or lookup body may
//     be at most -max-context-bytes plus 64 KiB long, and its context, as
//     written, at most -max-context-bytes; the message names the context.
//   - A lookup without a limit gets -max-lookup-limit as its limit (its
//     next says where the following page starts); a larger limit is
//     refused with 400.
//
// # Request bodies
//
// A body must be one JSON value of the route's shape, and is refused with
// 400 invalid_argument when it has a field the shape does not, a key given
// twice in one object (at any depth, free-form objects such as meta and
// conditions included), a field name that differs from the documented one
// in case only ("TYPEID" for "typeId"), a string or key that is not valid
// UTF-8 (invalid bytes or a \u escape of a lone surrogate), or nesting
// deeper than 128 levels. The message starts with the JSON path of the
// value, [2].memberships[0].roleIds for instance; in a batch the error
// also has one item with the index of the input and the path within it as
// field. Query parameters of the list routes follow the same rules.
//
// # Read your writes
//
// A request that wrote answers the revision it committed in the
// Authz-Revision header. An evaluate or lookup body may carry
// "consistency": {"atLeastRevision": N} to be answered from that revision
// or a later one (waiting, within -handler-timeout, for the server to have
// it), or {"fullyConsistent": true}.
//
// # Errors
//
// Every error is answered with the body
//
//	{"error":{"code":"…","message":"…","items":[…]}}
//
// where items, present for batch errors, has an index, an optional id and
// field, a code and a message per failing input. The codes:
//
//	400 invalid_argument    the request is malformed or invalid
//	401 unauthenticated     missing or wrong bearer token
//	404 not_found           an id of the path names nothing
//	404 no_route            no route has this path (GET / lists them)
//	405 method_not_allowed  the route does not take the method
//	3xx redirect            the path is not in canonical form
//	408 timeout             the body did not arrive within -read-timeout
//	409 already_exists      the id (or a unique key) is taken
//	413 too_large           a body, a context or a batch is too large
//	422 unknown_reference   an id of the body names nothing (items name the
//	                        kind, index and field in a batch)
//	422 unknown_actor       the actor (or onBehalfOf) of an evaluate or
//	                        lookup is no subject: 422 rather than 404, as the
//	                        route exists and the body is well formed
//	422 not_allowed         the model does not allow the write
//	503 unavailable         -max-concurrent requests are being answered
//	503 timeout             not answered within -handler-timeout
//	503 canceled            the request's context was cancelled
//	500 internal            anything else (the message says no more)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/httpapi"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
)

func main() {
	addr := flag.String("addr", ":3000", "listen `address`")
	db := flag.String("db", "", "bbolt `file` (default: an in-memory store)")
	pg := flag.String("pg", "", "PostgreSQL connection `URL`, for a store every instance of the server shares (instead of -db)")
	// The environment's token is read after the flags, not given as the
	// flag's default: the usage (-h, a mistyped flag) would print it.
	token := flag.String("token", "", "bearer `token` every request must carry (default $AUTHZ_TOKEN)")
	actor := flag.String("actor", "", "subject `id` writes with -token are attributed to (createdBy, appliedBy; default \"system\")")
	tokens := flag.String("tokens", "", "`file` of \"token actor\" lines: several tokens, each attributed to its actor")
	lim := httpapi.DefaultLimits()
	lim.Register(flag.CommandLine)
	flag.Parse()
	if *token == "" {
		*token = os.Getenv("AUTHZ_TOKEN")
	}
	if err := run(*addr, *db, *pg, *token, *actor, *tokens, lim); err != nil {
		log.Fatal(err)
	}
}

func run(addr, db, pg, token, actor, tokensFile string, lim httpapi.Limits) error {
	tokens, err := httpapi.Tokens(token, actor, tokensFile)
	if err != nil {
		return fmt.Errorf("httpserver: %w: pass -token, -tokens or set AUTHZ_TOKEN", err)
	}
	if err := lim.Check(); err != nil {
		return err
	}
	var store storage.Storage
	switch {
	case db != "" && pg != "":
		return errors.New("httpserver: -db and -pg name two stores: give one")
	case db != "":
		bs, err := boltstore.Open(db, nil)
		if err != nil {
			return err
		}
		store = bs
	case pg != "":
		ps, err := pgstore.Open(context.Background(), pg, nil)
		if err != nil {
			return err
		}
		store = ps
	default:
		store = memstore.New()
	}
	defer store.Close()
	c, err := authz.New(store, &authz.Options{MaxEvaluationCost: lim.MaxEvaluationCost})
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := httpapi.NewServer(addr, httpapi.NewHandlerWith(c, httpapi.Config{Tokens: tokens, Limits: lim, Logger: logger}), lim)
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
