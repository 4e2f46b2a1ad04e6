package logic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a condition, against hostile or runaway input. Depth counts
// nested JSON containers (objects and arrays): {"!":[{"var":"x"}]} is 3
// deep, so a condition can nest about 32 operators. Nodes count every JSON
// value (objects, arrays and scalars). Cost bounds the static cost.
const (
	// MaxDepth is the deepest nesting of JSON containers a condition may
	// have.
	MaxDepth = 64
	// MaxNodes is the most JSON values a condition may hold.
	MaxNodes = 10000
	// MaxCost is the most operations a condition may cost whatever the
	// data (its static cost, Program.StaticCost). The root package's
	// MaxConditionCost is the same limit.
	MaxCost = 10000
)

// Cond is a JSON Logic condition, decoded, validated and compiled once
// when it is written or loaded, ready to be evaluated any number of times,
// concurrently. It is immutable.
//
// Supported operators: == === != !== < <= > >= and or ! !! if ?: in var
// missing missing_some some all none merge cat substr + - * / % min max.
// Argument counts:
//
//	== === != !== > >= in / % missing_some some all none   exactly 2
//	< <=                                                  2 or 3 (between form: a < b < c)
//	! !!                                                  exactly 1
//	?:                                                    exactly 3
//	substr                                                2 or 3
//	-                                                     1 or 2
//	var                                                   0 to 2: [path] or [path, default]
//	and or if missing + * min max                         at least 1
//	merge cat                                             any number
//
// As in JSON Logic, a single argument may be written without its array
// ({"!":{"var":"x"}} is {"!":[{"var":"x"}]}).
//
// Validation rules beyond the operator list and the counts:
//   - The top level is an operator object; every JSON object in a
//     condition is an operator object with exactly one key (JSON Logic has
//     no object literals). Duplicate keys are rejected.
//   - A var path is a literal string ("subject.meta.risk", "" for the
//     current data); numbers, computed paths and other types are rejected.
//     Array elements are reached with numeric segments ("items.0").
//   - missing takes literal string paths, or a single operator producing
//     the list ({"missing":{"merge":[…]}}).
//   - missing_some takes a number (or operator) and an array of string
//     paths (or an operator producing one).
//   - some, all and none take an array (literal or computed) and a
//     predicate that is an operator object. A bare {"var":…} predicate is
//     evaluated for its truthiness.
//   - in takes a string, an array or an operator as its second argument.
//   - Numbers are float64; a number that overflows float64 is rejected.
//   - The static cost (Program.StaticCost: the operations the condition
//     costs whatever the data, quantifiers over literal arrays multiplying
//     their predicate's cost by the array's length) is at most MaxCost.
//
// The missing-values rule: each comparison (== === != !== < <= > >=)
// that has a direct operand {"var":path} without a default, and no operand
// that is the literal null, holds only when each such var has a value that
// is not null, so a missing or null value makes the comparison false
// instead of being compared as null. A var nested deeper (inside + or
// cat, say) follows the semantics of the enclosing operator: arithmetic on
// a missing value is an evaluation error, which fails closed.
//
// Evaluation (Program) follows JSON Logic as
// github.com/diegoholiveira/jsonlogic/v3 v3.9.1 implements it (that
// library evaluated conditions before; a differential test holds the two
// to the same results), with these points to note:
//   - inside the predicate of some, all and none, a var path resolves
//     against the current element first and, when the element has no
//     value there (absent or null), against the enclosing data: in nested
//     predicates the innermost element, then each enclosing element
//     outward, then the condition's data; the first value found is the
//     var's. The empty path ("" or ".") is the current element only. The
//     paths of missing and missing_some resolve the same way. (The library
//     reads the element only in all, and in some and none reads the
//     enclosing data first and runs what it finds there as logic.) So
//     {"some":[{"var":"resource.tags.departments"},{"in":[{"var":""},{"var":"subject.tags.departments"}]}]}
//     holds when the resource and the subject share a department;
//   - a literal array given to some, all or none that holds operators is
//     evaluated;
//   - cat of two or more values trims surrounding spaces from its result;
//   - loose equality and order convert as that library does ("1" == 1,
//     null == only null, a string that does not parse is NaN; arrays and
//     objects equal nothing), and arithmetic parses strings (a string that
//     is not a number counts as 0) and fails on null, booleans, arrays and
//     objects;
//   - values from the data are values: an object returned by an if branch
//     or found among the paths missing computes is never run as logic (the
//     library did run them);
//   - every evaluation is charged to a Budget (see Eval) and stops with an
//     error when it runs out.
//
// Neither the condition nor the data is modified by evaluation, so neither
// is copied per evaluation.
type Cond struct {
	// rule is the condition as github.com/diegoholiveira/jsonlogic/v3
	// would evaluate it the same way (Program.LibraryForm), kept for
	// tests that compare the two.
	rule any
	src  string // the condition as written, compact JSON, for traces
	// broken is set for a stored condition that no longer parses (written
	// by another version, or corrupted): it never holds.
	broken error
	// prog evaluates the condition.
	prog *Program
	// cost is prog's static cost, charged when fast decides.
	cost int64
	// fast evaluates the commonest form without building the condition
	// data, when set.
	fast *Compare
}

