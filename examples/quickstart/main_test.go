package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopegate/authz/internal/authztest"
)

// TestModelDecisions checks every quickstart request against the answer the
// model implies.
func TestModelDecisions(t *testing.T) {
	ctx := context.Background()
	c := authztest.NewClient(t, authztest.Memstore(t), nil)
	if _, err := c.Apply(ctx, model()); err != nil {
		t.Fatal(err)
	}
	for _, r := range requests() {
		d, err := c.Evaluate(ctx, r.in)
		if err != nil {
			t.Fatalf("%s: %v", r.what, err)
		}
		if d.Allowed != r.allow || d.DecidedBy != r.by {
			t.Errorf("%s: got allowed=%v by %s (%s); want allowed=%v by %s", r.what, d.Allowed, d.DecidedBy, d.Explanation, r.allow, r.by)
		}
	}
}

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quickstart.bolt")
	for _, db := range []string{"", path, path} { // the bolt file twice: the second run reuses the model
		var out bytes.Buffer
		if err := run(context.Background(), &out, db); err != nil {
			t.Fatalf("run(%q): got %v; want nil", db, err)
		}
		table := out.String()[strings.Index(out.String(), "REQUEST"):]
		if got := strings.Count(table, "\n") - 1; got != len(requests()) {
			t.Errorf("run(%q) printed %d decisions; want %d:\n%s", db, got, len(requests()), out.String())
		}
	}
}
