package authz_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/authz"
)

// countdownCtx is a context whose Err is nil for its first n calls and
// context.Canceled after: a cancellation that arrives at every possible
// point of an evaluation, one run at a time. calls counts Err's calls.
type countdownCtx struct {
	context.Context
	n, calls atomic.Int64
}

func newCountdown(n int64) *countdownCtx {
	c := &countdownCtx{Context: context.Background()}
	c.n.Store(n)
	return c
}

func (c *countdownCtx) Err() error {
	if c.calls.Add(1) > c.n.Load() {
		return context.Canceled
	}
	return nil
}

// cancelModel has a chain of 32 resources, each inheriting from the next,
// each with policies whose conditions do not hold, and a subject with
// grants whose conditions do not hold: a denial that visits everything.
func cancelModel(t *testing.T, c *authz.Client) {
	t.Helper()
	b := oneTenantBatch()
	never := []byte(`{"==":[{"var":"context.never"},"yes"]}`)
	for i := range 32 {
		id := fmt.Sprintf("d%02d", i)
		b.Resources = append(b.Resources, authz.ResourceInput{ID: id, ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: id})
		if i > 0 {
			b.ResourceEdges = append(b.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("d%02d", i-1), ChildResourceID: id})
		}
		b.ResourcePolicies = append(b.ResourcePolicies, authz.ResourcePolicyInput{ScopeID: "acme", Name: id, Effect: authz.EffectAllow, Actions: []string{"*"},
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: id}, ContextCondition: never})
	}
	for i := range 8 {
		id := fmt.Sprintf("p%d", i)
		b.Permissions = append(b.Permissions, authz.PermissionInput{ID: id, ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: id, Logic: never})
		b.RolePermissions = append(b.RolePermissions, authz.RolePermissionInput{RoleID: "r", PermissionID: id})
	}
	must(c.Apply(ctx, b))(t)
}

// TestCancelledEvaluationStopsAtOnce cancels an evaluation at every point
// where it checks its ctx, and a lookup likewise: each must return
// context.Canceled with a denial (an empty page), and do at most a couple
// of steps more once the cancellation is seen.
func TestCancelledEvaluationStopsAtOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		cancelModel(t, c)
		in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read", Resource: &authz.ResourceRef{ResourceID: "d31"},
			Context: map[string]any{"never": "no"}}
		must(c.Evaluate(ctx, in))(t) // the graph is built: what follows only evaluates
		full := newCountdown(1 << 40)
		if d, err := c.Evaluate(full, in); err != nil || d.Allowed {
			t.Fatalf("uncancelled: got allowed=%v, %v; want a denial", d.Allowed, err)
		}
		checks := full.calls.Load()
		if checks < 32 {
			t.Fatalf("an evaluation over 32 resources checked its ctx %d times; want at least once per resource", checks)
		}
		for k := range checks {
			cx := newCountdown(k)
			d, err := c.Evaluate(cx, in)
			if !errors.Is(err, context.Canceled) || d.Allowed {
				t.Fatalf("cancelled at check %d of %d: got allowed=%v, %v; want a denial and context.Canceled", k, checks, d.Allowed, err)
			}
			if extra := cx.calls.Load() - k; extra > 3 {
				t.Errorf("cancelled at check %d: the evaluation went on for %d more checks; want at most 3", k, extra)
			}
		}

		lin := authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read", ResourceType: "doc", Context: map[string]any{"never": "no"}}
		full = newCountdown(1 << 40)
		if p, err := c.ListAllowedResources(full, lin); err != nil || len(p.Resources) != 0 {
			t.Fatalf("uncancelled lookup: got %v, %v; want no resource", p.Resources, err)
		}
		checks = full.calls.Load()
		for k := int64(0); k < checks; k += 1 + checks/300 {
			cx := newCountdown(k)
			p, err := c.ListAllowedResources(cx, lin)
			if !errors.Is(err, context.Canceled) || len(p.Resources) != 0 || p.Next != "" {
				t.Fatalf("lookup cancelled at check %d of %d: got %v next %q, %v; want an empty page and context.Canceled", k, checks, p.Resources, p.Next, err)
			}
			if extra := cx.calls.Load() - k; extra > 3 {
				t.Errorf("lookup cancelled at check %d: went on for %d more checks; want at most 3", k, extra)
			}
		}
	})
}

// TestDeadlineBeforeEvaluate: a ctx already past its deadline gets no
// decision, even from the decision cache.
func TestDeadlineBeforeEvaluate(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		cancelModel(t, c)
		in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read", Resource: &authz.ResourceRef{ResourceID: "d00"}}
		must(c.Evaluate(ctx, in))(t) // cached
		cx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		if d, err := c.Evaluate(cx, in); !errors.Is(err, context.DeadlineExceeded) || d.Allowed {
			t.Errorf("evaluate past the deadline: got allowed=%v, %v; want a denial and context.DeadlineExceeded", d.Allowed, err)
		}
	})
}
