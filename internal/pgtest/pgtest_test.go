package pgtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestURLGivesFreshDatabases(t *testing.T) {
	var first string
	t.Run("first", func(t *testing.T) {
		first = URL(t)
		conn := connect(t, first)
		if _, err := conn.Exec(t.Context(), "CREATE TABLE mark (x int)"); err != nil {
			t.Fatalf("CREATE TABLE: got %v; want nil", err)
		}
	})
	second := URL(t)
	if second == first {
		t.Fatalf("URL twice: got %q both times; want two databases", first)
	}
	conn := connect(t, second)
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_class WHERE relname = 'mark'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("tables named mark in a new database: got %d; want 0", n)
	}
	var exists bool
	err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dbName(t, first)).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database of the ended subtest: got it still there; want it dropped")
	}
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5433/postgres?sslmode=disable", "postgres://u:p@h:5433/db1?sslmode=disable"},
		{"postgresql://h/", "postgresql://h/db1"},
		{"host=/tmp port=5432 dbname=postgres", "host=/tmp port=5432 dbname=postgres dbname=db1"},
	} {
		got := withDatabase(c.in, "db1")
		if got != c.want {
			t.Errorf("withDatabase(%q): got %q; want %q", c.in, got, c.want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil {
			t.Errorf("ParseConfig(%q): got %v; want nil", got, err)
		} else if cfg.Database != "db1" {
			t.Errorf("database of %q: got %q; want db1", got, cfg.Database)
		}
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connecting to %s: got %v; want nil", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func dbName(t *testing.T, url string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// TestNoBinaries runs this test binary again without binaries to find: the
// test that asks for a database is skipped with SkipMessage, and fails
// under AUTHZ_PG_REQUIRED=1.
func TestNoBinaries(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		binGlob = filepath.Join(t.TempDir(), "*")
		t.Setenv("PATH", "")
		URL(t)
		t.Fatal("URL without binaries: got a database; want a skip or a failure")
	}
	for _, c := range []struct {
		required string
		wantFail bool
		wantOut  string
	}{
		{"", false, "--- SKIP: TestNoBinaries"},
		{"1", true, "--- FAIL: TestNoBinaries"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoBinaries$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", EnvRequired+"="+c.required, EnvURL+"=")
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.wantFail {
			t.Errorf("%s=%q: got failure %v (%v); want %v\n%s", EnvRequired, c.required, failed, err, c.wantFail, out)
		}
		if !strings.Contains(string(out), c.wantOut) || !strings.Contains(string(out), SkipMessage) {
			t.Errorf("%s=%q: got output\n%s\nwant %q and %q", EnvRequired, c.required, out, c.wantOut, SkipMessage)
		}
	}
}
