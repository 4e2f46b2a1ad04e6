// Package match evaluates the match definitions of collections: JSON
// documents that say which resources belong to a collection, by their
// fields, tags, glob patterns, times and a JSON Logic condition, combined
// with any, all and none (see Def). It also holds the glob matcher used for
// permission patterns (Glob), which runs in linear time.
//
// Parse validates and compiles a definition once; Def.Eval matches it
// against an Input any number of times. Def is immutable and safe for
// concurrent use; an Input is read, never modified, so one may be shared
// by concurrent evaluations too. Every evaluation charges its work to a
// logic.Budget, shared with the conditions of the same evaluation, and
// fails closed: an error (the budget's, or a condition's) makes the
// definition not match.
//
// Errors: an invalid definition is an *Error naming the section and rule
// at fault with its path, or a *logic.Error when the JSON text itself is
// invalid; a budget that runs out or a context that is done is returned
// by Eval as the budget's error (see logic.Budget).
package match

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scopegate/authz/internal/logic"
)

// Limits on a matchDefinition. Depth counts definitions: a definition
// inside any/all/none is one level deeper than its parent; the top level is
// level 1. Nodes count every JSON value of the whole definition, its
// condition included.
const (
	maxMatchDepth = 16
	maxMatchNodes = 10000
	// maxMatchJSONDepth bounds JSON nesting while decoding: enough for 16
	// levels of definitions holding a condition of maximal depth.
	maxMatchJSONDepth = 2*maxMatchDepth + logic.MaxDepth + 8
)

// Def is a collection's matchDefinition, decoded and validated once.
// It is immutable and safe for concurrent use.
//
// A definition is a JSON object with any of these sections; every present
// section must hold, and {} matches every resource. A section whose value
// is null counts as absent.
//
//	fields    {name: value | {op: argument, …}}
//	tags      {groupKey: identifier | [identifier, …]}
//	patterns  {name: glob}
//	time      {name: {op: RFC3339 | {"relative": "now" | "now_minus_<N><unit>" | "now_plus_<N><unit>"}, …}}
//	condition JSON Logic over the condition data (subject, resource, context…), see logic.Cond
//	any       [definition, …]  at least one holds (an empty array is ignored)
//	all       [definition, …]  every one holds   (an empty array is ignored)
//	none      [definition, …]  none holds        (an empty array is ignored)
//
// Names. A name is a dot path ("meta.department", "owner.team"). It
// resolves against the resource's properties (id, type, resourceTypeId,
// scopeId, externalResourceId, ownerId, createdBy, createdAt, displayName)
// when its first segment is a property whose value is not null; otherwise,
// when its first segment is "meta", the rest of the path resolves against
// meta; otherwise the whole path resolves against meta. So "department",
// "meta.department" both read meta.department, and a meta key that clashes
// with a property can only be read through "meta.". A segment that is a
// number indexes an array.
//
// fields. A bare string, number or boolean means equals. An object is a
// rule whose keys are operators, all of which must hold ({"gte":1,"lt":10}):
//
//	equals    string | number | boolean    the value is equal (no type coercion; numbers as float64)
//	in        [string | number | boolean]  the value equals one of them
//	notIn     [string | number | boolean]  the value is present and equals none of them
//	gt gte lt lte  number | RFC 3339 time  numeric order, or time order when the
//	                                       argument is a time (the value is then an
//	                                       RFC 3339 string or a time.Time)
//	contains  string | number | boolean    the value is a string containing the
//	                                       argument, or an array with an equal element
//	exists    boolean                      the value is present and not null (true),
//	                                       or missing or null (false)
//
// A bare array, object without operators, or null is rejected: write {"in":
// […]}, {"contains": …} or {"exists": false}. As in conditions, a missing
// or null value satisfies no operator but {"exists": false}.
//
// tags. The resource carries (in a scope of chain(E), as loaded by the
// caller) at least one of the identifiers in the group; every listed group
// must hold. Group keys and identifiers must have the form of tag group
// keys and tag identifiers.
//
// patterns. The value is a string that matches the glob (see Glob).
//
// time. Operators eq gt gte lt lte compare the value (an RFC 3339 string or
// a time.Time) with an RFC 3339 time or a time relative to the evaluation
// time: "now", "now_minus_<N><unit>", "now_plus_<N><unit>" with N a decimal
// integer and unit s, m, h, d (24 hours) or w (7 days).
//
// Failure is closed: a condition that errors makes the whole definition
// not match, including inside none.
type Def struct {
	fields   []fieldMatch
	tags     []tagMatch
	patterns []patternMatch
	times    []timeMatch
	cond     *logic.Cond
	anyOf    []*Def
	allOf    []*Def
	noneOf   []*Def
}

