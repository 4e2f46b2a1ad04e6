package logic

import "strings"

// A PathRef is a literal path a condition reads: the path of a var, or a
// literal path given to missing or missing_some. Paths computed by the
// condition (a missing over an operator's result) are not listed.
type PathRef struct {
	// Op is the operator that reads the path: "var", "missing" or
	// "missing_some".
	Op string
	// Path is the path as written; Segments its non-empty segments (none
	// for "" and ".": the current data itself).
	Path     string
	Segments []string
	// At is the operator's place ("some[1].in[1]", "" for the top level).
	At string
	// In lists the quantifiers (some, all, none) whose predicate the path
	// is in, innermost first; it is empty outside predicates. Inside a
	// predicate a path with a segment is read in the current element
	// first, then in the enclosing elements, then in the condition's
	// data: it reads the condition's data alone only when none of the
	// elements can have a value there.
	In []Elements
}

// Elements describes the elements of a quantifier's array as far as the
// condition alone tells.
type Elements struct {
	// Scalars is true when the array is a literal array of strings,
	// numbers, booleans and nulls, in which no path with a segment has a
	// value.
	Scalars bool
	// From is the var the array is read from when it is a var without a
	// default, nil otherwise: the caller may know the shape of what it
	// reads.
	From *PathRef
}

// Paths returns the literal paths the condition reads, in the order they
// appear; nil for nil and for a broken condition. They belong to c: do not
// modify them.
func (c *Cond) Paths() []*PathRef {
	if c == nil || c.prog == nil {
		return nil
	}
	return c.prog.paths
}

// Paths returns the literal paths the program reads (see Cond.Paths).
func (p *Program) Paths() []*PathRef { return p.paths }

// recordPath records a literal path read by op at l.
func (c *compiler) recordPath(op, path string, l *loc) *PathRef {
	var segs []string
	for part := range strings.SplitSeq(path, ".") {
		if part != "" {
			segs = append(segs, part)
		}
	}
	in := make([]Elements, len(c.enclosing))
	for i, e := range c.enclosing {
		in[len(in)-1-i] = e
	}
	if len(in) == 0 {
		in = nil
	}
	r := &PathRef{Op: op, Path: path, Segments: segs, At: l.path(), In: in}
	c.paths = append(c.paths, r)
	return r
}

// elementsOf describes the elements of the array a quantifier's first
// argument, as written, produces; fromVar is the path recorded for it when
// it is a var.
func elementsOf(arg any, fromVar *PathRef) Elements {
	switch x := arg.(type) {
	case []any:
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return Elements{}
			}
		}
		return Elements{Scalars: true}
	case map[string]any:
		v, ok := x["var"]
		if !ok {
			return Elements{}
		}
		if list, isList := v.([]any); isList && len(list) > 1 {
			return Elements{} // a default could be anything
		}
		return Elements{From: fromVar}
	}
	return Elements{}
}
