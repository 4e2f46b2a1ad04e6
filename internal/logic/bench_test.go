package logic

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/diegoholiveira/jsonlogic/v3"
)

// benchData is the data of the operator benchmarks.
func benchData(b *testing.B) any {
	return jsonData(b, `{"subject":{"id":"jane","meta":{"department":"finance","level":3,"groups":["a","b","c","d"]}},
		"context":{"hour":14,"ip":"10.0.0.1","items":[{"n":1},{"n":2},{"n":3},{"n":4}],"text":"`+strings.Repeat("lorem ipsum ", 20)+`"},
		"action":"read"}`)
}

// operatorBenchmarks are one condition per operator family.
var operatorBenchmarks = []struct{ name, rule string }{
	{"compare", `{"==":[{"var":"subject.meta.department"},"finance"]}`},
	{"compare-and", `{"and":[{"==":[{"var":"subject.meta.department"},"finance"]},{"<":[{"var":"context.hour"},18]}]}`},
	{"logic", `{"if":[{"!":{"var":"subject.meta.suspended"}},{"or":[false,{"!!":[{"var":"action"}]}]},false]}`},
	{"var-deep", `{"!!":{"var":"context.items.3.n"}}`},
	{"in-array", `{"in":["d",{"var":"subject.meta.groups"}]}`},
	{"in-string", `{"in":["ipsum lorem",{"var":"context.text"}]}`},
	{"quantifier", `{"some":[{"var":"context.items"},{">=":[{"var":"n"},4]}]}`},
	{"quantifier-literal", `{"all":[[1,2,3,4,5,6,7,8],{">":[{"var":""},0]}]}`},
	// The tag-overlap form: the predicate reads the enclosing data.
	{"quantifier-outer", `{"some":[["x","y","z","d"],{"in":[{"var":""},{"var":"subject.meta.groups"}]}]}`},
	{"merge", `{"in":["e",{"merge":[{"var":"subject.meta.groups"},["e"]]}]}`},
	{"cat-substr", `{"==":[{"substr":[{"cat":[{"var":"subject.id"},"-",{"var":"action"}]},0,4]},"jane"]}`},
	{"arithmetic", `{"<":[{"+":[{"*":[{"var":"subject.meta.level"},2]},{"%":[{"var":"context.hour"},5]}]},{"max":[10,{"-":[20,5]}]}]}`},
	{"missing", `{"!":{"missing":["subject.id","subject.meta.level","action"]}}`},
}

// BenchmarkOperators evaluates one condition per operator family with this
// package (a budget per evaluation, as callers do) and, for comparison,
// with github.com/diegoholiveira/jsonlogic/v3, which evaluated conditions
// before.
func BenchmarkOperators(b *testing.B) {
	data := benchData(b)
	for _, bm := range operatorBenchmarks {
		p := mustCompile(b, bm.rule)
		if v, err := p.Eval(data, nil); v != true || err != nil {
			b.Fatalf("%s = %v, %v; want true", bm.name, v, err)
		}
		b.Run(bm.name+"/logic", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Eval(data, NewBudget(context.Background(), 10000)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"/library", func(b *testing.B) {
			rule := p.LibraryForm()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jsonlogic.ApplyInterface(rule, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// atLimit returns a condition whose static cost is exactly limit and that
// costs that much on any data: some over a literal array whose predicate
// never holds, padded with an or of literals.
func atLimit(tb testing.TB, limit int64) *Program {
	// some: 3 + n·(1 + 3); or over k literals: 1 + k, around it.
	for k := int64(1); k < 8; k++ {
		rest := limit - (1 + k + 1) - 3
		if rest%4 != 0 {
			continue
		}
		n := int(rest / 4)
		src := `{"or":[` + strings.Repeat("false,", int(k)) + `{"some":[` + literalList(n) + `,{"==":[1,2]}]}]}`
		p := mustCompile(tb, src)
		if p.StaticCost() != limit {
			tb.Fatalf("static cost %d; want %d", p.StaticCost(), limit)
		}
		return p
	}
	tb.Fatalf("no padding reaches %d", limit)
	return nil
}

// BenchmarkWorstCaseAtStaticLimit evaluates a condition whose static cost
// is exactly the default limit (10,000 operations), spending all of it.
func BenchmarkWorstCaseAtStaticLimit(b *testing.B) {
	p := atLimit(b, hostileLimit)
	b.ReportAllocs()
	for b.Loop() {
		bud := NewBudget(context.Background(), hostileLimit)
		if _, err := p.Eval(nil, bud); err != nil || bud.Used() != hostileLimit {
			b.Fatalf("%v after %d operations; want all %d spent", err, bud.Used(), hostileLimit)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*hostileLimit), "ns/operation")
}

// BenchmarkWorstCaseDataDriven is a caller's 100k-element context array
// against a stored some over 9,000 literals (the library: over 30 s and
// 9.8 GB): it stops at the budget.
func BenchmarkWorstCaseDataDriven(b *testing.B) {
	data := hostileData()
	p := mustCompile(b, `{"some":[{"var":"context.big"},{"in":[{"var":""},`+literalList(9000)+`]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(data, NewBudget(context.Background(), hostileLimit)); !errors.Is(err, ErrBudgetExceeded) {
			b.Fatalf("got %v; want ErrBudgetExceeded", err)
		}
	}
}

// BenchmarkHostile evaluates each kind of hostile condition on hostile
// data with the default budget, reporting the time per operation counted
// (how well operations measure work).
func BenchmarkHostile(b *testing.B) {
	data := hostileData()
	for _, bm := range []struct{ name, rule string }{
		{"nested-some", nestedSome(3000, 3000)},
		{"in-literals", `{"in":[-1,` + literalList(9990) + `]}`},
		{"in-long-string", `{"in":["zz",{"var":"context.long"}]}`},
		{"cat-doubling", `{"==":[` + hostileGen{}.doubling("cat", `{"var":"context.longs.0"}`, 11) + `,""]}`},
		{"merge-doubling", `{"in":[-1,` + hostileGen{}.doubling("merge", `{"var":"context.n"}`, 11) + `]}`},
		{"substr-cat-loop", `{"some":[{"var":"context.longs"},{"==":[{"substr":[{"var":""},1]},{"cat":[{"var":""},{"var":""}]}]}]}`},
		{"objects", `{"some":[{"var":"context.objs"},{"in":["z",{"var":"tags"}]}]}`},
	} {
		p := mustCompile(b, bm.rule)
		b.Run(bm.name, func(b *testing.B) {
			var ops int64
			b.ReportAllocs()
			for b.Loop() {
				bud := NewBudget(context.Background(), hostileLimit)
				p.Eval(data, bud)
				ops += bud.Used()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(ops, 1)), "ns/operation")
		})
	}
}
