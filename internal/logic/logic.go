// Package logic evaluates JSON Logic conditions with a bounded, counted
// cost.
//
// A condition is compiled once (Compile) into a Program, which evaluates
// it on JSON-shaped data any number of times, concurrently (Eval). Each
// evaluation charges its operations to a Budget, which the caller creates
// per evaluation and shares among all the conditions that evaluation runs;
// when the budget runs out, or its context is done, evaluation stops at
// once with an error. Compile also computes a static cost (StaticCost):
// the operations the condition costs whatever the data, so that a caller
// can refuse at write time a condition that could never fit its budget.
//
// Cond is the form callers store: Parse (or ParseDecoded, for a condition
// embedded in a larger document, or Stored, for one read back from
// storage) validates a condition against the rules callers accept (one
// operator per object, literal var paths, argument types, MaxDepth,
// MaxNodes and a static cost of at most MaxCost) and compiles it once;
// Cond.Eval then decides it on data built with Value, charging a Budget,
// and failing closed: anything but a boolean true is false, with an error
// saying why. The commonest form, one var compared with a literal, also
// has a fast form (Compare) that decides on the value alone, so a caller
// can look the value up without building the data.
//
// Concurrency: Program, Cond and Compare are immutable and safe for
// concurrent use; a Budget belongs to one evaluation at a time.
//
// Errors: an invalid condition, or invalid JSON given as one, is an
// *Error whose message names the rule broken and where (its Path); an
// evaluation that runs out of budget returns an error wrapping
// ErrBudgetExceeded (a *BudgetError), one stopped by its context wraps the
// context's error; other evaluation errors describe the operator at fault.
//
// The semantics are those of github.com/diegoholiveira/jsonlogic/v3
// v3.9.1, which evaluated conditions before this package existed, on the
// rules its caller accepts, with three differences: values read from the
// data are values, never run as logic (the library ran an object returned
// by an if branch, or found among the paths given to missing, as an
// operator); inside the predicate of some, all and none a path the element
// has no value at is read in the enclosing data (see Program); and the
// budget. A differential test holds the two to the same results, and to a
// reference evaluator of its own where a predicate reads the enclosing
// data. Cond.Paths lists the literal paths a condition reads, for a caller
// that knows the shape of its data to refuse paths that read nothing.
package logic

import "fmt"

// Program is a compiled condition. It is immutable and safe for concurrent
// use.
//
// Operators (argument counts are checked by Compile):
//
//	== === != !== < <= > >= and or ! !! if ?: in var missing missing_some
//	some all none merge cat substr + - * / % min max
//
// The rule is JSON Logic as encoding/json decodes it (objects with one key,
// the operator; float64 numbers). Beyond plain JSON Logic:
//   - var paths are literal strings split at dots (empty segments are
//     skipped; a segment indexes an array by its numeric value, a
//     non-numeric segment being 0). Inside the predicate of some, all and
//     none a var reads the current element first and, when it has no value
//     there (absent or null), the enclosing data: the enclosing elements
//     from the innermost outward, then the data Eval was given. The empty
//     path is the current element only. The paths missing and
//     missing_some look up resolve the same way;
//   - a literal array given to some, all or none that holds operators is
//     evaluated (as merge of it);
//   - a bare var as the predicate of some, all or none stands for its
//     truthiness;
//   - the missing-values rule: a comparison (== === != !== < <= > >=) with
//     a direct operand {"var":path} without a default, and no operand that
//     is the literal null, holds only when every such var has a value that
//     is not null. It is compiled as
//     {"and":[{"!==":[{"var":path},null]}, …, comparison]};
//   - cat of two or more values trims surrounding white space from its
//     result;
//   - if with an odd number of arguments has an else; with an even number
//     and no condition true it is null.
//
// Values convert as that library converts them: see Truthy for what
// counts as true; comparisons treat null as 0 against numbers but equal to
// null only, compare two strings as strings and anything else as numbers
// (a string that does not parse completely, an array or an object is NaN);
// arithmetic, substr positions and in's ranges parse strings (0 when they
// are not numbers) and fail on null, booleans, arrays and objects. Errors
// (arithmetic on null, in with a non-string needle in a string, some over
// a string, substr ending before it starts…) stop the evaluation with an
// error naming the operator and its place.
//
// Cost. Every operator application charges 1 operation plus 1 per
// argument (the arguments' own operations come on top); var charges 1
// plus one per path segment (plus one for a default), and one more per
// segment for each enclosing data it is looked up in; a literal array
// holding operators 1 plus one per element; some, all and none 1 per
// element visited (the predicate's operations come on top); in over an
// array 1 per element; merge 1 per element produced; missing and
// missing_some 1 per path plus one per segment of each path they look up
// (in each data they look it up in);
// and every operator 1 per 64 bytes of each string it reads, compares,
// parses or produces (cat and substr charge before building their result).
// Literals, however large, cost nothing to produce: they are not copied.
// So the time and the memory an evaluation takes are proportional to the
// operations it is charged: in all it allocates at most about 64 bytes per
// operation (a quantifier nested more than 4 deep allocates room for the
// enclosing data once per run).
type Program struct {
	root   *node
	lib    any
	static int64
	quants []Quantifier
	paths  []*PathRef
}

// Compile compiles a rule: an operator object, decoded from JSON into
// map[string]any, []any, float64, string, bool and nil. It checks
// operators, argument counts and the argument types some operators require
// (var paths are strings; missing takes string paths or one operator;
// missing_some a count and an array of paths or an operator; some, all and
// none an array or an operator, then an operator; in a string, an array or
// an operator as the second argument) and returns an error for anything
// else. It does not modify rule and keeps no reference to it.
func Compile(rule any) (*Program, error) {
	if _, ok := rule.(map[string]any); !ok {
		return nil, fmt.Errorf("a condition must be an operator object, not %s", typeName(rule))
	}
	c := &compiler{}
	root, lib, err := c.value(rule, nil, nil)
	if err != nil {
		return nil, err
	}
	p := &Program{root: root, lib: lib, paths: c.paths}
	s := &coster{}
	p.static = s.cost(root, 1, 0)
	p.quants = s.quants
	return p, nil
}

// Eval evaluates the program on data, charging b (nil: unlimited), and
// returns the condition's value. data must be JSON-shaped (as Compile's
// rule); it is read, never modified, and values from it are returned as
// they are (not copied). The error is the budget's when it runs out or its
// context is done (errors.Is ErrBudgetExceeded, or the context's error),
// or an evaluation error.
func (p *Program) Eval(data any, b *Budget) (any, error) {
	var frames [4]any // room for the data of 4 nested quantifiers (see eval.go)
	return p.root.eval(data, frames[:0], b)
}

// LibraryForm returns the rule rewritten so that
// github.com/diegoholiveira/jsonlogic/v3 v3.9.1 evaluates it as this
// package does (vars inside predicates written ".path", literal arrays of
// quantifiers wrapped in merge, the missing-values guards…), wherever the
// data holds no object with one key and no path inside a predicate finds
// its value in the enclosing data only (the library form reads the
// element only). It is what the differential tests
// feed the library. The result is shared: do not modify it.
func (p *Program) LibraryForm() any { return p.lib }
