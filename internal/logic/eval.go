package logic

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Scopes. An operator reads data: the condition's data, or inside the
// predicate of some, all or none the current element. The data the
// enclosing quantifiers run in are kept as a chain of frames (up): a var
// (or a path of missing and missing_some) that finds no value in the
// current data (absent or null) is looked up in the enclosing data, from
// the innermost enclosing element outward to the condition's data, and
// the first value found is the var's (see resolve). The empty path is the
// current data itself and never looks further. (The current data is passed
// as a value and the chain built only by quantifiers, once per quantifier
// run, so that operators outside quantifiers allocate nothing.)

// The frames (up) are a stack of the data the enclosing quantifiers run
// in, outermost first: the condition's data, then each enclosing element.
// A quantifier pushes its data with append, which reuses the room left by
// a sibling that has finished (evaluation is depth first and nothing keeps
// the stack), and the stack holds data values only, never pointers to
// other frames, so that it stays on the evaluator's stack (Program.Eval
// gives room for a few levels): nested quantifiers allocate only past
// that.

// errorf returns an evaluation error at n's operator.
func (n *node) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", n.at, fmt.Sprintf(format, args...))
}

// eval evaluates n on f, charging b.
func (n *node) eval(data any, up []any, b *Budget) (any, error) {
	if n.op == opConst {
		return n.val, nil
	}
	if err := b.Charge(n.cost, n.at); err != nil {
		return nil, err
	}
	switch n.op {
	case opVar:
		return n.varValue(data, up, b)
	case opArray:
		out := make([]any, len(n.args))
		for i, a := range n.args {
			v, err := a.eval(data, up, b)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case opEq, opNe, opStrictEq, opStrictNe, opGt, opGe:
		x, y, err := n.two(data, up, b)
		if err != nil {
			return nil, err
		}
		if err := b.Charge(strWork(x)+strWork(y), n.at); err != nil {
			return nil, err
		}
		switch n.op {
		case opEq:
			return equals(x, y), nil
		case opNe:
			return !equals(x, y), nil
		case opStrictEq:
			return strictEquals(x, y), nil
		case opStrictNe:
			return !strictEquals(x, y), nil
		case opGt:
			return less(y, x), nil
		default: // opGe
			return less(y, x) || equals(y, x), nil
		}
	case opLt, opLe:
		return n.between(data, up, b)
	case opAnd, opOr:
		var last any
		for _, a := range n.args {
			v, err := a.eval(data, up, b)
			if err != nil {
				return nil, err
			}
			if Truthy(v) != (n.op == opAnd) {
				return v, nil
			}
			last = v
		}
		return last, nil
	case opNot, opNotNot:
		v, err := n.args[0].eval(data, up, b)
		if err != nil {
			return nil, err
		}
		return Truthy(v) == (n.op == opNotNot), nil
	case opIf:
		last := len(n.args) - 1
		for i := 0; i < last; i += 2 {
			c, err := n.args[i].eval(data, up, b)
			if err != nil {
				return nil, err
			}
			if Truthy(c) {
				return n.args[i+1].eval(data, up, b)
			}
		}
		if len(n.args)%2 == 1 {
			return n.args[last].eval(data, up, b)
		}
		return nil, nil
	case opIn:
		return n.in(data, up, b)
	case opMissing, opMissingList, opMissingSome:
		return n.missing(data, up, b)
	case opSome, opAll, opNone:
		return n.quantify(data, up, b)
	case opMerge:
		return n.merge(data, up, b)
	case opCat:
		return n.cat(data, up, b)
	case opSubstr:
		return n.substr(data, up, b)
	case opAdd, opSub, opMul, opDiv, opMod, opMin, opMax:
		return n.arithmetic(data, up, b)
	}
	return nil, n.errorf("unknown operation %d", n.op)
}

// two evaluates the first two arguments.
func (n *node) two(data any, up []any, b *Budget) (x, y any, err error) {
	if x, err = n.args[0].eval(data, up, b); err != nil {
		return nil, nil, err
	}
	if y, err = n.args[1].eval(data, up, b); err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// varValue looks the var's path up in the current data and then, when it
// has no value there, in the enclosing data outward (see resolve): a
// missing or null value is the default (null without one). The default is
// evaluated first, whether it is needed or not.
func (n *node) varValue(data any, up []any, b *Budget) (any, error) {
	var def any
	if n.hasDef {
		var err error
		if def, err = n.args[0].eval(data, up, b); err != nil {
			return nil, err
		}
	}
	if len(n.segs) == 0 {
		if data == nil {
			return def, nil
		}
		return data, nil
	}
	v, err := resolve(data, up, n.segs, n.at, b)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return def, nil
	}
	return v, nil
}

// resolve returns the value at the path segs (at least one segment) in
// data, or when data has none (absent or null) in the data of the frames
// up, innermost (last) first; nil when none has a value. Looking in an enclosing
// frame costs one operation per segment, charged to b at where (the first
// look is paid for by the caller).
func resolve(data any, up []any, segs []seg, where fmt.Stringer, b *Budget) (any, error) {
	if v := lookup(data, segs); v != nil {
		return v, nil
	}
	for i := len(up) - 1; i >= 0; i-- {
		if err := b.Charge(int64(len(segs)), where); err != nil {
			return nil, err
		}
		if v := lookup(up[i], segs); v != nil {
			return v, nil
		}
	}
	return nil, nil
}

// LookupPath returns the value a var of path reads in data outside any
// predicate, nil when there is none: the evaluator's own reading (a
// segment that is not a number reads index 0 of an array).
func LookupPath(data any, path string) any { return lookup(data, splitPath(path)) }

// lookup returns the value at segs in data, nil when there is none.
func lookup(data any, segs []seg) any {
	cur := data
	for _, s := range segs {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[s.key]
		case []any:
			if s.idx < 0 || s.idx >= len(c) {
				return nil
			}
			cur = c[s.idx]
		default:
			return nil
		}
		if cur == nil {
			return nil
		}
	}
	return cur
}

