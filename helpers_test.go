package authz_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/testsize"
	"github.com/scopegate/authz/storage"
)

// fixedNow is the clock of test clients: the timestamp of the seed responses.
var fixedNow = authztest.Now

// backend opens an empty store of one kind for a test.
type backend struct {
	name string
	open func(t testing.TB) storage.Storage
}

// backends lists authztest.Backends.
var backends = func() []backend {
	var out []backend
	for _, b := range authztest.Backends {
		out = append(out, backend{b.Name, b.Open})
	}
	return out
}()

// withPG is backends and pgstore (in a schema of the database the test
// binary shares), for the randomized tests that also run on PostgreSQL at
// a smaller size; a machine without PostgreSQL binaries skips its subtest.
var withPG = append(backends[:len(backends):len(backends)],
	backend{"pgstore", func(t testing.TB) storage.Storage { return authztest.Pgstore(t) }})

// testOptions returns options with a deterministic clock and id generator:
// ids are prefix_0001, prefix_0002, … per client.
func testOptions() *authz.Options { return authztest.Options() }

// eachBackend runs fn as a subtest against a fresh client on every backend;
// the store must pass Client.Check when the subtest ends.
func eachBackend(t *testing.T, fn func(t *testing.T, c *authz.Client)) {
	t.Helper()
	authztest.Each(t, fn)
}

// must returns a function that returns v and fails the test (Fatal) if err
// is not nil: must(c.Apply(ctx, b))(t). Go cannot pass t alongside a
// multi-value call, hence the second call. Like t.Fatal, it must be called
// from the test's goroutine.
func must[T any](v T, err error) func(testing.TB) T {
	return authztest.Must(v, err)
}

// wantErr fails unless err matches target (errors.Is).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v; want one matching %v", err, target)
	}
}

// wantItems fails unless err is a *BatchError whose items are, in order, at
// the given "index field" positions with errors matching the sentinel (nil:
// any).
func wantItems(t testing.TB, err error, target error, positions ...string) *authz.BatchError {
	t.Helper()
	var be *authz.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got error %v (%T); want a *BatchError", err, err)
	}
	var got []string
	for _, it := range be.Items {
		got = append(got, fmt.Sprintf("%d %s", it.Index, it.Field))
		if target != nil && !errors.Is(it, target) {
			t.Errorf("item %d %s: got %v; want an error matching %v", it.Index, it.Field, it.Err, target)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(positions) {
		t.Fatalf("got items %q; want %q (error: %v)", got, positions, err)
	}
	return be
}

var ctx = context.Background()

// oneTenantBatch returns the start of a one-tenant model: scope type org
// (define), scope acme, subject bob, resource type rt (key doc) and role r
// at acme, and bob's membership of acme with r.
func oneTenantBatch() authz.Batch {
	return authz.Batch{
		ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}},
		Scopes:        []authz.ScopeInput{{ID: "acme", TypeID: "org"}},
		Subjects:      []authz.SubjectInput{{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob"}},
		ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "acme", Key: "doc", Name: "Doc"}},
		Roles:         []authz.RoleInput{{ID: "r", ScopeID: "acme", Name: "R"}},
		Memberships:   []authz.MembershipInput{{SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"r"}}},
	}
}

// bootstrap creates a small two-level model used by many tests:
// types org (define) → team → project, scope_acme (org) → scope_eng (team)
// → scope_api (project), subjects jane and bob, roles at scope_acme.
func bootstrap(t *testing.T, c *authz.Client) {
	t.Helper()
	must(c.Apply(ctx, authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "type_org", Name: "Organization", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "type_team", Name: "Team"},
			{ID: "type_project", Name: "Project"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{
			{ParentTypeID: "type_org", ChildTypeID: "type_team"},
			{ParentTypeID: "type_team", ChildTypeID: "type_project"},
		},
		Scopes: []authz.ScopeInput{
			{ID: "scope_acme", TypeID: "type_org", Name: "Acme"},
			{ID: "scope_eng", TypeID: "type_team", Name: "Engineering", ParentScopeID: "scope_acme"},
			{ID: "scope_api", TypeID: "type_project", Name: "API", ParentScopeID: "scope_eng"},
			{ID: "scope_globex", TypeID: "type_org", Name: "Globex"},
		},
		Subjects: []authz.SubjectInput{
			{ID: "subject_jane", SubjectType: authz.SubjectUser, ExternalID: "jane"},
			{ID: "subject_bob", SubjectType: authz.SubjectUser, ExternalID: "bob"},
		},
		Roles: []authz.RoleInput{
			{ID: "role_admin", ScopeID: "scope_acme", Name: "Admin"},
			{ID: "role_dev", ScopeID: "scope_eng", Name: "Developer"},
			{ID: "role_globex", ScopeID: "scope_globex", Name: "Globex admin"},
		},
	}))(t)
}

// envCount returns the positive number in the environment variable name, or
// def when it is unset: the long runs of scripts/reliability.sh set them
// (see testsize.Count).
func envCount(t testing.TB, name string, def int) int {
	t.Helper()
	return testsize.Count(t, name, def)
}
