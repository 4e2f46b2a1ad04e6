package logic

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

type opcode uint8

const (
	opConst opcode = iota // a literal value: val
	opArray               // a literal array holding operators: args are its elements
	opVar
	opEq
	opStrictEq
	opNe
	opStrictNe
	opLt
	opLe
	opGt
	opGe
	opAnd
	opOr
	opNot
	opNotNot
	opIf
	opIn
	opMissing     // {"missing": operator}: the operator produces the list
	opMissingList // {"missing": [path, …]}
	opMissingSome
	opSome
	opAll
	opNone
	opMerge
	opCat
	opSubstr
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opMin
	opMax
)

// arity is the argument count of an operator; max < 0 means unbounded.
type arity struct{ min, max int }

func (a arity) String() string {
	switch {
	case a.min == a.max:
		return strconv.Itoa(a.min)
	case a.max < 0:
		return "at least " + strconv.Itoa(a.min)
	}
	return strconv.Itoa(a.min) + " to " + strconv.Itoa(a.max)
}

type opInfo struct {
	code opcode
	arity
}

// ops are the supported operators and their argument counts.
var ops = map[string]opInfo{
	"==": {opEq, arity{2, 2}}, "===": {opStrictEq, arity{2, 2}}, "!=": {opNe, arity{2, 2}}, "!==": {opStrictNe, arity{2, 2}},
	"<": {opLt, arity{2, 3}}, "<=": {opLe, arity{2, 3}}, ">": {opGt, arity{2, 2}}, ">=": {opGe, arity{2, 2}},
	"and": {opAnd, arity{1, -1}}, "or": {opOr, arity{1, -1}}, "!": {opNot, arity{1, 1}}, "!!": {opNotNot, arity{1, 1}},
	"if": {opIf, arity{1, -1}}, "?:": {opIf, arity{3, 3}}, "in": {opIn, arity{2, 2}},
	"var": {opVar, arity{0, 2}}, "missing": {opMissingList, arity{1, -1}}, "missing_some": {opMissingSome, arity{2, 2}},
	"some": {opSome, arity{2, 2}}, "all": {opAll, arity{2, 2}}, "none": {opNone, arity{2, 2}},
	"merge": {opMerge, arity{0, -1}}, "cat": {opCat, arity{0, -1}}, "substr": {opSubstr, arity{2, 3}},
	"+": {opAdd, arity{1, -1}}, "-": {opSub, arity{1, 2}}, "*": {opMul, arity{1, -1}}, "/": {opDiv, arity{2, 2}}, "%": {opMod, arity{2, 2}},
	"min": {opMin, arity{1, -1}}, "max": {opMax, arity{1, -1}},
}

// maxCompileDepth bounds the nesting Compile accepts (callers are expected
// to enforce a tighter limit of their own).
const maxCompileDepth = 512

// node is one step of a compiled condition. Nodes are immutable once
// compiled and shared by concurrent evaluations.
type node struct {
	op   opcode
	args []*node
	val  any // opConst
	// opVar: the path's non-empty segments; hasDef says args[0] is the
	// default. scope is the number of some/all/none predicates the var is
	// in: 0 reads the data, more reads the current element first, then
	// the enclosing data (see resolve).
	segs   []seg
	hasDef bool
	scope  int
	// cost is charged on entry; see Program for the costs.
	cost int64
	at   *loc
}

// seg is a segment of a var path: the key of an object, or (idx) the
// index of an array, which is the key read as a number the way the
// evaluator always has (a key that is not a number is 0).
type seg struct {
	key string
	idx int
}

// loc is the place of an operator in the condition as written, for error
// messages: the operator, its parent operator and the argument of the
// parent it is found in (arg, then indices inside literal arrays).
type loc struct {
	op  string
	up  *loc
	idx []int
}

// path renders where the operator is, in the form "and[1].some[0]"; "" is
// the top level.
func (l *loc) path() string {
	if l == nil || l.up == nil {
		return ""
	}
	var b strings.Builder
	l.writePath(&b)
	return b.String()
}

