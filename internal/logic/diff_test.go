package logic

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/diegoholiveira/jsonlogic/v3"

	"github.com/scopegate/authz/internal/testsize"
)

// libraryEval evaluates rule with the library, turning any panic into an
// error.
func libraryEval(rule, data any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("library panicked: %v", r)
		}
	}()
	return jsonlogic.ApplyInterface(rule, data)
}

// sameValue compares two results: JSON-shaped values, equal when their
// types and contents are, numbers bit for bit (so 0 and -0 differ) except
// that every NaN is the same. An empty array equals a nil one.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case string, bool:
		return a == b
	}
	return false
}

// show renders a value for a failure message.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// outcome is what comparing one evaluation found.
type outcome int

const (
	agreeValue   outcome = iota // same value
	agreeError                  // both failed
	dataAsLogic                 // the library ran a data value as logic: allowed to differ
	fellBack                    // a var of a predicate read the enclosing data: same value as the reference
	disagreement                // anything else: a bug
)

// compareWithLibrary evaluates p on data and its library form with the
// library. Mismatches are allowed only when the library failed with
// ErrInvalidOperator: a condition holds only the operators Compile accepts,
// so that error means the library ran an object from the data as an
// operator (an if branch returning it, or a path among missing's), which
// this package deliberately does not do. The generators give data objects
// with one key (the only ones the library can run) keys that are not
// operators, so every such run shows up as that error.
//
// When a path inside a predicate finds its value in the enclosing data
// only, the library cannot say what it reads (see refEval): the result is
// then compared with refEval's instead (outcome fellBack), on the same
// terms.
func compareWithLibrary(p *Program, data any) (outcome, string) {
	got, err := p.Eval(data, nil)
	ref, fell, refErr := refEval(p.LibraryForm(), data, nil)
	if fell {
		o, msg := compareResults(got, err, ref, refErr)
		if o == agreeValue || o == agreeError {
			o = fellBack
		}
		if o == disagreement {
			msg = "with the enclosing data read (the reference evaluator): " + msg
		}
		return o, msg
	}
	want, libErr := libraryEval(p.LibraryForm(), data)
	return compareResults(got, err, want, libErr)
}

// compareResults compares our result with the reference's (see
// compareWithLibrary).
func compareResults(got any, err error, want any, libErr error) (outcome, string) {
	var invalid jsonlogic.ErrInvalidOperator
	switch {
	case libErr != nil && errors.As(libErr, &invalid):
		return dataAsLogic, ""
	case err != nil && libErr != nil:
		return agreeError, ""
	case err != nil:
		return disagreement, fmt.Sprintf("got error %v; the library says %s", err, show(want))
	case libErr != nil:
		return disagreement, fmt.Sprintf("got %s; the library fails: %v", show(got), libErr)
	case !sameValue(got, want):
		return disagreement, fmt.Sprintf("got %s (%T); the library says %s (%T)", show(got), got, show(want), want)
	}
	return agreeValue, ""
}

// TestAgreesWithLibrary generates conditions over every operator, with
// nasty literals (numeric strings, blank strings, huge and tiny numbers,
// -0, unicode and invalid UTF-8, nested arrays, ranges, null), and nasty
// data (NaN and infinities, objects, nested arrays), and requires the
// library's result on each: the same value, or both failing, except where
// the library runs data as logic (see compareWithLibrary).
func TestAgreesWithLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	rules, datas := testsize.Count(t, "AUTHZ_LOGIC_RULES", 6000), 6
	if testing.Short() {
		rules = min(rules, 1000)
	}
	counts := map[outcome]int{}
	opsSeen := map[string]int{}
	for i := range rules {
		rg := &ruleGen{c: randChooser{rng}, maxDepth: 1 + i%5}
		rule := rg.rule()
		p, err := Compile(rule)
		if err != nil {
			t.Fatalf("Compile(%s): %v", show(rule), err)
		}
		countOps(rule, opsSeen)
		dg := &dataGen{c: randChooser{rng}, oneKeyObjects: i%4 == 0}
		for range datas {
			data := dg.data()
			o, msg := compareWithLibrary(p, data)
			counts[o]++
			if o == disagreement {
				t.Fatalf("rule %s\nlibrary form %s\ndata %s\n%s", show(rule), show(p.LibraryForm()), show(data), msg)
			}
		}
	}
	for _, op := range genOps {
		if opsSeen[op] < rules/100 {
			t.Errorf("operator %q generated %d times; want at least %d", op, opsSeen[op], rules/100)
		}
	}
	total := rules * datas
	if counts[agreeValue] < total/3 {
		t.Errorf("only %d of %d evaluations gave a value (%d both failed, %d ran data as logic); want a third at least", counts[agreeValue], total, counts[agreeError], counts[dataAsLogic])
	}
	if counts[fellBack] < total/100 {
		t.Errorf("only %d of %d evaluations read the enclosing data from a predicate; want 1%% at least: the generator no longer exercises it", counts[fellBack], total)
	}
	if counts[dataAsLogic] > total/20 {
		t.Errorf("%d of %d evaluations ran data as logic in the library; want under 5%%", counts[dataAsLogic], total)
	}
	t.Logf("%d evaluations: %d values, %d both failed, %d data run as logic by the library, %d read the enclosing data from a predicate", total, counts[agreeValue], counts[agreeError], counts[dataAsLogic], counts[fellBack])
}

// countOps counts the operators of a rule as written.
func countOps(v any, seen map[string]int) {
	switch x := v.(type) {
	case map[string]any:
		for k, a := range x {
			seen[k]++
			countOps(a, seen)
		}
	case []any:
		for _, e := range x {
			countOps(e, seen)
		}
	}
}

// FuzzAgreesWithLibrary is TestAgreesWithLibrary driven by the fuzzer's
// bytes: the first half chooses the rule, the second the data.
func FuzzAgreesWithLibrary(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x12\x34\x56\x78\x9a\xbc\xde\xf0", "some all none merge", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		half := len(b) / 2
		rg := &ruleGen{c: &byteChooser{b[:half]}, maxDepth: 4}
		rule := rg.rule()
		p, err := Compile(rule)
		if err != nil {
			t.Fatalf("Compile(%s): %v", show(rule), err)
		}
		dg := &dataGen{c: &byteChooser{b[half:]}, oneKeyObjects: true}
		data := dg.data()
		if o, msg := compareWithLibrary(p, data); o == disagreement {
			t.Fatalf("rule %s\nlibrary form %s\ndata %s\n%s", show(rule), show(p.LibraryForm()), show(data), msg)
		}
	})
}
