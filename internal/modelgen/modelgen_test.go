package modelgen_test

import (
	"context"
	"os"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/modelgen"
)

// TestRequestMix checks the mix of every preset without loading it: about
// 1000 requests, 60% allowed (±2%), every path present; the same for the
// RBAC requests.
func TestRequestMix(t *testing.T) {
	names := []string{"small"}
	if !testing.Short() {
		names = append(names, "medium")
	}
	for _, name := range names {
		cfg, _ := modelgen.Preset(name)
		m := modelgen.Generate(cfg)
		allowed, paths := 0, map[string]int{}
		for _, r := range m.Requests {
			if r.Want {
				allowed++
			}
			paths[r.Path]++
		}
		checkShare(t, name+" requests", allowed, len(m.Requests))
		for _, p := range []string{modelgen.PathRole, modelgen.PathCondition, modelgen.PathPolicy, modelgen.PathCascade, modelgen.PathLink} {
			if paths[p] == 0 {
				t.Errorf("%s: got no %s requests; want some", name, p)
			}
		}
		allowed = 0
		for _, r := range m.RBAC.Requests {
			if r.Want {
				allowed++
			}
		}
		checkShare(t, name+" RBAC requests", allowed, len(m.RBAC.Requests))
	}
}

func checkShare(t *testing.T, what string, allowed, n int) {
	t.Helper()
	if n < 900 || n > 1100 {
		t.Errorf("%s: got %d; want about 1000", what, n)
		return
	}
	if share := float64(allowed) / float64(n); share < 0.58 || share > 0.62 {
		t.Errorf("%s: got %d of %d allowed (%.1f%%); want 60%% ±2%%", what, allowed, n, 100*share)
	}
}

// TestMediumModel loads the medium model into memstore and asks every
// request. It takes about ten seconds, so it runs only with
// AUTHZ_MODELGEN_MEDIUM=1.
func TestMediumModel(t *testing.T) {
	if os.Getenv("AUTHZ_MODELGEN_MEDIUM") != "1" {
		t.Skip("set AUTHZ_MODELGEN_MEDIUM=1 to load the medium model")
	}
	ctx := context.Background()
	m := modelgen.Generate(modelgen.Medium())
	store := authztest.Memstore(t)
	c, err := authz.New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, bt := range m.Batches {
		if _, err := c.Apply(ctx, bt); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	for i, r := range m.Requests {
		d, err := c.Evaluate(ctx, r.Input)
		if err != nil || d.Allowed != r.Want {
			t.Errorf("request %d (%s): got allowed=%v; want %v: %s (err %v)", i, r.Path, d.Allowed, r.Want, d.Explanation, err)
		}
	}
	for i, r := range m.RBAC.Requests {
		d, err := c.Evaluate(ctx, r.Input)
		if err != nil || d.Allowed != r.Want {
			t.Errorf("RBAC request %d: got allowed=%v; want %v: %s (err %v)", i, d.Allowed, r.Want, d.Explanation, err)
		}
	}
}