// between is < and <= with two or three arguments (a < b < c).
func (n *node) between(data any, up []any, b *Budget) (any, error) {
	x, y, err := n.two(data, up, b)
	if err != nil {
		return nil, err
	}
	var z any
	if len(n.args) == 3 {
		if z, err = n.args[2].eval(data, up, b); err != nil {
			return nil, err
		}
	}
	if err := b.Charge(strWork(x)+strWork(y)+strWork(z), n.at); err != nil {
		return nil, err
	}
	holds := func(p, q any) bool { return less(p, q) || (n.op == opLe && equals(p, q)) }
	if len(n.args) == 3 {
		return holds(x, y) && holds(y, z), nil
	}
	return holds(x, y), nil
}

// in is a substring test when the second argument is a string (the first
// must then be a string too), a membership test when it is an array, and
// false otherwise. In an array, an element that is an array [lo, hi] is a
// range that holds when lo <= x <= hi as numbers; other elements are
// compared as numbers when x is a number (a string element is parsed, 0
// when it is not a number; null, a boolean or an object is an error) and
// otherwise must be equal values of the same type (comparing two objects is
// an error).
func (n *node) in(data any, up []any, b *Budget) (any, error) {
	x, hay, err := n.two(data, up, b)
	if err != nil {
		return nil, err
	}
	switch h := hay.(type) {
	case string:
		s, ok := x.(string)
		if !ok {
			return nil, n.errorf("looking for %s in a string: it must be a string", typeName(x))
		}
		if err := b.Charge(int64((len(h)+len(s))>>6), n.at); err != nil {
			return nil, err
		}
		return strings.Contains(h, s), nil
	case []any:
		if err := b.Charge(int64(len(h))+strWork(x), n.at); err != nil {
			return nil, err
		}
		return n.inArray(x, h, b)
	}
	return false, nil
}

