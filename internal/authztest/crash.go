package authztest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scopegate/authz"
)

// The crash tests of every backend share one workload: a child process
// applies numbered batches (ApplyCrashBatches) until it is killed, and the
// parent checks what the store holds afterwards (CheckCrashBatches).

// crashBase is the model every crash batch builds on; the child applies it
// first, in a batch of its own.
var crashBase = authz.Batch{
	ScopeTypes:      []authz.ScopeTypeInput{{ID: "t_org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}, {ID: "t_unit", Name: "Unit"}},
	ScopeTypeEdges:  []authz.ScopeTypeEdgeInput{{ParentTypeID: "t_org", ChildTypeID: "t_unit"}},
	Scopes:          []authz.ScopeInput{{ID: "root", TypeID: "t_org"}},
	ResourceTypes:   []authz.ResourceTypeInput{{ID: "rt_doc", ScopeID: "root", Key: "document", Name: "Document"}},
	Permissions:     []authz.PermissionInput{{ID: "p_read", ScopeID: "root", Action: "read", ResourceType: "document"}},
	Roles:           []authz.RoleInput{{ID: "viewer", ScopeID: "root", Name: "Viewer"}},
	RolePermissions: []authz.RolePermissionInput{{RoleID: "viewer", PermissionID: "p_read"}},
}

// crashBatch is batch n of the crash test, of a size drawn from n, and the
// ids of the objects it creates, by the getter that finds them.
func crashBatch(n int) (authz.Batch, map[string][]string) {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	k := 1 + r.IntN(25)
	scope := fmt.Sprintf("s%d", n)
	bt := authz.Batch{Scopes: []authz.ScopeInput{{ID: scope, TypeID: "t_unit", ParentScopeID: "root"}}}
	ids := map[string][]string{"scope": {scope}}
	for i := range k {
		sub, res, mem := fmt.Sprintf("u%d_%d", n, i), fmt.Sprintf("r%d_%d", n, i), fmt.Sprintf("m%d_%d", n, i)
		bt.Subjects = append(bt.Subjects, authz.SubjectInput{ID: sub, SubjectType: authz.SubjectUser, ExternalID: sub})
		bt.Memberships = append(bt.Memberships, authz.MembershipInput{ID: mem, SubjectID: sub, ScopeID: scope, RoleIDs: []string{"viewer"}})
		bt.Resources = append(bt.Resources, authz.ResourceInput{ID: res, ResourceTypeID: "rt_doc", ScopeID: scope, ExternalResourceID: res,
			Meta: map[string]any{"n": n, "pad": fmt.Sprintf("%0200d", i)}})
		ids["subject"] = append(ids["subject"], sub)
		ids["membership"] = append(ids["membership"], mem)
		ids["resource"] = append(ids["resource"], res)
		if i > 0 {
			edge := fmt.Sprintf("e%d_%d", n, i)
			bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ID: edge, ParentResourceID: fmt.Sprintf("r%d_%d", n, i-1), ChildResourceID: res})
			ids["resource edge"] = append(ids["resource edge"], edge)
		}
	}
	return bt, ids
}

// crashGet looks an object up by the getter of its kind.
func crashGet(c *authz.Client, kind, id string) error {
	ctx := context.Background()
	var err error
	switch kind {
	case "scope":
		_, err = c.GetScope(ctx, id)
	case "subject":
		_, err = c.GetSubject(ctx, id)
	case "membership":
		_, err = c.GetMembership(ctx, id)
	case "resource":
		_, err = c.GetResource(ctx, id)
	case "resource edge":
		_, err = c.GetResourceEdge(ctx, id)
	}
	return err
}

// crashBatchState returns how many objects of batch n are stored, and how
// many it has.
func crashBatchState(tb testing.TB, c *authz.Client, n int) (present, total int) {
	tb.Helper()
	_, ids := crashBatch(n)
	for kind, list := range ids {
		for _, id := range list {
			total++
			switch err := crashGet(c, kind, id); {
			case err == nil:
				present++
			case !errors.Is(err, authz.ErrNotFound):
				tb.Fatalf("batch %d: get %s %q: %v", n, kind, id, err)
			}
		}
	}
	return present, total
}

// CheckCrashBatches checks the store of c after a killed child: Client.Check
// passes, every crash batch is stored wholly or not at all, and the stored
// ones form a prefix. It returns how many are stored.
func CheckCrashBatches(tb testing.TB, c *authz.Client) int {
	tb.Helper()
	if err := c.Check(context.Background()); err != nil {
		tb.Fatalf("check after kill: %v", err)
	}
	n := 0
	for {
		present, total := crashBatchState(tb, c, n+1)
		if present == 0 {
			break
		}
		if present != total {
			tb.Fatalf("batch %d: %d of its %d objects are stored; want all or none", n+1, present, total)
		}
		n++
	}
	// Nothing after the first missing batch.
	for m := n + 2; m <= n+3; m++ {
		if present, _ := crashBatchState(tb, c, m); present != 0 {
			tb.Fatalf("batch %d: %d objects stored although batch %d is missing", m, present, n+1)
		}
	}
	return n
}

// ApplyCrashBatches is the work of a crash test's child: it applies the
// base model if missing, then crash batches after the last stored one,
// calling ready once set up, until it is killed (it fails after 30 s).
func ApplyCrashBatches(tb testing.TB, c *authz.Client, ready func()) {
	tb.Helper()
	ctx := context.Background()
	if _, err := c.GetScope(ctx, "root"); errors.Is(err, authz.ErrNotFound) {
		if _, err := c.Apply(ctx, crashBase); err != nil {
			tb.Fatal(err)
		}
	}
	n := 1
	for {
		if _, err := c.GetScope(ctx, fmt.Sprintf("s%d", n)); errors.Is(err, authz.ErrNotFound) {
			break
		}
		n++
	}
	ready()
	deadline := time.Now().Add(30 * time.Second)
	for ; time.Now().Before(deadline); n++ {
		bt, _ := crashBatch(n)
		if _, err := c.Apply(ctx, bt); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Fatal("child: not killed within 30s")
}