// ReadsData reports whether matching d reads the condition data: whether d
// or a definition nested in it has a condition section.
func (d *Def) ReadsData() bool {
	if d == nil {
		return false
	}
	if d.cond != nil {
		return true
	}
	for _, list := range [][]*Def{d.anyOf, d.allOf, d.noneOf} {
		for _, n := range list {
			if n.ReadsData() {
				return true
			}
		}
	}
	return false
}

// Input is what a definition is matched against. Matching reads it and
// never modifies it.
type Input struct {
	// Props are the resource's properties: id, type (the type key),
	// resourceTypeId, scopeId, externalResourceId, ownerId, createdBy,
	// createdAt (RFC 3339 string or time.Time), displayName.
	Props map[string]any
	// Meta is the resource's meta.
	Meta map[string]any
	// Tags maps a tag group key to the identifiers the resource carries.
	Tags map[string][]string
	// Data is the data conditions see (subject, resource, context, action,
	// scopeId), for the condition section, in JSON shape (see logic.Value).
	Data map[string]any
}

type fieldMatch struct {
	path  []string
	tests []fieldTest
}

type fieldTest struct {
	op     string  // equals, in, notIn, gt, gte, lt, lte, contains, exists
	val    any     // equals, contains: string, float64 or bool
	set    []any   // in, notIn
	num    float64 // gt…lte with a number
	tm     time.Time
	isTime bool // gt…lte with a time
	exists bool
}

type tagMatch struct {
	group string
	ids   []string
}

type patternMatch struct {
	path []string
	glob string
}

type timeMatch struct {
	path  []string
	tests []timeTest
}

type timeTest struct {
	op       string // eq, gt, gte, lt, lte
	abs      time.Time
	relative bool
	offset   time.Duration // from now, when relative
}

var (
	matchTagKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	matchTagIDRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// Parse validates raw and compiles it. Errors are *Error and name the
// offending section and rule with its path ("any[0].time.createdAt.gt:
// bad relative time "now_minus_x""), or *logic.Error for JSON that does
// not decode (malformed, too deep, too large). An empty raw (or JSON null)
// is an error: a definition is required.
func Parse(raw []byte) (*Def, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, &Error{msg: "matchDefinition is required: use {} to match every resource of the collection's type"}
	}
	v, err := logic.Decode(trimmed, maxMatchJSONDepth, maxMatchNodes)
	if err != nil {
		return nil, err
	}
	d, err := compileMatchDef(v, "", 1)
	if err != nil {
		return nil, err
	}
	// Each condition is within logic.MaxCost; so must they be together,
	// or the definition could never be matched within the budget of one
	// evaluation whatever the data.
	if cost := d.condCost(); cost > logic.MaxCost {
		return nil, matchErr("", "its conditions cost at least %d operations together whatever the data, more than the %d allowed", cost, logic.MaxCost)
	}
	return d, nil
}

// condCost is the static cost of all the conditions of d and of the
// definitions nested in it.
func (d *Def) condCost() int64 {
	var n int64
	if d.cond != nil {
		n = d.cond.Cost()
	}
	for _, list := range [][]*Def{d.anyOf, d.allOf, d.noneOf} {
		for _, c := range list {
			n += c.condCost()
		}
	}
	return n
}

// Error is an invalid match definition.
type Error struct {
	// Path is the place of the fault: sections, names and operators
	// joined by dots, with list indexes ("any[0].time.createdAt.gt").
	// It is empty for a fault of the whole definition.
	Path string
	msg  string
}

// Error returns the message, which starts with Path when there is one.
func (e *Error) Error() string { return e.msg }

// matchPath appends a section or name to a path for error messages.
func matchPath(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

// matchErr returns an *Error at path.
func matchErr(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		return &Error{msg: msg}
	}
	return &Error{Path: path, msg: path + ": " + msg}
}

