package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scopegate/authz/internal/logic"
)

// conditionDatas returns the condition data the evaluator builds on c's
// model (newConditionDataClient): for each subject, for resources with and
// without meta and tags, with resource tags included or not, and for
// type-level requests, with a context of every shape.
func conditionDatas(t *testing.T, c *Client) []map[string]any {
	t.Helper()
	g, err := c.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, res := range []*ResourceRef{{ResourceID: "doc"}, {ResourceID: "bare"}, {ResourceType: "document"}, {ResourceType: "document", ResourcePattern: "doc-*"}} {
		for _, resTags := range []bool{true, false} {
			for _, subject := range []string{"jane", "svc"} {
				in := EvaluateInput{Actor: SubjectRef{SubjectID: subject}, ScopeID: "eng", Action: "read", Resource: res,
					Context:             map[string]any{"hour": 9, "x": map[string]any{"deep": "eng", "0": 1}, "list": []any{map[string]any{"x": 1}}},
					IncludeResourceTags: &resTags}
				e := new(evaluation)
				if err := e.init(c, g, &in); err != nil {
					t.Fatal(err)
				}
				s := subjectEval{evaluation: e, x: e.actor}
				s.budget.Reset(context.Background(), -1)
				out = append(out, s.conditionData(e.res, line{home: e.scope.h, e: e.scope.h}))
			}
		}
	}
	return out
}

// pathVocabulary returns paths of one to four segments over the condition
// data's fields and near misses of them (typos, fields of one part used in
// another, segments below strings, indexes).
func pathVocabulary() []string {
	seg0 := []string{"subject", "resource", "context", "action", "scopeId", "subjet", "resources", "ctx", "nope", "0", "x"}
	seg1 := []string{"id", "type", "subjectType", "externalId", "displayName", "meta", "tags", "owner", "ownerId", "classification",
		"nested", "nope", "resourceTypeId", "createdAt", "dept", "0", "hour", "x", "resourcePattern", "department"}
	seg2 := []string{"dept", "x", "deep", "0", "nope", "level"}
	var out []string
	for _, a := range seg0 {
		out = append(out, a)
		for _, b := range seg1 {
			out = append(out, a+"."+b)
			for _, c := range seg2 {
				out = append(out, a+"."+b+"."+c, a+"."+b+"."+c+".0")
			}
		}
	}
	return append(out, "", ".", "..subject..id")
}

// TestConditionPathCheckIsSound checks the write-time refusal of paths
// that read nothing against the data the evaluator really builds: a path
// refused at the top level, in missing, or in the predicate of a
// quantifier over tag identifiers or literal scalars never has a value in
// any condition data (so the refused condition could never have held),
// while paths inside a predicate over elements of unknown shape are never
// refused. Both refused and accepted paths must be common, and accepted
// ones must read values, or the check would prove nothing.
func TestConditionPathCheckIsSound(t *testing.T) {
	t.Parallel()
	datas := conditionDatas(t, newConditionDataClient(t))
	forms := []struct {
		name  string
		src   string // %s is the path, JSON-quoted
		check bool   // whether refusals are expected at all
	}{
		{"top level", `{"!==":[{"var":%s},null]}`, true},
		{"with a default", `{"==":[{"var":[%s,"d"]},"d"]}`, true},
		{"missing", `{"!":{"missing":[%s]}}`, true},
		{"missing_some", `{"!":{"missing_some":[1,[%s]]}}`, true},
		{"over literal scalars", `{"some":[["a",1,null,true],{"!==":[{"var":%s},null]}]}`, true},
		{"over tag identifiers", `{"some":[{"var":"subject.tags.dept"},{"some":[{"var":"resource.tags.dept"},{"!==":[{"var":%s},null]}]}]}`, true},
		{"over objects of the context", `{"some":[{"var":"context.list"},{"!==":[{"var":%s},null]}]}`, false},
		{"over tags of an element", `{"some":[{"var":"context.list"},{"some":[{"var":"subject.tags.dept"},{"!==":[{"var":%s},null]}]}]}`, false},
	}
	for _, f := range forms {
		refused, accepted, read := 0, 0, 0
		for _, p := range pathVocabulary() {
			q, _ := json.Marshal(p)
			src := fmt.Sprintf(f.src, q)
			if f.name == "with a default" {
				// {"==":[{"var":[p,"d"]},"d"]} holds when p reads nothing.
				src = fmt.Sprintf(`{"!":%s}`, src)
			}
			_, err := parseCondition(json.RawMessage(src))
			c, perr := logic.Parse([]byte(src))
			if perr != nil {
				t.Fatalf("%s: %v", src, perr)
			}
			holdsSomewhere := false
			for _, d := range datas {
				if ok, _ := c.Eval(d, nil); ok {
					holdsSomewhere = true
				}
			}
			if err != nil {
				refused++
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), string(q)) {
					t.Errorf("%s: refused with %v; want ErrInvalid naming the path %s", src, err, q)
				}
				if !f.check {
					t.Errorf("%s: refused (%v); want accepted: the elements may have the path", src, err)
				}
				if holdsSomewhere {
					t.Errorf("%s: refused (%v), but it holds on some condition data", src, err)
				}
				continue
			}
			accepted++
			if holdsSomewhere {
				read++
			}
		}
		t.Logf("%s: %d paths refused, %d accepted (%d of them read a value somewhere)", f.name, refused, accepted, read)
		if f.check && refused < 100 {
			t.Errorf("%s: %d paths refused; want many: the check refuses too little to be tested", f.name, refused)
		}
		if read < 30 {
			t.Errorf("%s: %d accepted paths read a value; want many", f.name, read)
		}
	}
}

