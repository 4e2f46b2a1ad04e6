package modelfile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/modelfile"
	"sigs.k8s.io/yaml"
)

const goodJSON = `{
  "scopeTypes": [
    {"id": "org", "name": "Org", "config": {"permissionMode": "define"}}
  ],
  "scopes": [
    {"id": "acme", "typeId": "org", "meta": {"tier": 2}}
  ],
  "roles": [{"id": "viewer", "scopeId": "acme", "name": "Viewer"}],
  "subjects": [
    {"id": "alice", "subjectType": "user", "externalId": "alice",
     "memberships": [{"scopeId": "acme", "roleIds": ["viewer"]}]}
  ]
}
`

// TestParseFormats parses one model as JSON and as YAML: both must give the
// Batch that encoding/json gives for the JSON.
func TestParseFormats(t *testing.T) {
	var want authz.Batch
	if err := json.Unmarshal([]byte(goodJSON), &want); err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML([]byte(goodJSON))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"model.json": []byte(goodJSON), "model.yaml": y, "MODEL.YML": y} {
		m, err := modelfile.Parse(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, m.Batch); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestParseReportsEveryProblem: one file with a problem of each class; all
// are reported at once, each with its line, item, id and field.
func TestParseReportsEveryProblem(t *testing.T) {
	data := `{
  "scopeTypes": [
    {"id": "org", "name": "Org"},
    {"id": "team", "name": "Team", "colour": "red"}
  ],
  "scopes": [
    {"id": "acme", "typeId": 7}
  ],
  "widgets": [],
  "subjects": [
    {"id": "alice", "subjectType": "user", "externalId": "alice", "memberships": [{"scopeId": "acme", "roleIds": "viewer"}]}
  ]
}`
	_, err := modelfile.Parse("bad.json", []byte(data))
	var errs modelfile.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v; want modelfile.Errors", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`bad.json:4: scopeTypes[1] (id "team"): colour: unknown field`,
		`bad.json:7: scopes[0] (id "acme"): typeId: json: cannot unmarshal number into Go struct field ScopeInput.typeId of type string`,
		`bad.json:9: widgets: unknown kind "widgets"`,
		`bad.json:11: subjects[0] (id "alice"): memberships.roleIds: json: cannot unmarshal string into Go struct field SubjectMembershipInput.memberships.roleIds of type []string`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestYAMLLines: the problems of a YAML file name the line of the item
// or of its field, as those of a JSON file do, from Parse, from Apply and
// in a YAML test file with the model inline.
func TestYAMLLines(t *testing.T) {
	data := `scopeTypes:
- id: org
  name: Org
- id: team
  name: Team
  config:
    colour: red
scopes:
- id: acme
  typeId: 7
widgets: []
subjects:
- id: alice
  subjectType: user
  externalId: alice
  memberships:
  - scopeId: acme
    roleIds: [viewer]
  - scopeId: acme
    roleIds: viewer
`
	want := []string{
		`bad.yaml:7: scopeTypes[1] (id "team"): colour: unknown field`,
		`bad.yaml:10: scopes[0] (id "acme"): typeId: json: cannot unmarshal number`,
		`bad.yaml:11: widgets: unknown kind "widgets"`,
		`bad.yaml:18: subjects[0] (id "alice"): memberships.roleIds: json: cannot unmarshal string`,
	}
	for _, c := range []struct{ name, prefix string }{{"bad.yaml", ""}, {"bad_test.yaml", "model:\n"}} {
		src := data
		if c.prefix != "" {
			src = c.prefix + "  " + strings.ReplaceAll(strings.TrimSuffix(data, "\n"), "\n", "\n  ") + "\ntests:\n- name: t\n  request: {}\n"
		}
		var err error
		if c.prefix == "" {
			_, err = modelfile.Parse(c.name, []byte(src))
		} else {
			_, err = modelfile.ParseTests(c.name, []byte(src))
		}
		var errs modelfile.Errors
		if !errors.As(err, &errs) {
			t.Fatalf("%s: got %v; want modelfile.Errors", c.name, err)
		}
		if len(errs) != len(want) {
			t.Fatalf("%s: got %d problems %v; want %d", c.name, len(errs), err, len(want))
		}
		for i, e := range errs {
			w := strings.Replace(want[i], "bad.yaml:", c.name+":", 1)
			if c.prefix != "" {
				// One line more: "model:" comes first.
				line, _ := strconv.Atoi(strings.Split(w, ":")[1])
				w = strings.Replace(w, ":"+strconv.Itoa(line)+":", ":"+strconv.Itoa(line+1)+":", 1)
			}
			if !strings.HasPrefix(e.Error(), w) {
				t.Errorf("%s: problem %d: got %q; want it to start %q", c.name, i, e.Error(), w)
			}
		}
	}
	apply := "scopeTypes:\n- id: org\n  name: Org\nscopes:\n- id: acme\n  typeId: org\n- id: other\n  # a comment\n  typeId: nope\n"
	m, err := modelfile.Parse("apply.yaml", []byte(apply))
	if err != nil {
		t.Fatal(err)
	}
	c, err := authz.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(context.Background(), c)
	if want := `apply.yaml:7: scopes[1] (id "other"): typeId: scope type "nope": not found`; err == nil || err.Error() != want {
		t.Errorf("apply: got %v; want %s", err, want)
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"a.json", "{\n  \"scopes\": [\n    {\"id\": \"x\",}\n  ]\n}", "a.json:3: "},
		{"b.json", "{\n  \"scopes\": [\n", "b.json:3: "},
		{"c.json", `[]`, "c.json: a model file is a JSON object"},
		{"d.json", `{"scopes": {"id": "x"}}`, "d.json: scopes: a list of items is expected"},
		{"e.json", `{"scopes": []} {}`, "e.json:1: content after the model's object"},
		{"f.json", `{"scopes": [], "scopes": []}`, "f.json:1: scopes: the list appears twice"},
		{"g.yaml", "scopes:\n  - id: x\n   typeId: y\n", "g.yaml:2: yaml: line 2"},
		{"h.yaml", "", "h.yaml: a model file is a JSON object"},
		{"i.yaml", "subjects:\n- id: alice\n  subjectType: user\n  externalId: no\n", `i.yaml:4: subjects[0] (id "alice"): externalId: json: cannot unmarshal bool`},
	} {
		_, err := modelfile.Parse(c.name, []byte(c.data))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v; want an error starting %q", c.name, err, c.want)
		}
		if c.name == "i.yaml" && (err == nil || !strings.Contains(err.Error(), "quote it")) {
			t.Errorf("%s: got %v; want the hint to quote YAML booleans", c.name, err)
		}
	}
}

