//go:build unix

package authz_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/childproc"
)

// crashApplyEnv tells TestApplyCrashChild, run as a child process by
// TestApplyCrash, which bolt file to write.
const crashApplyEnv = "AUTHZ_CRASH_CHILD_PATH"

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
func crashBatchState(t *testing.T, c *authz.Client, n int) (present, total int) {
	_, ids := crashBatch(n)
	for kind, list := range ids {
		for _, id := range list {
			total++
			switch err := crashGet(c, kind, id); {
			case err == nil:
				present++
			case !errors.Is(err, authz.ErrNotFound):
				t.Fatalf("batch %d: get %s %q: %v", n, kind, id, err)
			}
		}
	}
	return present, total
}

// TestApplyCrash kills a child process that applies batches of 2–100
// objects to a bolt file (fsync on) with SIGKILL at random moments. After
// each kill the file must open, pass Client.Check, and hold every batch
// wholly or not at all, the committed ones forming a prefix that never
// shrinks.
func TestApplyCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.bolt")
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)
	rounds := envCount(t, "AUTHZ_CRASH_ROUNDS", 10)
	last := 0
	for round := 1; round <= rounds; round++ {
		delay := time.Duration(5+r.IntN(120)) * time.Millisecond
		childproc.RunUntilKilled(t, "TestApplyCrashChild", []string{crashApplyEnv + "=" + path}, delay)
		got := checkCrashModel(t, path)
		t.Logf("round %d: killed %v after the child was ready; %d batches committed", round, delay, got)
		if got < last {
			t.Fatalf("round %d: committed batches: got %d; want at least %d, as before the kill", round, got, last)
		}
		last = got
	}
	if last == 0 {
		t.Fatalf("committed batches after %d rounds: got 0; want some, or the test proves nothing", rounds)
	}
}

// checkCrashModel opens the file left by a killed child, checks it and
// returns the number of committed batches.
func checkCrashModel(t *testing.T, path string) int {
	t.Helper()
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer s.Close()
	c, err := authz.New(s, nil)
	if err != nil {
		t.Fatalf("new client after kill: %v", err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("check after kill: %v", err)
	}
	n := 0
	for {
		present, total := crashBatchState(t, c, n+1)
		if present == 0 {
			break
		}
		if present != total {
			t.Fatalf("batch %d: %d of its %d objects are stored; want all or none", n+1, present, total)
		}
		n++
	}
	// Nothing after the first missing batch.
	for m := n + 2; m <= n+3; m++ {
		if present, _ := crashBatchState(t, c, m); present != 0 {
			t.Fatalf("batch %d: %d objects stored although batch %d is missing", m, present, n+1)
		}
	}
	return n
}

// TestApplyCrashChild is the child process of TestApplyCrash: it applies
// crash batches to the file named by $AUTHZ_CRASH_CHILD_PATH, continuing
// after the last committed one, until it is killed. Without the variable
// it skips.
func TestApplyCrashChild(t *testing.T) {
	path := os.Getenv(crashApplyEnv)
	if path == "" {
		t.Skip("child process of TestApplyCrash")
	}
	s, err := boltstore.Open(path, nil) // fsync on: the configuration under test
	if err != nil {
		t.Fatal(err)
	}
	c, err := authz.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetScope(ctx, "root"); errors.Is(err, authz.ErrNotFound) {
		if _, err := c.Apply(ctx, crashBase); err != nil {
			t.Fatal(err)
		}
	}
	n := 1
	for {
		if _, err := c.GetScope(ctx, fmt.Sprintf("s%d", n)); errors.Is(err, authz.ErrNotFound) {
			break
		}
		n++
	}
	childproc.Ready()
	deadline := time.Now().Add(30 * time.Second)
	for ; time.Now().Before(deadline); n++ {
		bt, _ := crashBatch(n)
		if _, err := c.Apply(ctx, bt); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("child: not killed within 30s")
}
