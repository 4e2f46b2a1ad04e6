package authz

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scopegate/authz/internal/logic"
)

// Limits on a condition, against hostile or runaway input. Depth counts
// nested JSON containers (objects and arrays): {"!":[{"var":"x"}]} is 3
// deep, so a condition can nest about 32 operators. Nodes count every JSON
// value (objects, arrays and scalars).
const (
	maxConditionDepth = 64
	maxConditionNodes = 10000
)

// condition is a JSON Logic condition, decoded, validated and compiled once
// when it is written or loaded, ready to be evaluated any number of times,
// concurrently, by internal/logic.
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
//   - The static cost (logic.Program.StaticCost: the operations the
//     condition costs whatever the data, quantifiers over literal arrays
//     multiplying their predicate's cost by the array's length) is at most
//     MaxConditionCost.
//
// The missing-values rule: each comparison (== === != !== < <= > >=)
// that has a direct operand {"var":path} without a default, and no operand
// that is the literal null, holds only when each such var has a value that
// is not null, so a missing or null value makes the comparison false
// instead of being compared as null. A var nested deeper (inside + or
// cat, say) follows the semantics of the enclosing operator: arithmetic on
// a missing value is an evaluation error, which fails closed.
//
// Evaluation (internal/logic) follows JSON Logic as
// github.com/diegoholiveira/jsonlogic/v3 v3.9.1 implements it (that
// library evaluated conditions before; a differential test holds the two
// to the same results), with these points to note:
//   - inside the predicate of some, all and none, var paths resolve
//     against the current element only, as JSON Logic specifies (a
//     predicate cannot read the enclosing data);
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
//   - every evaluation is charged to a logic.Budget (see evalBudget) and
//     stops with an error when it runs out.
//
// Neither the condition nor the data is modified by evaluation, so neither
// is copied per evaluation.
type condition struct {
	// rule is the condition as github.com/diegoholiveira/jsonlogic/v3
	// would evaluate it the same way (logic.Program.LibraryForm), kept for
	// tests that compare the two.
	rule any
	src  string // the condition as written, compact JSON, for traces
	// broken is set for a stored condition that no longer parses (written
	// by another version, or corrupted): it never holds.
	broken error
	// prog evaluates the condition.
	prog *logic.Program
	// cost is prog's static cost, charged when fast decides.
	cost int64
	// fast evaluates the commonest form without building the condition
	// data, when set.
	fast *fastCompare
}

// storedCondition compiles a condition read from the store. A condition
// that does not parse fails closed: it never holds, and evaluation reports
// why, instead of making every evaluation of the store fail.
func storedCondition(raw json.RawMessage) *condition {
	c, err := parseCondition(raw)
	if err != nil {
		return &condition{broken: fmt.Errorf("stored condition is invalid: %w", err)}
	}
	return c
}

// parseCondition validates raw and decodes it. An empty raw (or JSON null)
// means "no condition" and returns nil, nil. Errors wrap ErrInvalid and name
// the operator at fault and its path ("unknown operator "regex" at and[1]").
func parseCondition(raw json.RawMessage) (*condition, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil
	}
	v, err := decodeJSONTree(trimmed, maxConditionDepth, maxConditionNodes)
	if err != nil {
		return nil, err
	}
	return compileCondition(v)
}

// compileCondition validates and compiles an already decoded condition (as
// returned by decodeJSONTree: numbers are float64). It does not modify v.
func compileCondition(v any) (*condition, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, invalidf(`a condition must be a JSON Logic operator object such as {"==":[{"var":"subject.meta.department"},"finance"]}, not %s`, jsonKindName(v))
	}
	c := &logicCompiler{}
	if err := c.node(v, "", 1); err != nil {
		return nil, err
	}
	prog, err := logic.Compile(v)
	if err != nil {
		return nil, invalidf("condition cannot be compiled: %v", err)
	}
	if cost := prog.StaticCost(); cost > MaxConditionCost {
		msg := fmt.Sprintf("condition costs at least %d operations whatever the data, more than the %d allowed", cost, MaxConditionCost)
		if q, ok := prog.Hotspot(MaxConditionCost); ok {
			msg += fmt.Sprintf(": operator %q at %s runs its predicate %d times in all", q.Op, logicWhere(q.Path), q.Iterations)
		}
		return nil, invalidf("%s", msg)
	}
	var src strings.Builder
	enc := json.NewEncoder(&src)
	enc.SetEscapeHTML(false) // keep < and > readable
	if err := enc.Encode(v); err != nil {
		return nil, invalidf("condition cannot be encoded: %v", err)
	}
	return &condition{rule: prog.LibraryForm(), src: strings.TrimSuffix(src.String(), "\n"), prog: prog, cost: prog.StaticCost(), fast: fastForm(v)}, nil
}

