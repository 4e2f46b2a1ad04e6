package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quickstart.bolt")
	for _, tt := range []struct {
		db   string
		want string
	}{
		{"", "memstore works: "},
		{path, "boltstore " + path + " works: "},
		{path, "boltstore " + path + " works: "}, // again, on the existing file
	} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, tt.db); err != nil {
			t.Fatalf("run(%q): got %v; want nil", tt.db, err)
		}
		if !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("run(%q) printed %q; want it to start with %q", tt.db, out.String(), tt.want)
		}
	}
}
