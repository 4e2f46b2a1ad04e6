package logic

import (
	"math/rand/v2"
	"testing"

	"fmt"
	"github.com/scopegate/authz/internal/testsize"
	"strconv"
	"strings"
)

// The library (github.com/diegoholiveira/jsonlogic/v3) cannot say what a
// var inside a predicate reads when the element has no value there: its
// some and none substitute the enclosing data's value first (and run it as
// logic), its all never reads the enclosing data. refEval is the reference
// for that case: it walks the library form of a condition itself only for
// what depends on scoping (var, missing, missing_some, the quantifiers) and
// for the operators that must not evaluate every argument (and, or, if,
// ?:, !, !!), and has the library evaluate every other operator on the
// values of its arguments. Its scoping is written straight from the rule:
// a path with at least one segment that has no value (absent or null) in
// the current data is read in the enclosing data, innermost first; the
// empty path is the current data.

// refEval evaluates the library form rule on data, frames being the data
// of the enclosing quantifiers, outermost first. fellBack reports that some
// path found its value in enclosing data only (where the library, given
// the library form, would read null).
func refEval(rule, data any, frames []any) (out any, fellBack bool, err error) {
	r := &refEvaluator{}
	out, err = r.eval(rule, data, frames)
	return out, r.fellBack, err
}

type refEvaluator struct{ fellBack bool }

func (r *refEvaluator) eval(rule, data any, frames []any) (any, error) {
	switch x := rule.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			v, err := r.eval(e, data, frames)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		for op, arg := range x {
			return r.op(op, arg, data, frames)
		}
		return x, nil
	}
	return rule, nil
}

func (r *refEvaluator) op(op string, arg, data any, frames []any) (any, error) {
	args, isArr := arg.([]any)
	if !isArr {
		args = []any{arg}
	}
	switch op {
	case "var":
		if len(args) == 2 {
			def, err := r.eval(args[1], data, frames)
			if err != nil {
				return nil, err
			}
			v, err := r.path([]any{args[0]}, data, frames)
			if v == nil && err == nil {
				v = def
			}
			return v, err
		}
		if !isArr {
			return r.path(arg, data, frames)
		}
		return r.path(args, data, frames)
	case "and", "or":
		var last any
		for _, a := range args {
			v, err := r.eval(a, data, frames)
			if err != nil {
				return nil, err
			}
			if Truthy(v) != (op == "and") {
				return v, nil
			}
			last = v
		}
		return last, nil
	case "!", "!!":
		v, err := r.eval(args[0], data, frames)
		if err != nil {
			return nil, err
		}
		return Truthy(v) == (op == "!!"), nil
	case "if", "?:":
		last := len(args) - 1
		for i := 0; i < last; i += 2 {
			c, err := r.eval(args[i], data, frames)
			if err != nil {
				return nil, err
			}
			if Truthy(c) {
				return r.eval(args[i+1], data, frames)
			}
		}
		if len(args)%2 == 1 {
			return r.eval(args[last], data, frames)
		}
		return nil, nil
	case "some", "all", "none":
		subject, err := r.eval(args[0], data, frames)
		if err != nil {
			return nil, err
		}
		if !Truthy(subject) {
			return op == "none", nil
		}
		arr, ok := subject.([]any)
		if !ok {
			return nil, fmt.Errorf("%s over %s", op, typeName(subject))
		}
		inner := append(frames[:len(frames):len(frames)], data)
		for _, e := range arr {
			v, err := r.eval(args[1], e, inner)
			if err != nil {
				return nil, err
			}
			t := Truthy(v)
			switch {
			case op == "some" && t:
				return true, nil
			case op == "all" && !t:
				return false, nil
			case op == "none" && t:
				return false, nil
			}
		}
		return op != "some", nil
	case "missing", "missing_some":
		return r.missing(op, arg, data, frames)
	}
	vals, err := r.eval(args, data, frames)
	if err != nil {
		return nil, err
	}
	return libraryOn(op, vals.([]any), nil)
}

// libraryOn has the library apply op to the values vals, each read with a
// var from an object holding them (so that the library takes them as
// values, never as logic, as it takes what its own var reads), together
// with the values of extra.
func libraryOn(op string, vals []any, extra map[string]any) (any, error) {
	d := map[string]any{}
	for k, v := range extra {
		d[k] = v
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		k := "v" + strconv.Itoa(i)
		d[k], args[i] = v, map[string]any{"var": k}
	}
	return libraryEval(map[string]any{op: args}, d)
}

// path is the library's var of p on data, or on the enclosing data when
// data has no value at a path with a segment.
func (r *refEvaluator) path(p, data any, frames []any) (any, error) {
	read := func(d any) (any, error) { return libraryEval(map[string]any{"var": p}, d) }
	v, err := read(data)
	if err != nil || v != nil || !hasSegment(p) {
		return v, err
	}
	for i := len(frames) - 1; i >= 0; i-- {
		v, err := read(frames[i])
		if err != nil || v != nil {
			r.fellBack = r.fellBack || v != nil
			return v, err
		}
	}
	return nil, nil
}

