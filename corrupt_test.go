package authz_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/authztest"
)

// TestDamagedBoltFile loads a model into a bolt file, then truncates it or
// overwrites bytes at random places, and opens it again, many times. Every
// step must end in a clear error or a working, consistent store: never a
// panic.
func TestDamagedBoltFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bolt")
	s := authztest.OpenBolt(t, good, &boltstore.Options{NoSync: true})
	c := must(authz.New(s, nil))(t)
	benchModel(t, c)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	outcomes := map[string]int{}
	// bbolt grows files in large steps: damage only the part in use.
	used := len(data)
	for used > 0 && data[used-1] == 0 {
		used--
	}
	const page = 4096
	pages := (used + page - 1) / page
	for i := range envCount(t, "AUTHZ_DAMAGE_ROUNDS", 200) {
		damaged := append([]byte(nil), data...)
		what := "truncated"
		if i%4 == 0 {
			damaged = damaged[:r.IntN(used)]
		} else {
			// Scribble over part of a page: its header or its items.
			what = "overwritten"
			at := r.IntN(pages)*page + r.IntN(page-64)
			for k := range 1 + r.IntN(64) {
				damaged[at+k] = byte(r.IntN(256))
			}
		}
		path := filepath.Join(dir, "damaged.bolt")
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		outcomes[what+": "+openAndUse(t, path)]++
	}
	t.Logf("%d pages; outcomes: %v", pages, outcomes)
}

// openAndUse opens path and runs a Check and an Evaluate, returning which
// step failed ("ok" if none). A panic fails the test.
func openAndUse(t *testing.T, path string) (step string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic at step %s: %v", step, r)
		}
	}()
	step = "open"
	s, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
	if err != nil {
		return "open refused"
	}
	defer s.Close()
	step = "new"
	c, err := authz.New(s, nil)
	if err != nil {
		return "new refused"
	}
	step = "check"
	if err := c.Check(context.Background()); err != nil {
		return "check found problems"
	}
	step = "evaluate"
	if _, err := c.Evaluate(context.Background(), authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read",
		Resource: &authz.ResourceRef{ResourceID: "doc_api"}}); err != nil {
		return "evaluate refused"
	}
	return "ok"
}