func compileMatchDef(v any, path string, depth int) (*Def, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, matchErr(path, "a match definition must be a JSON object, got %s", logic.KindName(v))
	}
	if depth > maxMatchDepth {
		return nil, matchErr(path, "match definitions nest deeper than %d levels", maxMatchDepth)
	}
	m := &Def{}
	for _, section := range slices.Sorted(maps.Keys(obj)) {
		val := obj[section]
		if val == nil {
			continue
		}
		sp := matchPath(path, section)
		var err error
		switch section {
		case "fields":
			m.fields, err = compileMatchFields(val, sp)
		case "tags":
			m.tags, err = compileMatchTags(val, sp)
		case "patterns":
			m.patterns, err = compileMatchPatterns(val, sp)
		case "time":
			m.times, err = compileMatchTimes(val, sp)
		case "condition":
			m.cond, err = logic.ParseDecoded(val)
			if err != nil {
				err = matchErr(sp, "%v", err)
			}
		case "any":
			m.anyOf, err = compileMatchList(val, sp, depth)
		case "all":
			m.allOf, err = compileMatchList(val, sp, depth)
		case "none":
			m.noneOf, err = compileMatchList(val, sp, depth)
		default:
			err = matchErr(path, "unknown section %q (use fields, tags, patterns, time, condition, any, all or none)", section)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

func matchSectionObject(v any, path string) (map[string]any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, matchErr(path, "must be a JSON object, got %s", logic.KindName(v))
	}
	return obj, nil
}

func compileMatchList(v any, path string, depth int) ([]*Def, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, matchErr(path, "must be an array of match definitions, got %s", logic.KindName(v))
	}
	out := make([]*Def, len(arr))
	for i, e := range arr {
		d, err := compileMatchDef(e, path+"["+strconv.Itoa(i)+"]", depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// parseMatchName splits a dot path; every segment must be non-empty.
func parseMatchName(name, path string) ([]string, error) {
	if name == "" {
		return nil, matchErr(path, "a field name must not be empty")
	}
	segs := strings.Split(name, ".")
	if slices.Contains(segs, "") {
		return nil, matchErr(matchPath(path, name), "bad field name %q: empty path segment", name)
	}
	return segs, nil
}

var matchFieldOps = []string{"equals", "in", "notIn", "gt", "gte", "lt", "lte", "contains", "exists"}

func compileMatchFields(v any, path string) ([]fieldMatch, error) {
	obj, err := matchSectionObject(v, path)
	if err != nil {
		return nil, err
	}
	var out []fieldMatch
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		segs, err := parseMatchName(name, path)
		if err != nil {
			return nil, err
		}
		fp := matchPath(path, name)
		fm := fieldMatch{path: segs}
		switch r := obj[name].(type) {
		case string, float64, bool:
			fm.tests = []fieldTest{{op: "equals", val: r}}
		case nil:
			return nil, matchErr(fp, `null is not a value to match: use {"exists": false} for a missing value`)
		case []any:
			return nil, matchErr(fp, `a bare array is ambiguous: use {"in": […]} for one of several values or {"contains": …} for an array value`)
		case map[string]any:
			if len(r) == 0 {
				return nil, matchErr(fp, "empty rule: use one of the operators %s", strings.Join(matchFieldOps, ", "))
			}
			for _, op := range slices.Sorted(maps.Keys(r)) {
				if !slices.Contains(matchFieldOps, op) {
					return nil, matchErr(fp, "unknown operator %q (use %s)", op, strings.Join(matchFieldOps, ", "))
				}
				t, err := compileMatchFieldTest(op, r[op], matchPath(fp, op))
				if err != nil {
					return nil, err
				}
				fm.tests = append(fm.tests, t)
			}
		}
		out = append(out, fm)
	}
	return out, nil
}

func isMatchScalar(v any) bool {
	switch v.(type) {
	case string, float64, bool:
		return true
	}
	return false
}

func compileMatchFieldTest(op string, arg any, path string) (fieldTest, error) {
	t := fieldTest{op: op}
	switch op {
	case "equals", "contains":
		if !isMatchScalar(arg) {
			return t, matchErr(path, "takes a string, number or boolean, got %s", logic.KindName(arg))
		}
		t.val = arg
	case "in", "notIn":
		arr, ok := arg.([]any)
		if !ok {
			return t, matchErr(path, "takes an array of strings, numbers or booleans, got %s", logic.KindName(arg))
		}
		for i, e := range arr {
			if !isMatchScalar(e) {
				return t, matchErr(path, "element %d must be a string, number or boolean, got %s", i, logic.KindName(e))
			}
		}
		t.set = arr
	case "gt", "gte", "lt", "lte":
		switch a := arg.(type) {
		case float64:
			t.num = a
		case string:
			tm, err := time.Parse(time.RFC3339, a)
			if err != nil {
				return t, matchErr(path, "%q is not an RFC 3339 time such as \"2024-01-15T10:30:00Z\" (a number or a time is expected)", a)
			}
			t.tm, t.isTime = tm, true
		default:
			return t, matchErr(path, "takes a number or an RFC 3339 time, got %s", logic.KindName(arg))
		}
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return t, matchErr(path, "takes true or false, got %s", logic.KindName(arg))
		}
		t.exists = b
	}
	return t, nil
}

func compileMatchTags(v any, path string) ([]tagMatch, error) {
	obj, err := matchSectionObject(v, path)
	if err != nil {
		return nil, err
	}
	var out []tagMatch
	for _, group := range slices.Sorted(maps.Keys(obj)) {
		gp := matchPath(path, group)
		if !matchTagKeyRE.MatchString(group) {
			return nil, matchErr(gp, "bad tag group key %q: want lower case letters, digits and _, starting with a letter", group)
		}
		var ids []string
		switch x := obj[group].(type) {
		case string:
			ids = []string{x}
		case []any:
			if len(x) == 0 {
				return nil, matchErr(gp, "empty list of tag identifiers: list at least one")
			}
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, matchErr(gp, "element %d must be a tag identifier string, got %s", i, logic.KindName(e))
				}
				ids = append(ids, s)
			}
		default:
			return nil, matchErr(gp, "takes a tag identifier or an array of them, got %s", logic.KindName(obj[group]))
		}
		for _, id := range ids {
			if !matchTagIDRE.MatchString(id) {
				return nil, matchErr(gp, "bad tag identifier %q: want lower case letters, digits, _ and -, starting with a letter or digit", id)
			}
		}
		out = append(out, tagMatch{group: group, ids: ids})
	}
	return out, nil
}