func (n *node) inArray(x any, h []any, b *Budget) (any, error) {
	num, isNum := x.(float64)
	xs, isStr := x.(string)
	_, isObj := x.(map[string]any)
	var xv float64 // x as a number, for ranges
	parsed := false
	for _, e := range h {
		switch el := e.(type) {
		case []any:
			if len(el) < 2 {
				return nil, n.errorf("a range must have two bounds, got %d", len(el))
			}
			if !parsed {
				v, ok := toNumber(x)
				if !ok {
					return nil, n.errorf("looking for %s in a range: it must be a number or a string", typeName(x))
				}
				xv, parsed = v, true
			}
			lo, ok := toNumber(el[0])
			if !ok {
				return nil, n.errorf("the lower bound of a range is %s: it must be a number or a string", typeName(el[0]))
			}
			if err := b.Charge(strWork(el[0])+strWork(el[1]), n.at); err != nil {
				return nil, err
			}
			if xv >= lo {
				hi, ok := toNumber(el[1])
				if !ok {
					return nil, n.errorf("the upper bound of a range is %s: it must be a number or a string", typeName(el[1]))
				}
				if hi >= xv {
					return true, nil
				}
			}
			continue
		case string:
			if isNum {
				if w := strWork(el); w > 0 {
					if err := b.Charge(w, n.at); err != nil {
						return nil, err
					}
				}
				v, _ := toNumber(el)
				if v == num {
					return true, nil
				}
				continue
			}
			if isStr && len(el) == len(xs) {
				if len(el) >= 64 {
					if err := b.Charge(strWork(el), n.at); err != nil {
						return nil, err
					}
				}
				if el == xs {
					return true, nil
				}
			}
			continue
		case float64:
			if isNum && el == num {
				return true, nil
			}
			continue
		case map[string]any:
			if isObj {
				return nil, n.errorf("cannot compare an object with the objects of an array")
			}
		}
		if isNum {
			return nil, n.errorf("looking for a number in an array holding %s", typeName(e))
		}
		if !isObj && e == x {
			return true, nil
		}
	}
	return false, nil
}

// missing is missing (with a list of paths, or an operator producing one)
// and missing_some: the paths whose value is null or absent.
func (n *node) missing(data any, up []any, b *Budget) (any, error) {
	var need int
	var list []any
	switch n.op {
	case opMissingList:
		list = make([]any, len(n.args))
		for i, a := range n.args {
			v, err := a.eval(data, up, b)
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
	case opMissing:
		v, err := n.args[0].eval(data, up, b)
		if err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case string:
			list = []any{x}
		case []any:
			list = x
		default:
			return nil, n.errorf("the list of paths is %s, not an array", typeName(v))
		}
	case opMissingSome:
		nv, lv, err := n.two(data, up, b)
		if err != nil {
			return nil, err
		}
		num, ok := toNumber(nv)
		if !ok {
			return nil, n.errorf("the number of paths required is %s, not a number", typeName(nv))
		}
		need = int(num)
		if list, ok = lv.([]any); !ok {
			return nil, n.errorf("the list of paths is %s, not an array", typeName(lv))
		}
	}
	if err := b.Charge(int64(len(list)), n.at); err != nil {
		return nil, err
	}
	out := []any{}
	found := 0
	for _, p := range list {
		v, err := n.pathValue(p, data, up, b)
		if err != nil {
			return nil, err
		}
		if v == nil {
			out = append(out, p)
		} else {
			found++
		}
	}
	if n.op == opMissingSome && need <= found {
		return []any{}, nil
	}
	return out, nil
}

