package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests below drive a real server over TCP. Each sets the one bound it
// tests short (short) and every other timeout long (long), so that only
// the bound under test can explain what the client observes, and observes
// it by reading the connection until EOF with a deadline (within).
const (
	short  = 200 * time.Millisecond
	long   = 10 * time.Second
	within = 2 * time.Second
)

// longLimits returns the default limits with every timeout long.
func longLimits() Limits {
	lim := DefaultLimits()
	lim.ReadHeaderTimeout, lim.ReadTimeout, lim.WriteTimeout, lim.IdleTimeout, lim.HandlerTimeout = long, long, 2*long, long, long
	return lim
}

// startServer starts the API over the seeded store with lim on a real
// listener, and returns it with its gate.
func startServer(t *testing.T, lim Limits) (*httptest.Server, *gate) {
	t.Helper()
	h, g := buildHandler(newSeededClient(t), Config{Tokens: map[string]string{token: "subject_admin"}, Limits: lim})
	srv := httptest.NewUnstartedServer(h)
	configure(srv.Config, lim)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, g
}

func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// head is a request line and headers announcing a body of n bytes.
func head(method, path, auth string, n int) string {
	h := method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	if auth != "" {
		h += "Authorization: " + auth + "\r\n"
	}
	if n >= 0 {
		h += fmt.Sprintf("Content-Length: %d\r\n", n)
	}
	return h + "\r\n"
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// readToEOF reads c until the server closes it, and fails the test if it
// is still open after d. It returns what was read.
func readToEOF(t *testing.T, c net.Conn, r io.Reader, d time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v; got %q", d, b)
	}
	return string(b)
}

// errorCode returns the code of an error body, failing the test when the
// body is not one.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("got body %q; want the JSON error body", body)
	}
	return e.Error.Code
}

// readResponse reads one response from br and its body.
func readResponse(t *testing.T, c net.Conn, br *bufio.Reader) (*http.Response, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return resp, body
}

// dribble writes one byte of s every interval until s is written or the
// connection fails.
func dribble(c net.Conn, s string, every time.Duration) {
	for i := range len(s) {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
		time.Sleep(every)
	}
}

func TestSlowBodyIsCutOff(t *testing.T) {
	lim := longLimits()
	lim.ReadTimeout = short
	srv, _ := startServer(t, lim)
	c := dial(t, srv)
	body := strings.Repeat(" ", 500) + `{"typeId":"type_org"}`
	write(t, c, head("POST", "/scopes", "Bearer "+token, len(body)))
	go dribble(c, body, 10*time.Millisecond) // 5 s for the whole body
	br := bufio.NewReader(c)
	resp, got := readResponse(t, c, br)
	if resp.StatusCode != http.StatusRequestTimeout || errorCode(t, got) != "timeout" {
		t.Errorf("got %d %s; want 408 timeout", resp.StatusCode, got)
	}
	readToEOF(t, c, br, within)
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	lim := longLimits()
	lim.ReadHeaderTimeout = short
	srv, _ := startServer(t, lim)
	c := dial(t, srv)
	go dribble(c, head("GET", "/scopes", "Bearer "+token, -1), 20*time.Millisecond)
	readToEOF(t, c, c, within)
}

func TestWrongTokenIsRefusedUnread(t *testing.T) {
	srv, g := startServer(t, longLimits())
	for _, auth := range []string{"", "Bearer nope", "Bearer " + token + "x", "bearer " + token, token} {
		t.Run(auth, func(t *testing.T) {
			c := dial(t, srv)
			// The body is announced but never sent: a server that read it
			// would hold the connection for the read timeout (long).
			write(t, c, head("POST", "/scopes", auth, 1000))
			br := bufio.NewReader(c)
			resp, body := readResponse(t, c, br)
			if resp.StatusCode != http.StatusUnauthorized || errorCode(t, body) != "unauthenticated" {
				t.Errorf("got %d %s; want 401 unauthenticated", resp.StatusCode, body)
			}
			if !resp.Close {
				t.Errorf("got headers %v; want Connection: close", resp.Header)
			}
			readToEOF(t, c, br, within)
			if n := g.inFlight(); n != 0 {
				t.Errorf("got %d requests in flight; want 0 (a refused request takes no slot)", n)
			}
		})
	}
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(within); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("still waiting for %s after %v", what, within)
		}
	}
}