func compileMatchPatterns(v any, path string) ([]patternMatch, error) {
	obj, err := matchSectionObject(v, path)
	if err != nil {
		return nil, err
	}
	var out []patternMatch
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		segs, err := parseMatchName(name, path)
		if err != nil {
			return nil, err
		}
		g, ok := obj[name].(string)
		if !ok {
			return nil, matchErr(matchPath(path, name), "takes a glob string (* matches any run, ? one character), got %s", logic.KindName(obj[name]))
		}
		out = append(out, patternMatch{path: segs, glob: g})
	}
	return out, nil
}

var matchTimeOps = []string{"eq", "gt", "gte", "lt", "lte"}

func compileMatchTimes(v any, path string) ([]timeMatch, error) {
	obj, err := matchSectionObject(v, path)
	if err != nil {
		return nil, err
	}
	var out []timeMatch
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		segs, err := parseMatchName(name, path)
		if err != nil {
			return nil, err
		}
		np := matchPath(path, name)
		rule, ok := obj[name].(map[string]any)
		if !ok || len(rule) == 0 {
			return nil, matchErr(np, "takes an object of comparisons such as {\"gte\": {\"relative\": \"now_minus_30d\"}}, got %s", logic.KindName(obj[name]))
		}
		tm := timeMatch{path: segs}
		for _, op := range slices.Sorted(maps.Keys(rule)) {
			opPath := matchPath(np, op)
			if !slices.Contains(matchTimeOps, op) {
				return nil, matchErr(np, "unknown operator %q (use %s)", op, strings.Join(matchTimeOps, ", "))
			}
			t := timeTest{op: op}
			switch a := rule[op].(type) {
			case string:
				at, err := time.Parse(time.RFC3339, a)
				if err != nil {
					return nil, matchErr(opPath, "%q is not an RFC 3339 time such as \"2024-01-15T10:30:00Z\"", a)
				}
				t.abs = at
			case map[string]any:
				rel, ok := a["relative"].(string)
				if !ok || len(a) != 1 {
					return nil, matchErr(opPath, `a relative time is {"relative": "now_minus_30d"}`)
				}
				off, err := parseRelativeTime(rel)
				if err != nil {
					return nil, matchErr(opPath, "%v", err)
				}
				t.relative, t.offset = true, off
			default:
				return nil, matchErr(opPath, `takes an RFC 3339 time or {"relative": "now_minus_30d"}, got %s`, logic.KindName(a))
			}
			tm.tests = append(tm.tests, t)
		}
		out = append(out, tm)
	}
	return out, nil
}

// parseRelativeTime parses "now", "now_minus_<N><unit>" and
// "now_plus_<N><unit>" into an offset from now.
func parseRelativeTime(s string) (time.Duration, error) {
	if s == "now" {
		return 0, nil
	}
	sign := time.Duration(1)
	rest, ok := strings.CutPrefix(s, "now_plus_")
	if !ok {
		rest, ok = strings.CutPrefix(s, "now_minus_")
		sign = -1
	}
	bad := fmt.Errorf(`bad relative time %q: want "now", "now_minus_<N><unit>" or "now_plus_<N><unit>" with unit s, m, h, d or w`, s)
	if !ok || len(rest) < 2 {
		return 0, bad
	}
	var unit time.Duration
	switch rest[len(rest)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	default:
		return 0, bad
	}
	digits := rest[:len(rest)-1]
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("relative time %q is out of range (at most about 290 years)", s)
	}
	return sign * time.Duration(n) * unit, nil
}

// Where a match definition's work is charged, for the budget's error.
const (
	matchWhere        = logic.Label("a match definition")
	matchFieldsWhere  = logic.Label("the fields of a match definition")
	matchTagsWhere    = logic.Label("the tags of a match definition")
	matchPatternWhere = logic.Label("a pattern of a match definition")
	matchTimeWhere    = logic.Label("the time section of a match definition")
)