// pathValue looks up a path computed by the condition (for missing and
// missing_some). A path is a string; a number stands for its decimal form;
// null is the data itself when the data is a boolean, number or string
// (else missing); an array [path] or [path, default] is a path with a
// default. Another value (a boolean, an object) is an error unless the data
// is null. Like a var's, a path with at least one segment that has no value
// in data is looked up in the enclosing data (see resolve).
func (n *node) pathValue(p, data any, up []any, b *Budget) (any, error) {
	var path string
	var def any
	switch x := p.(type) {
	case nil:
		if !isPrimitive(data) {
			return nil, nil
		}
		return data, nil
	case string:
		if x == "" {
			return data, nil
		}
		path = x
	case float64:
		path = strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) == 0 {
			return data, nil
		}
		if len(x) == 2 {
			def = x[1]
		}
		s, ok := x[0].(string)
		if !ok {
			return nil, n.errorf("the path of [path, default] is %s, not a string", typeName(x[0]))
		}
		path = s
	default:
		if data == nil {
			return nil, nil
		}
		return nil, n.errorf("a path is %s, not a string", typeName(p))
	}
	if data == nil && up == nil {
		return def, nil
	}
	if err := b.Charge(int64(strings.Count(path, ".")+1+len(path)>>6), n.at); err != nil {
		return nil, err
	}
	segs := splitPath(path)
	if len(segs) == 0 { // "." or "..": the data itself
		if data == nil {
			return def, nil
		}
		return data, nil
	}
	v, err := resolve(data, up, segs, n.at, b)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return def, nil
	}
	return v, nil
}

// quantify is some, all and none: the predicate runs on each element of
// the array, each run on a frame of its own. A false value (null, [], "",
// 0…) is an empty array; another value that is not an array is an error.
// all of an empty array is false.
func (n *node) quantify(data any, up []any, b *Budget) (any, error) {
	subject, err := n.args[0].eval(data, up, b)
	if err != nil {
		return nil, err
	}
	if !Truthy(subject) {
		return n.op == opNone, nil
	}
	arr, ok := subject.([]any)
	if !ok {
		return nil, n.errorf("the first argument is %s, not an array", typeName(subject))
	}
	pred := n.args[1]
	outer := append(up, data)
	for _, e := range arr {
		if err := b.Charge(1, n.at); err != nil {
			return nil, err
		}
		v, err := pred.eval(e, outer, b)
		if err != nil {
			return nil, err
		}
		t := Truthy(v)
		switch {
		case n.op == opSome && t:
			return true, nil
		case n.op == opAll && !t:
			return false, nil
		case n.op == opNone && t:
			return false, nil
		}
	}
	return n.op != opSome, nil
}

// evalArgs evaluates every argument into vals, which must have room for
// them.
func (n *node) evalArgs(data any, up []any, b *Budget, vals []any) error {
	for i, a := range n.args {
		v, err := a.eval(data, up, b)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return nil
}

// argBuf is room for the values of up to 8 arguments.
type argBuf [8]any

// slots returns room for n values, in buf when it is large enough.
func (buf *argBuf) slots(n int) []any {
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]any, n)
}

// merge flattens its arguments one level into a new array; it costs one
// operation per element produced.
func (n *node) merge(data any, up []any, b *Budget) (any, error) {
	var buf argBuf
	vals := buf.slots(len(n.args))
	if err := n.evalArgs(data, up, b, vals); err != nil {
		return nil, err
	}
	total := 0
	for _, v := range vals {
		if arr, ok := v.([]any); ok {
			total += len(arr)
		} else {
			total++
		}
	}
	if err := b.Charge(int64(total), n.at); err != nil {
		return nil, err
	}
	out := make([]any, 0, total)
	for _, v := range vals {
		if arr, ok := v.([]any); ok {
			out = append(out, arr...)
		} else {
			out = append(out, v)
		}
	}
	return out, nil
}

// cat joins its arguments as strings (numbers formatted, null empty;
// booleans, arrays and objects are errors). With two or more arguments the
// result is trimmed of surrounding white space. It costs one operation per
// 64 bytes produced, charged before the string is built.
func (n *node) cat(data any, up []any, b *Budget) (any, error) {
	var buf argBuf
	vals := buf.slots(len(n.args))
	if err := n.evalArgs(data, up, b, vals); err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return "", nil
	}
	total := 0
	var num [512]byte
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			total += len(x)
		case float64:
			total += len(strconv.AppendFloat(num[:0], x, 'f', -1, 64))
		case nil:
		default:
			return nil, n.errorf("cannot join %s as a string", typeName(v))
		}
	}
	if err := b.Charge(int64(total>>6), n.at); err != nil {
		return nil, err
	}
	if len(vals) == 1 {
		s, _ := toString(vals[0])
		return s, nil
	}
	var sb strings.Builder
	sb.Grow(total)
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			sb.WriteString(x)
		case float64:
			sb.Write(strconv.AppendFloat(num[:0], x, 'f', -1, 64))
		}
	}
	return strings.TrimSpace(sb.String()), nil
}

