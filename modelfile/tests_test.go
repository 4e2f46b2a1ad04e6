package modelfile_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz/modelfile"
)

// TestShippedModelTests runs every test file under examples/models: all
// must pass.
func TestShippedModelTests(t *testing.T) {
	paths, _ := filepath.Glob("../examples/models/*_test.yaml")
	if len(paths) == 0 {
		t.Fatal("no test file under examples/models")
	}
	for _, p := range paths {
		tf, err := modelfile.LoadTests(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		results, err := tf.Run(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range results {
			if !r.Passed() {
				t.Errorf("%s: %s: %s", p, r.Test.Name, r.Failure)
			}
		}
		if len(results) < 10 {
			t.Errorf("%s: got %d tests; want the quickstart's requests and lookups", p, len(results))
		}
	}
}

const inlineTests = `{
  "model": {
    "scopeTypes": [{"id": "org", "name": "Org", "config": {"permissionMode": "define"}}],
    "scopes": [{"id": "acme", "typeId": "org"}],
    "subjects": [
      {"id": "alice", "subjectType": "user", "externalId": "alice", "memberships": [{"scopeId": "acme", "roleIds": ["viewer"]}]},
      {"id": "bob", "subjectType": "user", "externalId": "bob"}
    ],
    "roles": [{"id": "viewer", "scopeId": "acme", "name": "Viewer"}],
    "resourceTypes": [{"id": "rt_doc", "scopeId": "acme", "key": "document", "name": "Document"}],
    "permissions": [{"id": "read", "scopeId": "acme", "action": "read", "resourceType": "document"}],
    "rolePermissions": [{"roleId": "viewer", "permissionId": "read"}],
    "resources": [{"id": "doc", "resourceTypeId": "rt_doc", "scopeId": "acme", "externalResourceId": "doc"}]
  },
  "tests": [
    {"name": "alice reads", "evaluate": {"actor": {"subjectId": "alice"}, "scopeId": "acme", "action": "read", "resource": {"resourceId": "doc"}},
     "want": {"allowed": true, "decidedBy": "role"}},
    {"name": "bob reads (wrongly expected)",
     "evaluate": {"actor": {"subjectId": "bob"}, "scopeId": "acme", "action": "read", "resource": {"resourceId": "doc"}},
     "want": {"allowed": true}},
    {"name": "readers (wrongly expected)", "lookupSubjects": {"scopeId": "acme", "action": "read", "resource": {"resourceId": "doc"}},
     "want": {"subjects": ["bob"]}},
    {"name": "alice's documents", "lookupResources": {"actor": {"subjectId": "alice"}, "scopeId": "acme", "action": "read", "resourceType": "document"},
     "want": {"resources": ["doc"]}},
    {"name": "nobody", "evaluate": {"actor": {"subjectId": "nobody"}, "scopeId": "acme", "action": "read", "resource": {"resourceId": "doc"}},
     "want": {"allowed": false}}
  ]
}`

// TestRunReportsFailures: passing tests pass, and a failing one says what
// it got, what it wanted and why (the explanation, or the error).
func TestRunReportsFailures(t *testing.T) {
	tf, err := modelfile.ParseTests("inline.json", []byte(inlineTests))
	if err != nil {
		t.Fatal(err)
	}
	results, err := tf.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.Failure)
	}
	want := []string{
		"",
		"got allowed=false decidedBy=default; want allowed=true\n  explanation: ",
		"got subjects [alice]; want [bob] (missing [bob], not wanted [alice])",
		"",
		`got error evaluate: actor: subject "nobody": not found; want allowed=false`,
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) || (want[i] == "") != (got[i] == "") {
			t.Errorf("test %d (%s): got failure %q; want one starting %q", i, results[i].Test.Name, got[i], want[i])
		}
	}
	if results[1].Test.Line != 18 {
		t.Errorf("line of test 1: got %d; want 18", results[1].Test.Line)
	}
}

func TestParseTestsProblems(t *testing.T) {
	data := `{
  "model": {"scopes": []},
  "tests": [
    {"evaluate": {"scopeId": "a"}, "lookupSubjects": {"scopeId": "a"}, "want": {"allowed": true}},
    {"name": "no allowed", "evaluate": {"scopeId": "a"}, "want": {}},
    {"name": "typo", "evaluate": {"scopeId": "a"}, "wnat": {"allowed": true}}
  ]
}`
	_, err := modelfile.ParseTests("t.json", []byte(data))
	var errs modelfile.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v; want modelfile.Errors", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"t.json:4: tests[0]: a test asks exactly one of evaluate, lookupSubjects and lookupResources",
		`t.json:5: tests[1] (id "no allowed"): want: an evaluate test wants allowed (true or false)`,
		`t.json:6: tests[2]: wnat: unknown field`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	for _, c := range []struct{ data, want string }{
		{`{"tests": []}`, "t.json: model: missing"},
		{`{"model": "none.yaml", "tests": []}`, "none.yaml: open"},
		{`{"model": {"scopes": []}, "tests": []}`, "t.json: tests: no test"},
	} {
		if _, err := modelfile.ParseTests("t.json", []byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want an error with %q", c.data, err, c.want)
		}
	}
}