// Eval reports whether the definition matches in at time now, and returns
// the first evaluation error met (a condition that errored, or the budget),
// for traces: anything that fails to evaluate makes it not match, so when
// err is non-nil ok is false. A nil definition matches nothing; a nil in
// is an empty one. Its work is charged to b (nil: unlimited), in the units of
// conditions: 1 per definition, 1 per name plus one per segment of its
// path and one per 64 bytes of it, 1 per test plus one per element of an in or notIn list, the
// elements and the string bytes (per 64) a test reads, tag lists compared
// (their product), GlobCost per pattern, and the condition's own
// operations. When b runs out or its context is done, the error wraps
// logic.ErrBudgetExceeded or the context's error, wherever it happens
// (inside none too): it is never a silent "no match".
func (m *Def) Eval(in *Input, now time.Time, b *logic.Budget) (ok bool, err error) {
	if m == nil {
		return false, nil
	}
	if in == nil {
		in = &Input{}
	}
	if err := b.Charge(1, matchWhere); err != nil {
		return false, err
	}
	for i := range m.fields {
		if ok, err := m.fields[i].holds(in, b); !ok || err != nil {
			return false, err
		}
	}
	for _, t := range m.tags {
		have := in.Tags[t.group]
		if err := b.Charge(1+int64(len(have))*int64(len(t.ids)), matchTagsWhere); err != nil {
			return false, err
		}
		if !slices.ContainsFunc(have, func(id string) bool { return slices.Contains(t.ids, id) }) {
			return false, nil
		}
	}
	for _, p := range m.patterns {
		if err := b.Charge(pathCost(p.path), matchPatternWhere); err != nil {
			return false, err
		}
		v, found := in.resolve(p.path)
		s, isStr := matchLeaf(v).(string)
		if !found || !isStr {
			return false, nil
		}
		ok, err := GlobBudget(p.glob, s, b, matchPatternWhere)
		if !ok || err != nil {
			return false, err
		}
	}
	for i := range m.times {
		if ok, err := m.times[i].holds(in, now, b); !ok || err != nil {
			return false, err
		}
	}
	for _, d := range m.allOf {
		if ok, err := d.Eval(in, now, b); !ok || err != nil {
			return false, err
		}
	}
	if len(m.anyOf) > 0 {
		matched := false
		for _, d := range m.anyOf {
			ok, err := d.Eval(in, now, b)
			if err != nil {
				return false, err
			}
			if ok {
				matched = true
				break
			}
		}
		if !matched {
			return false, nil
		}
	}
	for _, d := range m.noneOf {
		ok, err := d.Eval(in, now, b)
		if err != nil {
			return false, err
		}
		if ok {
			return false, nil
		}
	}
	if m.cond != nil {
		ok, err := m.cond.Eval(in.Data, b)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// resolve finds a dot path (see Def for the rules). found is false
// when the value is missing or null.
func (in *Input) resolve(path []string) (v any, found bool) {
	if pv, ok := in.Props[path[0]]; ok && pv != nil {
		return matchWalk(pv, path[1:])
	}
	if path[0] == "meta" && len(path) > 1 {
		return matchWalk(in.Meta, path[1:])
	}
	if in.Meta == nil {
		return nil, false
	}
	return matchWalk(in.Meta, path)
}

func matchWalk(v any, path []string) (any, bool) {
	for _, seg := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		case nil:
			return nil, false
		default:
			// Some other Go container: convert it once to the JSON shape.
			switch jv := logic.Value(v).(type) {
			case map[string]any, []any:
				v2, ok := matchWalk(jv, []string{seg})
				if !ok {
					return nil, false
				}
				v = v2
			default:
				return nil, false
			}
		}
	}
	return v, v != nil
}

// matchLeaf returns v in JSON shape when it is a scalar of another Go type
// (an int, a named string type, a time.Time); JSON-shaped values and
// containers are returned as they are.
func matchLeaf(v any) any {
	switch v.(type) {
	case nil, string, float64, bool, []any, map[string]any:
		return v
	}
	return logic.Value(v)
}

// holds reports whether every test of f holds, charging b for the work
// (see Eval); err is the budget's.
func (f *fieldMatch) holds(in *Input, b *logic.Budget) (bool, error) {
	if err := b.Charge(pathCost(f.path), matchFieldsWhere); err != nil {
		return false, err
	}
	raw, found := in.resolve(f.path)
	v := matchLeaf(raw)
	for i := range f.tests {
		t := &f.tests[i]
		if b != nil {
			if err := b.Charge(t.cost(v), matchFieldsWhere); err != nil {
				return false, err
			}
		}
		if !t.holds(raw, v, found) {
			return false, nil
		}
	}
	return true, nil
}

// cost is the work of t on the value v.
func (t *fieldTest) cost(v any) int64 {
	n := 1 + int64(len(t.set))
	switch x := v.(type) {
	case string:
		n += int64(len(x) >> 6)
	case []any:
		if t.op == "contains" {
			n += int64(len(x))
		}
	}
	return n
}