// Error is an invalid condition, or invalid JSON given as one: the
// message says which rule it breaks and where. Parse, ParseDecoded and
// Decode return it.
type Error struct {
	// Path is the place of the fault, as operators and argument indexes
	// ("and[1].==[0]"). It is empty for a fault at the top level or in
	// the JSON text itself.
	Path string
	msg  string
}

// Error returns the message, which names the place of the fault when
// there is one ("unknown operator "regex" at and[1]").
func (e *Error) Error() string { return e.msg }

// errorAt returns an *Error at path.
func errorAt(path, format string, args ...any) *Error {
	return &Error{Path: path, msg: fmt.Sprintf(format, args...)}
}

// Stored compiles a condition read from the store. A condition that does
// not parse fails closed: the result never holds, and Eval reports why
// (Broken), instead of making every evaluation of the store fail. An empty
// raw (or JSON null) returns nil: no condition.
func Stored(raw []byte) *Cond {
	c, err := Parse(raw)
	if err != nil {
		return &Cond{broken: fmt.Errorf("stored condition is invalid: %w", err)}
	}
	return c
}

// Parse validates raw and compiles it. An empty raw (or JSON null) means
// "no condition" and returns nil, nil. Errors are *Error and name the
// operator at fault and its path ("unknown operator "regex" at and[1]").
func Parse(raw []byte) (*Cond, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil
	}
	v, err := Decode(trimmed, MaxDepth, MaxNodes)
	if err != nil {
		return nil, err
	}
	return ParseDecoded(v)
}

// ParseDecoded validates and compiles an already decoded condition (as
// Decode returns it: numbers are float64), held to the same limits as
// Parse holds a condition, whatever document it was decoded from. It does
// not modify v. Errors are *Error.
func ParseDecoded(v any) (*Cond, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, errorAt("", `a condition must be a JSON Logic operator object such as {"==":[{"var":"subject.meta.department"},"finance"]}, not %s`, KindName(v))
	}
	c := &validator{}
	if err := c.node(v, "", 1); err != nil {
		return nil, err
	}
	prog, err := Compile(v)
	if err != nil {
		return nil, errorAt("", "condition cannot be compiled: %v", err)
	}
	if cost := prog.StaticCost(); cost > MaxCost {
		msg := fmt.Sprintf("condition costs at least %d operations whatever the data, more than the %d allowed", cost, MaxCost)
		path := ""
		if q, ok := prog.Hotspot(MaxCost); ok {
			msg += fmt.Sprintf(": operator %q at %s runs its predicate %d times in all", q.Op, where(q.Path), q.Iterations)
			path = q.Path
		}
		return nil, errorAt(path, "%s", msg)
	}
	var src strings.Builder
	enc := json.NewEncoder(&src)
	enc.SetEscapeHTML(false) // keep < and > readable
	if err := enc.Encode(v); err != nil {
		return nil, errorAt("", "condition cannot be encoded: %v", err)
	}
	return &Cond{rule: prog.LibraryForm(), src: strings.TrimSuffix(src.String(), "\n"), prog: prog, cost: prog.StaticCost(), fast: fastForm(v)}, nil
}

// String returns the condition as written (compact JSON); "<none>" for nil,
// "" for a broken stored condition.
func (c *Cond) String() string {
	if c == nil {
		return "<none>"
	}
	return c.src
}

// Broken returns why a stored condition does not parse (see Stored), nil
// for a condition that does and for nil.
func (c *Cond) Broken() error {
	if c == nil {
		return nil
	}
	return c.broken
}

// Cost returns the condition's static cost: the most operations Eval
// charges when the fast form decides, and what it costs at least whatever
// the data. Zero for nil and for a broken condition.
func (c *Cond) Cost() int64 {
	if c == nil {
		return 0
	}
	return c.cost
}

