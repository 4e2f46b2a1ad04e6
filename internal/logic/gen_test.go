package logic

import (
	"math"
	"math/rand/v2"
)

// chooser drives a generator: a seeded random source in property tests, a
// fuzzer's bytes in fuzz targets.
type chooser interface {
	// intn returns a number in [0, n).
	intn(n int) int
}

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }

// byteChooser consumes one byte per choice; once the bytes run out every
// choice is 0.
type byteChooser struct{ b []byte }

func (c *byteChooser) intn(n int) int {
	if len(c.b) == 0 || n <= 1 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

// ruleGen generates conditions over every operator, in the form our
// caller's compiler accepts (operator objects with valid argument counts
// and types), with nasty literals.
type ruleGen struct {
	c chooser
	// maxDepth bounds nesting; predicate says a some/all/none predicate is
	// being generated (vars then read the element).
	maxDepth  int
	predicate int
}

func (g *ruleGen) pick(n int) int { return g.c.intn(n) }

func (g *ruleGen) chance(pct int) bool { return g.pick(100) < pct }

// nastyStrings are strings that convert in odd ways.
var nastyStrings = []string{"", " ", "a", "b", "abc", "0", "-0", "1", "01", "1.5", "3", "1e3", "1e400", "-1e400", "1e-400",
	"0x10", "0x1p4", "inf", "Infinity", "NaN", " 2", "2 ", "1_000", "é", "日本", "\xff", "a\xffb", "a.b", "true", "null",
	" pad ", "\t", "x.y", "-1", "+1", ".5", "5.", "9007199254740993", "ab", "日"}

// nastyNumbers are numbers from JSON (no NaN or infinities).
var nastyNumbers = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 2, 3, -2.5, 1e21, 1e308, -1e308, 5e-324, 9007199254740993,
	1e-7, 100, 1.5, 7, 18, 4294967296, -9.223372036854776e18, 1e19}

// dataNumbers add what only Go data can hold.
var dataNumbers = append([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}, nastyNumbers...)

// paths are var and missing paths over genData's keys, with odd forms.
var paths = []string{"", "a", "b", "s", "n", "z", "t", "f", "arr", "arr.0", "arr.1", "arr.2.0", "arr.-1", "arr.1e0", "arr.x",
	"arr. 1", "obj", "obj.x", "obj.y.0", "obj.", ".a", "a..b", "nested.deep.v", "missing", "missing.x", "nul", "list", "0", "1",
	"str.0", "objs", "objs.0.k", "e"}

// elemPaths are paths read inside predicates, on elements; they are read
// in the enclosing data too when the element has no value there, and the
// paths of the data are read there as well (elements may hold a, n and
// obj: their values shadow the data's).
var elemPaths = []string{"", "x", "y", "0", "1", "k", "y.0", ".x", "missing", "x.x", "a", "n", "obj.x"}

func (g *ruleGen) scalar() any {
	switch g.pick(6) {
	case 0:
		return nil
	case 1:
		return g.pick(2) == 0
	case 2, 3:
		return nastyNumbers[g.pick(len(nastyNumbers))]
	default:
		return nastyStrings[g.pick(len(nastyStrings))]
	}
}

// literalArray is an array of scalars and nested arrays.
func (g *ruleGen) literalArray(depth int) []any {
	out := []any{}
	for range g.pick(5) {
		if depth < 2 && g.chance(15) {
			out = append(out, g.literalArray(depth+1))
		} else {
			out = append(out, g.scalar())
		}
	}
	return out
}

// value is an argument: a literal or an operator.
func (g *ruleGen) value(depth int) any {
	if depth >= g.maxDepth || g.chance(40) {
		if g.chance(15) {
			return g.literalArray(0)
		}
		if g.chance(35) {
			return g.varOp(depth)
		}
		return g.scalar()
	}
	if g.chance(8) {
		// A literal array holding operators.
		arr := []any{}
		for range 1 + g.pick(3) {
			arr = append(arr, g.value(depth+1))
		}
		return arr
	}
	return g.op(depth)
}

