package logic

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/scopegate/authz/internal/testsize"
)

// hostileLimit is the budget of the hostile tests: the default budget of
// an evaluation.
const hostileLimit = 10000

// literalList writes a literal array of n numbers.
func literalList(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, i)
	}
	b.WriteByte(']')
	return b.String()
}

// hostileData is data meant to make conditions expensive: 100k-element
// arrays, a 1 MB string, many long strings, many objects.
func hostileData() map[string]any {
	big := make([]any, 100000)
	strs := make([]any, 100000)
	objs := make([]any, 100000)
	paths := make([]any, 100000)
	for i := range big {
		big[i] = float64(9000 + i%9000) // never in literalList(9000)
		strs[i] = fmt.Sprint("item-", i)
		objs[i] = map[string]any{"id": float64(i), "tags": []any{"a", "b"}}
		paths[i] = fmt.Sprint("p", i, ".q.r")
	}
	long := strings.Repeat("ab", 1<<19)
	longs := make([]any, 1000)
	for i := range longs {
		longs[i] = long[:4096]
	}
	return map[string]any{"context": map[string]any{
		"big": big, "strs": strs, "objs": objs, "paths": paths, "long": long, "longs": longs,
		"custom": map[string]any{"==": []any{1.0, 1.0}}, "n": 3.0,
	}}
}

// hostileGen generates conditions meant to be expensive: nested
// quantifiers over literal arrays, huge literal arrays, deep nesting,
// merge and cat blow-ups, in over big arrays and strings, all of these
// over the hostile data.
type hostileGen struct{ r *rand.Rand }

func (g hostileGen) pick(n int) int { return g.r.IntN(n) }

// predicate is a cheap predicate that never holds, so quantifiers run to
// the end.
func (g hostileGen) predicate() string {
	return []string{`{"==":[{"var":""},-1]}`, `{"in":[{"var":""},["x","y"]]}`, `{"!":{"var":""}}`, `{"<":[{"var":"x"},-1]}`}[g.pick(4)]
}

func (g hostileGen) nested(depth int) string {
	if depth == 0 {
		return g.predicate()
	}
	q := []string{"some", "none"}[g.pick(2)]
	return fmt.Sprintf(`{%q:[%s,%s]}`, q, literalList(1+g.pick(3000)), g.nested(depth-1))
}

// doubling is cat or merge of a value with itself, nested: it doubles at
// every level.
func (g hostileGen) doubling(op, leaf string, levels int) string {
	s := leaf
	for range levels {
		s = fmt.Sprintf(`{%q:[%s,%s]}`, op, s, s)
	}
	return s
}

// fallingBack nests quantifiers over data arrays depth deep (past the
// frames Program.Eval has room for) around a predicate whose vars have a
// value nowhere, so each climbs every enclosing element up to the data.
func (g hostileGen) fallingBack(depth int) string {
	s := `{"or":[{"==":[{"var":"context.a.b.c.d.e.f.g.h"},"x"]},{"!":{"missing":["p.q.r.s","context.zz"]}}]}`
	for range depth {
		q := []string{"some", "none", "all"}[g.pick(3)]
		s = fmt.Sprintf(`{%q:[{"var":%q},%s]}`, q, []string{"context.strs", "context.objs", "context.big"}[g.pick(3)], s)
	}
	return s
}

