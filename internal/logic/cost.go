package logic

// costCap caps static costs, which multiply.
const costCap = int64(1) << 50

func addCost(a, b int64) int64 {
	if a+b > costCap {
		return costCap
	}
	return a + b
}

func mulCost(a, b int64) int64 {
	if a != 0 && b > costCap/a {
		return costCap
	}
	return a * b
}

// Quantifier is a some, all or none over a static array (a literal array,
// or merge of literal arrays), as StaticCost counts it.
type Quantifier struct {
	// Op is "some", "all" or "none"; Path its place ("and[1].some[1]", ""
	// for the top level).
	Op, Path string
	// Iterations is how many times its predicate runs in all (the product
	// of the lengths of the static arrays of the quantifiers it is in, and
	// its own).
	Iterations int64
	// Ops is its static cost in all: its own and its predicate's, times
	// the number of times it runs.
	Ops int64
	// Depth is the number of quantifiers it is in.
	Depth int
}

// StaticCost returns the operations an evaluation of p costs when no
// operator stops early (and, or and some run every argument and element,
// if its costliest branch) and every value read from the data is as
// cheap as can be (arrays empty, strings short): each quantifier over a
// static array runs its predicate once per element, nested ones multiply.
// Values from the data can only make an evaluation cost more, and
// operators that stop early less. It saturates at 2^50.
func (p *Program) StaticCost() int64 { return p.static }

// Hotspot returns the quantifier to blame for a static cost above limit:
// the innermost one whose own cost in all exceeds limit, or else the one
// that costs most. ok is false when p has no quantifier over a static
// array.
func (p *Program) Hotspot(limit int64) (q Quantifier, ok bool) {
	for _, x := range p.quants {
		if x.Ops > limit && (!ok || x.Depth > q.Depth) {
			q, ok = x, true
		}
	}
	if ok {
		return q, true
	}
	for _, x := range p.quants {
		if !ok || x.Ops > q.Ops {
			q, ok = x, true
		}
	}
	return q, ok
}

// coster computes static costs.
type coster struct {
	quants []Quantifier
}

// constWork is the string work of a literal operand.
func constWork(n *node) int64 {
	if n.op == opConst {
		return strWork(n.val)
	}
	return 0
}

// staticLen is the least number of elements n produces when it produces an
// array: the length of a literal array, the sum for merge of literals.
func staticLen(n *node) int64 {
	switch n.op {
	case opConst:
		if arr, ok := n.val.([]any); ok {
			return int64(len(arr))
		}
	case opArray:
		return int64(len(n.args))
	case opMerge:
		var total int64
		for _, a := range n.args {
			switch {
			case a.op == opConst:
				if arr, ok := a.val.([]any); ok {
					total += int64(len(arr))
				} else {
					total++
				}
			case a.op == opArray || a.op == opMerge:
				total += staticLen(a)
			}
		}
		return total
	}
	return 0
}

// cost returns the static cost of one evaluation of n; mult is how many
// times n runs in all and depth the number of quantifiers it is in.
func (s *coster) cost(n *node, mult int64, depth int) int64 {
	if n.op == opConst {
		return 0
	}
	total := n.cost
	args := func() {
		for _, a := range n.args {
			total = addCost(total, s.cost(a, mult, depth))
		}
	}
	switch n.op {
	case opIf:
		// The costliest way through: conditions up to a true one, then its
		// branch; or every condition, then the else.
		var conds, most int64
		last := len(n.args) - 1
		for i := 0; i < last; i += 2 {
			conds = addCost(conds, s.cost(n.args[i], mult, depth))
			most = max(most, addCost(conds, s.cost(n.args[i+1], mult, depth)))
		}
		if len(n.args)%2 == 1 {
			most = max(most, addCost(conds, s.cost(n.args[last], mult, depth)))
		} else {
			most = max(most, conds)
		}
		return addCost(total, most)
	case opSome, opAll, opNone:
		subject := n.args[0]
		total = addCost(total, s.cost(subject, mult, depth))
		iters := staticLen(subject)
		if iters == 0 {
			return total // an array from the data may be empty
		}
		i := len(s.quants)
		s.quants = append(s.quants, Quantifier{Op: n.at.op, Path: n.at.path(), Iterations: mulCost(mult, iters), Depth: depth})
		pred := s.cost(n.args[1], mulCost(mult, iters), depth+1)
		total = addCost(total, mulCost(iters, addCost(1, pred)))
		s.quants[i].Ops = mulCost(mult, total)
		return total
	case opEq, opNe, opStrictEq, opStrictNe, opGt, opGe, opLt, opLe, opSubstr, opAdd, opSub, opMul, opDiv, opMod, opMin, opMax:
		args()
		for _, a := range n.args {
			total = addCost(total, constWork(a))
		}
	case opIn:
		args()
		switch h := n.args[1]; {
		case h.op == opConst:
			switch v := h.val.(type) {
			case string:
				needle := 0
				if x, ok := n.args[0].val.(string); ok && n.args[0].op == opConst {
					needle = len(x)
				}
				total = addCost(total, int64((len(v)+needle)>>6))
			case []any:
				total = addCost(total, int64(len(v))+constWork(n.args[0]))
			}
		case h.op == opArray || h.op == opMerge:
			total = addCost(total, staticLen(h)+constWork(n.args[0]))
		}
	case opMerge:
		args()
		total = addCost(total, staticLen(n))
	case opCat:
		args()
		var bytes int64
		for _, a := range n.args {
			if x, ok := a.val.(string); ok && a.op == opConst {
				bytes += int64(len(x))
			}
		}
		total = addCost(total, bytes>>6)
	case opMissingList, opMissingSome:
		args()
		paths := n.args
		if n.op == opMissingSome {
			paths = nil
			if n.args[1].op == opArray {
				paths = n.args[1].args
			} else if arr, ok := n.args[1].val.([]any); ok && n.args[1].op == opConst {
				for _, p := range arr {
					total = addCost(total, 1+pathWork(p))
				}
			}
		}
		for _, p := range paths {
			total = addCost(total, 1)
			if p.op == opConst {
				total = addCost(total, pathWork(p.val))
			}
		}
	case opMissing:
		args()
		total = addCost(total, staticLen(n.args[0]))
	default:
		args()
	}
	return total
}

// pathWork is what pathValue charges for a literal path, on data that is an
// object.
func pathWork(p any) int64 {
	s, ok := p.(string)
	if !ok || s == "" {
		return 0
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			dots++
		}
	}
	return int64(dots + 1 + len(s)>>6)
}