// Fast returns the condition's fast form (see Compare), nil when it has
// none or is nil or broken.
func (c *Cond) Fast() *Compare {
	if c == nil {
		return nil
	}
	return c.fast
}

// short is the condition's source for error messages, cut after 200 bytes.
func (c *Cond) short() string {
	if len(c.src) <= 200 {
		return c.src
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(c.src[cut]) {
		cut--
	}
	return c.src[:cut] + "…"
}

// Eval evaluates the condition on data, which must be JSON-shaped
// (map[string]any, []any, float64, string, bool, nil: build it with
// Value), charging its operations to b (nil: unlimited). Only a
// boolean true result grants: any other result, an evaluation error or a
// panic returns false and an error that says why, for the trace. When b
// runs out or its context is done the error wraps ErrBudgetExceeded
// or the context's error (errors.Is tells them apart), and b stays stopped,
// so the caller's next charge fails too. A nil condition is true and costs
// nothing.
//
// When the fast path decides, the condition's static cost is charged, as
// much as the full evaluation would at most cost on such data.
func (c *Cond) Eval(data map[string]any, b *Budget) (ok bool, err error) {
	if c == nil {
		return true, nil
	}
	if c.broken != nil {
		return false, c.broken
	}
	if c.fast != nil {
		if ok, decided := c.fast.Eval(data); decided {
			if err := b.Charge(c.cost, Label("the condition")); err != nil {
				return false, fmt.Errorf("condition %s: %w", c.short(), err)
			}
			return ok, nil
		}
	}
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("condition %s: evaluation panicked: %v", c.short(), r)
		}
	}()
	out, err := c.prog.Eval(data, b)
	if err != nil {
		if b.Err() != nil {
			return false, fmt.Errorf("condition %s: %w", c.short(), err)
		}
		return false, fmt.Errorf("condition %s: evaluation error: %w", c.short(), err)
	}
	v, isBool := out.(bool)
	if !isBool {
		return false, fmt.Errorf("condition %s: result %s is not a boolean", c.short(), describeValue(out))
	}
	return v, nil
}

// describeValue renders an evaluation result for an error message.
func describeValue(v any) string {
	s, err := json.Marshal(v)
	if err != nil || len(s) > 80 {
		return KindName(v)
	}
	return fmt.Sprintf("%s (%s)", s, KindName(v))
}

// argCount is the argument count of an operator; max < 0 means unbounded.
type argCount struct{ min, max int }

var argCounts = map[string]argCount{
	"==": {2, 2}, "===": {2, 2}, "!=": {2, 2}, "!==": {2, 2},
	"<": {2, 3}, "<=": {2, 3}, ">": {2, 2}, ">=": {2, 2},
	"and": {1, -1}, "or": {1, -1}, "!": {1, 1}, "!!": {1, 1},
	"if": {1, -1}, "?:": {3, 3}, "in": {2, 2},
	"var": {0, 2}, "missing": {1, -1}, "missing_some": {2, 2},
	"some": {2, 2}, "all": {2, 2}, "none": {2, 2},
	"merge": {0, -1}, "cat": {0, -1}, "substr": {2, 3},
	"+": {1, -1}, "-": {1, 2}, "*": {1, -1}, "/": {2, 2}, "%": {2, 2},
	"min": {1, -1}, "max": {1, -1},
}

func (o argCount) String() string {
	switch {
	case o.min == o.max && o.min == 1:
		return "exactly 1 argument"
	case o.min == o.max:
		return fmt.Sprintf("exactly %d arguments", o.min)
	case o.max < 0 && o.min == 1:
		return "at least 1 argument"
	case o.max < 0:
		return fmt.Sprintf("at least %d arguments", o.min)
	case o.max == o.min+1:
		return fmt.Sprintf("%d or %d arguments", o.min, o.max)
	default:
		return fmt.Sprintf("%d to %d arguments", o.min, o.max)
	}
}

// validator validates a decoded condition, with error messages that
// name the operator at fault and its place. It counts nodes and depth on
// the decoded value, so conditions embedded in a larger document (a
// matchDefinition) get the same limits as stand-alone ones.
type validator struct {
	nodes int
}

// opArgPath is the path of argument i of operator op found at path.
func opArgPath(path, op string, i int) string {
	if path != "" {
		path += "."
	}
	return path + op + "[" + strconv.Itoa(i) + "]"
}