// String returns the condition as written (compact JSON); "<none>" for nil.
func (c *condition) String() string {
	if c == nil {
		return "<none>"
	}
	return c.src
}

// short is the condition's source for error messages, cut after 200 bytes.
func (c *condition) short() string {
	if len(c.src) <= 200 {
		return c.src
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(c.src[cut]) {
		cut--
	}
	return c.src[:cut] + "…"
}

// eval is evalBudget without a budget: unlimited, for callers that bound
// the work another way and for tests.
func (c *condition) eval(data map[string]any) (ok bool, err error) {
	return c.evalBudget(data, nil)
}

// evalBudget evaluates the condition on data, which must be JSON-shaped
// (map[string]any, []any, float64, string, bool, nil: build it with
// jsonValue), charging its operations to b (nil: unlimited). Only a
// boolean true result grants: any other result, an evaluation error or a
// panic returns false and an error that says why, for the trace. When b
// runs out or its context is done the error wraps logic.ErrBudgetExceeded
// or the context's error (errors.Is tells them apart), and b stays stopped,
// so the caller's next charge fails too. A nil condition is true and costs
// nothing.
//
// When the fast path decides, the condition's static cost is charged, as
// much as the full evaluation would at most cost on such data.
func (c *condition) evalBudget(data map[string]any, b *logic.Budget) (ok bool, err error) {
	if c == nil {
		return true, nil
	}
	if c.broken != nil {
		return false, c.broken
	}
	if c.fast != nil {
		if ok, decided := c.fast.eval(data); decided {
			if err := b.Charge(c.cost, logic.Label("the condition")); err != nil {
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
		return false, fmt.Errorf("condition %s: result %s is not a boolean", c.short(), describeLogicValue(out))
	}
	return v, nil
}

// describeLogicValue renders an evaluation result for an error message.
func describeLogicValue(v any) string {
	s, err := json.Marshal(v)
	if err != nil || len(s) > 80 {
		return jsonKindName(v)
	}
	return fmt.Sprintf("%s (%s)", s, jsonKindName(v))
}

// logicOp is the argument count of an operator; max < 0 means unbounded.
type logicOp struct{ min, max int }

var logicOps = map[string]logicOp{
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

func (o logicOp) String() string {
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

// logicCompiler validates a decoded condition, with error messages that
// name the operator at fault and its place. It counts nodes and depth on
// the decoded value, so conditions embedded in a larger document (a
// matchDefinition) get the same limits as stand-alone ones.
type logicCompiler struct {
	nodes int
}

// logicWhere renders a path for an error message.
func logicWhere(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// logicArgPath is the path of argument i of operator op found at path.
func logicArgPath(path, op string, i int) string {
	if path != "" {
		path += "."
	}
	return path + op + "[" + strconv.Itoa(i) + "]"
}

// enter counts one node at nesting level depth (for containers).
func (c *logicCompiler) enter(path string, depth int, container bool) error {
	c.nodes++
	if c.nodes > maxConditionNodes {
		return invalidf("condition has more than %d nodes (at %s): split it or simplify it", maxConditionNodes, logicWhere(path))
	}
	if container && depth > maxConditionDepth {
		return invalidf("condition nests deeper than %d levels (at %s)", maxConditionDepth, logicWhere(path))
	}
	return nil
}

// node validates v found at path; depth is the nesting level v has if it
// is a container.
func (c *logicCompiler) node(v any, path string, depth int) error {
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
		return invalidf("condition holds a %T value at %s", v, logicWhere(path))
	}
}

func (c *logicCompiler) operation(m map[string]any, path string, depth int) error {
	if len(m) != 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, strconv.Quote(k))
		}
		slices.Sort(keys)
		return invalidf("object at %s has %d keys [%s]: a JSON Logic operator object has exactly one key, the operator", logicWhere(path), len(m), strings.Join(keys, " "))
	}
	var op string
	var arg any
	for k, v := range m {
		op, arg = k, v
	}
	spec, ok := logicOps[op]
	if !ok {
		return invalidf("unknown operator %q at %s", op, logicWhere(path))
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
		return invalidf("operator %q at %s takes %s, got %d", op, logicWhere(path), spec, n)
	}
	if err := checkLogicArgs(op, args, path); err != nil {
		return err
	}
	for i, a := range args {
		if err := c.node(a, logicArgPath(path, op, i), argDepth); err != nil {
			return err
		}
	}
	return nil
}

// checkLogicArgs checks the argument types an operator requires (before
// compiling them).
func checkLogicArgs(op string, args []any, path string) error {
	isOp := func(v any) bool { _, ok := v.(map[string]any); return ok }
	switch op {
	case "var":
		if len(args) > 0 {
			if _, ok := args[0].(string); !ok {
				return invalidf(`operator "var" at %s: the path must be a string such as "subject.meta.risk", got %s`, logicWhere(path), jsonKindName(args[0]))
			}
		}
	case "missing":
		if len(args) == 1 && isOp(args[0]) {
			return nil
		}
		for i, a := range args {
			if _, ok := a.(string); !ok && !isOp(a) {
				return invalidf(`operator "missing" at %s: argument %d must be a string path, got %s`, logicWhere(path), i, jsonKindName(a))
			}
		}
	case "missing_some":
		if _, ok := args[0].(float64); !ok && !isOp(args[0]) {
			return invalidf(`operator "missing_some" at %s: the first argument must be the number of paths required, got %s`, logicWhere(path), jsonKindName(args[0]))
		}
		switch list := args[1].(type) {
		case []any:
			for i, a := range list {
				if _, ok := a.(string); !ok && !isOp(a) {
					return invalidf(`operator "missing_some" at %s: path %d must be a string, got %s`, logicWhere(path), i, jsonKindName(a))
				}
			}
		case map[string]any:
		default:
			return invalidf(`operator "missing_some" at %s: the second argument must be an array of string paths, got %s`, logicWhere(path), jsonKindName(args[1]))
		}
	case "some", "all", "none":
		if _, ok := args[0].([]any); !ok && !isOp(args[0]) {
			return invalidf("operator %q at %s: the first argument must be an array or an operator producing one, got %s", op, logicWhere(path), jsonKindName(args[0]))
		}
		if !isOp(args[1]) {
			return invalidf("operator %q at %s: the second argument must be a predicate (an operator object), got %s", op, logicWhere(path), jsonKindName(args[1]))
		}
	case "in":
		switch args[1].(type) {
		case string, []any, map[string]any:
		default:
			return invalidf(`operator "in" at %s: the second argument must be a string, an array or an operator, got %s`, logicWhere(path), jsonKindName(args[1]))
		}
	}
	return nil
}

// jsonKindName names the JSON type of a decoded value.
func jsonKindName(v any) string {
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
		return fmt.Sprintf("a %T", v)
	}
}

// decodeJSONTree decodes one JSON value into map[string]any, []any,
// float64, string, bool and nil. Unlike json.Unmarshal it rejects duplicate
// object keys, numbers that overflow float64 and trailing data, and it
// enforces maxDepth (nesting of objects and arrays) and maxNodes (JSON
// values) while reading, so hostile input is refused before it is built.
// Errors wrap ErrInvalid.
func decodeJSONTree(raw []byte, maxDepth, maxNodes int) (any, error) {
	d := &treeDecoder{dec: json.NewDecoder(bytes.NewReader(raw)), maxDepth: maxDepth, maxNodes: maxNodes}
	d.dec.UseNumber()
	tok, err := d.token()
	if err != nil {
		return nil, err
	}
	v, err := d.value(tok, 1)
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, invalidf("malformed JSON: unexpected data after the value")
	}
	return v, nil
}