func (g *ruleGen) path() string {
	if g.predicate > 0 && g.pick(3) > 0 {
		return elemPaths[g.pick(len(elemPaths))]
	}
	return paths[g.pick(len(paths))]
}

func (g *ruleGen) varOp(depth int) map[string]any {
	p := g.path()
	switch g.pick(5) {
	case 0:
		return map[string]any{"var": []any{p}}
	case 1:
		if depth < g.maxDepth {
			return map[string]any{"var": []any{p, g.value(depth + 1)}}
		}
		return map[string]any{"var": []any{p, g.scalar()}}
	case 2:
		if g.chance(30) {
			return map[string]any{"var": []any{}}
		}
	}
	return map[string]any{"var": p}
}

var genOps = []string{"==", "===", "!=", "!==", "<", "<=", ">", ">=", "and", "or", "!", "!!", "if", "?:", "in", "var",
	"missing", "missing_some", "some", "all", "none", "merge", "cat", "substr", "+", "-", "*", "/", "%", "min", "max"}

// rule returns a top-level condition.
func (g *ruleGen) rule() map[string]any {
	return g.opNamed(genOps[g.pick(len(genOps))], 0)
}

func (g *ruleGen) op(depth int) map[string]any {
	return g.opNamed(genOps[g.pick(len(genOps))], depth)
}

// args returns between lo and hi values.
func (g *ruleGen) args(depth, lo, hi int) []any {
	n := lo + g.pick(hi-lo+1)
	out := make([]any, n)
	for i := range out {
		out[i] = g.value(depth + 1)
	}
	return out
}

// wrap writes a single argument without its array now and then.
func (g *ruleGen) wrap(name string, args []any) map[string]any {
	if len(args) == 1 && name != "var" && name != "missing" && g.chance(25) {
		if _, isArr := args[0].([]any); !isArr {
			return map[string]any{name: args[0]}
		}
	}
	return map[string]any{name: args}
}

func (g *ruleGen) opNamed(name string, depth int) map[string]any {
	switch name {
	case "==", "===", "!=", "!==", ">", ">=", "/", "%":
		return map[string]any{name: g.args(depth, 2, 2)}
	case "<", "<=":
		return map[string]any{name: g.args(depth, 2, 3)}
	case "and", "or", "+", "*", "min", "max":
		return g.wrap(name, g.args(depth, 1, 3))
	case "if":
		return g.wrap(name, g.args(depth, 1, 5))
	case "?:":
		return map[string]any{name: g.args(depth, 3, 3)}
	case "!", "!!":
		return g.wrap(name, g.args(depth, 1, 1))
	case "-":
		return g.wrap(name, g.args(depth, 1, 2))
	case "merge", "cat":
		return g.wrap(name, g.args(depth, 0, 3))
	case "substr":
		return map[string]any{name: g.args(depth, 2, 3)}
	case "in":
		var hay any
		switch g.pick(3) {
		case 0:
			hay = nastyStrings[g.pick(len(nastyStrings))]
		case 1:
			arr := g.literalArray(0)
			if g.chance(30) {
				arr = append(arr, []any{g.scalar(), g.scalar()}) // a range
			}
			hay = arr
		default:
			hay = g.opOrVar(depth)
		}
		return map[string]any{name: []any{g.value(depth + 1), hay}}
	case "var":
		return g.varOp(depth)
	case "missing":
		if g.chance(30) {
			return map[string]any{name: g.opOrVar(depth)}
		}
		list := []any{}
		for range 1 + g.pick(3) {
			if g.chance(20) {
				list = append(list, g.opOrVar(depth))
			} else {
				list = append(list, g.path())
			}
		}
		if len(list) == 1 && g.chance(30) {
			if s, ok := list[0].(string); ok {
				return map[string]any{name: s}
			}
		}
		return map[string]any{name: list}
	case "missing_some":
		var need any = float64(g.pick(4))
		if g.chance(20) {
			need = g.opOrVar(depth)
		}
		var list any
		if g.chance(25) {
			list = g.opOrVar(depth)
		} else {
			l := []any{}
			for range g.pick(4) {
				l = append(l, g.path())
			}
			list = l
		}
		return map[string]any{name: []any{need, list}}
	case "some", "all", "none":
		var subject any
		switch g.pick(4) {
		case 0:
			subject = g.literalArray(0)
		case 1:
			arr := []any{}
			for range g.pick(4) {
				arr = append(arr, g.value(depth+1))
			}
			subject = arr
		default:
			subject = g.opOrVar(depth)
		}
		g.predicate++
		var pred any
		if g.chance(20) {
			pred = g.varOp(depth + 1)
		} else if depth+1 < g.maxDepth {
			pred = g.op(depth + 1)
		} else {
			pred = map[string]any{"==": []any{map[string]any{"var": g.path()}, g.scalar()}}
		}
		g.predicate--
		return map[string]any{name: []any{subject, pred}}
	}
	panic("no generator for " + name)
}