func TestConcurrencyLimit(t *testing.T) {
	lim := longLimits()
	lim.MaxConcurrent = 2
	srv, g := startServer(t, lim)
	// Two requests whose bodies never finish hold both slots.
	var holders []net.Conn
	for range 2 {
		c := dial(t, srv)
		write(t, c, head("POST", "/scopes", "Bearer "+token, 1000)+"{")
		holders = append(holders, c)
	}
	waitFor(t, "two requests in flight", func() bool { return g.inFlight() == 2 })

	c := dial(t, srv)
	write(t, c, head("POST", "/scopes", "Bearer "+token, 1000)) // body never sent
	br := bufio.NewReader(c)
	resp, body := readResponse(t, c, br)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, body) != "unavailable" {
		t.Errorf("got %d %s; want 503 unavailable", resp.StatusCode, body)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("got Retry-After %q; want 1", ra)
	}
	readToEOF(t, c, br, within)

	// A holder going away frees its slot: requests are served again.
	holders[0].Close()
	waitFor(t, "a free slot", func() bool { return g.inFlight() == 1 })
	req, _ := http.NewRequest("GET", srv.URL+"/scopes/scope_org", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("got %d after a slot was freed; want 200", res.StatusCode)
	}
}

// TestHandlerTimeout: a request whose body stalls is answered 503 timeout
// after the handler timeout, though the read timeout is long; its
// connection is closed and its slot freed.
func TestHandlerTimeout(t *testing.T) {
	lim := longLimits()
	lim.HandlerTimeout = short
	srv, g := startServer(t, lim)
	c := dial(t, srv)
	body := `{"id":"scope_late","typeId":"type_org"}`
	write(t, c, head("POST", "/scopes", "Bearer "+token, len(body))+body[:5])
	br := bufio.NewReader(c)
	resp, got := readResponse(t, c, br)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, got) != "timeout" {
		t.Fatalf("got %d %s; want 503 timeout", resp.StatusCode, got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" || !resp.Close {
		t.Errorf("got Content-Type %q, close %v; want application/json and Connection: close", ct, resp.Close)
	}
	if rest := readToEOF(t, c, br, within); rest != "" {
		t.Errorf("got %q after the answer; want nothing", rest)
	}
	waitFor(t, "the slot to be freed", func() bool { return g.inFlight() == 0 })
}

// TestTimedOutRouteWritesNothingMore: once a request is answered 503
// timeout, what its route writes is discarded, its context is done, and it
// keeps its slot until it returns.
func TestTimedOutRouteWritesNothingMore(t *testing.T) {
	lim := longLimits()
	lim.HandlerTimeout = short
	g := newGate(lim)
	release := make(chan struct{})
	type result struct{ ctxErr, writeErr error }
	results := make(chan result, 1)
	srv := httptest.NewUnstartedServer(g.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		ctxErr := r.Context().Err()
		w.WriteHeader(http.StatusCreated)
		_, err := io.WriteString(w, `{"late":true}`)
		results <- result{ctxErr, err}
	})))
	configure(srv.Config, lim)
	srv.Start()
	t.Cleanup(srv.Close)
	c := dial(t, srv)
	write(t, c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, got := readResponse(t, c, br)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, got) != "timeout" {
		t.Fatalf("got %d %s; want 503 timeout", resp.StatusCode, got)
	}
	if rest := readToEOF(t, c, br, within); rest != "" {
		t.Errorf("got %q after the answer; want nothing", rest)
	}
	if n := g.inFlight(); n != 1 {
		t.Errorf("got %d requests in flight while the route runs; want 1", n)
	}
	close(release)
	res := <-results
	if res.writeErr != http.ErrHandlerTimeout || res.ctxErr != context.DeadlineExceeded {
		t.Errorf("route saw context error %v, write error %v; want %v and %v", res.ctxErr, res.writeErr, context.DeadlineExceeded, http.ErrHandlerTimeout)
	}
	waitFor(t, "the slot to be freed", func() bool { return g.inFlight() == 0 })
}

