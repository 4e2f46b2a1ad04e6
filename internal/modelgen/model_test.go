package modelgen_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/modelgen"
	"github.com/scopegate/authz/storage"
)

// TestSmallModel loads the small model and checks that it is what it claims:
// batches within the limit, the object count, and every request answered as
// the model was built to answer it.
func TestSmallModel(t *testing.T) {
	ctx := context.Background()
	m := modelgen.Generate(modelgen.Small())
	store := authztest.Memstore(t)
	c, err := authz.New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := 0
	for i, bt := range m.Batches {
		n := count(bt)
		if n > modelgen.BatchSize {
			t.Fatalf("batch %d: got %d items; want at most %d", i, n, modelgen.BatchSize)
		}
		items += n
		if _, err := c.Apply(ctx, bt); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if items != m.Objects {
		t.Errorf("Objects: got %d; want %d (the items of the batches)", m.Objects, items)
	}
	// Every stored object has an entry in the ids table.
	stored := 0
	err = store.View(ctx, func(tx storage.Tx) error {
		return tx.Scan("ids", "", func(string, []byte) error { stored++; return nil })
	})
	if err != nil || stored != m.Objects {
		t.Errorf("stored objects: got %d (%v); want Objects = %d", stored, err, m.Objects)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][2]int{}
	for i, r := range m.Requests {
		d, err := c.Evaluate(ctx, r.Input)
		if err != nil || d.Allowed != r.Want {
			t.Errorf("request %d (%s): got allowed=%v err=%v; want %v: %s", i, r.Path, d.Allowed, err, r.Want, d.Explanation)
		}
		counts := allowed[r.Path]
		if r.Want {
			counts[0]++
		}
		counts[1]++
		allowed[r.Path] = counts
	}
	for _, p := range []string{modelgen.PathRole, modelgen.PathCondition, modelgen.PathPolicy, modelgen.PathCascade, modelgen.PathLink} {
		got := allowed[p]
		if got[1] == 0 {
			t.Errorf("path %s: got no requests; want some", p)
			continue
		}
		if share := float64(got[0]) / float64(got[1]); share < 0.58 || share > 0.62 {
			t.Errorf("path %s: got %d of %d requests allowed (%.0f%%); want 60%%", p, got[0], got[1], 100*share)
		}
	}
	for i, r := range m.RBAC.Requests {
		d, err := c.Evaluate(ctx, r.Input)
		if err != nil || d.Allowed != r.Want {
			t.Errorf("RBAC request %d: got allowed=%v err=%v; want %v: %s", i, d.Allowed, err, r.Want, d.Explanation)
		}
	}
	if len(m.RBAC.Requests) == 0 || len(m.RBAC.Policies) == 0 || len(m.RBAC.Groupings) == 0 {
		t.Errorf("RBAC: got %d requests, %d policies, %d groupings; want some of each", len(m.RBAC.Requests), len(m.RBAC.Policies), len(m.RBAC.Groupings))
	}
}

// count returns the items of a batch as the batch limit counts them.
func count(bt authz.Batch) int {
	n := len(bt.ScopeTypes) + len(bt.ScopeTypeEdges) + len(bt.Scopes) + len(bt.ScopeEdges) + len(bt.Subjects) + len(bt.RoleAssignments) +
		len(bt.Roles) + len(bt.Permissions) + len(bt.RolePermissions) + len(bt.ScopeOverrides) + len(bt.ResourceTypes) + len(bt.Resources) +
		len(bt.ResourceEdges) + len(bt.ResourceScopeLinks) + len(bt.Collections) + len(bt.ResourcePolicies) + len(bt.TagGroups) + len(bt.Tags) +
		len(bt.TagBindings) + len(bt.TagAssignments)
	for _, m := range bt.Memberships {
		n += 1 + len(m.RoleIDs)
	}
	for _, s := range bt.Scopes {
		if s.ParentScopeID != "" {
			n++ // the parent edge
		}
	}
	return n
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := modelgen.Generate(modelgen.Small()), modelgen.Generate(modelgen.Small())
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generations of the small model differ")
	}
}

func TestPresets(t *testing.T) {
	m, ok := modelgen.Preset("medium")
	if !ok || m.Tenants != 10 || m.Scopes != 2000 || m.Depth != 5 || m.Subjects != 10_000 || m.Resources != 100_000 || m.Memberships != 100_000 ||
		m.Roles != 200 || m.Permissions != 1000 || m.Overrides != 500 || m.Policies != 200 || m.Collections != 50 || m.ConditionalFraction != 0.2 {
		t.Errorf("medium: got %+v; want the sizes of the issue", m)
	}
	l, _ := modelgen.Preset("large")
	if l.Resources != 1_000_000 || l.Memberships != 1_000_000 || l.Scopes != m.Scopes {
		t.Errorf("large: got %+v; want medium with 1M resources and 1M memberships", l)
	}
	if _, ok := modelgen.Preset("huge"); ok {
		t.Error(`Preset("huge"): got ok; want not found`)
	}
}
