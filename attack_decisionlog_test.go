package authz_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
)

// Attack tests of Options.DecisionLog: hooks that panic, that call back
// into the Client (reads and writes), and that keep or change what they
// are given.

type hookKey struct{}

// loggedClient is a memstore Client holding tinyModel whose decision log is
// hook (every decision).
func loggedClient(t *testing.T, hook func(context.Context, authz.DecisionLogEntry)) *authz.Client {
	t.Helper()
	opts := testOptions()
	opts.DecisionLog = hook
	c := authztest.NewClient(t, authztest.Memstore(t), opts)
	must(c.Apply(ctx, tinyModel()))(t)
	return c
}

func aliceReads() authz.EvaluateInput {
	return authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read",
		Resource: &authz.ResourceRef{ResourceID: "doc_1"}, Context: map[string]any{"ip": "10.0.0.1"}}
}

// TestAttackDecisionLogHookPanics: a hook that panics makes the call panic
// (the hook is the caller's code), but the Client is left working: the next
// Evaluate and EvaluateBatch, with the decision cache, answer as before.
func TestAttackDecisionLogHookPanics(t *testing.T) {
	var mu sync.Mutex
	panicking := true
	c := loggedClient(t, func(context.Context, authz.DecisionLogEntry) {
		mu.Lock()
		p := panicking
		mu.Unlock()
		if p {
			panic("hook")
		}
	})
	call := func(f func()) (r any) {
		defer func() { r = recover() }()
		f()
		return nil
	}
	for range 3 {
		if r := call(func() { c.Evaluate(ctx, aliceReads()) }); r == nil {
			t.Log("Evaluate recovered the hook's panic")
		}
		if r := call(func() { c.EvaluateBatch(ctx, []authz.EvaluateInput{aliceReads(), aliceReads()}) }); r == nil {
			t.Log("EvaluateBatch recovered the hook's panic")
		}
	}
	mu.Lock()
	panicking = false
	mu.Unlock()
	d, err := c.Evaluate(ctx, aliceReads())
	if err != nil || !d.Allowed {
		t.Errorf("Evaluate after the hook's panics: got %v, %v; want allowed", d.Allowed, err)
	}
	ds, err := c.EvaluateBatch(ctx, []authz.EvaluateInput{aliceReads(), {Actor: authz.SubjectRef{SubjectID: "bot"}, ScopeID: "eng", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_1"}}})
	if err != nil || !ds[0].Allowed || ds[1].Allowed {
		t.Errorf("EvaluateBatch after the hook's panics: got %+v, %v; want allowed, denied", ds, err)
	}
}

// TestAttackDecisionLogHookReentersClient: a hook that evaluates, looks up
// and writes through the same Client (once per outer decision) does not
// deadlock, and the inner decisions are logged too.
func TestAttackDecisionLogHookReentersClient(t *testing.T) {
	var c *authz.Client
	var mu sync.Mutex
	logged, writes := 0, 0
	c = loggedClient(t, func(hctx context.Context, e authz.DecisionLogEntry) {
		mu.Lock()
		logged++
		mu.Unlock()
		if hctx.Value(hookKey{}) != nil {
			return
		}
		inner := context.WithValue(hctx, hookKey{}, true)
		if _, err := c.Evaluate(inner, aliceReads()); err != nil {
			t.Errorf("Evaluate in the hook: %v", err)
		}
		if _, err := c.ListAllowedSubjects(inner, authz.LookupSubjectsInput{ScopeID: "eng", Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_1"}}); err != nil {
			t.Errorf("lookup in the hook: %v", err)
		}
		mu.Lock()
		writes++
		n := writes
		mu.Unlock()
		if _, err := c.CreateScopes(inner, []authz.ScopeInput{{ID: fmt.Sprintf("hook_%d", n), TypeID: "team", ParentScopeID: "acme"}}); err != nil {
			t.Errorf("write in the hook: %v", err)
		}
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				c.Evaluate(ctx, aliceReads())
				c.EvaluateBatch(ctx, []authz.EvaluateInput{aliceReads()})
			}
		}()
	}
	wg.Wait()
	if logged < 80 || writes != 40 {
		t.Errorf("got %d decisions logged and %d writes; want at least 80 and 40", logged, writes)
	}
}

// TestAttackDecisionLogEntryAliasing: the documentation asks hooks to hand
// the entry on (to a channel, a logger), so the entry must not change when
// the caller reuses its input afterwards, and a hook that changes the entry
// must not change the caller's input nor later decisions (the decision's
// slices are shared with the decision cache).
func TestAttackDecisionLogEntryAliasing(t *testing.T) {
	var kept []authz.DecisionLogEntry
	scribble := true
	c := loggedClient(t, func(_ context.Context, e authz.DecisionLogEntry) {
		kept = append(kept, e)
		if !scribble {
			return
		}
		for i := range e.Decision.Matches {
			for j := range e.Decision.Matches[i].SourceRoleIDs {
				e.Decision.Matches[i].SourceRoleIDs[j] = "scribbled"
			}
		}
	})
	in := aliceReads()
	d1 := must(c.Evaluate(ctx, in))(t)
	scribble = false
	d2 := must(c.Evaluate(ctx, in)) // cached
	got := d2(t)
	if len(got.Matches) == 0 || len(got.Matches[0].SourceRoleIDs) == 0 {
		t.Fatalf("decision has no matches: %+v", got)
	}
	var problems []string
	if got.Matches[0].SourceRoleIDs[0] != "viewer" || d1.Matches[0].SourceRoleIDs[0] != "viewer" {
		problems = append(problems, fmt.Sprintf("a hook's change to entry.Decision.Matches reaches the caller and the cached decision: got source role %q (first call %q); want viewer", got.Matches[0].SourceRoleIDs[0], d1.Matches[0].SourceRoleIDs[0]))
	}
	// The caller reuses its input.
	in.Context["ip"] = "6.6.6.6"
	in.Resource.ResourceID = "other"
	if kept[0].Input.Context["ip"] != "10.0.0.1" || kept[0].Input.Resource.ResourceID != "doc_1" {
		problems = append(problems, fmt.Sprintf("a kept entry changes when the caller reuses its input: got ip %v, resource %q; want 10.0.0.1, doc_1", kept[0].Input.Context["ip"], kept[0].Input.Resource.ResourceID))
	}
	if len(problems) > 0 {
		t.Errorf("the entry shares memory with the caller or the cache: %v", problems)
	}
}
