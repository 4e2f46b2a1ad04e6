package modelfile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopegate/authz/modelfile"
)

// Attack tests of model and test files: hostile YAML and JSON, line
// numbers with CRLF and BOMs, duplicate and case-folded keys, paths that
// leave the test file's directory, and lookups with pagination fields.

// smallModel is a valid JSON model, one item per line; each line ends with
// nl.
func smallModel(nl string) string {
	return strings.Join([]string{
		`{`,
		`"scopeTypes": [`,
		`  {"id": "org", "name": "Org", "config": {"permissionMode": "define"}}`,
		`],`,
		`"scopes": [`,
		`  {"id": "acme", "typeId": "org"},`,
		`  {"id": "beta", "typeId": "org"}`,
		`],`,
		`"subjects": [`,
		`  {"id": "alice", "subjectType": "user", "externalId": "alice", "memberships": [{"scopeId": "acme", "roleIds": ["viewer"]}]},`,
		`  {"id": "bob", "subjectType": "user", "externalId": "bob", "memberships": [{"scopeId": "acme", "roleIds": ["viewer"]}]},`,
		`  {"id": "carol", "subjectType": "user", "externalId": "carol", "memberships": [{"scopeId": "acme", "roleIds": ["viewer"]}]}`,
		`],`,
		`"roles": [{"id": "viewer", "scopeId": "acme", "name": "Viewer"}],`,
		`"resourceTypes": [{"id": "rt_doc", "scopeId": "acme", "key": "document", "name": "Document"}],`,
		`"permissions": [{"id": "read", "scopeId": "acme", "action": "read", "resourceType": "document"}],`,
		`"rolePermissions": [{"roleId": "viewer", "permissionId": "read"}],`,
		`"resources": [{"id": "doc", "resourceTypeId": "rt_doc", "scopeId": "acme", "externalResourceId": "doc"}]`,
		`}`,
	}, nl) + nl
}

// firstError returns the first *modelfile.Error of err.
func firstError(t *testing.T, err error) *modelfile.Error {
	t.Helper()
	var e *modelfile.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v; want a *modelfile.Error", err)
	}
	return e
}

// TestAttackLinesWithCRLF: with CRLF line endings (and old Mac CR-only
// ones), the line of a bad item is the line an editor shows.
func TestAttackLinesWithCRLF(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		for _, c := range []struct {
			name, from, to string
			line           int
		}{
			{"unknown field", `"id": "beta", "typeId": "org"`, `"id": "beta", "typeId": "org", "colour": 1`, 7},
			{"wrong type", `"externalId": "carol"`, `"externalId": 3`, 12},
		} {
			data := strings.Replace(smallModel(nl), c.from, c.to, 1)
			_, err := modelfile.Parse("m.json", []byte(data))
			if e := firstError(t, err); e.Line != c.line {
				t.Errorf("%q %s: got line %d; want %d (%v)", nl, c.name, e.Line, c.line, err)
			}
		}
	}
}

// TestAttackSyntaxErrorLineInItem: a JSON syntax error inside an item of
// a list is reported at the line it is on, wherever it is in the item.
func TestAttackSyntaxErrorLineInItem(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		for _, c := range []struct {
			name, from, to string
			line           int
		}{
			{"double comma", `"id": "bob",`, `"id": "bob",,`, 11},
			{"missing colon", `"id": "beta"`, `"id" "beta"`, 7},
			{"deep in a multi-line item", `"externalId": "carol",`, `"externalId": "carol",` + nl + `"x": 1,` + nl + `]`, 14},
		} {
			data := strings.Replace(smallModel(nl), c.from, c.to, 1)
			_, err := modelfile.Parse("m.json", []byte(data))
			if e := firstError(t, err); e.Line != c.line {
				t.Errorf("%q %s: got line %d; want %d (%v)", nl, c.name, e.Line, c.line, err)
			}
		}
	}
}