func TestIdleConnectionIsClosed(t *testing.T) {
	lim := longLimits()
	lim.IdleTimeout = short
	srv, _ := startServer(t, lim)
	c := dial(t, srv)
	write(t, c, "GET /scopes/scope_org HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\n\r\n")
	br := bufio.NewReader(c)
	resp, body := readResponse(t, c, br)
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("got %d (close %v) %s; want 200 on a kept-alive connection", resp.StatusCode, resp.Close, body)
	}
	if rest := readToEOF(t, c, br, within); rest != "" {
		t.Errorf("got %q after the answer; want nothing", rest)
	}
}

func TestLargeHeadersAreRefused(t *testing.T) {
	lim := longLimits()
	lim.MaxHeaderBytes = 1 << 10
	srv, _ := startServer(t, lim)
	c := dial(t, srv)
	// net/http allows 4096 bytes more than MaxHeaderBytes.
	write(t, c, "GET /scopes HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
	br := bufio.NewReader(c)
	resp, _ := readResponse(t, c, br)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("got %d; want 431", resp.StatusCode)
	}
	readToEOF(t, c, br, within)
}

func TestBodyBounds(t *testing.T) {
	lim := longLimits()
	lim.MaxContextBytes = 1 << 10
	lim.MaxBodyBytes = 4 << 10
	srv, _ := startServer(t, lim)
	ctx := func(n int) string { // a context of n bytes as written
		return `{"pad":"` + strings.Repeat("x", n-len(`{"pad":""}`)) + `"}`
	}
	evaluate := func(c string) string {
		return `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","resource":{"resourceType":"library"},"context":` + c + `}`
	}
	subjects := func(c string) string {
		return `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"},"context":` + c + `}`
	}
	resources := func(c string) string {
		return `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","resourceType":"library","context":` + c + `}`
	}
	batch := func(n int) string { // a scope batch of about n bytes
		var items []string
		for i := 0; len(strings.Join(items, ",")) < n; i++ {
			items = append(items, fmt.Sprintf(`{"id":"scope_b%d","typeId":"type_org"}`, i))
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		code, inMessage  string
	}{
		{"evaluate context at the limit", "/evaluate", evaluate(ctx(1 << 10)), 200, "", ""},
		{"evaluate context over the limit", "/evaluate", evaluate(ctx(1<<10 + 1)), 413, "too_large", "context:"},
		{"evaluate context far over the limit", "/evaluate", evaluate(ctx(200 << 10)), 413, "too_large", "context: at most 1024 bytes"},
		{"subjects context over the limit", "/lookup/subjects", subjects(ctx(2 << 10)), 413, "too_large", "context:"},
		{"resources context over the limit", "/lookup/resources", resources(ctx(2 << 10)), 413, "too_large", "context:"},
		{"context below the top level is not the context", "/scopes", `{"typeId":"type_org","meta":{"context":` + ctx(2<<10) + `}}`, 201, "", ""},
		{"batch under the body limit", "/scopes/batch", batch(3 << 10), 201, "", ""},
		{"batch over the body limit", "/scopes/batch", batch(5 << 10), 413, "too_large", "larger than 4096 bytes"},
		{"lookup limit over the maximum", "/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"},"limit":1001}`, 400, "invalid_argument", "limit:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := post(t, srv, tc.path, tc.body, "Bearer "+token)
			if code != tc.status {
				t.Fatalf("got %d %v; want %d", code, got, tc.status)
			}
			if tc.code == "" {
				return
			}
			e, _ := got.(map[string]any)["error"].(map[string]any)
			if msg, _ := e["message"].(string); e["code"] != tc.code || !strings.Contains(msg, tc.inMessage) {
				t.Errorf("got error %v; want code %s and a message with %q", e, tc.code, tc.inMessage)
			}
		})
	}
}

// TestLookupWithoutLimitIsPaged: a lookup without a limit answers at most
// MaxLookupLimit results and says where the next page starts.
func TestLookupWithoutLimitIsPaged(t *testing.T) {
	lim := longLimits()
	lim.MaxLookupLimit = 1
	srv, _ := startServer(t, lim)
	for _, step := range []struct{ path, body string }{
		{"/roles", `{"id":"role_reader","scopeId":"scope_org","name":"Reader"}`},
		{"/memberships/batch", `[{"subjectId":"subject_jane","scopeId":"scope_org","roleIds":["role_reader"]},{"subjectId":"subject_bob","scopeId":"scope_org","roleIds":["role_reader"]}]`},
		{"/permissions", `{"id":"perm_read_lib","scopeId":"scope_org","action":"read","resourceType":"library"}`},
		{"/role-permissions", `{"roleId":"role_reader","permissionId":"perm_read_lib"}`},
	} {
		if code, body := post(t, srv, step.path, step.body, "Bearer "+token); code != http.StatusCreated {
			t.Fatalf("POST %s: got %d %v", step.path, code, body)
		}
	}
	code, got := post(t, srv, "/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"}}`, "Bearer "+token)
	page, _ := got.(map[string]any)
	if subjects, _ := page["subjects"].([]any); code != 200 || len(subjects) != 1 || page["next"] == nil {
		t.Errorf("got %d %v; want one subject and a next", code, got)
	}
}