type treeDecoder struct {
	dec                *json.Decoder
	maxDepth, maxNodes int
	nodes              int
}

func (d *treeDecoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err == io.EOF {
		return nil, invalidf("malformed JSON: unexpected end of input")
	}
	if err != nil {
		return nil, invalidf("malformed JSON: %v", err)
	}
	return tok, nil
}

func (d *treeDecoder) value(tok json.Token, depth int) (any, error) {
	d.nodes++
	if d.nodes > d.maxNodes {
		return nil, invalidf("JSON has more than %d values", d.maxNodes)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth > d.maxDepth {
			return nil, invalidf("JSON nests deeper than %d levels", d.maxDepth)
		}
		if t == '[' {
			arr := []any{}
			for {
				tok, err := d.token()
				if err != nil {
					return nil, err
				}
				if tok == json.Delim(']') {
					return arr, nil
				}
				v, err := d.value(tok, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
		}
		obj := map[string]any{}
		for {
			tok, err := d.token()
			if err != nil {
				return nil, err
			}
			if tok == json.Delim('}') {
				return obj, nil
			}
			key := tok.(string) // the decoder guarantees a string key here
			if _, dup := obj[key]; dup {
				return nil, invalidf("malformed JSON: duplicate key %q", key)
			}
			tok, err = d.token()
			if err != nil {
				return nil, err
			}
			v, err := d.value(tok, depth+1)
			if err != nil {
				return nil, err
			}
			obj[key] = v
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, invalidf("number %s is out of range", t)
		}
		return f, nil
	default: // string, bool, nil
		return t, nil
	}
}

// jsonValue converts a Go value into the JSON shape conditions evaluate on:
// map[string]any, []any, float64, string, bool or nil. It always returns
// fresh maps and slices (a deep copy), so later changes to v do not reach
// the condition data.
//
//   - all integer and float kinds, and json.Number, become float64
//     (integers above 2^53 lose precision, as in JavaScript);
//   - time.Time and Time become RFC 3339 UTC strings with second precision
//     ("2024-01-15T10:30:00Z"), the form of createdAt, so times compare as
//     strings in order;
//   - []byte becomes a base64 string and json.RawMessage its decoded value,
//     as encoding/json does;
//   - slices and arrays become []any; maps become map[string]any (keys that
//     are not strings are formatted with fmt);
//   - pointers and interfaces are followed (nil → nil);
//   - values that implement json.Marshaler or encoding.TextMarshaler, and
//     structs, go through encoding/json, so their JSON tags apply;
//   - anything else (channels, functions, complex numbers, cyclic data
//     deeper than 100 levels) becomes nil.
func jsonValue(v any) any {
	return jsonValueDepth(v, 0)
}

const maxJSONValueDepth = 100

func jsonValueDepth(v any, depth int) any {
	if depth > maxJSONValueDepth {
		return nil
	}
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case bool:
		return x
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint:
		return float64(x)
	case uint64:
		return float64(x)
	case uint32:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case Time:
		return x.UTC().Format(time.RFC3339)
	case json.RawMessage:
		var out any
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil
		}
		return jsonValueDepth(out, depth+1)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValueDepth(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValueDepth(e, depth+1)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out
	case map[string][]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValueDepth(e, depth+1)
		}
		return out
	case json.Marshaler, encoding.TextMarshaler:
		return jsonRoundTrip(v, depth)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return jsonValueDepth(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 && rv.Kind() == reflect.Slice {
			return base64.StdEncoding.EncodeToString(rv.Bytes())
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = jsonValueDepth(rv.Index(i).Interface(), depth+1)
		}
		return out
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := iter.Key()
			var key string
			if k.Kind() == reflect.String {
				key = k.String()
			} else {
				key = fmt.Sprint(k.Interface())
			}
			out[key] = jsonValueDepth(iter.Value().Interface(), depth+1)
		}
		return out
	case reflect.Struct:
		return jsonRoundTrip(v, depth)
	default:
		return nil
	}
}

// jsonRoundTrip converts v through encoding/json; nil when v cannot be
// encoded.
func jsonRoundTrip(v any, depth int) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil
	}
	return jsonValueDepth(out, depth+1)
}
