package authz_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/memstore"
)

// logRecorder collects the entries a decision log receives.
type logRecorder struct {
	mu      sync.Mutex
	entries []authz.DecisionLogEntry
	ctxs    []context.Context
}

func (r *logRecorder) hook(ctx context.Context, e authz.DecisionLogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
	r.ctxs = append(r.ctxs, ctx)
}

type logKey struct{}

// TestDecisionLogReceivesEveryDecision logs every decision (rate 0) of
// Evaluate, of the decision cache and of EvaluateBatch, allowed, denied and
// returned with an error, on every backend, and compares each entry with
// what the call returned.
func TestDecisionLogReceivesEveryDecision(t *testing.T) {
	for _, be := range authztest.AllBackends {
		t.Run(be.Name, func(t *testing.T) {
			rec := &logRecorder{}
			opts := testOptions()
			opts.DecisionLog = rec.hook
			c := authztest.NewClient(t, be.Open(t), opts)
			must(c.Apply(ctx, tinyModel()))(t)
			rev := must(c.Revision(ctx))(t)
			lctx := context.WithValue(ctx, logKey{}, "request")
			alice := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_1"}}
			bot := alice
			bot.Actor.SubjectID = "bot"
			nobody := alice
			nobody.Actor.SubjectID = "nobody"
			type call struct {
				in     authz.EvaluateInput
				d      authz.Decision
				err    error
				cached bool
			}
			var calls []call
			for i, in := range []authz.EvaluateInput{alice, bot, alice, nobody} {
				d, err := c.Evaluate(lctx, in)
				calls = append(calls, call{in, d, err, i == 2}) // the third repeats the first: the cache answers
			}
			ds, _ := c.EvaluateBatch(lctx, []authz.EvaluateInput{bot, nobody})
			calls = append(calls, call{in: bot, d: ds[0]}, call{in: nobody, d: ds[1], err: authz.ErrNotFound})
			if len(rec.entries) != len(calls) {
				t.Fatalf("entries: got %d; want %d, one per decision", len(rec.entries), len(calls))
			}
			for i, want := range calls {
				got := rec.entries[i]
				if diff := cmp.Diff(want.in, got.Input); diff != "" {
					t.Errorf("entry %d: input (-want +got):\n%s", i, diff)
				}
				if diff := cmp.Diff(want.d, got.Decision, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("entry %d: decision (-want +got):\n%s", i, diff)
				}
				if (want.err == nil) != (got.Err == nil) || want.err != nil && !errors.Is(got.Err, authz.ErrNotFound) {
					t.Errorf("entry %d: error: got %v; want %v", i, got.Err, want.err)
				}
				if got.Revision != rev || got.Cached != want.cached || got.Duration <= 0 || !got.Time.Equal(authztest.Now) {
					t.Errorf("entry %d: got revision %d, cached %v, duration %v, time %v; want %d, %v, > 0, %v", i, got.Revision, got.Cached, got.Duration, got.Time, rev, want.cached, authztest.Now)
				}
				if rec.ctxs[i].Value(logKey{}) != "request" {
					t.Errorf("entry %d: the hook did not get the request's ctx", i)
				}
			}
			if !calls[0].d.Allowed || calls[1].d.Allowed {
				t.Fatalf("the model no longer allows alice and denies bot: %v, %v", calls[0].d.Allowed, calls[1].d.Allowed)
			}
		})
	}
}

// TestDecisionLogRate samples a quarter of 8,000 decisions: the count must
// be within seven standard deviations of 2,000.
func TestDecisionLogRate(t *testing.T) {
	rec := &logRecorder{}
	opts := testOptions()
	opts.DecisionLog, opts.DecisionLogRate = rec.hook, 0.25
	c := must(authz.New(memstore.New(), opts))(t)
	must(c.Apply(ctx, tinyModel()))(t)
	const n, p = 8000, 0.25
	in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_1"}}
	for range n / 2 {
		must(c.Evaluate(ctx, in))(t)
	}
	batch := make([]authz.EvaluateInput, n/2)
	for i := range batch {
		batch[i] = in
	}
	must(c.EvaluateBatch(ctx, batch))(t)
	mean, sd := n*p, math.Sqrt(n*p*(1-p))
	if got := float64(len(rec.entries)); math.Abs(got-mean) > 7*sd {
		t.Errorf("decisions logged at rate %v: got %v of %d; want about %v", p, got, n, mean)
	}
}

func TestDecisionLogRateRefused(t *testing.T) {
	for _, rate := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		opts := &authz.Options{DecisionLog: func(context.Context, authz.DecisionLogEntry) {}, DecisionLogRate: rate}
		if _, err := authz.New(memstore.New(), opts); err == nil {
			t.Errorf("New with DecisionLogRate %v: got nil; want an error", rate)
		}
	}
}

// TestDecisionLogUnsetCostsNothing: without a decision log, a decision the
// cache answers still allocates nothing.
func TestDecisionLogUnsetCostsNothing(t *testing.T) {
	c := must(authz.New(memstore.New(), testOptions()))(t)
	must(c.Apply(ctx, tinyModel()))(t)
	in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_1"}}
	must(c.Evaluate(ctx, in))(t)
	if allocs := testing.AllocsPerRun(100, func() { _, _ = c.Evaluate(ctx, in) }); allocs != 0 {
		t.Errorf("allocations of a cached decision without a decision log: got %v; want 0", allocs)
	}
}

func ExampleOptions_decisionLog() {
	logged := 0
	c, err := authz.New(memstore.New(), &authz.Options{
		DecisionLog: func(_ context.Context, e authz.DecisionLogEntry) {
			logged++ // a real hook hands e to a buffered logger
			fmt.Println(e.Input.Actor.SubjectID, e.Input.Action, e.Decision.Allowed, e.Decision.DecidedBy)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = c.Apply(context.Background(), tinyModel())
	_, _ = c.Evaluate(context.Background(), authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read",
		Resource: &authz.ResourceRef{ResourceID: "doc_1"}})
	fmt.Println(logged, "decision logged")
	// Output:
	// alice read true role
	// 1 decision logged
}
