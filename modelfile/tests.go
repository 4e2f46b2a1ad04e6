package modelfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/jsonscan"
	"github.com/scopegate/authz/memstore"
)

// A test file checks a model: it names the model (a model file, by a path
// relative to the test file that stays inside its directory, or a model
// inline) and lists tests, each a question and the answer it must get:
//
//	model: saas.yaml
//	tests:
//	- name: bob reads the API design
//	  evaluate: {actor: {subjectId: bob}, scopeId: acme_api, action: read, resource: {resourceId: doc_design}}
//	  want: {allowed: true, decidedBy: role}
//	- name: who may read the API design
//	  lookupSubjects: {scopeId: acme_api, action: read, resource: {resourceId: doc_design}}
//	  want: {subjects: [agent, alice, bob, dave]}
//
// A test asks one of evaluate (an authz.EvaluateInput), lookupSubjects (an
// authz.LookupSubjectsInput) or lookupResources (an
// authz.LookupResourcesInput). An evaluate test wants allowed, and
// optionally decidedBy and policyId; a lookup wants the ids of every subject
// or resource allowed, in any order (all pages). Test files are JSON, or
// YAML when named *.yaml or *.yml, like model files.

// TestFile is a parsed test file.
type TestFile struct {
	// File is the test file's name.
	File string
	// Model is the model the tests run on.
	Model *Model
	// Tests are the tests, in the file's order.
	Tests []Test
}

// Test is one test of a test file.
type Test struct {
	Name            string                      `json:"name,omitempty"`
	Evaluate        *authz.EvaluateInput        `json:"evaluate,omitempty"`
	LookupSubjects  *authz.LookupSubjectsInput  `json:"lookupSubjects,omitempty"`
	LookupResources *authz.LookupResourcesInput `json:"lookupResources,omitempty"`
	Want            Want                        `json:"want"`
	// Line is the test's line in a JSON file; 0 in a YAML file.
	Line int `json:"-"`
}

// Want is the answer a test must get.
type Want struct {
	// Allowed, DecidedBy and PolicyID are for evaluate: Allowed is
	// required, the others are checked when set.
	Allowed   *bool           `json:"allowed,omitempty"`
	DecidedBy authz.DecidedBy `json:"decidedBy,omitempty"`
	PolicyID  string          `json:"policyId,omitempty"`
	// Subjects and Resources are the ids a lookup must return, in any
	// order; an empty list wants none.
	Subjects  []string `json:"subjects,omitempty"`
	Resources []string `json:"resources,omitempty"`
}

// Result is the outcome of one test.
type Result struct {
	// Test is the test.
	Test Test
	// Failure says how the answer differs from the one wanted, with the
	// decision's explanation; empty when the test passed.
	Failure string
}

// Passed reports whether the test got the answer it wanted.
func (r Result) Passed() bool { return r.Failure == "" }

// LoadTests reads and parses the test file at path, and the model file it
// names. The error, if any, is Errors: every problem of the test file, or
// of the model file.
func LoadTests(path string) (*TestFile, error) { return load(path, ParseTests) }

// ParseTests decodes the content of a test file named name (see
// LoadTests); a model file it names is read from name's directory.
func ParseTests(name string, data []byte) (*TestFile, error) {
	source := bytes.TrimPrefix(data, utf8BOM)
	data, isYAML, err := toJSON(name, data)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Model json.RawMessage   `json:"model"`
		Tests []json.RawMessage `json:"tests"`
	}
	fail := func(kind string, index int, field string, err error) error {
		return Errors{{File: name, Kind: kind, Index: index, Field: field, Err: err}}
	}
	if _, err := jsonscan.Check(data); err != nil {
		return nil, fail("", -1, "", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fail("", -1, "", fmt.Errorf("a test file is an object with a model and tests: %w", err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("", -1, "", errors.New("content after the test file's object"))
	}
	tf := &TestFile{File: name}
	switch {
	case len(raw.Model) == 0 || string(raw.Model) == "null":
		return nil, fail("", -1, "model", errors.New("missing: name a model file or give the model inline"))
	case raw.Model[0] == '"':
		var path string
		_ = json.Unmarshal(raw.Model, &path)
		// A test file names a model beside it or below: a test file of an
		// untrusted repository must not make the runner read elsewhere.
		if !filepath.IsLocal(path) {
			return nil, fail("", -1, "model", fmt.Errorf("%q: name a model file by a relative path inside the test file's directory", path))
		}
		path = filepath.Join(filepath.Dir(name), path)
		if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
			return nil, fail("", -1, "model", fmt.Errorf("%q: not a regular file", path))
		}
		m, err := Load(path)
		if err != nil {
			return nil, err
		}
		tf.Model = m
	default:
		m := &Model{File: name, lines: map[string][]int{}}
		if isYAML {
			m.setYAML(parseYAMLPos(source, "model"))
		} else if at, ok := valueOffset(data, "model"); ok {
			// Lines in the test file, where the model starts.
			m.lineBase = bytes.Count(data[:at], []byte("\n"))
		}
		if errs := m.decode(raw.Model); len(errs) > 0 {
			return nil, errs
		}
		tf.Model = m
	}
	// The line of each test, for a JSON file.
	lines := map[int]int{}
	if isYAML {
		for i, l := range parseYAMLPos(source).lines()["tests"] {
			lines[i] = l
		}
	} else {
		lines = testLines(data)
	}
	var errs Errors
	for i, r := range raw.Tests {
		var t Test
		if keys, _ := jsonscan.Check(r); keys != nil {
			if k, ok := jsonscan.UnknownKey(keys, reflect.TypeFor[Test]()); ok {
				errs = append(errs, &Error{File: name, Line: lines[i], Kind: "tests", Index: i, Field: k, Err: errors.New("unknown field")})
				continue
			}
		}
		d := json.NewDecoder(bytes.NewReader(r))
		d.DisallowUnknownFields()
		if err := d.Decode(&t); err != nil {
			errs = append(errs, &Error{File: name, Line: lines[i], Kind: "tests", Index: i, Err: err})
			continue
		}
		t.Line = lines[i]
		if err := t.check(); err != nil {
			errs = append(errs, &Error{File: name, Line: t.Line, Kind: "tests", Index: i, ID: t.Name, Err: err})
			continue
		}
		tf.Tests = append(tf.Tests, t)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(tf.Tests) == 0 {
		return nil, fail("tests", -1, "", errors.New("no test"))
	}
	return tf, nil
}

// valueOffset returns the offset in data of the value of the top-level key
// of the JSON object data.
func valueOffset(data []byte, key string) (int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, false
		}
		if tok == key {
			at := dec.InputOffset()
			for at < int64(len(data)) && data[at] != ':' {
				at++
			}
			return valueStart(data, at+1), true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return 0, false
		}
	}
	return 0, false
}