// enter counts one node at nesting level depth (for containers).
func (c *validator) enter(path string, depth int, container bool) error {
	c.nodes++
	if c.nodes > MaxNodes {
		return errorAt(path, "condition has more than %d nodes (at %s): split it or simplify it", MaxNodes, where(path))
	}
	if container && depth > MaxDepth {
		return errorAt(path, "condition nests deeper than %d levels (at %s)", MaxDepth, where(path))
	}
	return nil
}

// node validates v found at path; depth is the nesting level v has if it
// is a container.
func (c *validator) node(v any, path string, depth int) error {
	switch x := v.(type) {
	case map[string]any:
		if err := c.enter(path, depth, true); err != nil {
			return err
		}
		return c.operation(x, path, depth)
	case []any:
		if err := c.enter(path, depth, true); err != nil {
			return err
		}
		for i, e := range x {
			if err := c.node(e, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		return nil
	case nil, bool, string, float64:
		return c.enter(path, depth, false)
	default:
		return errorAt(path, "condition holds a %T value at %s", v, where(path))
	}
}

func (c *validator) operation(m map[string]any, path string, depth int) error {
	if len(m) != 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, strconv.Quote(k))
		}
		slices.Sort(keys)
		return errorAt(path, "object at %s has %d keys [%s]: a JSON Logic operator object has exactly one key, the operator", where(path), len(m), strings.Join(keys, " "))
	}
	var op string
	var arg any
	for k, v := range m {
		op, arg = k, v
	}
	spec, ok := argCounts[op]
	if !ok {
		return errorAt(path, "unknown operator %q at %s", op, where(path))
	}
	// The arguments: an array, or a single value standing for a one-element
	// array.
	args, isArray := arg.([]any)
	argDepth := depth + 1
	if isArray {
		if err := c.enter(path, depth+1, true); err != nil {
			return err
		}
		argDepth = depth + 2
	} else {
		args = []any{arg}
	}
	if n := len(args); n < spec.min || (spec.max >= 0 && n > spec.max) {
		return errorAt(path, "operator %q at %s takes %s, got %d", op, where(path), spec, n)
	}
	if err := validateArgs(op, args, path); err != nil {
		return err
	}
	for i, a := range args {
		if err := c.node(a, opArgPath(path, op, i), argDepth); err != nil {
			return err
		}
	}
	return nil
}

// validateArgs checks the argument types an operator requires (before
// compiling them).
func validateArgs(op string, args []any, path string) error {
	isOp := func(v any) bool { _, ok := v.(map[string]any); return ok }
	switch op {
	case "var":
		if len(args) > 0 {
			if _, ok := args[0].(string); !ok {
				return errorAt(path, `operator "var" at %s: the path must be a string such as "subject.meta.risk", got %s`, where(path), KindName(args[0]))
			}
		}
	case "missing":
		if len(args) == 1 && isOp(args[0]) {
			return nil
		}
		for i, a := range args {
			if _, ok := a.(string); !ok && !isOp(a) {
				return errorAt(path, `operator "missing" at %s: argument %d must be a string path, got %s`, where(path), i, KindName(a))
			}
		}
	case "missing_some":
		if _, ok := args[0].(float64); !ok && !isOp(args[0]) {
			return errorAt(path, `operator "missing_some" at %s: the first argument must be the number of paths required, got %s`, where(path), KindName(args[0]))
		}
		switch list := args[1].(type) {
		case []any:
			for i, a := range list {
				if _, ok := a.(string); !ok && !isOp(a) {
					return errorAt(path, `operator "missing_some" at %s: path %d must be a string, got %s`, where(path), i, KindName(a))
				}
			}
		case map[string]any:
		default:
			return errorAt(path, `operator "missing_some" at %s: the second argument must be an array of string paths, got %s`, where(path), KindName(args[1]))
		}
	case "some", "all", "none":
		if _, ok := args[0].([]any); !ok && !isOp(args[0]) {
			return errorAt(path, "operator %q at %s: the first argument must be an array or an operator producing one, got %s", op, where(path), KindName(args[0]))
		}
		if !isOp(args[1]) {
			return errorAt(path, "operator %q at %s: the second argument must be a predicate (an operator object), got %s", op, where(path), KindName(args[1]))
		}
	case "in":
		switch args[1].(type) {
		case string, []any, map[string]any:
		default:
			return errorAt(path, `operator "in" at %s: the second argument must be a string, an array or an operator, got %s`, where(path), KindName(args[1]))
		}
	}
	return nil
}

// KindName names the JSON type of a decoded value.
func KindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "a value of type " + fmt.Sprintf("%T", v)
	}
}
