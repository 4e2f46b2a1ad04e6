package authz

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// idCharset is the character and length rule of client ids, without the
// exceptions.
var idCharset = regexp.MustCompile(`^[A-Za-z0-9_.:@|-]{1,200}$`)

// reachableOverHTTP reports whether a GET of /things/ + url.PathEscape(id),
// as an HTTP client builds it, reaches the handler of net/http's ServeMux
// pattern "GET /things/{id}" (the form of the HTTP wrapper's routes) with
// the id intact.
func reachableOverHTTP(id string) bool {
	var got string
	reached := false
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		reached, got = true, r.PathValue("id")
	})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/things/"+url.PathEscape(id), nil))
	return reached && got == id && rec.Code == http.StatusOK
}

// checkIDRule checks one id against the rule's definition: an id of the
// right characters and length is valid exactly when an HTTP path can name
// it, and checkID agrees with validID.
func checkIDRule(t *testing.T, id string) {
	t.Helper()
	valid := validID(id)
	if want := idCharset.MatchString(id) && reachableOverHTTP(id); valid != want {
		t.Fatalf("validID(%q): got %v; want %v (characters and length ok: %v)", id, valid, want, idCharset.MatchString(id))
	}
	err := checkID(id)
	if valid != (err == nil) || err != nil && !errors.Is(err, ErrInvalid) {
		t.Fatalf("checkID(%q): got %v; want nil exactly when validID is true, else ErrInvalid", id, err)
	}
}

// TestIDRuleIsHTTPReachability checks the id rule on every id of dots up to
// 12 long, every id of up to 4 characters over a small alphabet of dots and
// others, and random ids, long ones included.
func TestIDRuleIsHTTPReachability(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 12; n++ {
		checkIDRule(t, strings.Repeat(".", n))
	}
	alphabet := []byte(".a-_:|@/%")
	var all func(prefix string, n int)
	all = func(prefix string, n int) {
		if prefix != "" {
			checkIDRule(t, prefix)
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			all(prefix+string(c), n-1)
		}
	}
	all("", 4)

	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)
	chars := "....................Za9_:@|-/ %é\x00"
	for range 5000 {
		n := 1 + r.IntN(6)
		if r.IntN(10) == 0 {
			n = MaxIDLength - 2 + r.IntN(5)
		}
		var b strings.Builder
		for range n {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
		checkIDRule(t, b.String())
	}
}

// FuzzClientID checks the id rule on any input: a valid id is one of the
// allowed characters and reachable over HTTP, and every such id is valid.
func FuzzClientID(f *testing.F) {
	for _, s := range []string{".", "..", "...", "a..", "..a", ".a.", "%2E", "", "x", strings.Repeat(".", 200), strings.Repeat("a", 201)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		checkIDRule(t, id)
	})
}
