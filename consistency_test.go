package authz_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// TestWritesReturnTheirRevision: every kind of write made with a context
// from WithWriteRevision records the revision it committed, which is the
// store's revision right after it; BatchResult carries it too; a write
// that fails records nothing.
func TestWritesReturnTheirRevision(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		var w authz.WriteRevision
		wctx := authz.WithWriteRevision(ctx, &w)
		check := func(what string) {
			t.Helper()
			if got, want := w.Revision(), must(c.Revision(ctx))(t); got != want || got == 0 {
				t.Fatalf("%s: WriteRevision says %d; the store is at %d", what, got, want)
			}
		}
		res := must(c.Apply(wctx, oneTenantBatch()))(t)
		check("Apply")
		if res.Revision != w.Revision() {
			t.Errorf("BatchResult.Revision = %d; want %d", res.Revision, w.Revision())
		}
		must(c.CreateResource(wctx, authz.ResourceInput{ID: "d0", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d0"}))(t)
		check("CreateResource")
		name := "Renamed"
		must(c.UpdateRole(wctx, "r", authz.RolePatch{Name: &name}))(t)
		check("UpdateRole")
		if err := c.DeleteResource(wctx, "d0"); err != nil {
			t.Fatal(err)
		}
		check("DeleteResource")
		before := w.Revision()
		if _, err := c.CreateResource(wctx, authz.ResourceInput{ID: "d1", ResourceTypeID: "nope", ScopeID: "acme", ExternalResourceID: "d1"}); err == nil {
			t.Fatal("creating a resource of an unknown type: got nil; want an error")
		}
		if w.Revision() != before {
			t.Errorf("a failed write changed WriteRevision from %d to %d", before, w.Revision())
		}
	})
}

// TestAtLeastRevisionWaitsForTheWrite: a request asking for a revision the
// store has not reached waits, reading the store again, until a write from
// another Client reaches it, and then sees that write; one whose ctx ends
// first fails with ctx's error and a denial. Evaluate, EvaluateBatch and
// both lookups take the requirement.
func TestAtLeastRevisionWaitsForTheWrite(t *testing.T) {
	t.Parallel()
	for _, be := range authztest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			store := be.Open(t)
			writer := authztest.NewClient(t, store, testOptions())
			reader := authztest.NewClient(t, store, testOptions())
			b := oneTenantBatch()
			b.Resources = []authz.ResourceInput{{ID: "d0", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d0"}}
			base := must(writer.Apply(ctx, b))(t).Revision
			in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read",
				Resource: &authz.ResourceRef{ResourceID: "d0"}, Consistency: &authz.Consistency{AtLeastRevision: base + 1}}

			short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			d, err := reader.Evaluate(short, in)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) || d.Allowed {
				t.Fatalf("waiting for revision %d that never comes: got allowed=%v, %v; want a denial and DeadlineExceeded", base+1, d.Allowed, err)
			}

			// The grant arrives while the reader waits.
			done := make(chan error, 1)
			go func() {
				time.Sleep(10 * time.Millisecond)
				_, err := writer.Apply(ctx, authz.Batch{
					Permissions:     []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: "p"}},
					RolePermissions: []authz.RolePermissionInput{{RoleID: "r", PermissionID: "p"}},
				})
				done <- err
			}()
			d = must(reader.Evaluate(ctx, in))(t)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !d.Allowed {
				t.Fatalf("after waiting for revision %d: got %q; want the grant written at it", base+1, d.Explanation)
			}
			ds := must(reader.EvaluateBatch(ctx, []authz.EvaluateInput{in, {Actor: in.Actor, ScopeID: "acme", Action: "read",
				Resource: in.Resource, Consistency: &authz.Consistency{FullyConsistent: true}}}))(t)
			if !ds[0].Allowed || !ds[1].Allowed {
				t.Errorf("EvaluateBatch: got %v, %v; want both allowed", ds[0].Allowed, ds[1].Allowed)
			}
			for name, call := range map[string]func(context.Context) error{
				"EvaluateBatch": func(cx context.Context) error {
					_, err := reader.EvaluateBatch(cx, []authz.EvaluateInput{{Actor: in.Actor, ScopeID: "acme", Action: "read", Resource: in.Resource},
						{Actor: in.Actor, ScopeID: "acme", Action: "read", Resource: in.Resource, Consistency: &authz.Consistency{AtLeastRevision: base + 9}}})
					return err
				},
				"ListAllowedSubjects": func(cx context.Context) error {
					_, err := reader.ListAllowedSubjects(cx, authz.LookupSubjectsInput{ScopeID: "acme", Action: "read", Resource: *in.Resource,
						Consistency: &authz.Consistency{AtLeastRevision: base + 9}})
					return err
				},
				"ListAllowedResources": func(cx context.Context) error {
					_, err := reader.ListAllowedResources(cx, authz.LookupResourcesInput{Actor: in.Actor, ScopeID: "acme", Action: "read", ResourceType: "doc",
						Consistency: &authz.Consistency{AtLeastRevision: base + 9}})
					return err
				},
			} {
				cx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				err := call(cx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s asking for revision %d: got %v; want DeadlineExceeded", name, base+9, err)
				}
			}
		})
	}
}

