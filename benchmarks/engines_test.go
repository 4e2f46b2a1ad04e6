package benchmarks

import (
	"context"
	"testing"

	"github.com/casbin/casbin/v2"

	"github.com/scopegate/authz"
)

// benchEngines runs one request list through every engine compared, as
// sub-benchmarks of size: inputs for authz with and without its decision
// cache, reqs (the same requests as sub, dom, obj, act) for Casbin's plain
// and cached enforcers.
func benchEngines(b *testing.B, size string, withCache, noCache *authz.Client, plain *casbin.Enforcer, cached *casbin.CachedEnforcer, inputs []authz.EvaluateInput, reqs [][]any) {
	b.Run(size+"/authz", func(b *testing.B) { benchEvaluate(b, withCache, inputs) })
	b.Run(size+"/authz-nocache", func(b *testing.B) { benchEvaluate(b, noCache, inputs) })
	b.Run(size+"/casbin-enforcer", func(b *testing.B) { benchEnforce(b, plain.Enforce, reqs, min(10, len(reqs))) })
	b.Run(size+"/casbin-cached", func(b *testing.B) { benchEnforce(b, cached.Enforce, reqs, len(reqs)) })
}

// benchEvaluate times c.Evaluate over inputs, one request per op, in turn,
// after one pass over them: the first Evaluate builds what the Client
// keeps (and, with its cache, remembers the decisions).
func benchEvaluate(b *testing.B, c *authz.Client, inputs []authz.EvaluateInput) {
	for _, in := range inputs {
		if _, err := c.Evaluate(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Evaluate(context.Background(), inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchEnforce times a Casbin enforcer over reqs (sub, dom, obj, act), one
// request per op, in turn, after warmup of them: the plain Enforcer keeps
// nothing between requests but its compiled matcher, so a few warm it up;
// the CachedEnforcer gets every request once, to answer from its cache.
func benchEnforce(b *testing.B, enforce func(...any) (bool, error), reqs [][]any, warmup int) {
	for _, r := range reqs[:warmup] {
		if _, err := enforce(r...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := enforce(reqs[i%len(reqs)]...); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