// holds reports whether t holds for the value raw (v in JSON shape; found
// says it is present and not null).
func (t *fieldTest) holds(raw, v any, found bool) bool {
	if t.op == "exists" {
		return found == t.exists
	}
	if !found {
		return false
	}
	switch t.op {
	case "equals":
		if !matchScalarEqual(v, t.val) {
			return false
		}
	case "in":
		if !slices.ContainsFunc(t.set, func(e any) bool { return matchScalarEqual(v, e) }) {
			return false
		}
	case "notIn":
		if !isMatchScalar(v) || slices.ContainsFunc(t.set, func(e any) bool { return matchScalarEqual(v, e) }) {
			return false
		}
	case "contains":
		switch x := v.(type) {
		case string:
			s, ok := t.val.(string)
			if !ok || !strings.Contains(x, s) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(x, func(e any) bool { return matchScalarEqual(matchLeaf(e), t.val) }) {
				return false
			}
		default:
			return false
		}
	case "gt", "gte", "lt", "lte":
		var c int
		if t.isTime {
			tv, ok := matchTimeOf(raw)
			if !ok {
				return false
			}
			c = tv.Compare(t.tm)
		} else {
			n, ok := v.(float64)
			if !ok || math.IsNaN(n) {
				return false
			}
			c = matchCmpFloat(n, t.num)
		}
		if !matchOrder(t.op, c) {
			return false
		}
	}
	return true
}

func matchCmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matchOrder reports whether op holds for a comparison result c (-1, 0, 1).
func matchOrder(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	case "lte":
		return c <= 0
	}
	return false
}

// matchScalarEqual compares a value with a string, float64 or bool, without type
// coercion.
func matchScalarEqual(v, want any) bool {
	switch w := want.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == w
	case float64:
		n, ok := v.(float64)
		return ok && n == w
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	}
	return false
}

// timeValue is a value that carries a time: a type that embeds time.Time,
// such as the root package's Time.
type timeValue interface{ UTC() time.Time }

// matchTimeOf reads a time value: a time.Time, a type that embeds one (see
// timeValue), a non-nil pointer to either, or an RFC 3339 string.
func matchTimeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case *time.Time:
		if x != nil {
			return *x, true
		}
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	case timeValue:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return time.Time{}, false
		}
		return x.UTC(), true
	}
	return time.Time{}, false
}

// holds reports whether every test of tm holds at time now, charging b
// for the work; err is the budget's.
func (tm *timeMatch) holds(in *Input, now time.Time, b *logic.Budget) (bool, error) {
	if err := b.Charge(pathCost(tm.path)+int64(len(tm.tests)), matchTimeWhere); err != nil {
		return false, err
	}
	raw, found := in.resolve(tm.path)
	if !found {
		return false, nil
	}
	if s, ok := raw.(string); ok && len(s) >= 64 {
		if err := b.Charge(int64(len(s)>>6), matchTimeWhere); err != nil {
			return false, err
		}
	}
	tv, ok := matchTimeOf(raw)
	if !ok {
		return false, nil
	}
	for _, t := range tm.tests {
		ref := t.abs
		if t.relative {
			ref = now.Add(t.offset)
		}
		if !matchOrder(t.op, tv.Compare(ref)) {
			return false, nil
		}
	}
	return true, nil
}

// Glob reports whether s matches pattern, where * matches any run of
// characters (including none) and ? exactly one character; every other
// character matches itself. There is no escaping. Characters are runes:
// pattern and s are decoded as UTF-8, and a byte that is not part of a
// valid UTF-8 sequence is a character of its own, which matches only the
// same byte (never U+FFFD, nor a byte inside a valid sequence).
//
// It runs in O(len(pattern) + len(s)·⌈m/64⌉) time, m being the longest run
// of the pattern between two stars in characters, and does not allocate
// unless such a run that holds ? is longer than 64 characters. The pattern
// is split at its stars; the part before the first star must match a
// prefix of s, the part after the last star a suffix, and every part in
// between is matched at its leftmost position in what remains (leftmost is
// always safe because a star can absorb whatever is skipped). A middle part
// without ? that is valid UTF-8 is found with strings.Index when it is at
// most 64 bytes long (byte and character matching agree on such parts); a
// part of at most 8 bytes is tried at each character of s; the others are
// found by bit-parallel matching over characters (Shift-And), which scans
// each character of s once, keeping one bit per character of the part.
// So each part's search costs at most 64 steps per byte of s it scans, and
// the searches of successive parts scan successive stretches of s.
func Glob(pattern, s string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		n, ok := globPrefix(pattern, s)
		return ok && n == len(s)
	}
	// Prefix before the first star.
	n, ok := globPrefix(pattern[:star], s)
	if !ok {
		return false
	}
	s = s[n:]
	pattern = pattern[star+1:]
	// Suffix after the last star.
	last := strings.LastIndexByte(pattern, '*')
	suffix := pattern[last+1:]
	if last >= 0 {
		pattern = pattern[:last]
	} else {
		pattern = ""
	}
	tail, ok := globSuffix(suffix, s)
	if !ok {
		return false
	}
	s = s[:len(s)-tail]
	// The middle parts, leftmost first.
	for pattern != "" {
		i := strings.IndexByte(pattern, '*')
		part := pattern
		if i >= 0 {
			part, pattern = pattern[:i], pattern[i+1:]
		} else {
			pattern = ""
		}
		if part == "" {
			continue
		}
		end, ok := globFind(part, s)
		if !ok {
			return false
		}
		s = s[end:]
	}
	return true
}