// opOrVar is an operator, often a var.
func (g *ruleGen) opOrVar(depth int) map[string]any {
	if depth+1 >= g.maxDepth || g.chance(50) {
		return g.varOp(depth)
	}
	return g.op(depth + 1)
}

// dataGen generates JSON-shaped data for the paths above.
type dataGen struct {
	c chooser
	// oneKeyObjects allows objects with exactly one key, which the library
	// runs as logic when a rule returns them from an if branch.
	oneKeyObjects bool
}

func (g *dataGen) pick(n int) int { return g.c.intn(n) }

func (g *dataGen) scalar() any {
	switch g.pick(6) {
	case 0:
		return nil
	case 1:
		return g.pick(2) == 0
	case 2, 3:
		return dataNumbers[g.pick(len(dataNumbers))]
	default:
		return nastyStrings[g.pick(len(nastyStrings))]
	}
}

func (g *dataGen) value(depth int) any {
	if depth >= 3 {
		return g.scalar()
	}
	switch g.pick(8) {
	case 0:
		return g.array(depth)
	case 1:
		return g.object(depth)
	default:
		return g.scalar()
	}
}

func (g *dataGen) array(depth int) []any {
	out := []any{}
	for range g.pick(5) {
		out = append(out, g.value(depth+1))
	}
	return out
}

// objectKeys are the keys of generated objects: some are keys of the data
// too, so that an element shadows them.
var objectKeys = []string{"x", "y", "k", "0", "1", "v", "a", "n", "obj"}

func (g *dataGen) object(depth int) map[string]any {
	n := g.pick(4)
	if n == 1 && !g.oneKeyObjects {
		n = 2
	}
	out := map[string]any{}
	for i := range n {
		out[objectKeys[(g.pick(len(objectKeys))+i)%len(objectKeys)]] = g.value(depth + 1)
	}
	if len(out) == 1 && !g.oneKeyObjects {
		out["v"], out["x"] = 1.0, 2.0
	}
	return out
}

// data returns the top-level data: every key of paths, each present now
// and then.
func (g *dataGen) data() map[string]any {
	d := map[string]any{}
	for _, k := range []string{"a", "b", "s", "n", "z", "t", "f", "arr", "obj", "nested", "nul", "list", "0", "1", "str", "objs", "e", ""} {
		if g.pick(4) == 0 {
			continue
		}
		d[k] = g.value(0)
	}
	if g.pick(2) == 0 {
		d["arr"] = g.array(0)
	}
	if g.pick(2) == 0 {
		d["obj"] = g.object(0)
	}
	if g.pick(3) == 0 {
		d["nested"] = map[string]any{"deep": map[string]any{"v": g.scalar(), "w": 1.0}, "z": 2.0}
	}
	if g.pick(3) == 0 {
		objs := []any{}
		for range g.pick(4) {
			objs = append(objs, g.object(1))
		}
		d["objs"] = objs
	}
	return d
}
