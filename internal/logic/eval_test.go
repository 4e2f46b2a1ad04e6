package logic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustCompile compiles a rule written as JSON.
func mustCompile(t testing.TB, src string) *Program {
	t.Helper()
	var rule any
	if err := json.Unmarshal([]byte(src), &rule); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	p, err := Compile(rule)
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	return p
}

// jsonData decodes data written as JSON.
func jsonData(t testing.TB, src string) any {
	t.Helper()
	var d any
	if err := json.Unmarshal([]byte(src), &d); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return d
}

// TestDataIsNeverRunAsLogic checks that values from the data are values
// wherever a rule returns or uses them, including objects that look like
// operators (the library ran them).
func TestDataIsNeverRunAsLogic(t *testing.T) {
	data := jsonData(t, `{"custom":{"==":[1,1]},"list":[{"var":"custom"}],"paths":[{"cat":["cu","stom"]}],"ok":{"==":[1,2]}}`)
	tests := []struct {
		rule string
		want any
	}{
		{`{"if":[true,{"var":"custom"},true]}`, map[string]any{"==": []any{1.0, 1.0}}},
		{`{"?:":[false,true,{"var":"ok"}]}`, map[string]any{"==": []any{1.0, 2.0}}},
		{`{"if":[false,1,true,{"if":[true,{"var":"custom"}]}]}`, map[string]any{"==": []any{1.0, 1.0}}},
		{`{"==":[{"if":[true,{"var":"custom"},1]},true]}`, false},
		{`{"merge":[{"var":"list"}]}`, []any{map[string]any{"var": "custom"}}},
		{`{"some":[{"var":"list"},{"==":[{"var":"var"},"custom"]}]}`, true},
		{`{"missing":{"merge":[["custom"],{"var":"paths"}]}}`, nil}, // an object path is an error
		{`{"var":["nothing",{"var":"custom"}]}`, map[string]any{"==": []any{1.0, 1.0}}},
	}
	for _, tt := range tests {
		p := mustCompile(t, tt.rule)
		got, err := p.Eval(data, nil)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s = %v; want an error", tt.rule, show(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.rule, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.rule, diff)
		}
	}
}

// TestPredicatesReadTheirElementFirst checks var scoping: inside a
// predicate a var reads the current element and, when it has no value
// there (absent or null), the enclosing data outward: in a nested
// predicate the innermost element, then the enclosing elements, then the
// condition's data. The empty path is the current element only.
func TestPredicatesReadTheirElementFirst(t *testing.T) {
	data := jsonData(t, `{"x":1,"w":"top","ys":[{"y":1}],"groups":[{"x":2,"members":[{"x":3},{"z":4}]}],"nul":[null]}`)
	tests := []struct {
		rule string
		want any
	}{
		{`{"some":[{"var":"ys"},{"==":[{"var":"x"},1]}]}`, true},      // the data's x
		{`{"some":[{"var":"groups"},{"==":[{"var":"x"},2]}]}`, true},  // the element's x shadows the data's
		{`{"some":[{"var":"groups"},{"==":[{"var":"x"},1]}]}`, false}, // … so the data's is not seen
		{`{"some":[{"var":"groups"},{"some":[{"var":"members"},{"==":[{"var":"x"},3]}]}]}`, true},
		{`{"all":[{"var":"groups"},{"all":[{"var":"members"},{"==":[{"var":"x"},3]}]}]}`, false},  // {"z":4} reads the group's x, 2
		{`{"some":[{"var":"groups"},{"some":[{"var":"members"},{"==":[{"var":"x"},2]}]}]}`, true}, // the enclosing element's x
		{`{"some":[{"var":"groups"},{"some":[{"var":"members"},{"==":[{"var":"w"},"top"]}]}]}`, true},
		{`{"some":[{"var":"groups"},{"==":[{"var":["nope","d"]},"d"]}]}`, true},
		{`{"some":[{"var":"groups"},{"==":[{"var":["w","d"]},"top"]}]}`, true},
		{`{"some":[{"var":"nul"},{"==":[{"var":""},null]}]}`, true},
		{`{"some":[{"var":"nul"},{"==":[{"var":"w"},"top"]}]}`, true},
		{`{"all":[[1,2],{"<":[0,{"var":""},3]}]}`, true},
		{`{"some":[[[1,2]],{"==":[{"var":"1"},2]}]}`, true},
		{`{"some":[[[1]],{"==":[{"var":"1"},null]}]}`, true}, // no index 1 anywhere: the comparison with null holds
	}
	for _, tt := range tests {
		got, err := mustCompile(t, tt.rule).Eval(data, nil)
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.rule, got, err, tt.want)
		}
	}
}