// GlobBudget is Glob charging b first with GlobCost; where names the
// pattern for the error when b runs out (b nil: unlimited).
func GlobBudget(pattern, s string, b *logic.Budget, where fmt.Stringer) (bool, error) {
	if b != nil {
		if err := b.Charge(GlobCost(pattern, s), where); err != nil {
			return false, err
		}
	}
	return Glob(pattern, s), nil
}

// GlobCost is what matching s against pattern costs in budget operations,
// an upper bound of Glob's work in the units of conditions (about
// 10 to 50 ns each): 1, plus one per 64 bytes of the pattern and of s, plus
// one per 16 characters of s for each word of 64 characters of the longest
// part that holds ? (or is long, or not UTF-8), which is matched
// bit-parallel. A 4 KB part of ? against 4 KB costs 16,513: more than a
// whole default budget, as its 0.7 ms are.
func GlobCost(pattern, s string) int64 {
	words := 0
	for part := range strings.SplitSeq(pattern, "*") {
		if len(part) > 64 || strings.IndexByte(part, '?') >= 0 || !utf8.ValidString(part) {
			words = max(words, (utf8.RuneCountInString(part)+63)/64)
		}
	}
	return 1 + int64(len(pattern)>>6) + int64(len(s)>>6) + int64(len(s))*int64(words)>>4
}

// globChar reads the character of s at byte i: a rune, or for a byte that
// is not valid UTF-8, -1 minus the byte (so it equals only itself).
func globChar(s string, i int) (c rune, width int) {
	if s[i] < utf8.RuneSelf {
		return rune(s[i]), 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return -1 - rune(s[i]), 1
	}
	return r, w
}

// globLastChar is globChar for the character that ends s.
func globLastChar(s string) (c rune, width int) {
	r, w := utf8.DecodeLastRuneInString(s)
	if r == utf8.RuneError && w == 1 {
		return -1 - rune(s[len(s)-1]), 1
	}
	return r, w
}

// globPrefix matches a star-free part against the start of s and returns
// the number of bytes of s it covers.
func globPrefix(part, s string) (int, bool) {
	if strings.IndexByte(part, '?') < 0 && utf8.ValidString(part) {
		return len(part), strings.HasPrefix(s, part)
	}
	n := 0
	for i := 0; i < len(part); {
		if n >= len(s) {
			return 0, false
		}
		pc, pw := globChar(part, i)
		sc, sw := globChar(s, n)
		if pc != '?' && pc != sc {
			return 0, false
		}
		i += pw
		n += sw
	}
	return n, true
}

// globSuffix matches a star-free part against the end of s and returns the
// number of bytes of s it covers. (Decoding UTF-8 backwards finds the same
// characters as decoding it forwards, invalid bytes included.)
func globSuffix(part, s string) (int, bool) {
	if strings.IndexByte(part, '?') < 0 && utf8.ValidString(part) {
		return len(part), strings.HasSuffix(s, part)
	}
	n := len(s)
	for j := len(part); j > 0; {
		if n == 0 {
			return 0, false
		}
		pc, pw := globLastChar(part[:j])
		sc, sw := globLastChar(s[:n])
		if pc != '?' && pc != sc {
			return 0, false
		}
		j -= pw
		n -= sw
	}
	return len(s) - n, true
}

// globFind finds the leftmost match of a star-free part in s and returns
// the byte offset just after it.
func globFind(part, s string) (int, bool) {
	if len(part) <= 64 && strings.IndexByte(part, '?') < 0 && utf8.ValidString(part) {
		i := strings.Index(s, part)
		if i < 0 {
			return 0, false
		}
		return i + len(part), true
	}
	if len(part) <= 8 {
		return globFindTiny(part, s)
	}
	// Room for the part's distinct literal characters, on the stack (a
	// small array for the usual short parts, so as not to clear 1 KB).
	switch m := utf8.RuneCountInString(part); {
	case m <= 8:
		var buf [8]globLit
		return globFindShort(part, m, s, buf[:0])
	case m <= 64:
		var buf [64]globLit
		return globFindShort(part, m, s, buf[:0])
	}
	return globFindLong(part, s)
}