// TestApplyNamesLines: the problems Client.Apply finds come back naming the
// file, the item's line, its id and field, and wrap the authz sentinels.
func TestApplyNamesLines(t *testing.T) {
	data := `{
  "scopeTypes": [{"id": "org", "name": "Org"}],
  "scopes": [
    {"id": "acme", "typeId": "org"},
    {"id": "other", "typeId": "nope"}
  ],
  "roles": [{"id": "viewer", "scopeId": "acme", "name": "Viewer"}],
  "memberships": [
    {"subjectId": "ghost", "scopeId": "acme", "roleIds": ["viewer"]}
  ]
}`
	m, err := modelfile.Parse("apply.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	c, err := authz.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(context.Background(), c)
	if !errors.Is(err, authz.ErrNotFound) {
		t.Fatalf("got %v; want errors wrapping authz.ErrNotFound", err)
	}
	var errs modelfile.Errors
	errors.As(err, &errs)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`apply.json:5: scopes[1] (id "other"): typeId: scope type "nope": not found`,
		`apply.json:9: memberships[0]: subjectId: subject "ghost": not found`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestShippedModels loads every model under examples/models into a store.
func TestShippedModels(t *testing.T) {
	paths, _ := filepath.Glob("../examples/models/*.yaml")
	if len(paths) == 0 {
		t.Fatal("no model under examples/models")
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.yaml") {
			continue // a test file (TestShippedModelTests)
		}
		m, err := modelfile.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		c, err := authz.New(memstore.New(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Apply(context.Background(), c); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := modelfile.Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v; want an error wrapping os.ErrNotExist", err)
	}
}

// FuzzParse: whatever a file holds, Parse returns a model or Errors, never
// panics, and a model it returns survives a JSON round trip.
func FuzzParse(f *testing.F) {
	f.Add("m.json", []byte(goodJSON))
	f.Add("m.yaml", []byte("scopes:\n- id: a\n  typeId: b\n"))
	f.Add("m.yaml", []byte("roles:\n- id: r\n  scopeId: 7\n  colour: x\nwidgets: []\n"))
	f.Add("m.json", []byte(`{"scopes":[{"id":"x","typeId":"y","meta":{"a":[1,{"b":null}]}}],"roles":null}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		m, err := modelfile.Parse(name, data)
		if err != nil {
			var errs modelfile.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("got %T %v; want modelfile.Errors", err, err)
			}
			lines := 1 + bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r"))
			for _, e := range errs {
				if e.Line < 0 || e.Line > lines {
					t.Fatalf("%v: line %d of a file of %d lines", e, e.Line, lines)
				}
			}
			return
		}
		if _, err := json.Marshal(m.Batch); err != nil {
			t.Fatalf("the parsed model does not marshal: %v", err)
		}
	})
}

// TestApplyResourceTypeHierarchy: a model file declares a resource type
// hierarchy (resourceTypeEdges) as any other list, and a resource edge it
// forbids is reported at its line; the same model in YAML parses to the
// same Batch.
func TestApplyResourceTypeHierarchy(t *testing.T) {
	data := `{
  "scopeTypes": [{"id": "org", "name": "Org"}],
  "scopes": [{"id": "acme", "typeId": "org"}],
  "resourceTypes": [
    {"id": "folder", "scopeId": "acme", "key": "folder", "name": "Folder"},
    {"id": "doc", "scopeId": "acme", "key": "doc", "name": "Doc"}
  ],
  "resourceTypeEdges": [{"id": "folder_doc", "parentTypeId": "folder", "childTypeId": "doc"}],
  "resources": [
    {"id": "f", "resourceTypeId": "folder", "scopeId": "acme", "externalResourceId": "f"},
    {"id": "d", "resourceTypeId": "doc", "scopeId": "acme", "externalResourceId": "d"},
    {"id": "e", "resourceTypeId": "doc", "scopeId": "acme", "externalResourceId": "e"}
  ],
  "resourceEdges": [
    {"parentResourceId": "f", "childResourceId": "d"},
    {"parentResourceId": "d", "childResourceId": "e"}
  ]
}`
	m, err := modelfile.Parse("tree.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Batch.ResourceTypeEdges) != 1 || m.Batch.ResourceTypeEdges[0].ChildTypeID != "doc" {
		t.Fatalf("parsed resourceTypeEdges: got %+v; want the one edge folder → doc", m.Batch.ResourceTypeEdges)
	}
	y, err := yaml.JSONToYAML([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	my, err := modelfile.Parse("tree.yaml", y)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m.Batch, my.Batch); diff != "" {
		t.Errorf("YAML and JSON differ (-json +yaml):\n%s", diff)
	}
	c, err := authz.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(context.Background(), c)
	var errs modelfile.Errors
	if !errors.Is(err, authz.ErrNotAllowed) || !errors.As(err, &errs) || len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "tree.json:16: resourceEdges[1]: parentResourceId: ") {
		t.Fatalf("got %v; want one ErrNotAllowed problem at tree.json:16 on resourceEdges[1]", err)
	}
}