// TestAttackBOM: a UTF-8 byte order mark, which some editors write, should
// not change what a file means.
func TestAttackBOM(t *testing.T) {
	bom := "\ufeff"
	for _, name := range []string{"m.json", "m.yaml"} {
		plain := smallModel("\n")
		_, err := modelfile.Parse(name, []byte(bom+plain))
		if err != nil {
			t.Errorf("%s with a UTF-8 BOM: got %v; want it read", name, err)
		}
	}
}

// TestAttackYAMLAliasBomb: a "billion laughs" document must be refused
// (or bounded) rather than expanded.
func TestAttackYAMLAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("scopes: *a9\n")
	_, err := modelfile.Parse("bomb.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("got nil; want an error")
	}
	if len(err.Error()) > 4096 {
		t.Errorf("error is %d bytes long", len(err.Error()))
	}
}

// TestAttackDeepNesting: deeply nested JSON and YAML inside an item are
// refused with an error, not a crash.
func TestAttackDeepNesting(t *testing.T) {
	for _, depth := range []int{1000, 20000} {
		meta := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
		data := `{"scopeTypes": [{"id": "org", "name": "Org", "meta": ` + meta + `}]}`
		if _, err := modelfile.Parse("deep.json", []byte(data)); err == nil {
			t.Errorf("depth %d JSON: got nil; want an error", depth)
		}
		y := "scopeTypes:\n- id: org\n  name: Org\n  meta: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
		if _, err := modelfile.Parse("deep.yaml", []byte(y)); err == nil {
			// The store refuses it at Apply (MaxMetaDepth); Parse may
			// accept it as long as it does not crash.
			t.Logf("depth %d YAML parsed", depth)
		}
	}
}

// TestAttackNonObjectTops: every top that is not an object is refused at
// line 1 (after leading blank lines, at their end).
func TestAttackNonObjectTops(t *testing.T) {
	for _, top := range []string{"", " ", "null", "[]", "1", `"x"`, "true", "[{}]", "{", "}", "{}{}", "{} x", "\x00"} {
		for _, name := range []string{"m.json", "m.yaml"} {
			if name == "m.yaml" && strings.HasPrefix(top, "{}") {
				continue // YAML flow syntax; not the JSON rule
			}
			m, err := modelfile.Parse(name, []byte(top))
			if top == "{}" && err == nil {
				continue
			}
			if err == nil {
				t.Errorf("%s %q: got %+v; want an error", name, top, m)
			}
		}
	}
}

// TestAttackDuplicateAndFoldedKeys: encoding/json takes the last of two
// equal keys and matches field names without regard to case; a model file
// with {"id":"a","id":"b"} or "TYPEID" is then read differently from what
// a reader sees. Parse should refuse both, as the HTTP wrapper does.
func TestAttackDuplicateAndFoldedKeys(t *testing.T) {
	for name, data := range map[string]string{
		"duplicate id in JSON":   strings.Replace(smallModel("\n"), `{"id": "beta",`, `{"id": "beta", "id": "gamma",`, 1),
		"duplicate id in YAML":   "scopeTypes:\n- id: org\n  name: Org\n  id: other\n",
		"upper-case field name":  strings.Replace(smallModel("\n"), `"typeId": "org"}`, `"TYPEID": "org"}`, 1),
		"invalid UTF-8 external": strings.Replace(smallModel("\n"), `"externalId": "bob"`, "\"externalId\": \"b\xffb\"", 1),
	} {
		file := "m.json"
		if strings.Contains(name, "YAML") {
			file = "m.yaml"
		}
		if _, err := modelfile.Parse(file, []byte(data)); err == nil {
			t.Errorf("%s: got nil; want an error", name)
		}
	}
}

