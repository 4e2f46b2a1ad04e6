package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/modelfile"
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
		if err := run(context.Background(), &out, db, ""); err != nil {
			t.Fatalf("run(%q): got %v; want nil", db, err)
		}
		table := out.String()[strings.Index(out.String(), "REQUEST"):]
		if got := strings.Count(table, "\n") - 1; got != len(requests()) {
			t.Errorf("run(%q) printed %d decisions; want %d:\n%s", db, got, len(requests()), out.String())
		}
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRunOnPostgreSQL runs the quickstart twice on one PostgreSQL database:
// the second run finds the model the first loaded. -db and -pg together
// are refused.
func TestRunOnPostgreSQL(t *testing.T) {
	url := pgtest.URL(t)
	for i, wantLoad := range []bool{true, false} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, "", url); err != nil {
			t.Fatalf("run %d on PostgreSQL: got %v; want nil", i, err)
		}
		if got := strings.Contains(out.String(), "loaded "); got != wantLoad {
			t.Errorf("run %d: loaded the model %v; want %v:\n%s", i, got, wantLoad, out.String())
		}
		table := out.String()[strings.Index(out.String(), "REQUEST"):]
		if got := strings.Count(table, "\n") - 1; got != len(requests()) {
			t.Errorf("run %d printed %d decisions; want %d", i, got, len(requests()))
		}
	}
	if err := run(context.Background(), io.Discard, "x.bolt", url); err == nil {
		t.Error("-db and -pg together: got nil; want an error")
	}
}

// TestModelFile: examples/models/saas.yaml, the model shipped as a file, is
// this program's model.
func TestModelFile(t *testing.T) {
	m, err := modelfile.Load("../models/saas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Compared as JSON: the file's numbers decode as float64.
	want, _ := json.Marshal(model())
	got, _ := json.Marshal(m.Batch)
	if !bytes.Equal(got, want) {
		t.Errorf("examples/models/saas.yaml is not the quickstart's model: got\n%s\nwant\n%s", got, want)
	}
}