// TestOperators checks each operator family on values chosen for the
// conversions (the differential test holds the rest to the library).
func TestOperators(t *testing.T) {
	data := jsonData(t, `{"s":"abc","n":3,"z":0,"e":"","arr":[1,"2",[3]],"obj":{"k":"v"},"u":"日本語"}`)
	tests := []struct {
		rule string
		want any
	}{
		{`{"==":["1",1]}`, true},
		{`{"==":[null,0]}`, false},
		{`{"===":[1,1]}`, true},
		{`{"===":[[1],[1]]}`, false},
		{`{"!=":["a","b"]}`, true},
		{`{"<":["a","b"]}`, true},
		{`{"<":["10",9]}`, false},
		{`{"<=":[1,1,2]}`, true},
		{`{">":["1e400",1]}`, false}, // an overflowing string is NaN in comparisons
		{`{">=":[2,"2"]}`, true},
		{`{"and":[1,"",2]}`, ""},
		{`{"or":[0,"",[]]}`, []any{}},
		{`{"!":[[]]}`, true},
		{`{"!!":["0"]}`, true},
		{`{"if":[false,1,false,2]}`, nil},
		{`{"if":[0,1,"x",2,3]}`, 2.0},
		{`{"in":["b",{"var":"s"}]}`, true},
		{`{"in":[2,{"var":"arr"}]}`, true},
		{`{"in":[3,[[1,5]]]}`, true},
		{`{"in":[0,["abc"]]}`, true}, // a string that is not a number counts as 0
		{`{"in":["x",{"var":"obj"}]}`, false},
		{`{"var":"arr.2.0"}`, 3.0},
		{`{"var":"arr.x"}`, 1.0}, // a non-numeric segment indexes 0
		{`{"var":["arr.9","d"]}`, "d"},
		{`{"missing":["s","nope","obj.k","obj.j"]}`, []any{"nope", "obj.j"}},
		{`{"missing_some":[1,["nope","s"]]}`, []any{}},
		{`{"missing_some":[2,["nope","s"]]}`, []any{"nope"}},
		{`{"merge":[[1],2,[[3]]]}`, []any{1.0, 2.0, []any{3.0}}},
		{`{"cat":[" a",1.5," "]}`, "a1.5"},
		{`{"cat":[" a"]}`, " a"},
		{`{"cat":[1e21,null]}`, "1000000000000000000000"},
		{`{"substr":[{"var":"u"},1]}`, "本語"},
		{`{"substr":[{"var":"u"},-2,1]}`, "本"},
		{`{"substr":["abc",5]}`, "abc"},
		{`{"substr":["abc",0,-1]}`, "ab"},
		{`{"+":["1",2]}`, 3.0},
		{`{"+":["x"]}`, 0.0},
		{`{"-":[{"var":"z"}]}`, math.Copysign(0, -1)},
		{`{"*":[2,3,4]}`, 24.0},
		{`{"/":[1,0]}`, math.Inf(1)},
		{`{"%":[7,3]}`, 1.0},
		{`{"min":[3,1,2]}`, 1.0},
		{`{"max":["4",1]}`, 4.0},
	}
	for _, tt := range tests {
		got, err := mustCompile(t, tt.rule).Eval(data, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.rule, err)
			continue
		}
		if !sameValue(got, tt.want) {
			t.Errorf("%s = %s; want %s", tt.rule, show(got), show(tt.want))
		}
	}
	for _, rule := range []string{
		`{"+":[null]}`, `{"-":[true]}`, `{"in":[1,"abc"]}`, `{"in":[1,[null]]}`, `{"in":[1,[[1]]]}`,
		`{"in":[{"var":"obj"},[{"var":"obj"}]]}`, `{"some":[{"var":"s"},{"var":""}]}`, `{"cat":[true,"a"]}`,
		`{"substr":["abc",1,-3]}`, `{"substr":[[1],1]}`, `{"missing":{"var":"n"}}`, `{"missing_some":[{"var":"nope"},["a"]]}`,
		`{"missing":{"merge":[[true]]}}`, `{"missing":{"merge":[[[1]]]}}`,
	} {
		if got, err := mustCompile(t, rule).Eval(data, nil); err == nil {
			t.Errorf("%s = %s; want an error", rule, show(got))
		}
	}
}

// TestCompileRejects checks what Compile refuses, with the place named.
func TestCompileRejects(t *testing.T) {
	for _, tt := range []struct{ rule, want string }{
		{`[1]`, "operator object"},
		{`{"regex":[1]}`, `unknown operator "regex" at the top level`},
		{`{"and":[true,{"or":[{"map":[]}]}]}`, `unknown operator "map" at and[1].or[0]`},
		{`{"==":[1]}`, `"==" at the top level takes 2 arguments, got 1`},
		{`{"and":[]}`, `"and" at the top level takes at least 1 arguments, got 0`},
		{`{"<":[1,2,3,4]}`, `"<" at the top level takes 2 to 3 arguments, got 4`},
		{`{"var":[1]}`, "the path must be a string"},
		{`{"in":[1,2]}`, "the second argument must be"},
		{`{"some":[[1],true]}`, "the second argument must be an operator"},
		{`{"and":[{"a":1,"b":2}]}`, "object at and[0] has 2 keys"},
		{`{"missing_some":["1",["a"]]}`, "the first argument must be a number"},
	} {
		var rule any
		if err := json.Unmarshal([]byte(tt.rule), &rule); err != nil {
			t.Fatal(err)
		}
		_, err := Compile(rule)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%s) = %v; want an error containing %q", tt.rule, err, tt.want)
		}
	}
	deep := strings.Repeat(`{"!":`, maxCompileDepth) + "true" + strings.Repeat("}", maxCompileDepth)
	var rule any
	dec := json.NewDecoder(strings.NewReader(deep))
	if err := dec.Decode(&rule); err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(rule); err == nil || !strings.Contains(err.Error(), "nests deeper") {
		t.Errorf("Compile of %d levels = %v; want a depth error", maxCompileDepth, err)
	}
}

// TestCosts checks the operations charged by evaluations, as documented on
// Program.
func TestCosts(t *testing.T) {
	data := jsonData(t, `{"a":{"b":1},"s":"`+strings.Repeat("x", 200)+`","list":[1,2,3,4,5]}`)
	tests := []struct {
		rule string
		want int64
	}{
		// and(3) + guard !==(3) + var a.b (3) + ==(3) + var (3).
		{`{"==":[{"var":"a.b"},1]}`, 15},
		// The guard fails: and(3) + !==(3) + var(3).
		{`{"==":[{"var":"a.c"},1]}`, 9},
		// A literal costs nothing; a var with a default 1 + segments + 1.
		{`{"==":[1,1]}`, 3},
		{`{"var":["nope",1]}`, 3},
		// some(3) + 3 iterations of 1 + and(3) + !==(3) + var ""(1) + ==(3) + var(1).
		{`{"some":[[1,2,3],{"==":[{"var":""},3]}]}`, 3 + 3*(1+11)},
		// in(3) + var(2) + 5 elements.
		{`{"in":[9,{"var":"list"}]}`, 3 + 2 + 5},
		// A 200-byte string is 3 operations wherever it is read: in(3) +
		// var(2) + 3 (string) + 0 (needle).
		{`{"in":["y",{"var":"s"}]}`, 3 + 2 + 3},
		// cat(3) + var(2) + 201 bytes produced (3).
		{`{"cat":[{"var":"s"},"!"]}`, 3 + 2 + 3},
		// merge(3) + var(2) + 5 + 1 elements produced.
		{`{"merge":[{"var":"list"},1]}`, 3 + 2 + 6},
		// missing(3): 2 paths of 1, looked up with 2 and 1 segments.
		{`{"missing":["a.b","z"]}`, 3 + 2 + 2 + 1},
		// A literal array holding an operator: 1 + 2 elements.
		{`{"merge":[[1,{"var":"a.b"}]]}`, 2 + 3 + 3 + 2},
	}
	for _, tt := range tests {
		b := NewBudget(context.Background(), 1<<30)
		if _, err := mustCompile(t, tt.rule).Eval(data, b); err != nil {
			t.Fatalf("%s: %v", tt.rule, err)
		}
		if b.Used() != tt.want {
			t.Errorf("%s cost %d operations; want %d", tt.rule, b.Used(), tt.want)
		}
	}
}

// nestedSome is some over n literals whose predicate is some over m
// literals, never true: it runs to the end.
func nestedSome(n, m int) string {
	lit := func(k int) string { return "[" + strings.TrimSuffix(strings.Repeat("0,", k), ",") + "]" }
	return fmt.Sprintf(`{"some":[%s,{"some":[%s,{"==":[1,2]}]}]}`, lit(n), lit(m))
}

// TestStaticCost checks the static cost: nested quantifiers over literal
// arrays multiply, a quantifier over data counts nothing of its predicate,
// and an evaluation that stops nowhere early on minimal data costs exactly
// the static cost.
func TestStaticCost(t *testing.T) {
	for _, nm := range [][2]int{{1, 1}, {3, 5}, {10, 100}, {100, 100}, {0, 7}} {
		n, m := nm[0], nm[1]
		p := mustCompile(t, nestedSome(n, m))
		want := int64(3 + n*(1+3+m*(1+3)))
		if got := p.StaticCost(); got != want {
			t.Errorf("static cost of some %d × some %d = %d; want %d", n, m, got, want)
		}
		b := NewBudget(context.Background(), -1)
		if _, err := p.Eval(map[string]any{}, b); err != nil {
			t.Fatal(err)
		}
		if b.Used() != want {
			t.Errorf("evaluation of some %d × some %d cost %d; want the static cost %d", n, m, b.Used(), want)
		}
	}
	for _, tt := range []struct {
		rule string
		want int64
	}{
		{`{"some":[{"var":"xs"},{"some":[[1,2,3],{"==":[1,2]}]}]}`, 3 + 2},
		{`{"in":[1,[1,2,3,4]]}`, 3 + 4},
		{`{"if":[true,{"in":[1,[1,2,3,4]]},{"==":[1,1]}]}`, 4 + 7},
		{`{"if":[{"==":[1,1]},1,{"==":[1,1]},2]}`, 5 + 3 + 3},
		{`{"all":[{"merge":[[1,2],[3],4]},{"==":[1,1]}]}`, 3 + 4 + 4 + 4*(1+3)},
		{`{"cat":["` + strings.Repeat("x", 640) + `",1]}`, 3 + 10},
		{`{"missing":["a.b.c","d"]}`, 3 + 1 + 3 + 1 + 1},
	} {
		if got := mustCompile(t, tt.rule).StaticCost(); got != tt.want {
			t.Errorf("static cost of %.60s = %d; want %d", tt.rule, got, tt.want)
		}
	}
	// Saturation.
	huge := nestedSome(5000, 5000)
	huge = strings.Replace(huge, `{"==":[1,2]}`, nestedSome(5000, 5000), 1)
	if got := mustCompile(t, huge).StaticCost(); got != costCap {
		t.Errorf("static cost of 5000^4 iterations = %d; want the cap %d", got, costCap)
	}
}

// TestHotspot checks which quantifier a static cost is blamed on: the
// innermost one over the limit, else the costliest.
func TestHotspot(t *testing.T) {
	p := mustCompile(t, `{"and":[true,`+nestedSome(100, 100)+`]}`)
	q, ok := p.Hotspot(10000)
	if !ok || q.Path != "and[1].some[1]" || q.Op != "some" || q.Iterations != 10000 || q.Depth != 1 {
		t.Errorf("Hotspot = %+v, %v; want the inner some at and[1].some[1], 10000 iterations", q, ok)
	}
	q, ok = p.Hotspot(1 << 40)
	if !ok || q.Path != "and[1]" || q.Iterations != 100 {
		t.Errorf("Hotspot under a high limit = %+v, %v; want the costliest, the outer some at and[1]", q, ok)
	}
	if _, ok := mustCompile(t, `{"some":[{"var":"x"},{"==":[1,1]}]}`).Hotspot(0); ok {
		t.Errorf("Hotspot of a quantifier over data: found one; want none")
	}
}

// TestBudgetRunsOut checks the budget's error: it wraps ErrBudgetExceeded,
// says how many operations were allowed and where they ran out, and stays:
// every further charge fails too.
func TestBudgetRunsOut(t *testing.T) {
	p := mustCompile(t, `{"and":[true,`+nestedSome(100, 100)+`]}`)
	b := NewBudget(context.Background(), 5000)
	_, err := p.Eval(map[string]any{}, b)
	var be *BudgetError
	if !errors.Is(err, ErrBudgetExceeded) || !errors.As(err, &be) {
		t.Fatalf("got %v; want a *BudgetError wrapping ErrBudgetExceeded", err)
	}
	// The predicate of the inner some (==, 3 operations) or the inner some
	// itself (1 per iteration) is where it runs out.
	if be.Limit != 5000 || be.Where != `"==" at and[1].some[1].some[1]` && be.Where != `"some" at and[1].some[1]` {
		t.Errorf("got %+v; want limit 5000 in the inner some", be)
	}
	if want := `operation budget exceeded: 5000 operations allowed, ran out at ` + be.Where; err.Error() != want {
		t.Errorf("error %q; want %q", err, want)
	}
	used := b.Used()
	if used > 5000 || used < 5000-3 {
		t.Errorf("used %d operations; want 5000 less the charge that did not fit (at most 3)", used)
	}
	if err := b.Charge(0, Label("again")); err != be {
		t.Errorf("charge after running out = %v; want the same error", err)
	}
	if _, err := mustCompile(t, `{"==":[1,1]}`).Eval(nil, b); err != be {
		t.Errorf("evaluation after running out = %v; want the same error", err)
	}
	if b.Used() != used {
		t.Errorf("used %d after running out; want it to stay %d", b.Used(), used)
	}
	// Exactly enough is enough.
	cost := mustCompile(t, nestedSome(10, 10)).StaticCost()
	for _, limit := range []int64{cost, cost - 1} {
		b := NewBudget(context.Background(), limit)
		_, err := mustCompile(t, nestedSome(10, 10)).Eval(nil, b)
		if (err == nil) != (limit == cost) {
			t.Errorf("cost %d on a budget of %d: %v", cost, limit, err)
		}
	}
	// A nil budget is unlimited.
	if _, err := mustCompile(t, nestedSome(300, 300)).Eval(nil, nil); err != nil {
		t.Errorf("nil budget: %v", err)
	}
}

// TestBudgetReset: a budget that ran out, reset, is a new budget of the
// new limit and context.
func TestBudgetReset(t *testing.T) {
	b := NewBudget(context.Background(), 10)
	if err := b.Charge(11, Label("x")); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("charge of 11 on 10 = %v; want ErrBudgetExceeded", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Reset(ctx, 20)
	if err := b.Charge(15, Label("x")); err != nil || b.Used() != 15 || b.Limit() != 20 || b.Err() != nil {
		t.Fatalf("after Reset: charge = %v, used %d, limit %d, err %v; want nil, 15, 20, nil", err, b.Used(), b.Limit(), b.Err())
	}
	if err := b.Charge(6, Label("x")); !errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("charge past the new limit = %v; want ErrBudgetExceeded", err)
	}
	b.Reset(ctx, -1)
	cancel()
	if err := b.Charge(1, Label("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("charge on a reset budget whose context is done = %v; want context.Canceled", err)
	}
}

// countingContext is a context that is done after its Err has been called
// a number of times; it counts the calls.
type countingContext struct {
	context.Context
	calls, doneAfter int
}

func (c *countingContext) Err() error {
	c.calls++
	if c.calls > c.doneAfter {
		return context.Canceled
	}
	return nil
}

// TestBudgetChecksTheContext checks that a done context stops an
// evaluation within CheckInterval operations, with an error wrapping the
// context's, also when the budget has no limit.
func TestBudgetChecksTheContext(t *testing.T) {
	p := mustCompile(t, nestedSome(200, 200))
	for _, doneAfter := range []int{0, 1, 5, 30} {
		ctx := &countingContext{Context: context.Background(), doneAfter: doneAfter}
		b := NewBudget(ctx, -1)
		_, err := p.Eval(nil, b)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrBudgetExceeded) {
			t.Fatalf("done after %d checks: got %v; want context.Canceled", doneAfter, err)
		}
		// The first check is at the first charge, then one per interval.
		if limit := int64(doneAfter*CheckInterval) + 4; b.Used() > limit {
			t.Errorf("done after %d checks: stopped after %d operations; want at most %d", doneAfter, b.Used(), limit)
		}
		if ctx.calls != doneAfter+1 {
			t.Errorf("done after %d checks: context checked %d times; want %d", doneAfter, ctx.calls, doneAfter+1)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Eval(nil, NewBudget(ctx, 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v; want context.Canceled", err)
	}
}

// TestSimpleComparisonDoesNotAllocate checks the commonest conditions
// evaluate without allocating, with a budget.
func TestSimpleComparisonDoesNotAllocate(t *testing.T) {
	data := jsonData(t, `{"subject":{"meta":{"department":"finance"}},"context":{"hour":14,"tags":["a","b"]}}`)
	for _, rule := range []string{
		`{"==":[{"var":"subject.meta.department"},"finance"]}`,
		`{"and":[{"==":[{"var":"subject.meta.department"},"finance"]},{"<":[{"var":"context.hour"},18]}]}`,
		`{"in":["b",{"var":"context.tags"}]}`,
		`{"some":[{"var":"context.tags"},{"==":[{"var":""},"b"]}]}`,
	} {
		p := mustCompile(t, rule)
		b := NewBudget(context.Background(), 1<<40)
		if n := testing.AllocsPerRun(100, func() {
			if v, err := p.Eval(data, b); v != true || err != nil {
				t.Fatalf("%s = %v, %v", rule, v, err)
			}
		}); n != 0 {
			t.Errorf("%s allocates %v times; want 0", rule, n)
		}
	}
}

// TestLibraryForm checks the rewrites the library needs (the differential
// test checks they give the library's results).
func TestLibraryForm(t *testing.T) {
	p := mustCompile(t, `{"some":[[{"var":"a"}],{"and":[{"var":"b"},{"var":["c",1]},{"==":[{"var":"d"},1]}]}]}`)
	want := jsonData(t, `{"some":[{"merge":[[{"var":"a"}]]},{"and":[{"var":".b"},
		{"if":[{"!==":[{"var":".c"},null]},{"var":".c"},1]},
		{"and":[{"!==":[{"var":".d"},null]},{"==":[{"var":".d"},1]}]}]}]}`)
	if diff := cmp.Diff(want, p.LibraryForm()); diff != "" {
		t.Errorf("library form (-want +got):\n%s", diff)
	}
}

// TestParseCostPricesTheSlowConversions: the strings strconv.ParseFloat
// may convert on its slow path (more than 19 significant digits, a decimal
// exponent near or past the ends of the normal range, forms it reads that
// JSON Logic numbers do not have) cost slowParse, the usual ones nothing;
// and an in over an array of such strings is charged for each.
func TestParseCostPricesTheSlowConversions(t *testing.T) {
	for _, s := range []string{
		"1e-320", "4.9e-324", "2.4703282292062327e-324", "2.2250738585072011e-308",
		"1.0000000000000001079495524197897094947345e-300", "123456789012345678901",
		"0." + strings.Repeat("0", 50) + "1e-270", "1" + strings.Repeat("0", 60) + "e-300",
		"1e400", "-1e-400", "1e0000001", "0x1p-1074", "1_000", "9.999999999999999999999e10",
	} {
		if got := parseCost(s); got != slowParse {
			t.Errorf("parseCost(%q) = %d; want %d", s, got, slowParse)
		}
	}
	for _, s := range []string{"0", "12.5", "-3e10", "1e300", "1e-280", "0.000123", "9007199254740993", "abc", "", "1234567890123456789", "true"} {
		if got := parseCost(s); got != 0 {
			t.Errorf("parseCost(%q) = %d; want 0", s, got)
		}
	}
	hard := make([]any, 100)
	for i := range hard {
		hard[i] = "1e-320"
	}
	b := NewBudget(context.Background(), -1)
	if _, err := mustCompile(t, `{"in":[7,{"var":"arr"}]}`).Eval(map[string]any{"arr": hard}, b); err != nil {
		t.Fatal(err)
	}
	if b.Used() < 100*slowParse {
		t.Errorf("in over 100 hard strings used %d operations; want at least %d", b.Used(), 100*slowParse)
	}
}

// BenchmarkSlowParse measures what slowParse stands for.
func BenchmarkSlowParse(b *testing.B) {
	for _, s := range []string{"12.5", "1e-320", "1.0000000000000001079495524197897094947345e-300"} {
		b.Run(s[:min(len(s), 12)], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				looseNumber(s)
			}
		})
	}
}

// TestLongVarPathIsCharged: a var path is charged one operation per 64
// bytes besides one per segment, statically and when evaluated: a long key
// is hashed at every map it is looked up in.
func TestLongVarPathIsCharged(t *testing.T) {
	key := strings.Repeat("k", 4096)
	p := mustCompile(t, `{"var":"context.`+key+`"}`)
	if got, want := p.StaticCost(), int64(1+2+(len("context.")+4096)>>6); got < want {
		t.Errorf("static cost of a 4 KB var path = %d; want at least %d", got, want)
	}
	b := NewBudget(context.Background(), -1)
	if _, err := p.Eval(map[string]any{"context": map[string]any{key: 1.0}}, b); err != nil {
		t.Fatal(err)
	}
	if b.Used() < 64 {
		t.Errorf("evaluating a 4 KB var path used %d operations; want at least 64", b.Used())
	}
}