// globFindTiny is globFind for a part of at most 8 bytes: it tries the
// part at each character of s (skipping to the next occurrence of its
// first byte when that is a literal ASCII character), at most 8 steps
// each.
func globFindTiny(part, s string) (int, bool) {
	first := part[0]
	for i := 0; i < len(s); {
		if first != '?' && first < utf8.RuneSelf {
			j := strings.IndexByte(s[i:], first)
			if j < 0 {
				return 0, false
			}
			i += j
		}
		if n, ok := globPrefix(part, s[i:]); ok {
			return i + n, true
		}
		_, w := globChar(s, i)
		i += w
	}
	return 0, false
}

// globLit is a literal character of a part and the positions (bits) where
// it stands.
type globLit struct {
	c    rune
	mask uint64
}

// globMask returns the mask of c among lits, which are sorted by character.
func globMask(lits []globLit, c rune) uint64 {
	if len(lits) <= 8 {
		for _, l := range lits {
			if l.c == c {
				return l.mask
			}
		}
		return 0
	}
	i, j := 0, len(lits)
	for i < j {
		h := int(uint(i+j) >> 1)
		if lits[h].c < c {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(lits) && lits[i].c == c {
		return lits[i].mask
	}
	return 0
}

// globFindShort is globFind by Shift-And for a part of m ≤ 64 characters:
// bit j of the state is set when the part's first j+1 characters match the
// characters of s that end at the current one.
// lits is empty with room for m literals.
func globFindShort(part string, m int, s string, lits []globLit) (int, bool) {
	var anyMask uint64 // the positions of ?
	j := 0
	for i := 0; i < len(part); j++ {
		c, w := globChar(part, i)
		i += w
		if c == '?' {
			anyMask |= 1 << j
			continue
		}
		// Insert c in order, or add the position to its mask.
		k := 0
		for k < len(lits) && lits[k].c < c {
			k++
		}
		if k < len(lits) && lits[k].c == c {
			lits[k].mask |= 1 << j
			continue
		}
		lits = append(lits, globLit{})
		copy(lits[k+1:], lits[k:])
		lits[k] = globLit{c: c, mask: 1 << j}
	}
	done := uint64(1) << (m - 1)
	var state uint64
	for i := 0; i < len(s); {
		c, w := globChar(s, i)
		i += w
		state = (state<<1 | 1) & (anyMask | globMask(lits, c))
		if state&done != 0 {
			return i, true
		}
	}
	return 0, false
}

// globLongLit is a literal character of a long part and its positions in
// one 64-character word of the part.
type globLongLit struct {
	c    rune
	word int32
	mask uint64
}

// globFindLong is globFind by Shift-And for a part of more than 64
// characters: the state has one bit per character of the part, in words of
// 64; per character of s it costs O(words + occurrences of that character's
// words) after a binary search. Memory is O(m).
func globFindLong(part, s string) (int, bool) {
	m := utf8.RuneCountInString(part)
	words := (m + 63) / 64
	masks := make([]uint64, 3*words)
	anyMask, state, shifted := masks[:words], masks[words:2*words], masks[2*words:]
	lits := make([]globLongLit, 0, m)
	for i, j := 0, 0; i < len(part); j++ {
		c, w := globChar(part, i)
		i += w
		word, bit := j/64, uint64(1)<<(j%64)
		if c == '?' {
			anyMask[word] |= bit
			continue
		}
		lits = append(lits, globLongLit{c: c, word: int32(word), mask: bit})
	}
	// Group the positions by character, then word.
	slices.SortFunc(lits, func(a, b globLongLit) int {
		if a.c != b.c {
			return cmp.Compare(a.c, b.c)
		}
		return cmp.Compare(a.word, b.word)
	})
	merged := lits[:0]
	for _, l := range lits {
		if k := len(merged) - 1; k >= 0 && merged[k].c == l.c && merged[k].word == l.word {
			merged[k].mask |= l.mask
			continue
		}
		merged = append(merged, l)
	}
	lits = merged
	lastWord, done := (m-1)/64, uint64(1)<<((m-1)%64)
	for i := 0; i < len(s); {
		c, w := globChar(s, i)
		i += w
		carry := uint64(1)
		for k := range words {
			shifted[k] = state[k]<<1 | carry
			carry = state[k] >> 63
			state[k] = shifted[k] & anyMask[k]
		}
		lo, _ := slices.BinarySearchFunc(lits, c, func(l globLongLit, c rune) int { return cmp.Compare(l.c, c) })
		for k := lo; k < len(lits) && lits[k].c == c; k++ {
			state[lits[k].word] |= shifted[lits[k].word] & lits[k].mask
		}
		if state[lastWord]&done != 0 {
			return i, true
		}
	}
	return 0, false
}

// pathCost is what resolving a name costs: one, one per segment, and one
// per 64 bytes of the segments (a long key is hashed at every map it is
// looked up in).
func pathCost(path []string) int64 {
	n := 1 + int64(len(path))
	for _, seg := range path {
		n += int64(len(seg) >> 6)
	}
	return n
}