// TestAttackModelPathLeavesDirectory: a test file names its model by a
// path relative to the test file. A path that leaves the test file's
// directory (.., an absolute path) reads any file the process can read —
// /dev/zero reads forever, a FIFO blocks, and the error quotes what it
// read — which matters to a CI job that runs the test files of an
// untrusted repository.
func TestAttackModelPathLeavesDirectory(t *testing.T) {
	root := t.TempDir()
	inner := filepath.Join(root, "repo")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "secret.json")
	if err := os.WriteFile(outside, []byte(smallModel("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"../secret.json", outside, "sub/../../secret.json"} {
		test := fmt.Sprintf(`{"model": %q, "tests": [{"evaluate": {"actor": {"subjectId": "alice"}, "scopeId": "acme", "action": "read"}, "want": {"allowed": true}}]}`, ref)
		_, err := modelfile.ParseTests(filepath.Join(inner, "t.json"), []byte(test))
		if err == nil {
			t.Errorf("security: a test file's model path %q outside its directory is read (no confinement); a CLI over untrusted repositories can be made to read any file, /dev/zero included", ref)
		}
	}
}

// TestAttackTrailingContentInTestFile: a model file with content after its
// object is refused; a test file should be too (else a second object, or
// a merge leftover, is silently ignored).
func TestAttackTrailingContentInTestFile(t *testing.T) {
	model := strings.ReplaceAll(smallModel(""), "\n", "")
	test := `{"model": ` + model + `, "tests": [{"evaluate": {"actor": {"subjectId": "alice"}, "scopeId": "acme", "action": "read"}, "want": {"allowed": true}}]}`
	if _, err := modelfile.ParseTests("t.json", []byte(test)); err != nil {
		t.Fatalf("valid test file: %v", err)
	}
	if _, err := modelfile.Parse("m.json", []byte(model+` {"scopes": []}`)); err == nil {
		t.Fatal("model file with trailing content: got nil; want an error")
	}
	_, err := modelfile.ParseTests("t.json", []byte(test+` {"tests": [{"evaluate": {}, "want": {"allowed": false}}]}`))
	if err == nil {
		t.Error("a JSON test file with a second object after the first: got nil; want an error")
	}
}

// TestAttackInlineModelErrorLines: the problems of a model inline in a
// JSON test file name the test file and a line in it.
func TestAttackInlineModelErrorLines(t *testing.T) {
	model := strings.Replace(smallModel("\n"), `"typeId": "org"}`, `"typeId": "org", "colour": 1}`, 1)
	test := "{\n\"model\": " + model + `, "tests": [{"evaluate": {"actor": {"subjectId": "alice"}, "scopeId": "acme", "action": "read"}, "want": {"allowed": true}}]}`
	_, err := modelfile.ParseTests("t.json", []byte(test))
	e := firstError(t, err)
	if !strings.HasPrefix(e.File, "t.json") || e.Kind != "scopes" || e.Field != "colour" {
		t.Fatalf("got %v; want the test file, scopes[0] and colour named", err)
	}
	if e.Line != 7 {
		t.Errorf("an inline model's problem: got line %d; want 7, its line in the test file (%v)", e.Line, err)
	}
}

// TestAttackLookupPagination: a lookup test that sets limit or after still
// compares every allowed id (Run asks for all pages).
func TestAttackLookupPagination(t *testing.T) {
	model := strings.ReplaceAll(smallModel(""), "\n", "")
	for _, page := range []string{`"limit": 1`, `"limit": 1, "after": "alice"`, `"after": "zzz"`, `"limit": 2`} {
		test := `{"model": ` + model + `, "tests": [
{"lookupSubjects": {"scopeId": "acme", "action": "read", "resource": {"resourceId": "doc"}, ` + page + `}, "want": {"subjects": ["alice", "bob", "carol"]}},
{"lookupResources": {"actor": {"subjectId": "bob"}, "scopeId": "acme", "action": "read", "resourceType": "document", ` + page + `}, "want": {"resources": ["doc"]}}]}`
		tf, err := modelfile.ParseTests("t.json", []byte(test))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		res, err := tf.Run(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		for _, r := range res {
			if !r.Passed() {
				t.Errorf("%s: %s", page, r.Failure)
			}
		}
	}
}
