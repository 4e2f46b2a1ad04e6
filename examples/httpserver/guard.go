package main

import (
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/scopegate/authz"
)

// limits bounds what a connection and a request may take of the server.
// Each field has a flag; the package documentation gives their defaults
// and what happens when one is reached.
type limits struct {
	ReadHeaderTimeout time.Duration // -read-header-timeout
	ReadTimeout       time.Duration // -read-timeout
	WriteTimeout      time.Duration // -write-timeout
	IdleTimeout       time.Duration // -idle-timeout
	HandlerTimeout    time.Duration // -handler-timeout
	MaxHeaderBytes    int           // -max-header-bytes
	MaxConcurrent     int           // -max-concurrent
	MaxBodyBytes      int64         // -max-body-bytes
	MaxContextBytes   int           // -max-context-bytes
	MaxLookupLimit    int           // -max-lookup-limit
}

// defaultLimits returns the defaults of the flags.
func defaultLimits() limits {
	return limits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       60 * time.Second,
		HandlerTimeout:    15 * time.Second,
		MaxHeaderBytes:    64 << 10,
		MaxConcurrent:     32,
		MaxBodyBytes:      10 << 20,
		MaxContextBytes:   64 << 10,
		MaxLookupLimit:    1000,
	}
}

// register defines a flag for every field of l, with l's values as the
// defaults.
func (l *limits) register(fs *flag.FlagSet) {
	fs.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", l.ReadHeaderTimeout, "longest time to read a request's headers")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", l.ReadTimeout, "longest time to read a request, headers and body")
	fs.DurationVar(&l.WriteTimeout, "write-timeout", l.WriteTimeout, "longest time from the end of a request's headers to the end of its answer; more than -handler-timeout")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", l.IdleTimeout, "longest time a keep-alive connection waits for its next request")
	fs.DurationVar(&l.HandlerTimeout, "handler-timeout", l.HandlerTimeout, "longest time to answer a request once its headers are read (503 timeout after it)")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", l.MaxHeaderBytes, "largest request line and headers, in bytes")
	fs.IntVar(&l.MaxConcurrent, "max-concurrent", l.MaxConcurrent, "most requests answered at once (503 unavailable beyond)")
	fs.Int64Var(&l.MaxBodyBytes, "max-body-bytes", l.MaxBodyBytes, "largest body of a write (create, batch, patch), in bytes")
	fs.IntVar(&l.MaxContextBytes, "max-context-bytes", l.MaxContextBytes, "largest context of an evaluate or lookup body, in bytes as written")
	fs.IntVar(&l.MaxLookupLimit, "max-lookup-limit", l.MaxLookupLimit, "largest page of a lookup, and the page of one without a limit")
}

// check reports a limit that is not positive, or a write timeout that
// would cut the answer of a request that times out.
func (l limits) check() error {
	for _, v := range []struct {
		name string
		ok   bool
	}{
		{"read-header-timeout", l.ReadHeaderTimeout > 0}, {"read-timeout", l.ReadTimeout > 0}, {"write-timeout", l.WriteTimeout > 0},
		{"idle-timeout", l.IdleTimeout > 0}, {"handler-timeout", l.HandlerTimeout > 0}, {"max-header-bytes", l.MaxHeaderBytes > 0},
		{"max-concurrent", l.MaxConcurrent > 0}, {"max-body-bytes", l.MaxBodyBytes > 0}, {"max-context-bytes", l.MaxContextBytes > 0},
		{"max-lookup-limit", l.MaxLookupLimit > 0},
	} {
		if !v.ok {
			return fmt.Errorf("httpserver: -%s must be positive", v.name)
		}
	}
	if l.WriteTimeout <= l.HandlerTimeout {
		return errors.New("httpserver: -write-timeout must be longer than -handler-timeout, or the answer of a request that times out could not be written")
	}
	return nil
}

// newHTTPServer returns a server for h on addr with the timeouts and header
// limit of lim.
func newHTTPServer(addr string, h http.Handler, lim limits) *http.Server {
	srv := &http.Server{Addr: addr, Handler: h}
	configure(srv, lim)
	return srv
}

// configure sets the timeouts and header limit of lim on srv.
func configure(srv *http.Server, lim limits) {
	srv.ReadHeaderTimeout = lim.ReadHeaderTimeout
	srv.ReadTimeout = lim.ReadTimeout
	srv.WriteTimeout = lim.WriteTimeout
	srv.IdleTimeout = lim.IdleTimeout
	srv.MaxHeaderBytes = lim.MaxHeaderBytes
}

// refuseGrace is how long a refused request's connection stays open after
// the answer: the server then discards what of the body has arrived (at
// most 256 KiB, net/http's rule) rather than reset the connection under a
// client that sent its body at once, and a client that holds its body back
// is cut off.
const refuseGrace = 100 * time.Millisecond

// refuse answers a request it does not read the body of: the error body,
// "Connection: close", and the connection closed within refuseGrace.
func refuse(w http.ResponseWriter, code int, name, msg string) {
	w.Header().Set("Connection", "close")
	writeErrorBody(w, code, name, msg, nil)
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refuseGrace))
}

// authenticate refuses requests without the bearer token (compared in
// constant time; never logged) with 401 before reading their body, closing
// their connection, and attributes the others to actor.
func authenticate(token, actor string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			refuse(w, http.StatusUnauthorized, "unauthenticated", "missing or wrong bearer token")
			return
		}
		if actor != "" {
			r = r.WithContext(authz.WithActor(r.Context(), actor))
		}
		next.ServeHTTP(w, r)
	})
}

// gate bounds the requests in flight and the time to answer each.
type gate struct {
	slots   chan struct{}
	timeout time.Duration
}

func newGate(lim limits) *gate {
	return &gate{slots: make(chan struct{}, lim.MaxConcurrent), timeout: lim.HandlerTimeout}
}

// inFlight returns the number of requests holding a slot.
func (g *gate) inFlight() int { return len(g.slots) }

// wrap admits a request to next when a slot is free, and refuses it
// otherwise (503 unavailable, Retry-After, its body unread). An admitted
// request is answered by http.TimeoutHandler: after the handler timeout it
// is answered 503 timeout and its context is cancelled, and whatever the
// route writes later is discarded. The request keeps its slot until the
// route returns, so work that goes on after its answer still counts.
func (g *gate) wrap(next http.Handler) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { <-g.slots }()
		next.ServeHTTP(w, r)
	})
	msg := fmt.Sprintf("the request was not answered within %s; a write may still have been applied", g.timeout)
	timed := http.TimeoutHandler(inner, g.timeout, errorJSON("timeout", msg))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case g.slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", "1")
			refuse(w, http.StatusServiceUnavailable, "unavailable", fmt.Sprintf("the server is answering %d requests, its limit; retry later", cap(g.slots)))
			return
		}
		// TimeoutHandler's own answer carries the headers set here.
		w.Header().Set("Content-Type", "application/json")
		timed.ServeHTTP(w, r)
	})
}