// lagStore is a memstore that tells of commits only when the test says so
// (deliver), as a store shared with other processes does when a
// notification arrives: a storage.Watcher, not a storage.Versioner.
type lagStore struct {
	s     *memstore.Store
	mu    sync.Mutex
	known uint64
	ch    chan struct{}
}

func (l *lagStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return l.s.View(ctx, fn)
}

func (l *lagStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return l.s.Update(ctx, fn)
}

func (l *lagStore) Close() error { return nil } // the test closes the memstore

func (l *lagStore) Watch() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch == nil {
		l.ch = make(chan struct{})
	}
	return l.known, l.ch
}

// deliver tells of every commit so far.
func (l *lagStore) deliver() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.known = l.s.Version()
	if l.ch != nil {
		close(l.ch)
		l.ch = nil
	}
}

// TestConsistencyWithAStoreThatTellsLate: a Client on a store that tells
// of commits late (a storage.Watcher) answers by default from what it was
// told, so it may be stale; AtLeastRevision and FullyConsistent read the
// store and see the writes of another Client at once; and a request waiting
// for a revision wakes when the store tells of it.
func TestConsistencyWithAStoreThatTellsLate(t *testing.T) {
	t.Parallel()
	mem := authztest.Memstore(t)
	lag := &lagStore{s: mem}
	writer := authztest.NewClient(t, mem, testOptions())
	reader := authztest.NewClient(t, lag, testOptions())
	b := oneTenantBatch()
	b.Resources = []authz.ResourceInput{{ID: "d0", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d0"}}
	b.Permissions = []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: "p"}}
	must(writer.Apply(ctx, b))(t)
	lag.deliver()
	ask := func(cons *authz.Consistency) bool {
		t.Helper()
		return must(reader.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read",
			Resource: &authz.ResourceRef{ResourceID: "d0"}, Consistency: cons}))(t).Allowed
	}
	if ask(nil) {
		t.Fatal("before the grant: got allowed; want denied")
	}
	grant := must(writer.CreateRolePermission(ctx, authz.RolePermissionInput{ID: "grant", RoleID: "r", PermissionID: "p"}))(t)
	r1 := must(writer.Revision(ctx))(t)
	if ask(nil) {
		t.Error("grant written, not told: the default answered from a revision the store has not told of")
	}
	if !ask(&authz.Consistency{AtLeastRevision: r1}) {
		t.Errorf("AtLeastRevision %d: got denied; want the grant", r1)
	}
	if err := writer.DeleteRolePermission(ctx, grant.ID); err != nil {
		t.Fatal(err)
	}
	if !ask(nil) {
		t.Error("grant deleted, not told: the default should still answer from revision r1 (allowed)")
	}
	if ask(&authz.Consistency{FullyConsistent: true}) {
		t.Error("FullyConsistent after the grant was deleted: got allowed; want denied")
	}
	must(writer.CreateRolePermission(ctx, authz.RolePermissionInput{ID: "grant2", RoleID: "r", PermissionID: "p"}))(t)
	lag.deliver()
	if !ask(nil) {
		t.Error("grant written and told: got denied; want allowed")
	}
	// A request for the next revision wakes when the store tells of it.
	next := must(writer.Revision(ctx))(t) + 1
	go func() {
		time.Sleep(10 * time.Millisecond)
		if err := writer.DeleteRolePermission(ctx, "grant2"); err == nil {
			lag.deliver()
		}
	}()
	if ask(&authz.Consistency{AtLeastRevision: next}) {
		t.Errorf("AtLeastRevision %d, the revision that deletes the grant: got allowed; want denied", next)
	}
}
