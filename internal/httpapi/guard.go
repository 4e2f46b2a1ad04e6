package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/scopegate/authz"
)

// Limits bounds what a connection and a request may take of the server.
// Each field has a flag; the package documentation gives their defaults
// and what happens when one is reached.
type Limits struct {
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
	MaxEvaluationCost int64         // -max-evaluation-cost
}

// DefaultLimits returns the defaults of the flags.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       60 * time.Second,
		HandlerTimeout:    15 * time.Second,
		MaxHeaderBytes:    64 << 10,
		MaxConcurrent:     32,
		MaxBodyBytes:      10 << 20,
		MaxContextBytes:   64 << 10,
		MaxLookupLimit:    1000,
		MaxEvaluationCost: authz.DefaultMaxEvaluationCost,
	}
}

// Register defines a flag for every field of l, with l's values as the
// defaults.
func (l *Limits) Register(fs *flag.FlagSet) {
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
	fs.Int64Var(&l.MaxEvaluationCost, "max-evaluation-cost", l.MaxEvaluationCost, "operations of conditions, match definitions and patterns one decision of one subject may spend (authz.Options.MaxEvaluationCost)")
}

// Check reports a limit that is not positive, or a write timeout that
// would cut the answer of a request that times out.
func (l Limits) Check() error {
	for _, v := range []struct {
		name string
		ok   bool
	}{
		{"read-header-timeout", l.ReadHeaderTimeout > 0}, {"read-timeout", l.ReadTimeout > 0}, {"write-timeout", l.WriteTimeout > 0},
		{"idle-timeout", l.IdleTimeout > 0}, {"handler-timeout", l.HandlerTimeout > 0}, {"max-header-bytes", l.MaxHeaderBytes > 0},
		{"max-concurrent", l.MaxConcurrent > 0}, {"max-body-bytes", l.MaxBodyBytes > 0}, {"max-context-bytes", l.MaxContextBytes > 0},
		{"max-lookup-limit", l.MaxLookupLimit > 0}, {"max-evaluation-cost", l.MaxEvaluationCost > 0},
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

// NewServer returns a server for h on addr with the timeouts and header
// limit of lim.
func NewServer(addr string, h http.Handler, lim Limits) *http.Server {
	srv := &http.Server{Addr: addr, Handler: h}
	configure(srv, lim)
	return srv
}

// configure sets the timeouts and header limit of lim on srv.
func configure(srv *http.Server, lim Limits) {
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

// authenticate refuses requests without one of the bearer tokens of
// tokens (never logged) with 401 before reading their body, closing their
// connection, and attributes the others to the actor their token maps to.
// An empty token is never accepted. The header is compared with every
// token, whichever matches, through their SHA-256 digests in constant
// time: the time taken tells neither which token nor how long one is.
func authenticate(tokens map[string]string, next http.Handler) http.Handler {
	type credential struct {
		want  [sha256.Size]byte
		actor string
	}
	var creds []credential
	for token, actor := range tokens {
		if token != "" {
			creds = append(creds, credential{sha256.Sum256([]byte("Bearer " + token)), actor})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		match := -1
		for i, c := range creds {
			if subtle.ConstantTimeCompare(got[:], c.want[:]) == 1 {
				match = i
			}
		}
		if match < 0 {
			refuse(w, http.StatusUnauthorized, "unauthenticated", "missing or wrong bearer token")
			return
		}
		if actor := creds[match].actor; actor != "" {
			r = r.WithContext(authz.WithActor(r.Context(), actor))
		}
		next.ServeHTTP(w, r)
	})
}

// ReadTokens reads the tokens of a file of "token actor" lines (actor, a
// subject id, may be left out for "system"; blank lines and lines starting
// with # are skipped) for Config.Tokens. A token given twice is an error.
func ReadTokens(r io.Reader) (map[string]string, error) {
	tokens, lines := map[string]string{}, map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) > 2 {
			return nil, fmt.Errorf("tokens: line %d: want \"token actor\", got %d words", n, len(f))
		}
		if _, dup := tokens[f[0]]; dup {
			return nil, fmt.Errorf("tokens: line %d: the token of line %d is given again", n, lines[f[0]])
		}
		actor := ""
		if len(f) == 2 {
			actor = f[1]
		}
		tokens[f[0]] = actor
		lines[f[0]] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	if len(tokens) == 0 {
		return nil, errors.New("tokens: the file has no token")
	}
	return tokens, nil
}

// Tokens returns the tokens of a server's flags for Config.Tokens: token
// (when not empty) attributed to actor, and the "token actor" lines of the
// file tokensFile (when not empty; see ReadTokens). A token in both is an
// error, and so is no token at all.
func Tokens(token, actor, tokensFile string) (map[string]string, error) {
	tokens := map[string]string{}
	if tokensFile != "" {
		f, err := os.Open(tokensFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if tokens, err = ReadTokens(f); err != nil {
			return nil, fmt.Errorf("%s: %w", tokensFile, err)
		}
	}
	if token != "" {
		if _, dup := tokens[token]; dup {
			return nil, errors.New("the token is also in the tokens file: give it once")
		}
		tokens[token] = actor
	}
	if len(tokens) == 0 {
		return nil, errors.New("a token is required")
	}
	return tokens, nil
}

// requestIDHeader carries the id of a request in its answer (and in the
// request log).
const requestIDHeader = "X-Request-Id"

// requestLog logs each request to log (when not nil) once answered: its
// method, the route pattern mux routes it to (empty for none), its path,
// status, duration and an id, which the answer carries in X-Request-Id.
func requestLog(log *slog.Logger, mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set(requestIDHeader, id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if log == nil {
			return
		}
		_, pattern := mux.Handler(r)
		level := slog.LevelInfo
		if sw.code >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("route", pattern),
			slog.String("path", r.URL.Path), slog.Int("status", sw.status()), slog.Duration("duration", time.Since(start)),
			slog.String("requestId", id))
	})
}

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// gate bounds the requests in flight and the time to answer each.
type gate struct {
	slots   chan struct{}
	timeout time.Duration
}

func newGate(lim Limits) *gate {
	return &gate{slots: make(chan struct{}, lim.MaxConcurrent), timeout: lim.HandlerTimeout}
}

// inFlight returns the number of requests holding a slot.
func (g *gate) inFlight() int { return len(g.slots) }

// wrap admits a request to next when a slot is free, and refuses it
// otherwise (503 unavailable, Retry-After, its body unread). An admitted
// request runs next in a goroutine with a context that ends after the
// handler timeout, and next's answer is held until next returns. If the
// timeout comes first, the request is answered 503 timeout instead, with
// "Connection: close", and whatever next writes later is discarded (its
// writes fail with http.ErrHandlerTimeout). The request keeps its slot
// until next returns, so work that goes on after its answer still counts.
//
// Unlike http.TimeoutHandler, only the timeout answers early: when the
// request's own context ends (the client went away, or its body could not
// be read in time) next still gives the answer, a JSON error body.
func (g *gate) wrap(next http.Handler) http.Handler {
	msg := fmt.Sprintf("the request was not answered within %s; a write may still have been applied", g.timeout)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case g.slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", "1")
			refuse(w, http.StatusServiceUnavailable, "unavailable", fmt.Sprintf("the server is answering %d requests, its limit; retry later", cap(g.slots)))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
		defer cancel()
		tw := &heldWriter{header: http.Header{}}
		done := make(chan struct{})   // next returned
		panicked := make(chan any, 1) // next panicked
		go func() {
			defer close(done)
			defer func() { <-g.slots }()
			defer func() {
				if p := recover(); p != nil {
					panicked <- p
				}
			}()
			next.ServeHTTP(tw, r.WithContext(ctx))
		}()
		select {
		case <-done:
		case <-ctx.Done():
			if ctx.Err() != context.DeadlineExceeded {
				<-done // the request's own context ended: next answers
			}
		}
		select {
		case <-done:
			select {
			case p := <-panicked:
				panic(p)
			default:
			}
			tw.flushTo(w)
			return
		default:
		}
		tw.mu.Lock()
		tw.timedOut = true
		tw.mu.Unlock()
		w.Header().Set("Connection", "close")
		writeErrorBody(w, http.StatusServiceUnavailable, "timeout", msg, nil)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		// Fail a read of the body next may be blocked in, and give next a
		// moment to return: when a handler returns during a body read,
		// net/http aborts the read and then waits for the rest of the body
		// with no deadline at all.
		_ = rc.SetReadDeadline(time.Now())
		select {
		case <-done:
		case <-time.After(refuseGrace):
		}
	})
}

// heldWriter holds a response until the handler writing it returns.
type heldWriter struct {
	mu       sync.Mutex
	header   http.Header
	code     int
	body     bytes.Buffer
	timedOut bool
}

func (h *heldWriter) Header() http.Header { return h.header }

func (h *heldWriter) WriteHeader(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.code == 0 && !h.timedOut {
		h.code = code
	}
}

func (h *heldWriter) Write(b []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if h.code == 0 {
		h.code = http.StatusOK
	}
	return h.body.Write(b)
}

// flushTo writes the held response to w. The handler has returned.
func (h *heldWriter) flushTo(w http.ResponseWriter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	maps.Copy(w.Header(), h.header)
	if h.code == 0 {
		h.code = http.StatusOK
	}
	w.WriteHeader(h.code)
	_, _ = w.Write(h.body.Bytes())
}