// TestRoutesPassRequestContext sends every route a request whose context
// is already cancelled: each must hand that context to the library (which
// then returns its error, answered 503 canceled), not one of its own. The
// same requests with a live context are not answered so, and every route
// of the API is among them.
func TestRoutesPassRequestContext(t *testing.T) {
	mux := newRouter(newSeededClient(t), DefaultLimits())
	// What a route needs besides an id to reach the library.
	queries := map[string]string{
		"GET /subjects/{id}/permissions": "scopeId=scope_org", "GET /memberships": "scopeId=scope_org", "GET /resource-collections": "scopeId=scope_org",
		"GET /resource-hierarchy": "parentResourceId=resource_lib_auth", "GET /resource-policies": "scopeId=scope_org",
		"GET /resource-scope-links": "scopeId=scope_org", "GET /resource-types": "scopeId=scope_org", "GET /resources": "scopeId=scope_org",
		"GET /role-assignments": "roleId=role_admin", "GET /role-permissions": "roleId=role_admin", "GET /roles": "scopeId=scope_org",
		"GET /scope-overrides": "childScopeId=scope_org", "GET /subjects/by-external": "type=user&externalId=jane", "GET /tag-assignments": "scopeId=scope_org", "GET /tag-group-bindings": "tagGroupId=tg_team",
		"GET /tag-groups": "scopeId=scope_org", "GET /tags": "tagGroupId=tg_team", "GET /permissions": "scopeId=scope_org",
	}
	bodies := map[string]string{
		"POST /lookup/subjects":                `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"}}`,
		"POST /lookup/resources":               `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","resourceType":"library"}`,
		"POST /batch":                          `{"scopeTypes":[{"name":"T"}]}`,
		"POST /resource-collections/{id}/test": `{"resourceId":"resource_lib_auth"}`,
	}
	// The index and the OpenAPI document read nothing of the library.
	static := map[string]bool{"GET /{$}": true, "GET /openapi.json": true}
	covered := map[string]bool{}
	for pattern, body := range mux.routes {
		method, path, _ := strings.Cut(pattern, " ")
		if static[pattern] {
			covered[pattern] = true
			continue
		}
		path = strings.NewReplacer("{id}", "scope_org", "{scopeId}", "scope_org", "{roleId}", "role_admin", "{permissionId}", "perm_x").Replace(path)
		if strings.HasPrefix(pattern, "PUT /scope-overrides/") {
			bodies[pattern] = `{"state":"disabled"}`
		}
		if q := queries[pattern]; q != "" {
			path += "?" + q
		}
		payload, ok := bodies[pattern]
		switch {
		case ok:
		case body == nil:
		case body.Kind() == reflect.Slice:
			payload = "[{}]"
		default:
			payload = "{}"
		}
		for _, cancelled := range []bool{true, false} {
			ctx, cancel := context.WithCancel(context.Background())
			if cancelled {
				cancel()
			}
			r := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(payload))
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			cancel()
			if _, p := mux.Handler(r); p != pattern {
				t.Fatalf("%s %s: routed to %q; want %q", method, path, p, pattern)
			}
			covered[pattern] = true
			isCanceled := w.Code == http.StatusServiceUnavailable && strings.Contains(w.Body.String(), `"canceled"`)
			if isCanceled != cancelled {
				t.Errorf("%s (context cancelled: %v): got %d %s", pattern, cancelled, w.Code, w.Body)
			}
		}
	}
	if len(covered) < 100 {
		t.Errorf("got %d routes; want every route of the API (over 100)", len(covered))
	}
}

