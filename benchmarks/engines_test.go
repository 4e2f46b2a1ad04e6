package benchmarks

import (
	"context"
	"testing"

	"github.com/scopegate/authz"
)

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
