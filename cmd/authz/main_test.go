package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/pgtest"
)

// binary is the authz command, built once for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authz-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "authz")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	pgtest.Main(m)
}

// result is what a run of the command printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// authzRun runs the command with args (stdin empty, or the file named
// after "<").
func authzRun(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = withoutToken()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// withoutToken is the environment without AUTHZ_TOKEN, whose value the
// tests must not depend on.
func withoutToken() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHZ_TOKEN=") {
			env = append(env, kv)
		}
	}
	return env
}

// must runs the command and fails the test unless it exits 0.
func must(t *testing.T, args ...string) result {
	t.Helper()
	r := authzRun(t, args...)
	if r.code != 0 {
		t.Fatalf("authz %s: exit %d; want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

const saas = "../../examples/models/saas.yaml"

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	r := must(t, "validate", saas)
	if r.stdout != saas+": ok (53 objects)\n" {
		t.Errorf("stdout: got %q", r.stdout)
	}
	bad := write(t, "bad.json", `{
  "scopeTypes": [{"id": "org", "name": "Org", "colour": "red"}],
  "scopes": [{"id": "acme", "typeId": "nope"}]
}`)
	r = authzRun(t, "validate", bad, saas)
	want := bad + `:2: scopeTypes[0] (id "org"): colour: unknown field` + "\n"
	if r.code != 1 || r.stderr != want || r.stdout != saas+": ok (53 objects)\n" {
		t.Errorf("validate of a bad file: got exit %d, stderr %q, stdout %q; want 1, %q and the good file ok", r.code, r.stderr, r.stdout, want)
	}
	// Problems of the batch, after parsing: every one at once.
	bad2 := write(t, "bad2.json", `{
  "scopes": [{"id": "acme", "typeId": "nope"}],
  "roles": [{"id": "r", "scopeId": "nowhere", "name": "R"}]
}`)
	r = authzRun(t, "validate", bad2)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 2 || !strings.Contains(r.stderr, bad2+`:2: scopes[0] (id "acme"): typeId: scope type "nope": not found`) {
		t.Errorf("validate of a refused batch: got exit %d, stderr %q; want 1 and two problems", r.code, r.stderr)
	}
}

func TestTest(t *testing.T) {
	r := must(t, "test", "../../examples/models/saas_test.yaml")
	if r.stdout != "15 passed, 0 failed\n" {
		t.Errorf("stdout: got %q", r.stdout)
	}
	model, err := os.ReadFile(saas)
	if err != nil {
		t.Fatal(err)
	}
	failing := write(t, "failing_test.json", `{"model": "saas.yaml", "tests": [
  {"name": "bob reads the plan", "evaluate": {"actor": {"subjectId": "bob"}, "scopeId": "acme", "action": "read", "resource": {"resourceId": "doc_plan"}},
   "want": {"allowed": true}}
]}`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(failing), "saas.yaml"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	r = authzRun(t, "test", failing)
	want := "FAIL " + failing + ":2: bob reads the plan\n     got allowed=false decidedBy=default; want allowed=true\n       explanation: "
	if r.code != 1 || !strings.HasPrefix(r.stdout, want) || !strings.HasSuffix(r.stdout, "0 passed, 1 failed\n") {
		t.Errorf("a failing test: got exit %d, stdout %q; want 1 and output starting %q", r.code, r.stdout, want)
	}
}

// storeCommands runs apply, check, eval, lookup, export and import on the
// store the flags name, and returns the export.
func storeCommands(t *testing.T, store, other []string) {
	with := func(args ...string) []string { return append(args, store...) }
	r := must(t, with("apply", saas)...)
	if !strings.HasPrefix(r.stdout, "applied 53 objects from "+saas+"; the store is at revision ") {
		t.Errorf("apply: got %q", r.stdout)
	}
	must(t, with("check")...)
	r = must(t, with("eval", "--subject", "bob", "--scope", "acme_api", "--action", "read", "--resource", "doc_design")...)
	if want := "allowed (decided by role)\nAllowed: permission document:read:* is granted through role engineer.\n"; r.stdout != want {
		t.Errorf("eval: got %q; want %q", r.stdout, want)
	}
	r = must(t, with("eval", "--subject", "carol", "--scope", "acme_sales", "--action", "read", "--resource", "doc_design", "--json")...)
	var d authz.Decision
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Allowed || d.DecidedBy != authz.DecidedByDefault {
		t.Errorf("eval --json of a denial: got %q (%v); want a denial by default", r.stdout, err)
	}
	r = must(t, with("lookup", "subjects", "--scope", "acme_api", "--action", "read", "--resource", "doc_design")...)
	if r.stdout != "agent\nalice\nbob\ndave\n" {
		t.Errorf("lookup subjects: got %q", r.stdout)
	}
	r = must(t, with("lookup", "resources", "--subject", "bob", "--scope", "acme_eng", "--action", "read", "--resource-type", "document")...)
	if r.stdout != "doc_design\ndoc_pricing\n" {
		t.Errorf("lookup resources: got %q", r.stdout)
	}
	exp := filepath.Join(t.TempDir(), "export.jsonl")
	r = must(t, with("export", "-o", exp)...)
	if !strings.HasPrefix(r.stderr, "exported 70 objects at revision ") {
		t.Errorf("export: got stderr %q", r.stderr)
	}
	r = must(t, append([]string{"import", exp, "--batch-size", "7"}, other...)...)
	if r.stdout != "imported 70 objects in 10 batches; the store is at revision 10\n" {
		t.Errorf("import: got %q", r.stdout)
	}
	again := must(t, append([]string{"export"}, other...)...)
	first, _ := os.ReadFile(exp)
	_, a, _ := strings.Cut(string(first), "\n")
	_, b, _ := strings.Cut(again.stdout, "\n")
	if a != b {
		t.Errorf("the export of the imported store differs from the export imported")
	}
	// Importing again: the objects exist; the first batch fails, nothing more is committed.
	r = authzRun(t, append([]string{"import", exp}, other...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "import: line 2: ") || !strings.Contains(r.stderr, "(0 objects committed before it, in 0 batches)") {
		t.Errorf("import into a store holding the objects: got exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestStoreCommandsOnBolt(t *testing.T) {
	dir := t.TempDir()
	db, other := filepath.Join(dir, "a.bolt"), filepath.Join(dir, "b.bolt")
	storeCommands(t, []string{"--db", db}, []string{"--db", other})
	copyPath := filepath.Join(dir, "copy.bolt")
	r := must(t, "changes", "--db", db, "--kind", "roles")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, l := range lines {
		var ch authz.Change
		if err := json.Unmarshal([]byte(l), &ch); err != nil || ch.Kind != "roles" || ch.Action != authz.ChangeCreate || ch.Op != "apply" {
			t.Errorf("changes --kind roles: line %q (%v); want a role's creation", l, err)
		}
	}
	if len(lines) != 5 {
		t.Errorf("changes --kind roles: got %d lines; want the 5 roles of the model", len(lines))
	}
	r = must(t, "export", "--db", db, "--scope", "globex")
	if !strings.Contains(r.stdout, `"id":"globex"`) || strings.Contains(r.stdout, `"id":"acme"`) || !strings.Contains(r.stdout, `"scopeId":"globex"`) {
		t.Errorf("export --scope globex: got %q; want globex's objects and none of acme's", r.stdout)
	}
	r = must(t, "backup", "--db", db, "-o", copyPath)
	if !strings.HasPrefix(r.stdout, "wrote "+copyPath+" (") {
		t.Errorf("backup: got %q", r.stdout)
	}
	r = must(t, "eval", "--db", copyPath, "--subject", "alice", "--scope", "acme", "--action", "approve", "--resource", "doc_plan")
	if !strings.HasPrefix(r.stdout, "allowed (decided by role)") {
		t.Errorf("eval on the backup: got %q", r.stdout)
	}
}

func TestStoreCommandsOnPostgreSQL(t *testing.T) {
	url := pgtest.URL(t)
	storeCommands(t, []string{"--pg", url, "--pg-schema", "first"}, []string{"--pg", url, "--pg-schema", "second"})
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"validate"}, "requires at least 1 arg"},
		{[]string{"check"}, "no store: give --db FILE or --pg URL"},
		{[]string{"check", "--db", "a", "--pg", "b"}, "--db and --pg name two stores"},
		{[]string{"eval", "--db", "x.bolt", "--scope", "s", "--action", "a", "--resource", "r"}, "--subject is required"},
		{[]string{"eval", "--db", "x.bolt", "--subject", "u", "--scope", "s", "--action", "a"}, "give --resource or --resource-type"},
		{[]string{"eval", "--db", "x.bolt", "--subject", "u", "--scope", "s", "--action", "a", "--resource", "r", "--context", "[1]"}, "--context: json"},
		{[]string{"backup", "--db", "x.bolt"}, "give the copy's path with -o"},
		{[]string{"backup", "--pg", "u", "-o", "c"}, "backup copies a bolt store"},
		{[]string{"lookup"}, "give subjects or resources"},
	} {
		r := authzRun(t, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("authz %s: got exit %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	if r := authzRun(t, "help", "eval"); r.code != 0 || !strings.Contains(r.stdout, "--resource-type") {
		t.Errorf("help eval: got exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestChangesFollowOnPostgreSQL: changes --follow prints the entries of
// writes another process makes, and ends cleanly when interrupted.
func TestChangesFollowOnPostgreSQL(t *testing.T) {
	url := pgtest.URL(t)
	must(t, "apply", "--pg", url, saas)
	follow := exec.Command(binary, "changes", "--pg", url, "--follow", "--kind", "subjects", "--after", "70")
	out, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	follow.Stderr = &stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	model := write(t, "more.json", `{"subjects": [{"id": "zoe", "subjectType": "user", "externalId": "zoe"}]}`)
	must(t, "apply", "--pg", url, model)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		var ch authz.Change
		if err := json.Unmarshal([]byte(l), &ch); err != nil || ch.ID != "zoe" || ch.Action != authz.ChangeCreate {
			t.Errorf("changes --follow: got %q (%v); want zoe's creation", l, err)
		}
	case <-time.After(10 * time.Second):
		t.Error("changes --follow printed nothing within 10 s of the write")
	}
	follow.Process.Signal(os.Interrupt)
	if err := follow.Wait(); err != nil {
		t.Errorf("changes --follow after an interrupt: %v; want exit 0\n%s", err, stderr.String())
	}
}

// TestServe serves the HTTP API over a bolt file, answers a request with
// the token and refuses one without, and stops cleanly when interrupted.
func TestServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.bolt")
	must(t, "apply", "--db", db, saas)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("# team\ntok-ci subject_ci\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(binary, "serve", "--db", db, "--addr", addr, "--token", "secret", "--tokens", tokens, "--max-concurrent", "4")
	var stderr bytes.Buffer
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/scopes/acme", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	code, body := get("secret")
	for code == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		code, body = get("secret")
	}
	if code != http.StatusOK || !strings.Contains(body, `"acme"`) {
		t.Errorf("GET /scopes/acme: got %d %s; want 200 and the scope", code, body)
	}
	if code, _ := get("wrong"); code != http.StatusUnauthorized {
		t.Errorf("GET with a wrong token: got %d; want 401", code)
	}
	if code, body := get("tok-ci"); code != http.StatusOK {
		t.Errorf("GET with the file's token: got %d %s; want 200", code, body)
	}
	serve.Process.Signal(os.Interrupt)
	if err := serve.Wait(); err != nil {
		t.Errorf("serve after an interrupt: %v; want exit 0\n%s", err, stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, `route="GET /scopes/{id}"`) || !strings.Contains(log, "status=401") || strings.Contains(log, "tok-ci") {
		t.Errorf("request log: got %q; want a line per request, no token", log)
	}
	if r := authzRun(t, "serve", "--db", db, "--tokens", filepath.Join(t.TempDir(), "none")); r.code != 2 || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("serve with a missing tokens file: got exit %d, %q; want 2", r.code, r.stderr)
	}
	if r := authzRun(t, "serve", "--db", db); r.code != 2 || !strings.Contains(r.stderr, "give --token") {
		t.Errorf("serve without a token: got exit %d, %q; want 2", r.code, r.stderr)
	}
}