func (l *loc) writePath(b *strings.Builder) {
	if l.up == nil {
		return
	}
	l.up.writePath(b)
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(l.up.op)
	for _, i := range l.idx {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(']')
	}
}

// String describes the operator and its place: `"some" at and[1]`.
func (l *loc) String() string {
	return strconv.Quote(l.op) + " at " + where(l.path())
}

func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

var constNil = &node{op: opConst}

// newOp returns an operator node, which costs 1 plus 1 per argument.
func newOp(code opcode, args []*node, at *loc) *node {
	return &node{op: code, args: args, cost: 1 + int64(len(args)), at: at}
}

// compiler builds the nodes of a condition and, alongside, the rule in the
// form github.com/diegoholiveira/jsonlogic/v3 needs to give the same
// results (see LibraryForm).
type compiler struct {
	// inPred counts the some/all/none predicates being compiled.
	inPred int
	depth  int
	// paths are the literal paths read (see PathRef); enclosing describes
	// the elements of the quantifiers whose predicate is being compiled,
	// outermost first.
	paths     []*PathRef
	enclosing []Elements
}

// value compiles v found in argument idx of the operator at up (idx holds
// the argument, then indices inside literal arrays).
func (c *compiler) value(v any, up *loc, idx []int) (*node, any, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxCompileDepth {
		return nil, nil, fmt.Errorf("condition nests deeper than %d levels", maxCompileDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		return c.operation(x, up, idx)
	case []any:
		nodes := make([]*node, len(x))
		lib := make([]any, len(x))
		static := true
		for i, e := range x {
			n, l, err := c.value(e, up, append(idx[:len(idx):len(idx)], i))
			if err != nil {
				return nil, nil, err
			}
			nodes[i], lib[i] = n, l
			static = static && n.op == opConst
		}
		if static {
			return &node{op: opConst, val: lib}, lib, nil
		}
		return &node{op: opArray, args: nodes, cost: 1 + int64(len(x)), at: up}, lib, nil
	case nil:
		return constNil, nil, nil
	case bool, float64, string:
		return &node{op: opConst, val: x}, x, nil
	}
	return nil, nil, fmt.Errorf("condition holds a %T value at %s", v, where(argPath(up, idx)))
}

// argPath is the path of argument idx of the operator at up.
func argPath(up *loc, idx []int) string {
	if up == nil {
		return ""
	}
	return (&loc{op: "?", up: up, idx: idx}).path()
}

func isOperator(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func (c *compiler) operation(m map[string]any, up *loc, idx []int) (*node, any, error) {
	if len(m) != 1 {
		return nil, nil, fmt.Errorf("object at %s has %d keys: an operator object has exactly one", where(argPath(up, idx)), len(m))
	}
	var name string
	var arg any
	for k, v := range m {
		name, arg = k, v
	}
	l := &loc{op: name, up: up, idx: idx}
	info, ok := ops[name]
	if !ok {
		return nil, nil, fmt.Errorf("unknown operator %s", l)
	}
	args, isArray := arg.([]any)
	if !isArray {
		args = []any{arg}
	}
	if n := len(args); n < info.min || (info.max >= 0 && n > info.max) {
		return nil, nil, fmt.Errorf("operator %s takes %s arguments, got %d", l, info.arity, n)
	}
	if err := checkArgs(name, args, l); err != nil {
		return nil, nil, err
	}
	code := info.code
	quantifier := code == opSome || code == opAll || code == opNone
	nodes := make([]*node, len(args))
	libs := make([]any, len(args))
	var subjectVar *PathRef // the path of a quantifier's var subject
	for i, a := range args {
		pred := quantifier && i == 1
		if pred {
			c.inPred++
			c.enclosing = append(c.enclosing, elementsOf(args[0], subjectVar))
		}
		before := len(c.paths)
		n, lib, err := c.value(a, l, []int{i})
		if pred {
			c.inPred--
			c.enclosing = c.enclosing[:len(c.enclosing)-1]
		}
		if quantifier && i == 0 && len(c.paths) == before+1 {
			subjectVar = c.paths[before]
		}
		if err != nil {
			return nil, nil, err
		}
		nodes[i], libs[i] = n, lib
	}
	switch code {
	case opMissingList, opMissingSome:
		list := args
		if code == opMissingSome {
			list, _ = args[1].([]any)
		}
		for _, a := range list {
			if p, ok := a.(string); ok {
				c.recordPath(name, p, l)
			}
		}
	}
	switch code {
	case opVar:
		return c.varNode(args, nodes, libs, l)
	case opMissingList:
		// A single operator argument produces the list of paths.
		if len(args) == 1 && isOperator(args[0]) {
			return newOp(opMissing, nodes, l), map[string]any{"missing": libs[0]}, nil
		}
	case opSome, opAll, opNone:
		// The library takes a literal array as it is, without evaluating
		// the operators inside it: merge evaluates them.
		if arr, ok := libs[0].([]any); ok && holdsOperator(arr) {
			libs[0] = map[string]any{"merge": []any{arr}}
			nodes[0] = newOp(opMerge, []*node{nodes[0]}, l)
		}
		// The library applies the predicate, which must be an operator
		// object: a bare var is turned into its truthiness.
		if pm, ok := libs[1].(map[string]any); ok {
			if _, bare := pm["var"]; bare {
				libs[1] = map[string]any{"!!": []any{libs[1]}}
				nodes[1] = newOp(opNotNot, []*node{nodes[1]}, l)
			}
		}
	}
	n := newOp(code, nodes, l)
	lib := map[string]any{name: libs}
	switch code {
	case opEq, opStrictEq, opNe, opStrictNe, opLt, opLe, opGt, opGe:
		return guardComparison(n, lib, libs, l)
	}
	return n, lib, nil
}

// checkArgs checks the argument types an operator requires.
func checkArgs(name string, args []any, l *loc) error {
	switch name {
	case "var":
		if len(args) > 0 {
			if _, ok := args[0].(string); !ok {
				return fmt.Errorf("operator %s: the path must be a string, got %s", l, typeName(args[0]))
			}
		}
	case "missing":
		if len(args) == 1 && isOperator(args[0]) {
			return nil
		}
		for i, a := range args {
			if _, ok := a.(string); !ok && !isOperator(a) {
				return fmt.Errorf("operator %s: argument %d must be a string path, got %s", l, i, typeName(a))
			}
		}
	case "missing_some":
		if _, ok := args[0].(float64); !ok && !isOperator(args[0]) {
			return fmt.Errorf("operator %s: the first argument must be a number, got %s", l, typeName(args[0]))
		}
		switch list := args[1].(type) {
		case []any:
			for i, a := range list {
				if _, ok := a.(string); !ok && !isOperator(a) {
					return fmt.Errorf("operator %s: path %d must be a string, got %s", l, i, typeName(a))
				}
			}
		case map[string]any:
		default:
			return fmt.Errorf("operator %s: the second argument must be an array of paths, got %s", l, typeName(args[1]))
		}
	case "some", "all", "none":
		if _, ok := args[0].([]any); !ok && !isOperator(args[0]) {
			return fmt.Errorf("operator %s: the first argument must be an array or an operator, got %s", l, typeName(args[0]))
		}
		if !isOperator(args[1]) {
			return fmt.Errorf("operator %s: the second argument must be an operator, got %s", l, typeName(args[1]))
		}
	case "in":
		switch args[1].(type) {
		case string, []any, map[string]any:
		default:
			return fmt.Errorf("operator %s: the second argument must be a string, an array or an operator, got %s", l, typeName(args[1]))
		}
	}
	return nil
}

// varNode builds a var from its arguments as written (args) and compiled.
//
// Paths are split at dots once, here; empty segments are skipped, so "",
// "." and ".a" are the current data and a. Inside a predicate the path
// reads the current element first, then the enclosing data (scope > 0).
// In the library form such a path is written ".p", which reads the element
// only (the library cannot read the enclosing data without running it as
// logic; the differential tests compare the fallback with a reference of
// their own): the library substitutes every other var of a predicate
// from the enclosing data before it runs the predicate (and then runs the
// substituted value as logic), except paths that are "" or start with ".",
// which getVar reads like p. A var with a default would be substituted
// too, so inside a predicate {"var":[p,d]} is compiled as
// {"if":[{"!==":[{"var":".p"},null]},{"var":".p"},d]}, which is its
// meaning; the nodes follow the same form, so both evaluate d only when p
// is missing.
func (c *compiler) varNode(args []any, nodes []*node, libs []any, l *loc) (*node, any, error) {
	p := ""
	if len(args) > 0 {
		p = args[0].(string) // checked by checkArgs
	}
	c.recordPath("var", p, l)
	libPath := p
	if c.inPred > 0 && p != "" && !strings.HasPrefix(p, ".") {
		libPath = "." + p
	}
	segs := splitPath(p)
	// One per segment, and one per 64 bytes of the path: a long key is
	// hashed at every map it is looked up in.
	v := &node{op: opVar, segs: segs, scope: c.inPred, cost: 1 + int64(len(segs)) + int64(len(p)>>6), at: l}
	if len(args) < 2 {
		return v, map[string]any{"var": libPath}, nil
	}
	if c.inPred == 0 {
		v.args, v.hasDef = []*node{nodes[1]}, true
		v.cost++
		return v, map[string]any{"var": []any{libPath, libs[1]}}, nil
	}
	vl := map[string]any{"var": libPath}
	guard := newOp(opStrictNe, []*node{v, constNil}, l)
	n := newOp(opIf, []*node{guard, v, nodes[1]}, l)
	return n, map[string]any{"if": []any{map[string]any{"!==": []any{vl, nil}}, vl, libs[1]}}, nil
}

// splitPath splits a var path at dots, without the empty segments.
func splitPath(p string) []seg {
	var segs []seg
	for part := range strings.SplitSeq(p, ".") {
		if part == "" {
			continue
		}
		f, _ := strconv.ParseFloat(part, 64)
		segs = append(segs, seg{key: part, idx: int(f)})
	}
	return segs
}

// holdsOperator reports whether a literal array contains an operator
// object at any depth.
func holdsOperator(arr []any) bool {
	for _, e := range arr {
		switch x := e.(type) {
		case map[string]any:
			return true
		case []any:
			if holdsOperator(x) {
				return true
			}
		}
	}
	return false
}

// guardComparison applies the missing-values rule to a compiled
// comparison: each operand that is a var without a default, when no
// operand is the literal null, must not be null for the comparison to
// hold. The comparison becomes
//
//	{"and":[{"!==":[{"var":p},null]}, …one per distinct such var…, comparison]}
//
// so a missing or null value makes it false instead of being compared as
// null.
func guardComparison(n *node, lib map[string]any, libs []any, l *loc) (*node, any, error) {
	if slices.Contains(libs, nil) {
		return n, lib, nil // an explicit comparison with null
	}
	var guardNodes []*node
	var guardLibs, seen []any
	for i, a := range libs {
		m, ok := a.(map[string]any)
		if !ok || len(m) != 1 {
			continue
		}
		p, ok := m["var"]
		if !ok {
			continue
		}
		if _, hasDefault := p.([]any); hasDefault {
			continue // [path, default]: the default applies
		}
		if slices.Contains(seen, p) {
			continue
		}
		seen = append(seen, p)
		guardLibs = append(guardLibs, map[string]any{"!==": []any{m, nil}})
		guardNodes = append(guardNodes, newOp(opStrictNe, []*node{n.args[i], constNil}, l))
	}
	if len(guardNodes) == 0 {
		return n, lib, nil
	}
	return newOp(opAnd, append(guardNodes, n), l), map[string]any{"and": append(guardLibs, lib)}, nil
}