func (g hostileGen) rule() string {
	switch g.pick(13) {
	case 12:
		return g.fallingBack(1 + g.pick(20))
	case 0:
		return g.nested(1 + g.pick(4))
	case 1:
		// The issue's worst case: a data array against a literal list.
		return `{"some":[{"var":"context.big"},{"in":[{"var":""},` + literalList(9000) + `]}]}`
	case 2:
		return `{"in":[-1,` + literalList(1+g.pick(9999)) + `]}`
	case 3:
		// Deep nesting up to the depth limit, around a quantifier over data.
		s := `{"some":[{"var":"context.objs"},{"in":["z",{"var":"tags"}]}]}`
		for range 30 {
			wrap := []string{`{"!":[%s]}`, `{"and":[true,%s]}`, `{"if":[true,%s,false]}`, `{"or":[false,%s]}`}[g.pick(4)]
			s = fmt.Sprintf(wrap, s)
		}
		return s
	case 4:
		// Up to 2^11 leaves: about the node limit of a condition.
		return `{"==":[` + g.doubling("cat", []string{`{"var":"context.long"}`, `{"var":"context.n"}`}[g.pick(2)], 1+g.pick(11)) + `,""]}`
	case 5:
		return `{"in":[-1,` + g.doubling("merge", []string{`{"var":"context.big"}`, `{"var":"context.n"}`}[g.pick(2)], 1+g.pick(11)) + `]}`
	case 6:
		return `{"in":["zz",{"var":"context.long"}]}`
	case 7:
		return `{"in":[-1,{"var":"context.big"}]}`
	case 8:
		return `{"some":[{"var":"context.longs"},{"==":[{"substr":[{"var":""},1]},{"cat":[{"var":""},{"var":""}]}]}]}`
	case 9:
		return `{"missing":{"var":"context.paths"}}`
	case 10:
		return `{"some":[` + literalList(1+g.pick(2000)) + `,{"some":[{"var":"context.strs"},{"==":[{"var":""},"x"]}]}]}`
	default:
		return `{"all":[{"merge":[` + literalList(1000) + `,{"var":"context.big"}]},{"if":[{"var":"context.custom"},{">=":[{"var":""},0]},false]}]}`
	}
}

// TestHostileConditionsStayWithinBudget evaluates generated hostile
// conditions on hostile data with the default budget and checks that each
// either completes within it (or fails on its own) or stops with
// ErrBudgetExceeded, that the operations counted never exceed the budget,
// and that the memory allocated is bounded by the budget too (at most 128
// bytes per operation, plus a fixed allowance): merge and cat cannot build
// gigabytes, and an evaluation cannot run away with the data.
func TestHostileConditionsStayWithinBudget(t *testing.T) {
	data := hostileData()
	g := hostileGen{rand.New(rand.NewPCG(14, 7))}
	runs := testsize.Count(t, "AUTHZ_HOSTILE_CONDITIONS", 300)
	if testing.Short() {
		runs = min(runs, 60)
	}
	stopped := 0
	var ms runtime.MemStats
	for range runs {
		src := g.rule()
		p := mustCompile(t, src)
		b := NewBudget(context.Background(), hostileLimit)
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		_, err := p.Eval(data, b)
		runtime.ReadMemStats(&ms)
		allocated := ms.TotalAlloc - before
		switch {
		case errors.Is(err, ErrBudgetExceeded):
			stopped++
		case err != nil && b.Err() != nil:
			t.Fatalf("%.100s: the budget stopped with %v; want ErrBudgetExceeded", src, err)
		}
		if b.Used() > hostileLimit {
			t.Fatalf("%.100s: counted %d operations; want at most %d", src, b.Used(), hostileLimit)
		}
		if max := uint64(128*hostileLimit + 64<<10); allocated > max {
			t.Errorf("%.100s: allocated %d bytes; want at most %d", src, allocated, max)
		}
	}
	if stopped < runs/2 {
		t.Errorf("only %d of %d hostile evaluations ran out of budget; want the generator to be hostile (half at least)", stopped, runs)
	}
}

// TestWorstCaseFromTheIssue is the issue's data-driven case: a caller's
// 100k-element array against a stored some over 9,000 literals stops at
// the budget, as does the nested some over literal arrays.
func TestWorstCaseFromTheIssue(t *testing.T) {
	data := hostileData()
	for _, src := range []string{
		`{"some":[{"var":"context.big"},{"in":[{"var":""},` + literalList(9000) + `]}]}`,
		nestedSome(3000, 3000),
	} {
		b := NewBudget(context.Background(), hostileLimit)
		_, err := mustCompile(t, src).Eval(data, b)
		if !errors.Is(err, ErrBudgetExceeded) {
			t.Errorf("%.60s…: got %v; want ErrBudgetExceeded", src, err)
		}
	}
}