func TestLimitsCheck(t *testing.T) {
	if err := DefaultLimits().Check(); err != nil {
		t.Errorf("defaults: got %v; want nil", err)
	}
	for name, change := range map[string]func(*Limits){
		"zero read timeout":           func(l *Limits) { l.ReadTimeout = 0 },
		"negative concurrency":        func(l *Limits) { l.MaxConcurrent = -1 },
		"zero context":                func(l *Limits) { l.MaxContextBytes = 0 },
		"write before handler":        func(l *Limits) { l.WriteTimeout = l.HandlerTimeout },
		"zero idle timeout":           func(l *Limits) { l.IdleTimeout = 0 },
		"zero lookup limit":           func(l *Limits) { l.MaxLookupLimit = 0 },
		"zero evaluation cost":        func(l *Limits) { l.MaxEvaluationCost = 0 },
		"zero header bytes":           func(l *Limits) { l.MaxHeaderBytes = 0 },
		"zero handler timeout":        func(l *Limits) { l.HandlerTimeout = 0 },
		"zero read header timeout":    func(l *Limits) { l.ReadHeaderTimeout = 0 },
		"zero body bytes":             func(l *Limits) { l.MaxBodyBytes = 0 },
		"zero write (and zero other)": func(l *Limits) { l.WriteTimeout = 0 },
	} {
		l := DefaultLimits()
		change(&l)
		if err := l.Check(); err == nil {
			t.Errorf("%s: got nil; want an error", name)
		}
	}
}

// TestDocumentedDefaults: the documentation of examples/httpserver gives every limit
// flag with its default.
func TestDocumentedDefaults(t *testing.T) {
	src, err := os.ReadFile("../../examples/httpserver/main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(src), "package main")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	lim := DefaultLimits()
	lim.Register(fs)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if want := regexp.MustCompile(`(?m)^//\t-` + regexp.QuoteMeta(f.Name) + ` +` + regexp.QuoteMeta(f.DefValue) + ` `); !want.MatchString(doc) {
			t.Errorf("the package doc does not give -%s with its default %s", f.Name, f.DefValue)
		}
	})
	if n != reflect.TypeFor[Limits]().NumField() {
		t.Errorf("got %d flags; want one per field of limits (%d)", n, reflect.TypeFor[Limits]().NumField())
	}
}

// TestChunkedBodyBounds: a body without a Content-Length is cut at its
// bound while it is read.
func TestChunkedBodyBounds(t *testing.T) {
	lim := longLimits()
	lim.MaxContextBytes = 1 << 10
	lim.MaxBodyBytes = 4 << 10
	srv, _ := startServer(t, lim)
	for _, tc := range []struct{ path, body, inMessage string }{
		{"/evaluate", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","context":{"pad":"` + strings.Repeat("x", 200<<10) + `"}}`, "context: at most 1024 bytes"},
		{"/scopes/batch", `[` + strings.Repeat(`{"typeId":"type_org"},`, 1000) + `{"typeId":"type_org"}]`, "larger than 4096 bytes"},
	} {
		// A reader of unknown length: the client sends the body chunked.
		req, _ := http.NewRequest("POST", srv.URL+tc.path, struct{ io.Reader }{strings.NewReader(tc.body)})
		if req.ContentLength != 0 {
			t.Fatalf("got a request with Content-Length %d; want one of unknown length", req.ContentLength)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || errorCode(t, body) != "too_large" || !strings.Contains(string(body), tc.inMessage) {
			t.Errorf("POST %s chunked: got %d %s; want 413 too_large with %q", tc.path, resp.StatusCode, body, tc.inMessage)
		}
	}
}
