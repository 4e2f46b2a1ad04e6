package authztest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/storage"
)

// recorder is a testing.TB that records failures and cleanups instead of
// acting on them; its other methods are the real test's.
type recorder struct {
	testing.TB
	fatal    bool
	errors   []string
	cleanups []func()
}

func (r *recorder) Helper()           {}
func (r *recorder) Cleanup(fn func()) { r.cleanups = append(r.cleanups, fn) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
}

// runCleanups runs the recorded cleanups, last first, as testing does.
func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestMust(t *testing.T) {
	r := &recorder{TB: t}
	if got := authztest.Must(7, nil)(r); got != 7 || r.fatal || len(r.errors) > 0 {
		t.Errorf("Must(7, nil): got %d, fatal=%v %q; want 7 and no failure", got, r.fatal, r.errors)
	}
	authztest.Must(0, errors.New("boom"))(r)
	if !r.fatal || len(r.errors) != 1 || !strings.Contains(r.errors[0], "boom") {
		t.Errorf("Must(0, boom): got fatal=%v %q; want a fatal failure naming boom", r.fatal, r.errors)
	}
	r = &recorder{TB: t}
	authztest.NoError(r, errors.New("bang"))
	if !r.fatal || len(r.errors) != 1 || !strings.Contains(r.errors[0], "bang") {
		t.Errorf("NoError(bang): got fatal=%v %q; want a fatal failure naming bang", r.fatal, r.errors)
	}
}

func TestOptionsAreDeterministic(t *testing.T) {
	for range 2 {
		o := authztest.Options()
		if got := o.Now(); !got.Equal(authztest.Now) {
			t.Errorf("Now: got %v; want %v", got, authztest.Now)
		}
		if a, b := o.NewID("scope"), o.NewID("role"); a != "scope_0001" || b != "role_0002" {
			t.Errorf("NewID: got %q, %q; want scope_0001, role_0002", a, b)
		}
	}
}

// TestNewClientChecksAtCleanup damages each backend's store behind the
// Client's back: the cleanup NewClient registers must report it, after the
// store's own cleanup was registered and before it runs.
func TestNewClientChecksAtCleanup(t *testing.T) {
	for _, b := range authztest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			r := &recorder{TB: t}
			s := b.Open(r)
			c := authztest.NewClient(r, s, authztest.Options())
			if _, err := c.Apply(context.Background(), authz.Batch{
				ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
				Scopes:     []authz.ScopeInput{{ID: "acme", TypeID: "org"}},
			}); err != nil {
				t.Fatal(err)
			}
			if len(r.cleanups) != 2 {
				t.Fatalf("got %d cleanups; want 2 (close, then check)", len(r.cleanups))
			}
			r.cleanups[1]() // the check, on a consistent store
			if len(r.errors) > 0 {
				t.Fatalf("check of a consistent store: got %q; want no failure", r.errors)
			}
			if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("scopes", "acme", []byte("{")) }); err != nil {
				t.Fatal(err)
			}
			r.runCleanups()
			if r.fatal || len(r.errors) != 1 || !strings.Contains(r.errors[0], "Check") {
				t.Errorf("check of a damaged store: got fatal=%v %q; want one error from Check", r.fatal, r.errors)
			}
			if err := s.View(context.Background(), func(storage.Tx) error { return nil }); err == nil {
				t.Errorf("store after the cleanups: got an open store; want it closed")
			}
		})
	}
}

func TestEachRunsEveryBackend(t *testing.T) {
	var ran []string
	authztest.Each(t, func(t *testing.T, c *authz.Client) {
		if c == nil {
			t.Fatal("got a nil Client")
		}
		ran = append(ran, t.Name())
	})
	// pgstore's subtest skips without PostgreSQL binaries, unless they are
	// required.
	want := "[TestEachRunsEveryBackend/memstore TestEachRunsEveryBackend/boltstore TestEachRunsEveryBackend/pgstore]"
	withoutPG := "[TestEachRunsEveryBackend/memstore TestEachRunsEveryBackend/boltstore]"
	if got := fmt.Sprint(ran); got != want && (got != withoutPG || os.Getenv(pgtest.EnvRequired) == "1") {
		t.Errorf("got subtests %s; want %s", got, want)
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }
