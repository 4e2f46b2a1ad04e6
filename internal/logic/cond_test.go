package logic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diegoholiveira/jsonlogic/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// eval is Eval without a budget: unlimited.
func (c *Cond) eval(data map[string]any) (ok bool, err error) {
	return c.Eval(data, nil)
}

// isError reports whether err is an *Error, the type of invalid
// conditions.
func isError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// mustCondition parses src and fails the test on error.
func mustCondition(t testing.TB, src string) *Cond {
	t.Helper()
	c, err := Parse(json.RawMessage(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", src, err)
	}
	if c == nil {
		t.Fatalf("Parse(%s) = nil", src)
	}
	return c
}

// condData builds JSON-shaped condition data from a Go map.
func condData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return Value(m).(map[string]any)
}

func TestParseConditionEmptyIsNoCondition(t *testing.T) {
	for _, raw := range []string{"", "null", "  null ", " "} {
		c, err := Parse(json.RawMessage(raw))
		if c != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, nil", raw, c, err)
		}
	}
}

func TestNilConditionIsTrue(t *testing.T) {
	var c *Cond
	got, err := c.eval(nil)
	if !got || err != nil {
		t.Errorf("nil condition: eval = %v, %v; want true, nil", got, err)
	}
}

func TestParseConditionAcceptsEveryOperator(t *testing.T) {
	valid := []string{
		`{"==":[1,1]}`, `{"===":[1,1]}`, `{"!=":[1,2]}`, `{"!==":[1,"1"]}`,
		`{"<":[1,2]}`, `{"<":[1,2,3]}`, `{"<=":[1,1]}`, `{"<=":[1,1,2]}`, `{">":[2,1]}`, `{">=":[2,2]}`,
		`{"and":[true]}`, `{"and":[true,false,true]}`, `{"or":[false,true]}`,
		`{"!":[false]}`, `{"!":false}`, `{"!!":[1]}`, `{"!!":{"var":"x"}}`,
		`{"if":[true]}`, `{"if":[true,1]}`, `{"if":[true,1,2]}`, `{"if":[false,1,true,2,3]}`, `{"?:":[true,1,2]}`,
		`{"in":["a",["a","b"]]}`, `{"in":["a","abc"]}`, `{"in":["a",{"var":"list"}]}`,
		`{"var":"a.b"}`, `{"var":""}`, `{"var":[]}`, `{"var":["a"]}`, `{"var":["a",5]}`, `{"var":["a",{"+":[1,2]}]}`,
		`{"missing":["a","b"]}`, `{"missing":"a"}`, `{"missing":{"merge":["a",["b"]]}}`, `{"missing":[{"if":[true,"a","b"]}]}`,
		`{"missing_some":[1,["a","b"]]}`, `{"missing_some":[1,{"merge":[["a"],["b"]]}]}`,
		`{"some":[[1,2],{"==":[{"var":""},1]}]}`, `{"all":[{"var":"xs"},{">":[{"var":""},0]}]}`, `{"none":[[],{"var":""}]}`,
		`{"merge":[]}`, `{"merge":[[1],2]}`, `{"cat":[]}`, `{"cat":["a",1]}`, `{"cat":"a"}`,
		`{"substr":["abc",1]}`, `{"substr":["abc",1,1]}`,
		`{"+":[1]}`, `{"+":[1,2,3]}`, `{"+":"3.5"}`, `{"-":[1]}`, `{"-":[3,1]}`, `{"*":[2,3,4]}`, `{"/":[4,2]}`, `{"%":[5,2]}`,
		`{"min":[1]}`, `{"min":[3,1,2]}`, `{"max":[1,2]}`,
		`{"==":[{"var":"a"},null]}`, `{"==":[1e308,-1e-400]}`, `{"in":["x",[["a","z"]]]}`,
	}
	for _, src := range valid {
		if _, err := Parse(json.RawMessage(src)); err != nil {
			t.Errorf("Parse(%s): %v; want it accepted", src, err)
		}
	}
}

func TestParseConditionRejects(t *testing.T) {
	deep := strings.Repeat(`{"!":[`, 40) + "true" + strings.Repeat("]}", 40)
	big := `{"and":[` + strings.Repeat(`true,`, 10000) + `true]}`
	tests := []struct {
		name, src, want string
	}{
		{"unknown operator nested", `{"and":[{"==":[1,1]},{"regex":["a","b"]}]}`, `unknown operator "regex" at and[1]`},
		{"unknown operator at top level", `{"regex":["a","b"]}`, `unknown operator "regex" at the top level`},
		{"unknown operator deep", `{"and":[{"or":[true,{"if":[true,{"map":[[1],1]}]}]}]}`, `unknown operator "map" at and[0].or[1].if[1]`},
		{"unknown operator in literal array", `{"in":["a",["b",{"filter":[[1],true]}]]}`, `unknown operator "filter" at in[1][1]`},
		{"unknown operator as sugar argument", `{"!":{"reduce":[[1],1,0]}}`, `unknown operator "reduce" at ![0]`},
		{"library extension is not allowed", `{"contains_all":[["a"],["a"]]}`, `unknown operator "contains_all"`},
		{"top level array", `[1,2]`, "not an array"},
		{"top level string", `"yes"`, "not a string"},
		{"top level number", `1`, "not a number"},
		{"top level boolean", `true`, "not a boolean"},
		{"empty object", `{}`, "has 0 keys"},
		{"two keys", `{"==":[1,1],"!=":[1,2]}`, `has 2 keys ["!=" "=="]`},
		{"two keys nested", `{"and":[{"a":1,"b":2}]}`, `object at and[0] has 2 keys`},
		{"== one argument", `{"==":[1]}`, `operator "==" at the top level takes exactly 2 arguments, got 1`},
		{"== three arguments", `{"and":[{"==":[1,1,1]}]}`, `operator "==" at and[0] takes exactly 2 arguments, got 3`},
		{"=== sugar", `{"===":1}`, `operator "===" at the top level takes exactly 2 arguments, got 1`},
		{"!= none", `{"!=":[]}`, `operator "!=" at the top level takes exactly 2 arguments, got 0`},
		{"< four arguments", `{"<":[1,2,3,4]}`, `operator "<" at the top level takes 2 or 3 arguments, got 4`},
		{"> three arguments", `{">":[3,2,1]}`, `operator ">" at the top level takes exactly 2 arguments, got 3`},
		{">= one argument", `{">=":[1]}`, `takes exactly 2 arguments, got 1`},
		{"! two arguments", `{"!":[true,false]}`, `operator "!" at the top level takes exactly 1 argument, got 2`},
		{"!! no argument", `{"!!":[]}`, `operator "!!" at the top level takes exactly 1 argument, got 0`},
		{"and empty", `{"and":[]}`, `operator "and" at the top level takes at least 1 argument, got 0`},
		{"or empty", `{"or":[]}`, `operator "or" at the top level takes at least 1 argument, got 0`},
		{"if empty", `{"if":[]}`, `operator "if" at the top level takes at least 1 argument, got 0`},
		{"?: two arguments", `{"?:":[true,1]}`, `operator "?:" at the top level takes exactly 3 arguments, got 2`},
		{"in one argument", `{"in":["a"]}`, `operator "in" at the top level takes exactly 2 arguments, got 1`},
		{"in number haystack", `{"in":["a",5]}`, `operator "in" at the top level: the second argument must be a string, an array or an operator, got a number`},
		{"var three arguments", `{"var":["a",1,2]}`, `operator "var" at the top level takes 0 to 2 arguments, got 3`},
		{"var number path", `{"==":[{"var":1},1]}`, `operator "var" at ==[0]: the path must be a string`},
		{"var number path in array", `{"var":[0,"x"]}`, `the path must be a string such as "subject.meta.risk", got a number`},
		{"var boolean path", `{"var":true}`, `the path must be a string`},
		{"var null path", `{"var":null}`, `the path must be a string`},
		{"var computed path", `{"var":{"cat":["subject.","id"]}}`, `the path must be a string`},
		{"var array path", `{"var":[["a"]]}`, `the path must be a string`},
		{"missing empty", `{"missing":[]}`, `operator "missing" at the top level takes at least 1 argument, got 0`},
		{"missing number path", `{"missing":["a",1]}`, `operator "missing" at the top level: argument 1 must be a string path, got a number`},
		{"missing_some one argument", `{"missing_some":[1]}`, `operator "missing_some" at the top level takes exactly 2 arguments, got 1`},
		{"missing_some string count", `{"missing_some":["1",["a"]]}`, `the first argument must be the number of paths required`},
		{"missing_some scalar paths", `{"missing_some":[1,"a"]}`, `the second argument must be an array of string paths`},
		{"missing_some number path", `{"missing_some":[1,["a",2]]}`, `path 1 must be a string`},
		{"some one argument", `{"some":[[1]]}`, `operator "some" at the top level takes exactly 2 arguments, got 1`},
		{"all three arguments", `{"all":[[1],true,true]}`, `operator "all" at the top level takes exactly 2 arguments, got 3`},
		{"none scalar subject", `{"none":["abc",{"var":""}]}`, `operator "none" at the top level: the first argument must be an array`},
		{"some literal predicate", `{"some":[[1],true]}`, `operator "some" at the top level: the second argument must be a predicate`},
		{"substr one argument", `{"substr":["abc"]}`, `operator "substr" at the top level takes 2 or 3 arguments, got 1`},
		{"substr four arguments", `{"substr":["abc",1,1,1]}`, `takes 2 or 3 arguments, got 4`},
		{"+ empty", `{"+":[]}`, `operator "+" at the top level takes at least 1 argument, got 0`},
		{"- three arguments", `{"-":[1,2,3]}`, `operator "-" at the top level takes 1 or 2 arguments, got 3`},
		{"* empty", `{"*":[]}`, `operator "*" at the top level takes at least 1 argument, got 0`},
		{"/ one argument", `{"/":[1]}`, `operator "/" at the top level takes exactly 2 arguments, got 1`},
		{"% three arguments", `{"%":[1,2,3]}`, `operator "%" at the top level takes exactly 2 arguments, got 3`},
		{"min empty", `{"min":[]}`, `operator "min" at the top level takes at least 1 argument, got 0`},
		{"max empty", `{"max":[]}`, `operator "max" at the top level takes at least 1 argument, got 0`},
		{"too deep", deep, "nests deeper than 64 levels"},
		{"too many nodes", big, "more than 10000 values"},
		{"number overflow", `{"<":[{"var":"a"},1e400]}`, "number 1e400 is out of range"},
		{"negative overflow", `{"<":[-1e999,1]}`, "number -1e999 is out of range"},
		{"duplicate key", `{"==":[1,1],"==":[1,2]}`, `duplicate key "=="`},
		{"malformed", `{"==":[1,1]`, "malformed JSON"},
		{"bad token", `{"==":[1,tru]}`, "malformed JSON"},
		{"trailing data", `{"==":[1,1]} {"==":[1,1]}`, "unexpected data after the value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(json.RawMessage(tt.src))
			if err == nil {
				t.Fatalf("Parse(%.80s) = %v, nil; want an error containing %q", tt.src, c, tt.want)
			}
			if !isError(err) {
				t.Errorf("error %q is not an *Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestConditionDepthAndSizeLimitsAreInclusive checks the limits' edges: 64
// levels and 10,000 nodes are accepted.
func TestConditionDepthAndSizeLimitsAreInclusive(t *testing.T) {
	// {"!":[ … true … ]} nests 2 levels per operator: 32 operators = 64.
	deep := strings.Repeat(`{"!":[`, 32) + "true" + strings.Repeat("]}", 32)
	if _, err := Parse(json.RawMessage(deep)); err != nil {
		t.Errorf("64 levels: %v; want accepted", err)
	}
	deeper := strings.Repeat(`{"!":[`, 32) + "[true]" + strings.Repeat("]}", 32)
	if _, err := Parse(json.RawMessage(deeper)); err == nil {
		t.Errorf("65 levels accepted; want an error")
	}
	// and-object + args array + 9,998 scalars = 10,000 nodes.
	big := `{"and":[` + strings.Repeat(`true,`, 9997) + `true]}`
	if _, err := Parse(json.RawMessage(big)); err != nil {
		t.Errorf("10000 nodes: %v; want accepted", err)
	}
	bigger := `{"and":[` + strings.Repeat(`true,`, 9998) + `true]}`
	if _, err := Parse(json.RawMessage(bigger)); err == nil {
		t.Errorf("10001 nodes accepted; want an error")
	}
}

// TestCompileConditionLimitsApplyToEmbeddedConditions checks that a
// condition decoded as part of a larger document is held to the same
// limits as a stand-alone one.
func TestCompileConditionLimitsApplyToEmbeddedConditions(t *testing.T) {
	deep := strings.Repeat(`{"!":[`, 33) + "true" + strings.Repeat("]}", 33)
	v, err := Decode([]byte(deep), 1000, 100000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseDecoded(v)
	if err == nil || !strings.Contains(err.Error(), "nests deeper than 64 levels (at !") {
		t.Errorf("ParseDecoded of 66 levels: %v; want a depth error with its path", err)
	}
}

func TestConditionEval(t *testing.T) {
	data := map[string]any{
		"subject": map[string]any{
			"id":   "subject_jane",
			"meta": map[string]any{"department": "finance", "level": 3, "nothing": nil, "zero": 0},
			"tags": map[string][]string{"team": {"red", "blue"}},
		},
		"resource": map[string]any{"ownerId": "subject_jane", "meta": map[string]any{"risk": 70}},
		"context": map[string]any{
			"hour":   14,
			"ips":    []string{"10.0.0.1"},
			"items":  []any{map[string]any{"n": 1}, map[string]any{"m": 2}, map[string]any{"n": 2}},
			"flags":  []any{map[string]any{"f": false}},
			"groups": []any{map[string]any{"members": []any{"bob"}}, map[string]any{"members": []any{"jane"}}},
			"tricky": []any{map[string]any{"id": map[string]any{"==": []any{1, 1}}}},
			"writes": []any{map[string]any{"action": "write"}},
			"nulls":  []any{map[string]any{"action": nil}},
		},
		"action": "read",
	}
	tests := []struct {
		name, src string
		want      bool
	}{
		// The missing-values rule.
		{"less than with missing var", `{"<":[{"var":"subject.meta.risk"},50]}`, false},
		{"greater than with missing var", `{">":[{"var":"subject.meta.risk"},-50]}`, false},
		{"less or equal with missing var", `{"<=":[{"var":"subject.meta.risk"},0]}`, false},
		{"greater or equal with missing var", `{">=":[0,{"var":"subject.meta.risk"}]}`, false},
		{"two missing vars are not equal", `{"==":[{"var":"a"},{"var":"b"}]}`, false},
		{"two missing vars are not strictly equal", `{"===":[{"var":"a"},{"var":"b"}]}`, false},
		{"missing var is not unequal", `{"!=":[{"var":"a"},"x"]}`, false},
		{"missing var is not strictly unequal", `{"!==":[{"var":"a"},"x"]}`, false},
		{"null var is not equal to empty string", `{"==":[{"var":"subject.meta.nothing"},""]}`, false},
		{"null var is not less than", `{"<":[{"var":"subject.meta.nothing"},1]}`, false},
		{"missing var equals literal null", `{"==":[{"var":"a"},null]}`, true},
		{"null var equals literal null", `{"==":[null,{"var":"subject.meta.nothing"}]}`, true},
		{"missing var strictly equals literal null", `{"===":[{"var":"a"},null]}`, true},
		{"present var is not null", `{"!=":[{"var":"action"},null]}`, true},
		{"missing var is null so != null is false", `{"!=":[{"var":"a"},null]}`, false},
		{"default is honoured", `{"==":[{"var":["a",5]},5]}`, true},
		{"default is honoured in order", `{"<":[{"var":["subject.meta.risk",0]},50]}`, true},
		{"default null equals literal", `{"==":[{"var":["a",null]},null]}`, true},
		{"default replaces null", `{"==":[{"var":["subject.meta.nothing","d"]},"d"]}`, true},
		{"between with missing middle", `{"<":[0,{"var":"a"},10]}`, false},
		{"between holds", `{"<":[0,{"var":"subject.meta.level"},10]}`, true},
		{"between inclusive", `{"<=":[3,{"var":"subject.meta.level"},3]}`, true},
		{"zero is a value", `{"==":[{"var":"subject.meta.zero"},0]}`, true},
		{"same missing var twice", `{"==":[{"var":"a"},{"var":"a"}]}`, false},
		{"not of missing is true", `{"!":{"var":"subject.meta.suspended"}}`, true},
		{"not of missing in array form", `{"!":[{"var":"subject.meta.suspended"}]}`, true},
		{"double not of missing is false", `{"!!":[{"var":"subject.meta.suspended"}]}`, false},
		{"if on missing takes else", `{"if":[{"var":"subject.meta.suspended"},false,true]}`, true},
		{"missing reports the missing path", `{"!":{"missing":["subject.id","subject.meta.department"]}}`, true},
		{"missing with merge", `{"!":{"missing":{"merge":["subject.id",["subject.meta.risk"]]}}}`, false},
		{"missing_some", `{"!":{"missing_some":[1,["subject.meta.risk","subject.meta.level"]]}}`, true},
		// Ordinary JSON Logic.
		{"equality", `{"==":[{"var":"subject.meta.department"},"finance"]}`, true},
		{"loose equality of number and string", `{"==":[{"var":"subject.meta.level"},"3"]}`, true},
		{"strict equality of number and string", `{"===":[{"var":"subject.meta.level"},"3"]}`, false},
		{"owner", `{"==":[{"var":"resource.ownerId"},{"var":"subject.id"}]}`, true},
		{"and", `{"and":[{"==":[{"var":"subject.meta.department"},"finance"]},{"<":[{"var":"context.hour"},18]}]}`, true},
		{"and fails", `{"and":[{"==":[{"var":"subject.meta.department"},"finance"]},{"<":[{"var":"context.hour"},12]}]}`, false},
		{"or", `{"or":[{"==":[{"var":"action"},"write"]},{"==":[{"var":"action"},"read"]}]}`, true},
		{"in array", `{"in":[{"var":"action"},["read","list"]]}`, true},
		{"in string", `{"in":["nan",{"var":"subject.meta.department"}]}`, true},
		{"in tags", `{"in":["red",{"var":"subject.tags.team"}]}`, true},
		{"some over tags", `{"some":[{"var":"subject.tags.team"},{"==":[{"var":""},"blue"]}]}`, true},
		{"some over missing", `{"some":[{"var":"subject.tags.none"},{"==":[{"var":""},"blue"]}]}`, false},
		{"all", `{"all":[[1,2,3],{">":[{"var":""},0]}]}`, true},
		{"all of empty is false", `{"all":[[],{">":[{"var":""},0]}]}`, false},
		{"none", `{"none":[{"var":"subject.tags.team"},{"==":[{"var":""},"green"]}]}`, true},
		{"some with bare var predicate", `{"some":[[0,"",1],{"var":""}]}`, true},
		{"all with bare var predicate", `{"all":[[1,"x",true],{"var":""}]}`, true},
		{"all with bare var predicate fails", `{"all":[[1,0],{"var":""}]}`, false},
		// Inside a predicate a var reads the element first, then the
		// enclosing data.
		{"some predicate reads the enclosing data", `{"some":[[1],{"==":[{"var":"action"},"read"]}]}`, true},
		{"none predicate reads the enclosing data", `{"none":[[1],{"==":[{"var":"action"},"read"]}]}`, false},
		{"tag overlap", `{"some":[{"var":"subject.tags.team"},{"in":[{"var":""},{"var":"context.teams"}]}]}`, false},
		{"tag overlap with the subject's own tags", `{"some":[["green","blue"],{"in":[{"var":""},{"var":"subject.tags.team"}]}]}`, true},
		{"tag overlap without a shared tag", `{"some":[["green","pink"],{"in":[{"var":""},{"var":"subject.tags.team"}]}]}`, false},
		{"the element shadows the data", `{"some":[{"var":"context.writes"},{"==":[{"var":"action"},"read"]}]}`, false},
		{"a null field of the element does not shadow", `{"some":[{"var":"context.nulls"},{"==":[{"var":"action"},"read"]}]}`, true},
		{"the element and the data in one comparison", `{"some":[{"var":"context.items"},{"==":[{"var":"n"},{"var":"subject.meta.level"}]}]}`, false},
		{"the empty path is the element only", `{"some":[[null],{"==":[{"var":""},null]}]}`, true},
		{"nested predicates read the enclosing element before the data", `{"some":[{"var":"context.writes"},{"some":[[1],{"==":[{"var":"action"},"write"]}]}]}`, true},
		{"missing reads the enclosing data too", `{"some":[[1],{"!":{"missing":["action","subject.id"]}}]}`, true},
		{"missing of a path nothing has", `{"some":[[1],{"missing":["nope"]}]}`, true},
		{"data read from the enclosing data is not run as logic", `{"some":[[1],{"==":[{"if":[true,{"var":"context.tricky.0.id"},false]},true]}]}`, false},
		{"data read from the enclosing data is a value", `{"some":[[1],{"!!":{"var":"context.tricky.0.id"}}]}`, true},
		{"some over objects", `{"some":[{"var":"context.items"},{"==":[{"var":"n"},2]}]}`, true},
		{"all over objects with missing field", `{"all":[{"var":"context.items"},{">=":[{"var":"n"},1]}]}`, false},
		{"all with var default", `{"all":[{"var":"context.items"},{">=":[{"var":["n",5]},1]}]}`, true},
		{"none with var default reads the element", `{"none":[{"var":"context.items"},{"==":[{"var":["n",0]},1]}]}`, false},
		{"some with var default reads the element", `{"some":[{"var":"context.items"},{"==":[{"var":["n",0]},0]}]}`, true},
		{"some with var default keeps false values", `{"some":[{"var":"context.flags"},{"==":[{"var":["f",true]},false]}]}`, true},
		{"nested quantifiers", `{"some":[{"var":"context.groups"},{"some":[{"var":"members"},{"==":[{"var":""},"jane"]}]}]}`, true},
		{"nested quantifiers miss", `{"some":[{"var":"context.groups"},{"some":[{"var":"members"},{"==":[{"var":""},"zoe"]}]}]}`, false},
		{"literal array with operators is evaluated", `{"some":[[{"var":"action"}],{"==":[{"var":""},"read"]}]}`, true},
		{"data that looks like logic is not run in predicates", `{"some":[{"var":"context.tricky"},{"==":[{"var":"id"},true]}]}`, false},
		{"arithmetic", `{"==":[{"+":[{"var":"subject.meta.level"},1]},4]}`, true},
		{"modulo", `{"==":[{"%":[{"var":"context.hour"},5]},4]}`, true},
		{"min max", `{"and":[{"==":[{"min":[3,1,2]},1]},{"==":[{"max":[3,1,2]},3]}]}`, true},
		{"cat substr", `{"==":[{"substr":[{"cat":["fin","ance"]},0,3]},"fin"]}`, true},
		{"merge", `{"in":["b",{"merge":[["a"],"b"]}]}`, true},
		{"ternary", `{"?:":[{"var":"subject.meta.level"},true,false]}`, true},
		{"missing data array index", `{"==":[{"var":"context.ips.0"},"10.0.0.1"]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCondition(t, tt.src)
			got, err := c.eval(condData(data))
			if err != nil {
				t.Fatalf("eval %s: %v", tt.src, err)
			}
			if got != tt.want {
				t.Errorf("eval %s = %v; want %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestConditionEvalOnNilData(t *testing.T) {
	c := mustCondition(t, `{"!":{"var":"subject.meta.suspended"}}`)
	got, err := c.eval(nil)
	if !got || err != nil {
		t.Errorf("eval on nil data = %v, %v; want true, nil", got, err)
	}
	c = mustCondition(t, `{"<":[{"var":"subject.meta.risk"},50]}`)
	got, err = c.eval(nil)
	if got || err != nil {
		t.Errorf("eval on nil data = %v, %v; want false, nil", got, err)
	}
}

func TestConditionNonBooleanResultIsFalseWithError(t *testing.T) {
	for _, src := range []string{
		`{"+":[1]}`,
		`{"cat":["yes"]}`,
		`{"merge":[[true]]}`,
		`{"if":[true,null]}`,
		`{"var":"action"}`,
		`{"var":"subject"}`,
		`{"and":[true,"yes"]}`,
		`{"or":[false,1]}`,
		`{"missing":["nope"]}`,
	} {
		c := mustCondition(t, src)
		got, err := c.eval(condData(map[string]any{"action": "read", "subject": map[string]any{"id": "x"}}))
		if got {
			t.Errorf("eval %s = true; want false", src)
		}
		if err == nil || !strings.Contains(err.Error(), "is not a boolean") {
			t.Errorf("eval %s: error %v; want a not-a-boolean error", src, err)
		}
	}
}

func TestConditionEvaluationErrorFailsClosed(t *testing.T) {
	for _, src := range []string{
		// Arithmetic on a missing value makes the library fail.
		`{"<":[{"+":[{"var":"missing"},1]},5]}`,
		`{">":[{"-":[{"var":"missing"}]},-5]}`,
		// A string needle in a string haystack needs a string needle.
		`{"in":[{"var":"n"},"abc"]}`,
		// some over a value that is not an array.
		`{"some":[{"var":"action"},{"==":[{"var":""},"r"]}]}`,
	} {
		c := mustCondition(t, src)
		got, err := c.eval(condData(map[string]any{"action": "read", "n": 1}))
		if got || err == nil {
			t.Errorf("eval %s = %v, %v; want false and an error", src, got, err)
		}
	}
}

func TestConditionPanicFailsClosed(t *testing.T) {
	// The evaluator returns errors rather than panicking, but a panic (here
	// a condition that was never compiled, which only a bug could build)
	// must still fail closed.
	c := &Cond{rule: map[string]any{"authz_test_panic": []any{}}, src: "test"}
	got, err := c.eval(nil)
	if got || err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("eval of a panicking rule = %v, %v; want false and a panic error", got, err)
	}
	c = &Cond{rule: map[string]any{"not_an_operator": []any{}}, src: "test"}
	got, err = c.eval(nil)
	if got || err == nil {
		t.Errorf("eval of an unknown operator = %v, %v; want false and an error", got, err)
	}
}

func TestConditionEvalDoesNotMutateRuleOrData(t *testing.T) {
	src := `{"and":[
		{"some":[{"var":"subject.tags.team"},{"==":[{"var":""},"red"]}]},
		{"all":[{"var":"context.items"},{">":[{"var":"n"},0]}]},
		{"none":[{"var":"context.items"},{"==":[{"var":"n"},9]}]},
		{"in":["x",{"merge":[{"var":"context.list"},["x"]]}]},
		{"!":{"missing":["subject.id"]}},
		{"if":[{"var":"subject.meta.flag"},true,{"==":[{"var":["nothing","d"]},"d"]}]},
		{"==":[{"cat":[{"var":"subject.id"},"!"]},"jane!"]},
		{"<":[{"var":"subject.meta.level"},10]}
	]}`
	c := mustCondition(t, src)
	data := condData(map[string]any{
		"subject": map[string]any{"id": "jane", "meta": map[string]any{"level": 3}, "tags": map[string]any{"team": []any{"red"}}},
		"context": map[string]any{"items": []any{map[string]any{"n": 1}, map[string]any{"n": 2}}, "list": []any{"a"}},
	})
	wantRule := Value(c.rule)
	wantData := Value(data)
	for i := range 3 {
		got, err := c.eval(data)
		if !got || err != nil {
			t.Fatalf("eval %d = %v, %v; want true, nil", i, got, err)
		}
	}
	if diff := cmp.Diff(wantRule, c.rule); diff != "" {
		t.Errorf("rule changed by eval (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantData, any(data)); diff != "" {
		t.Errorf("data changed by eval (-want +got):\n%s", diff)
	}
}

func TestConditionEvalIsSafeForConcurrentUse(t *testing.T) {
	c := mustCondition(t, `{"and":[{"some":[{"var":"subject.tags.team"},{"==":[{"var":""},"red"]}]},{"<":[{"var":"context.hour"},18]}]}`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			data := condData(map[string]any{"subject": map[string]any{"tags": map[string]any{"team": []any{"red"}}}, "context": map[string]any{"hour": g + 10}})
			for range 200 {
				got, err := c.eval(data)
				if want := g+10 < 18; got != want || err != nil {
					t.Errorf("goroutine %d: eval = %v, %v; want %v", g, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestConditionRewriteOfMissingValues(t *testing.T) {
	c := mustCondition(t, `{"<":[{"var":"a"},{"var":["b",0]},{"var":"a"}]}`)
	want := map[string]any{"and": []any{
		map[string]any{"!==": []any{map[string]any{"var": "a"}, nil}},
		map[string]any{"<": []any{map[string]any{"var": "a"}, map[string]any{"var": []any{"b", 0.0}}, map[string]any{"var": "a"}}},
	}}
	if diff := cmp.Diff(any(want), c.rule); diff != "" {
		t.Errorf("rewritten rule (-want +got):\n%s", diff)
	}
	c = mustCondition(t, `{"==":[{"var":"a"},null]}`)
	if diff := cmp.Diff(any(map[string]any{"==": []any{map[string]any{"var": "a"}, nil}}), c.rule); diff != "" {
		t.Errorf("comparison with literal null must not be rewritten (-want +got):\n%s", diff)
	}
}

func TestConditionRewriteInsidePredicates(t *testing.T) {
	c := mustCondition(t, `{"some":[{"var":"xs"},{"and":[{"var":"a"},{"var":["b",1]},{"var":""},{"var":".c"}]}]}`)
	v := func(p string) map[string]any { return map[string]any{"var": p} }
	want := map[string]any{"some": []any{
		v("xs"),
		map[string]any{"and": []any{
			v(".a"),
			map[string]any{"if": []any{map[string]any{"!==": []any{v(".b"), nil}}, v(".b"), 1.0}},
			v(""),
			v(".c"),
		}},
	}}
	if diff := cmp.Diff(any(want), c.rule); diff != "" {
		t.Errorf("rewritten rule (-want +got):\n%s", diff)
	}
}

func TestConditionString(t *testing.T) {
	c := mustCondition(t, ` { "<" : [ {"var":"a"}, 1.5, "&" ] } `)
	if got, want := c.String(), `{"<":[{"var":"a"},1.5,"&"]}`; got != want {
		t.Errorf("String() = %s; want %s", got, want)
	}
}

func TestConditionErrorsQuoteALongConditionShort(t *testing.T) {
	c := mustCondition(t, `{"cat":[`+strings.Repeat(`"é",`, 300)+`"x"]}`)
	_, err := c.eval(nil)
	if err == nil {
		t.Fatal("eval of a string result: no error; want one")
	}
	if len(err.Error()) > 300 || !strings.Contains(err.Error(), "…") {
		t.Errorf("error %q: want the condition cut short", err)
	}
}

type jsonValueMarshaler struct{ A int }

func (jsonValueMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{"custom":true}`), nil }

type jsonValueDept string

// jsonValueTime is a type like the root package's Time: a time.Time whose
// MarshalJSON gives RFC 3339 in UTC with second precision.
type jsonValueTime struct{ time.Time }

func (t jsonValueTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(time.RFC3339) + `"`), nil
}

func TestJSONValue(t *testing.T) {
	when := time.Date(2024, 1, 15, 10, 30, 0, 500, time.FixedZone("X", 3600))
	n := 7
	var nilPtr *int
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "s", "s"},
		{"bool", true, true},
		{"int", 3, 3.0},
		{"int8", int8(-3), -3.0},
		{"int64", int64(1 << 40), float64(1 << 40)},
		{"uint", uint(3), 3.0},
		{"uint16", uint16(3), 3.0},
		{"float32", float32(1.5), 1.5},
		{"json.Number", json.Number("12.5"), 12.5},
		{"bad json.Number", json.Number("x"), "x"},
		{"time", when, "2024-01-15T09:30:00Z"},
		{"Time", jsonValueTime{when}, "2024-01-15T09:30:00Z"},
		{"named string", jsonValueDept("finance"), "finance"},
		{"duration is nanoseconds", time.Second, 1e9},
		{"pointer", &n, 7.0},
		{"nil pointer", nilPtr, nil},
		{"[]string", []string{"a", "b"}, []any{"a", "b"}},
		{"[]int", []int{1, 2}, []any{1.0, 2.0}},
		{"array", [2]bool{true, false}, []any{true, false}},
		{"nil slice", []int(nil), nil},
		{"[]byte", []byte("hi"), "aGk="},
		{"raw message", json.RawMessage(`{"a":[1,"x"]}`), map[string]any{"a": []any{1.0, "x"}}},
		{"map[string]string", map[string]string{"a": "b"}, map[string]any{"a": "b"}},
		{"map[string][]string", map[string][]string{"team": {"red"}}, map[string]any{"team": []any{"red"}}},
		{"map[string]int", map[string]int{"a": 1}, map[string]any{"a": 1.0}},
		{"map[int]string", map[int]string{1: "a"}, map[string]any{"1": "a"}},
		{"nested", map[string]any{"a": []any{1, map[string]any{"b": uint8(2)}}}, map[string]any{"a": []any{1.0, map[string]any{"b": 2.0}}}},
		{"struct uses json tags", struct {
			Name string `json:"name"`
			Age  int    `json:"age,omitempty"`
		}{Name: "x"}, map[string]any{"name": "x"}},
		{"json.Marshaler", jsonValueMarshaler{1}, map[string]any{"custom": true}},
		{"channel", make(chan int), nil},
		{"complex", complex(1, 2), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Value(tt.in)); diff != "" {
				t.Errorf("Value(%#v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestJSONValueCopies(t *testing.T) {
	in := map[string]any{"list": []any{"a"}, "m": map[string]any{"k": "v"}}
	out := Value(in).(map[string]any)
	in["list"].([]any)[0] = "changed"
	in["m"].(map[string]any)["k"] = "changed"
	in["new"] = 1
	want := map[string]any{"list": []any{"a"}, "m": map[string]any{"k": "v"}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("Value result changed with its input (-want +got):\n%s", diff)
	}
}

func TestJSONValueStopsOnCycles(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	_ = Value(m) // must return, not overflow the stack
}

func TestJSONValueKeepsSpecialFloats(t *testing.T) {
	if got := Value(math.Inf(1)); got != math.Inf(1) {
		t.Errorf("Value(+Inf) = %v; want +Inf", got)
	}
}

// conditionFuzzData are the data maps every parsed fuzz input is evaluated on.
var conditionFuzzData = []map[string]any{
	nil,
	{},
	condData(map[string]any{
		"subject":  map[string]any{"id": "s", "meta": map[string]any{"risk": 10, "department": "finance", "nothing": nil}, "tags": map[string]any{"team": []any{"red"}}},
		"resource": map[string]any{"id": "r", "meta": map[string]any{"list": []any{1, "a", nil, []any{}, map[string]any{"x": 1}}}},
		"context":  map[string]any{"hour": 14},
		"action":   "read",
	}),
	// Data whose values look like operators must not break anything.
	condData(map[string]any{"a": map[string]any{"==": []any{1, 1}}, "b": []any{map[string]any{"var": "a"}}, "": "empty"}),
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`{"==":[{"var":"subject.meta.department"},"finance"]}`,
		`{"and":[{"==":[{"var":"subject.meta.department"},"finance"]},{"<":[{"var":"context.hour"},18]}]}`,
		`{"<":[{"var":"subject.meta.risk"},50]}`,
		`{"<":[0,{"var":"subject.meta.risk"},50]}`,
		`{"==":[{"var":"a"},null]}`,
		`{"var":["a",5]}`,
		`{"!":{"var":"subject.meta.suspended"}}`,
		`{"some":[{"var":"subject.tags.team"},{"==":[{"var":""},"red"]}]}`,
		`{"all":[{"var":"resource.meta.list"},{"var":""}]}`,
		`{"none":[{"var":"b"},{"var":"a"}]}`,
		`{"if":[{"var":"a"},{"var":"a"},{"var":"b"}]}`,
		`{"in":[{"var":"x"},{"var":"resource.meta.list"}]}`,
		`{"in":[{"var":"x"},[[1,5],"a"]]}`,
		`{"missing_some":[{"var":"subject.meta.risk"},{"var":"resource.meta.list"}]}`,
		`{"!":{"missing":{"merge":["a",{"var":"b"}]}}}`,
		`{"substr":[{"var":"action"},-10,-20]}`,
		`{"%":[1,0]}`, `{"/":[{"var":"x"},0]}`, `{"max":[{"var":"resource.meta.list"}]}`,
		`{"cat":[{"var":"subject"},{"var":"resource.meta.list"}]}`,
		`{"-":[{"var":"resource.meta.list"}]}`,
		`{"regex":["a"]}`, `[]`, `{}`, `null`, `{"==":[1,1],"!=":[1]}`, `{"var":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Parse(raw)
		if err != nil {
			if !isError(err) {
				t.Fatalf("Parse error %q is not an *Error", err)
			}
			return
		}
		if c == nil {
			return // no condition
		}
		// The stored source parses back to the same rule.
		again, err := Parse(json.RawMessage(c.String()))
		if err != nil {
			t.Fatalf("String() %s does not parse back: %v", c, err)
		}
		if diff := cmp.Diff(c.rule, again.rule); diff != "" {
			t.Fatalf("String() %s parses back to another rule (-first +again):\n%s", c, diff)
		}
		slow := &Cond{rule: c.rule, src: c.src, prog: c.prog, cost: c.cost}
		for _, d := range conditionFuzzData {
			ok, err := c.eval(d)
			if ok && err != nil {
				t.Fatalf("eval = true with error %v", err)
			}
			// A budget changes nothing but the cost: within the limit the
			// same answer, else ErrBudgetExceeded.
			for _, limit := range []int64{MaxCost, c.cost / 2} {
				b := NewBudget(context.Background(), limit)
				okB, errB := c.Eval(d, b)
				if errors.Is(errB, ErrBudgetExceeded) {
					if okB || b.Used() > limit {
						t.Fatalf("Eval = %v, %v after %d of %d operations", okB, errB, b.Used(), limit)
					}
					continue
				}
				if okB != ok || (errB == nil) != (err == nil) {
					t.Fatalf("Eval with %d operations = %v, %v; eval = %v, %v", limit, okB, errB, ok, err)
				}
			}
			// The fast path, when it decides, is the evaluator's answer.
			if want, _ := slow.eval(d); c.fast != nil && ok != want {
				t.Fatalf("eval = %v with the fast path, %v without, on %v", ok, want, d)
			}
			// The evaluator gives the library's result, except where the
			// library runs an object of the data as logic: data holding an
			// object whose one key is an operator is skipped, and the
			// library failing on an unknown operator (which can only come
			// from the data) is no disagreement.
			if holdsLibraryOperator(d) {
				continue
			}
			got, gotErr := c.prog.Eval(d, nil)
			want, wantErr := libraryApply(c.rule, d)
			var invalid jsonlogic.ErrInvalidOperator
			if errors.As(wantErr, &invalid) {
				continue
			}
			if (gotErr != nil) != (wantErr != nil) || gotErr == nil && !cmp.Equal(got, want, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()) {
				t.Fatalf("on %v: got %v, %v; the library gives %v, %v", d, got, gotErr, want, wantErr)
			}
		}
	})
}

// libraryApply evaluates a rule with github.com/diegoholiveira/jsonlogic/v3,
// which evaluated conditions before internal/logic, turning panics into
// errors.
func libraryApply(rule, data any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("library panicked: %v", r)
		}
	}()
	return jsonlogic.ApplyInterface(rule, data)
}

// libraryOperators are the operators github.com/diegoholiveira/jsonlogic/v3
// v3.9.1 knows.
var libraryOperators = strings.Fields(`and or filter map reduce all none some in missing missing_some var set cat substr
	merge if ?: max min + - * / % abs ! !! === !== < <= > >= == != contains_all contains_any contains_none`)

// holdsLibraryOperator reports whether v holds an object with one key that
// is an operator of the library.
func holdsLibraryOperator(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if len(x) == 1 && slices.Contains(libraryOperators, k) || holdsLibraryOperator(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holdsLibraryOperator(e) {
				return true
			}
		}
	}
	return false
}

func BenchmarkConditionEval(b *testing.B) {
	c := mustCondition(b, `{"and":[{"==":[{"var":"subject.meta.department"},"finance"]},{"<":[{"var":"context.hour"},18]}]}`)
	data := condData(map[string]any{
		"subject": map[string]any{"id": "subject_jane", "type": "user", "meta": map[string]any{"department": "finance"}},
		"context": map[string]any{"hour": 14},
		"action":  "read",
	})
	b.ReportAllocs()
	for b.Loop() {
		ok, err := c.eval(data)
		if !ok || err != nil {
			b.Fatal(fmt.Sprint(ok, err))
		}
	}
}

func TestStoredConditionThatNoLongerParsesNeverHolds(t *testing.T) {
	c := Stored(json.RawMessage(`{"regex":["a","b"]}`))
	ok, err := c.eval(map[string]any{})
	if ok || err == nil || !strings.Contains(err.Error(), "regex") {
		t.Errorf("got %v, %v; want false and an error naming the operator", ok, err)
	}
	if c := Stored(nil); c != nil {
		t.Errorf("got %v for no condition; want nil", c)
	}
}

// nestedQuantifiers writes quantifiers nested over literal arrays of the
// given lengths, innermost last, around a predicate that never holds, and
// returns the condition with its static cost computed by hand: the
// predicate {"==":[{"var":""},-1]} costs 11 (the guard and 3, !== 3 and its
// var 1, == 3 and its var 1), a quantifier 3 plus, per element, 1 and its
// predicate.
func nestedQuantifiers(ops []string, lengths []int) (string, int64) {
	src, cost := `{"==":[{"var":""},-1]}`, int64(11)
	for i := len(lengths) - 1; i >= 0; i-- {
		list := "[" + strings.TrimSuffix(strings.Repeat("0,", lengths[i]), ",") + "]"
		src = fmt.Sprintf(`{%q:[%s,%s]}`, ops[i], list, src)
		cost = 3 + int64(lengths[i])*(1+cost)
	}
	return src, cost
}

// TestConditionStaticCostLimit checks the write-time limit on the class of
// nested quantifiers over literal arrays (the 177 to 243-byte
// conditions that ran for seconds): a condition is accepted exactly when
// its cost, computed by hand, is at most MaxCost, and a refusal
// names the quantifier to blame, with its place and how often it runs.
func TestConditionStaticCostLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 11))
	quantifiers := []string{"some", "all", "none"}
	accepted, refused := 0, 0
	for range 300 {
		depth := 1 + rng.IntN(4)
		ops, lengths := make([]string, depth), make([]int, depth)
		for i := range depth {
			ops[i], lengths[i] = quantifiers[rng.IntN(3)], 1+rng.IntN([]int{10, 40, 300, 2000}[rng.IntN(4)])
		}
		src, cost := nestedQuantifiers(ops, lengths)
		c, err := Parse(json.RawMessage(src))
		if cost <= MaxCost {
			accepted++
			if err != nil {
				t.Fatalf("%v (cost %d): %v; want it accepted", lengths, cost, err)
			}
			if c.prog.StaticCost() != cost {
				t.Errorf("%v: static cost %d; want %d", lengths, c.prog.StaticCost(), cost)
			}
			continue
		}
		refused++
		if !isError(err) {
			t.Fatalf("%v (cost %d): %v; want an *Error", lengths, cost, err)
		}
		if want := fmt.Sprintf("condition costs at least %d operations whatever the data, more than the %d allowed", cost, MaxCost); !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %q; want it to contain %q", lengths, err, want)
		}
		// The innermost quantifier whose cost in all is over the limit.
		iterations, total, blamed := int64(1), int64(0), -1
		for i := range depth {
			iterations *= int64(lengths[i])
			_, inner := nestedQuantifiers(ops[i:], lengths[i:])
			if total = iterations / int64(lengths[i]) * inner; total > MaxCost {
				blamed = i
			}
		}
		path := ""
		for i := range blamed {
			path = opArgPath(path, ops[i], 1)
		}
		iterations = 1
		for i := range blamed + 1 {
			iterations *= int64(lengths[i])
		}
		if want := fmt.Sprintf("operator %q at %s runs its predicate %d times in all", ops[blamed], where(path), iterations); !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %q; want it to contain %q", lengths, err, want)
		}
	}
	if accepted < 50 || refused < 50 {
		t.Errorf("%d accepted, %d refused; want both common", accepted, refused)
	}
}

// TestConditionAtTheStaticLimit checks the limit's edge: a condition that
// costs exactly MaxCost is accepted and, evaluated with a budget of
// MaxCost operations, spends all of them and holds; one more
// operation is refused; and a stored condition over the limit never holds.
func TestConditionAtTheStaticLimit(t *testing.T) {
	// or over k+1 arguments costs k+2; some over n literals with a
	// predicate of 3 costs 3 + 4n.
	at := func(k int) string {
		return `{"or":[` + strings.Repeat("false,", k) + `{"none":[[` + strings.TrimSuffix(strings.Repeat("0,", 2498), ",") + `],{"==":[1,2]}]}]}`
	}
	c, err := Parse(json.RawMessage(at(3)))
	if err != nil {
		t.Fatalf("a condition at the limit: %v; want it accepted", err)
	}
	b := NewBudget(context.Background(), MaxCost)
	if ok, err := c.Eval(condData(map[string]any{}), b); !ok || err != nil || b.Used() != MaxCost {
		t.Errorf("evaluation at the limit = %v, %v after %d operations; want true after %d", ok, err, b.Used(), MaxCost)
	}
	if _, err := Parse(json.RawMessage(at(4))); !isError(err) || !strings.Contains(err.Error(), "at least 10001 operations") {
		t.Errorf("one operation over the limit: %v; want an *Error with its cost", err)
	}
	stored := Stored(json.RawMessage(at(4)))
	if ok, err := stored.eval(nil); ok || err == nil {
		t.Errorf("stored condition over the limit = %v, %v; want false and an error", ok, err)
	}
}

// TestConditionDataIsNeverRunAsLogic is the case: an object in the
// caller's context returned by an if branch used to run as JSON Logic, so
// {"==":[1,1]} in the context counted as true. It is a value: not a
// boolean, so the condition does not hold.
func TestConditionDataIsNeverRunAsLogic(t *testing.T) {
	data := condData(map[string]any{"context": map[string]any{
		"custom": map[string]any{"==": []any{1, 1}},
		"paths":  []any{map[string]any{"cat": []any{"context.", "custom"}}},
	}})
	for _, src := range []string{
		`{"if":[true,{"var":"context.custom"},true]}`,
		`{"if":[false,false,{"var":"context.custom"}]}`,
		`{"?:":[true,{"var":"context.custom"},true]}`,
		`{"!":{"missing":{"var":"context.paths"}}}`,
	} {
		c := mustCondition(t, src)
		if ok, err := c.eval(data); ok || err == nil {
			t.Errorf("%s = %v, %v; want false and an error", src, ok, err)
		}
	}
	// Compared as a value, the object is no boolean either.
	c := mustCondition(t, `{"==":[{"if":[true,{"var":"context.custom"},1]},true]}`)
	if ok, err := c.eval(data); ok || err != nil {
		t.Errorf("comparing the object with true = %v, %v; want false", ok, err)
	}
}

// TestConditionEvalBudget checks Eval: one budget is shared by the
// conditions of an evaluation, running out is an error wrapping
// ErrBudgetExceeded that names the condition, a done context stops
// evaluation with its error, and the fast path charges its static cost.
func TestConditionEvalBudget(t *testing.T) {
	heavy := mustCondition(t, `{"some":[[`+strings.TrimSuffix(strings.Repeat("0,", 400), ",")+`],{"==":[{"var":""},1]}]}`)
	light := mustCondition(t, `{"==":[{"var":"action"},"read"]}`)
	data := condData(map[string]any{"action": "read"})
	b := NewBudget(context.Background(), 2*heavy.cost+light.cost)
	for i := range 2 {
		if ok, err := heavy.Eval(data, b); ok || err != nil {
			t.Fatalf("heavy condition %d = %v, %v; want false", i, ok, err)
		}
	}
	if ok, err := light.Eval(data, b); !ok || err != nil || b.Used() != b.Limit() {
		t.Fatalf("light condition = %v, %v after %d operations; want true after all %d", ok, err, b.Used(), b.Limit())
	}
	ok, err := light.Eval(data, b)
	if ok || !errors.Is(err, ErrBudgetExceeded) || !strings.Contains(err.Error(), light.short()) {
		t.Errorf("condition on a spent budget = %v, %v; want ErrBudgetExceeded naming it", ok, err)
	}
	b = NewBudget(context.Background(), heavy.cost-1)
	if ok, err := heavy.Eval(data, b); ok || !errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("heavy condition one operation short = %v, %v; want ErrBudgetExceeded", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []*Cond{heavy, light} {
		if ok, err := c.Eval(data, NewBudget(ctx, -1)); ok || !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, %v; want context.Canceled", c, ok, err)
		}
	}
	if light.fast == nil {
		t.Fatal("no fast form")
	}
	b = NewBudget(context.Background(), 1000)
	if ok, err := light.Eval(data, b); !ok || err != nil || b.Used() != light.cost {
		t.Errorf("fast path = %v, %v after %d operations; want true after %d", ok, err, b.Used(), light.cost)
	}
}

// TestErrorPath checks that an invalid condition's *Error names the place
// of the fault in its Path, the same place its message names.
func TestErrorPath(t *testing.T) {
	src, _ := nestedQuantifiers([]string{"some", "all"}, []int{200, 200})
	tests := []struct{ src, path string }{
		{`{"and":[{"==":[1,1]},{"regex":["a","b"]}]}`, "and[1]"},
		{`{"and":[{"or":[true,{"if":[true,{"map":[[1],1]}]}]}]}`, "and[0].or[1].if[1]"},
		{`{"==":[{"var":1},1]}`, "==[0]"},
		{`{"regex":["a","b"]}`, ""},
		{`{"==":[1,1]`, ""},
		{src, "some[1]"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.src))
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse(%.60s) = %v; want an *Error", tt.src, err)
		}
		if e.Path != tt.path {
			t.Errorf("Parse(%.60s): Path = %q; want %q (error %q)", tt.src, e.Path, tt.path, err)
		}
		if tt.path != "" && !strings.Contains(err.Error(), " at "+tt.path) {
			t.Errorf("Parse(%.60s): error %q does not name %q", tt.src, err, tt.path)
		}
	}
}