// testLines returns the line of each element of the JSON file's "tests"
// list, by index; empty when it cannot tell.
func testLines(data []byte) map[int]int {
	out := map[int]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return out
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if tok != "tests" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return out
			}
			continue
		}
		var items []json.RawMessage
		var starts []int64
		if decodeList(data, dec, &items, &starts) != nil {
			return out
		}
		for i, at := range starts {
			out[i] = 1 + bytes.Count(data[:at], []byte("\n"))
		}
		return out
	}
	return out
}

// check reports what makes t unusable.
func (t *Test) check() error {
	n := 0
	for _, set := range []bool{t.Evaluate != nil, t.LookupSubjects != nil, t.LookupResources != nil} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("a test asks exactly one of evaluate, lookupSubjects and lookupResources")
	case t.Evaluate != nil && t.Want.Allowed == nil:
		return errors.New("want: an evaluate test wants allowed (true or false)")
	case t.LookupSubjects != nil && t.Want.Subjects == nil:
		return errors.New("want: a lookupSubjects test wants subjects (a list, [] for none)")
	case t.LookupResources != nil && t.Want.Resources == nil:
		return errors.New("want: a lookupResources test wants resources (a list, [] for none)")
	}
	return nil
}

// Run applies the model to a new in-memory store and runs every test on
// it, returning one Result per test in order. The error is for what stops
// the tests from running: the model refused (Errors, as Model.Apply's), or
// ctx done. A test whose question fails (an unknown subject, a type not
// visible) fails with the error.
func (tf *TestFile) Run(ctx context.Context) ([]Result, error) {
	store := memstore.New()
	defer store.Close()
	c, err := authz.New(store, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tf.Model.Apply(ctx, c); err != nil {
		return nil, err
	}
	out := make([]Result, len(tf.Tests))
	for i, t := range tf.Tests {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = Result{Test: t, Failure: t.run(ctx, c)}
	}
	return out, nil
}

// run answers t's question and returns how the answer differs from the
// one wanted, or "".
func (t *Test) run(ctx context.Context, c *authz.Client) string {
	switch {
	case t.Evaluate != nil:
		d, err := c.Evaluate(ctx, *t.Evaluate)
		if err != nil {
			return fmt.Sprintf("got error %v; want allowed=%v", err, *t.Want.Allowed)
		}
		if d.Allowed == *t.Want.Allowed && (t.Want.DecidedBy == "" || d.DecidedBy == t.Want.DecidedBy) &&
			(t.Want.PolicyID == "" || d.PolicyID == t.Want.PolicyID) {
			return ""
		}
		got := fmt.Sprintf("allowed=%v decidedBy=%s", d.Allowed, d.DecidedBy)
		want := fmt.Sprintf("allowed=%v", *t.Want.Allowed)
		if t.Want.DecidedBy != "" {
			want += " decidedBy=" + string(t.Want.DecidedBy)
		}
		if d.PolicyID != "" {
			got += " policyId=" + d.PolicyID
		}
		if t.Want.PolicyID != "" {
			want += " policyId=" + t.Want.PolicyID
		}
		return fmt.Sprintf("got %s; want %s\n  explanation: %s", got, want, d.Explanation)
	case t.LookupSubjects != nil:
		in := *t.LookupSubjects
		in.Page = authz.Page{} // every page
		p, err := c.ListAllowedSubjects(ctx, in)
		if err != nil {
			return fmt.Sprintf("got error %v; want subjects %v", err, t.Want.Subjects)
		}
		ids := make([]string, len(p.Subjects))
		for i, s := range p.Subjects {
			ids[i] = s.SubjectID
		}
		return compareIDs("subjects", ids, t.Want.Subjects)
	default:
		in := *t.LookupResources
		in.Page = authz.Page{}
		p, err := c.ListAllowedResources(ctx, in)
		if err != nil {
			return fmt.Sprintf("got error %v; want resources %v", err, t.Want.Resources)
		}
		ids := make([]string, len(p.Resources))
		for i, r := range p.Resources {
			ids[i] = r.ResourceID
		}
		return compareIDs("resources", ids, t.Want.Resources)
	}
}

// compareIDs returns how got differs from want as sets, or "".
func compareIDs(what string, got, want []string) string {
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(got, want) {
		return ""
	}
	var missing, extra []string
	for _, id := range want {
		if _, found := slices.BinarySearch(got, id); !found {
			missing = append(missing, id)
		}
	}
	for _, id := range got {
		if _, found := slices.BinarySearch(want, id); !found {
			extra = append(extra, id)
		}
	}
	return fmt.Sprintf("got %s %v; want %v (missing %v, not wanted %v)", what, got, want, missing, extra)
}