// substr is the part of a string (or a number's decimal form) from a
// position, of a length, both counted in runes: a negative start counts
// from the end, and a start out of range gives the whole string; a
// negative length leaves that many runes off the end; a length that ends
// before the start is an error. Bytes that are not UTF-8 are each one rune
// and come out as U+FFFD.
func (n *node) substr(data any, up []any, b *Budget) (any, error) {
	var buf argBuf
	vals := buf.slots(len(n.args))
	if err := n.evalArgs(data, up, b, vals); err != nil {
		return nil, err
	}
	s, ok := toString(vals[0])
	if !ok {
		return nil, n.errorf("cannot take part of %s", typeName(vals[0]))
	}
	if err := b.Charge(int64(len(s)>>6), n.at); err != nil {
		return nil, err
	}
	fromF, ok := toNumber(vals[1])
	if !ok {
		return nil, n.errorf("the start is %s, not a number", typeName(vals[1]))
	}
	from := int(fromF)
	runes := utf8.RuneCountInString(s)
	length := runes
	if from < 0 {
		from = length + from
	}
	if from < 0 || from > length {
		return n.runeSlice(s, 0, runes, b)
	}
	if len(vals) == 3 {
		l, ok := toNumber(vals[2])
		if !ok {
			return nil, n.errorf("the length is %s, not a number", typeName(vals[2]))
		}
		length = int(l)
	}
	var to int
	if length < 0 {
		length = runes + length
		to = length
	} else {
		to = from + length
	}
	if to > runes {
		to = runes
	}
	if to < from {
		return nil, n.errorf("the part ends (at rune %d) before it starts (at rune %d)", to, from)
	}
	return n.runeSlice(s, from, to, b)
}

// runeSlice returns runes [from, to) of s, with the bytes that are not
// UTF-8 replaced by U+FFFD.
func (n *node) runeSlice(s string, from, to int, b *Budget) (any, error) {
	start, end, i := len(s), len(s), 0
	for pos := range s {
		if i == from {
			start = pos
		}
		if i == to {
			end = pos
			break
		}
		i++
	}
	part := s[start:end]
	if utf8.ValidString(part) {
		return part, nil
	}
	if err := b.Charge(int64(3*len(part)>>6), n.at); err != nil {
		return nil, err
	}
	var sb strings.Builder
	sb.Grow(3 * len(part))
	for _, r := range part {
		sb.WriteRune(r) // an invalid byte is RuneError, written as U+FFFD
	}
	return sb.String(), nil
}

// arithmetic is + - * / % min max on numbers (strings are parsed, 0 when
// they are not numbers; null, booleans, arrays and objects are errors).
func (n *node) arithmetic(data any, up []any, b *Budget) (any, error) {
	var acc float64
	for i, a := range n.args {
		v, err := a.eval(data, up, b)
		if err != nil {
			return nil, err
		}
		x, ok := toNumber(v)
		if !ok {
			return nil, n.errorf("argument %d is %s, not a number", i, typeName(v))
		}
		if s, isStr := v.(string); isStr && len(s) >= 64 {
			if err := b.Charge(strWork(s), n.at); err != nil {
				return nil, err
			}
		}
		if i == 0 {
			switch {
			case n.op == opAdd && len(n.args) > 1:
				acc = 0 + x
			case n.op == opSub && len(n.args) == 1:
				acc = -1 * x
			case n.op == opMul:
				acc = 1 * x
			default:
				acc = x
			}
			continue
		}
		switch n.op {
		case opAdd:
			acc += x
		case opSub:
			acc -= x
		case opMul:
			acc *= x
		case opDiv:
			acc /= x
		case opMod:
			acc = math.Mod(acc, x)
		case opMax:
			if x > acc {
				acc = x
			}
		case opMin:
			if acc > x {
				acc = x
			}
		}
	}
	return acc, nil
}