// TestConditionPathRefusals checks the refusals by name on the write path:
// the error wraps ErrInvalid and names the field, the path and where it is,
// and the examples.
func TestConditionPathRefusals(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want string // "" when accepted
	}{
		{`{"==":[{"var":"subjet.id"},"x"]}`, `var path "subjet.id" at ==[0] reads nothing: the condition data has no "subjet"`},
		{`{"==":[{"var":"subject.department"},"x"]}`, `var path "subject.department" at ==[0] reads nothing: the subject has no "department"`},
		{`{"==":[{"var":"action.name"},"x"]}`, `var path "action.name" at ==[0] reads nothing: action is a string`},
		{`{"==":[{"var":"resource.ownerId.id"},"x"]}`, `resource.ownerId is a string`},
		{`{"some":[{"var":"resource.tags.departments"},{"in":[{"var":""},{"var":"subjects.tags.departments"}]}]}`,
			`var path "subjects.tags.departments" at some[1].in[1] reads nothing`},
		{`{"!":{"missing":["context.hour","scope"]}}`, `missing path "scope" at ![0] reads nothing`},
		// Accepted: the resource's fields are open (meta's keys are copied
		// there), meta, tags and context are free, and inside a predicate
		// over unknown elements a path may be the element's.
		{`{"==":[{"var":"resource.owner"},"x"]}`, ""},
		{`{"==":[{"var":"subject.meta.anything.0"},"x"]}`, ""},
		{`{"==":[{"var":"context.whatever"},"x"]}`, ""},
		{`{"some":[{"var":"resource.meta.reviewers"},{"==":[{"var":"name"},{"var":"subject.id"}]}]}`, ""},
		{`{"some":[{"var":"resource.tags.departments"},{"in":[{"var":""},{"var":"subject.tags.departments"}]}]}`, ""},
		{`{"==":[{"var":""},"x"]}`, ""},
	} {
		_, err := patchCondition("logic", json.RawMessage(tt.src))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v; want accepted", tt.src, err)
		case tt.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "logic: ")):
			t.Errorf("%s: got %v; want ErrInvalid naming the field logic and %q", tt.src, err, tt.want)
		}
	}
}

// TestMatchDefinitionConditionPaths checks that the conditions of a
// collection's match definition are held to the same paths, wherever they
// are nested, with the section named.
func TestMatchDefinitionConditionPaths(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{`{"condition":{"==":[{"var":"subject.meta.dept"},"eng"]}}`, ""},
		{`{"fields":{"a":1},"condition":{"==":[{"var":"subjet.meta.dept"},"eng"]}}`, `condition: var path "subjet.meta.dept" at ==[0] reads nothing`},
		{`{"any":[{"fields":{"a":1}},{"none":[{"condition":{"==":[{"var":"scopeId.x"},"eng"]}}]}]}`, `any[1].none[0].condition: var path "scopeId.x" at ==[0] reads nothing: scopeId is a string`},
	} {
		err := checkMatchDefinition(json.RawMessage(tt.src))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v; want accepted", tt.src, err)
		case tt.want != "" && (!errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: got %v; want ErrInvalid starting %q", tt.src, err, tt.want)
		}
	}
}

// FuzzConditionPaths feeds any JSON to the write path's condition check:
// it never panics; a condition the logic package accepts but the check
// refuses names one of its literal paths, which reads nothing in any of
// the condition data the evaluator builds.
func FuzzConditionPaths(f *testing.F) {
	for _, seed := range []string{
		`{"==":[{"var":"subjet.id"},"x"]}`, `{"some":[["a"],{"==":[{"var":"nope"},1]}]}`,
		`{"some":[{"var":"subject.tags.dept"},{"in":[{"var":""},{"var":"resource.tags.dept"}]}]}`,
		`{"!":{"missing":["action.x","context.y"]}}`, `{"some":[{"var":"context.list"},{"var":"x"}]}`,
		`{"all":[[1,2],{"some":[["b"],{"missing_some":[1,["scopeId.a","resource.meta.x"]]}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	datas := conditionDatas(&testing.T{}, newConditionDataClient(&testing.T{}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, err := parseCondition(raw)
		c, perr := logic.Parse(raw)
		if perr != nil || err == nil {
			return
		}
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: %v; want ErrInvalid", raw, err)
		}
		for _, p := range c.Paths() {
			q, _ := json.Marshal(p.Path)
			if !strings.Contains(err.Error(), fmt.Sprintf("%s path %q", p.Op, p.Path)) {
				continue
			}
			probe := logic.Stored([]byte(fmt.Sprintf(`{"!==":[{"var":%s},null]}`, q)))
			for _, d := range datas {
				if ok, _ := probe.Eval(d, nil); ok {
					t.Fatalf("%s: refused (%v), but path %s reads a value", raw, err, q)
				}
			}
			return
		}
		t.Fatalf("%s: refused with %v, which names none of its paths", raw, err)
	})
}
