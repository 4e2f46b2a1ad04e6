package logic

import "strings"

// Compare is the fast form of a condition of the commonest form, one var
// compared with a string or number literal
// ({"==":[{"var":"subject.meta.dept"},"eng"]},
// {"<":[{"var":"context.hour"},18]}), evaluated on the value alone, without
// building the condition data, when the answer cannot differ from the
// evaluator's: the value is missing or null (false, by the missing-values
// rule), or it has the literal's type (string equality, number comparison).
// Any other value is left to the evaluator (Cond.Eval).
// TestFastCompareAgrees compares both on every type. A decision of the fast
// form costs the condition's static cost (Cond.Cost) in a budget, which the
// caller of Eval and EvalValue charges. A Compare is immutable and safe for
// concurrent use; it allocates nothing.
type Compare struct {
	op       string
	path     []string // the var path, split at dots
	lit      any      // string or float64
	litFirst bool     // the literal is the first operand
}

// fastForm returns the Compare of a decoded condition, or nil when it
// has another form.
func fastForm(v any) *Compare {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil
	}
	for op, raw := range m {
		switch op {
		case "==", "===", "!=", "!==", "<", "<=", ">", ">=":
		default:
			return nil
		}
		args, ok := raw.([]any)
		if !ok || len(args) != 2 {
			return nil
		}
		f := &Compare{op: op}
		varArg, lit := args[0], args[1]
		if _, isVar := lit.(map[string]any); isVar {
			varArg, lit, f.litFirst = lit, varArg, true
		}
		switch lit.(type) {
		case string, float64:
			f.lit = lit
		default:
			return nil
		}
		vm, ok := varArg.(map[string]any)
		if !ok || len(vm) != 1 {
			return nil
		}
		path, ok := vm["var"].(string)
		if !ok || path == "" {
			return nil
		}
		f.path = strings.Split(path, ".")
		for _, k := range f.path {
			if k == "" {
				return nil
			}
		}
		return f
	}
	return nil
}

// Path returns the var path, split at dots (at least one segment, none
// empty). It belongs to f: do not modify it.
func (f *Compare) Path() []string { return f.path }

// Eval returns the condition's value on data, and whether it could decide
// without the evaluator.
func (f *Compare) Eval(data map[string]any) (result, decided bool) {
	return f.EvalValue(data, f.path)
}

// EvalValue is Eval on the value cur found at the part of the var path
// before rest (a tail of Path): it walks rest from cur and compares what it
// finds. cur must be JSON-shaped (see Value).
func (f *Compare) EvalValue(cur any, rest []string) (result, decided bool) {
	for _, k := range rest {
		m, ok := cur.(map[string]any)
		if !ok {
			return false, cur == nil // a missing parent: the value is missing
		}
		if cur, ok = m[k]; !ok {
			return false, true
		}
	}
	if cur == nil {
		return false, true
	}
	a, b := cur, f.lit
	if f.litFirst {
		a, b = b, a
	}
	switch x := a.(type) {
	case string:
		return compareAs(f.op, x, b, false) // string order is left to the evaluator
	case float64:
		return compareAs(f.op, x, b, true)
	}
	return false, false
}

// compareAs applies op to x and y when y is a T too; ordered says whether
// the order operators are decided for T. decided is false for operands of
// different types.
func compareAs[T string | float64](op string, x T, b any, ordered bool) (result, decided bool) {
	y, ok := b.(T)
	if !ok {
		return false, false
	}
	switch op {
	case "==", "===":
		return x == y, true
	case "!=", "!==":
		return x != y, true
	}
	if !ordered {
		return false, false
	}
	switch op {
	case "<":
		return x < y, true
	case "<=":
		return x <= y, true
	case ">":
		return x > y, true
	case ">=":
		return x >= y, true
	}
	return false, false
}