// hasSegment reports whether the path p (a string, a number or [path, …])
// has a non-empty segment.
func hasSegment(p any) bool {
	if arr, ok := p.([]any); ok && len(arr) > 0 {
		p = arr[0]
	}
	switch x := p.(type) {
	case string:
		return strings.Trim(x, ".") != ""
	case float64:
		return true
	}
	return false
}

// missing is missing and missing_some: each path is looked up as path
// looks it up (a [path, default] with a default is never missing), and the
// library decides the result on data holding what was found.
func (r *refEvaluator) missing(op string, arg, data any, frames []any) (any, error) {
	v, err := r.eval(arg, data, frames)
	if err != nil {
		return nil, err
	}
	var need, list any = nil, v
	if op == "missing_some" {
		pair, _ := v.([]any)
		if len(pair) != 2 {
			return nil, fmt.Errorf("missing_some of %s", show(v))
		}
		need, list = pair[0], pair[1]
	}
	if s, ok := list.(string); ok && op == "missing" {
		list = []any{s}
	}
	paths, ok := list.([]any)
	if !ok {
		return nil, fmt.Errorf("%s of %s", op, show(list))
	}
	// The library decides on keys k0, k1… holding the values found.
	found := map[string]any{}
	keys := make([]any, len(paths))
	for i, p := range paths {
		keys[i] = "k" + strconv.Itoa(i)
		var val any
		switch x := p.(type) {
		case []any:
			if len(x) == 2 {
				val, err = r.path([]any{x[0]}, data, frames)
				if val == nil {
					val = x[1]
				}
			} else {
				val, err = r.path(x, data, frames)
			}
		default:
			val, err = r.path(x, data, frames)
		}
		if err != nil {
			return nil, err
		}
		found[keys[i].(string)] = val
	}
	var res any
	if op == "missing" {
		res, err = libraryEval(map[string]any{"missing": keys}, found)
	} else {
		found["need"] = need
		res, err = libraryEval(map[string]any{"missing_some": []any{map[string]any{"var": "need"}, keys}}, found)
	}
	if err != nil {
		return nil, err
	}
	// Back from keys to the paths as given.
	missingKeys, _ := res.([]any)
	out := []any{}
	for _, k := range missingKeys {
		i, _ := strconv.Atoi(strings.TrimPrefix(k.(string), "k"))
		out = append(out, paths[i])
	}
	return out, nil
}

// TestPredicateScopingAgreesWithReference generates quantifiers (nested
// ones too) over arrays of the data whose elements hold some of the data's
// keys (so that they shadow them), with predicates reading the element,
// the enclosing elements and the data, and requires the reference's result
// (refEval; the library's where no path read the enclosing data).
func TestPredicateScopingAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 4))
	rules, datas := testsize.Count(t, "AUTHZ_LOGIC_RULES", 3000), 6
	if testing.Short() {
		rules = min(rules, 500)
	}
	counts := map[outcome]int{}
	for i := range rules {
		rg := &ruleGen{c: randChooser{rng}, maxDepth: 2 + i%4}
		rule := rg.opNamed([]string{"some", "all", "none"}[i%3], 0)
		p, err := Compile(rule)
		if err != nil {
			t.Fatalf("Compile(%s): %v", show(rule), err)
		}
		dg := &dataGen{c: randChooser{rng}, oneKeyObjects: i%4 == 0}
		for range datas {
			data := dg.data()
			// Arrays of objects that hold keys of the data, for the
			// quantifiers' var subjects.
			for _, k := range []string{"arr", "objs", "list"} {
				if rng.IntN(3) > 0 {
					objs := []any{}
					for range rng.IntN(4) {
						objs = append(objs, dg.object(1))
					}
					data[k] = objs
				}
			}
			o, msg := compareWithLibrary(p, data)
			counts[o]++
			if o == disagreement {
				t.Fatalf("rule %s\nlibrary form %s\ndata %s\n%s", show(rule), show(p.LibraryForm()), show(data), msg)
			}
		}
	}
	total := rules * datas
	if counts[fellBack] < total/20 {
		t.Errorf("only %d of %d evaluations read the enclosing data from a predicate; want 5%% at least", counts[fellBack], total)
	}
	if counts[agreeValue]+counts[fellBack] < total/3 {
		t.Errorf("only %d of %d evaluations gave a value; want a third at least", counts[agreeValue]+counts[fellBack], total)
	}
	t.Logf("%d evaluations: %v (0 same value, 1 both failed, 2 data run as logic, 3 read the enclosing data)", total, counts)
}
