package authz_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/testsize"
)

// stressDuration is how long TestStress runs: AUTHZ_STRESS (a Go duration),
// or 2s.
func stressDuration(t *testing.T) time.Duration {
	t.Helper()
	return testsize.Duration(t, "AUTHZ_STRESS", 2*time.Second)
}

// stressToggle is an object a writer creates and deletes in turn; states
// alternate between the base model and the base model with the object.
type stressToggle struct {
	add    func(bt *authz.Batch)
	create func(ctx context.Context, c *authz.Client) error
	remove func(ctx context.Context, c *authz.Client) error
}

// TestStress runs writers (two Clients on one store) and evaluators in
// parallel, on both backends. The writers toggle objects that change
// decisions; every decision an evaluator gets must be the oracle's for one
// of the revisions it may have read: between the revision before its call
// (less one, see below) and after it. Half of the questions are asked
// through a lookup (is the subject, or the resource, in the list?).
func TestStress(t *testing.T) {
	t.Parallel()
	d := stressDuration(t)
	for _, be := range withPG {
		t.Run(be.name, func(t *testing.T) {
			var (
				store = be.open(t)
				w1    = must(authz.New(store, testOptions()))(t)
				w2    = must(authz.New(store, nil))(t)
			)
			setup := newStressSetup(t)
			base, toggles, reqs := setup.base, setup.toggles, setup.reqs
			// want[0] is the base model; want[1+i] the base with toggle i.
			want := [][]bool{setup.want(base)}
			for i := range toggles {
				want = append(want, setup.want(setup.with(1<<i)))
			}
			must(w1.Apply(ctx, base))(t)
			baseRev := must(w1.Revision(ctx))(t)
			// Revision baseRev+2k is the base model (after k toggles on and off);
			// baseRev+2k+1 has toggle k mod len(toggles).
			stateAt := func(rev uint64) int {
				n := rev - baseRev
				if n%2 == 0 {
					return 0
				}
				return 1 + int(n/2)%len(toggles)
			}
			var (
				stop      atomic.Bool
				wg        sync.WaitGroup
				decisions atomic.Int64
				writes    atomic.Int64
			)
			errs := make(chan error, 16)
			// One writer at a time keeps the revision sequence known; it
			// alternates between the two Clients.
			wg.Add(1)
			go func() {
				defer wg.Done()
				writers := []*authz.Client{w1, w2}
				for k := 0; !stop.Load(); k++ {
					tg := toggles[k%len(toggles)]
					if err := tg.create(ctx, writers[k%2]); err != nil {
						errs <- err
						return
					}
					if err := tg.remove(ctx, writers[(k+1)%2]); err != nil {
						errs <- err
						return
					}
					writes.Add(2)
				}
			}()
			evaluators := []*authz.Client{w1, w2, must(authz.New(store, nil))(t)}
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := evaluators[g%len(evaluators)]
					r := rand.New(rand.NewPCG(uint64(g), 1))
					for !stop.Load() {
						i := r.IntN(len(reqs))
						before, err := c.Revision(context.Background())
						if err != nil {
							errs <- err
							return
						}
						d, err := stressAsk(c, base, reqs[i], r.IntN(4))
						if err != nil {
							errs <- err
							return
						}
						after, err := c.Revision(context.Background())
						if err != nil {
							errs <- err
							return
						}
						// A commit becomes visible to Revision a moment before the
						// storage version moves (and before Update returns), so
						// a decision may also be that of the revision before.
						from := before
						if from > baseRev {
							from--
						}
						ok := false
						for rev := from; rev <= after && !ok; rev++ {
							ok = want[stateAt(rev)][i] == d.Allowed
						}
						if !ok {
							t.Errorf("request %+v at revisions %d..%d: got allowed=%v (%s); the oracle never says so there", reqs[i], before, after, d.Allowed, d.Explanation)
							stop.Store(true)
							return
						}
						decisions.Add(1)
					}
				}()
			}
			time.Sleep(d)
			stop.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if err := w1.Check(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("%v: %d writes, %d decisions checked against the oracle (half of them through a lookup)", d, writes.Load(), decisions.Load())
		})
	}
}

// stressSetup is the model of the stress tests: a random model (base),
// objects whose presence changes some of its decisions (toggles), and the
// requests to ask (reqs).
type stressSetup struct {
	base    authz.Batch
	toggles []stressToggle
	reqs    []authz.EvaluateInput
}

// newStressSetup finds the first random model with a membership to toggle
// around whose toggles change decisions. It is deterministic: every
// process that calls it gets the same setup.
func newStressSetup(t *testing.T) *stressSetup {
	t.Helper()
	for m := range 100 {
		r := rand.New(rand.NewPCG(uint64(m), 99))
		c := must(authz.New(authztest.Memstore(t), testOptions()))(t)
		base := applyPruned(t, c, randomModel(r))
		if len(base.Memberships) == 0 || len(base.Roles) < 2 || len(base.Resources) < 2 {
			continue
		}
		// The membership toggle adds one of the first subject at the first
		// membership's scope: there must be none yet.
		if slices.ContainsFunc(base.Memberships, func(m authz.MembershipInput) bool {
			return m.SubjectID == base.Subjects[0].ID && m.ScopeID == base.Memberships[0].ScopeID
		}) {
			continue
		}
		s := &stressSetup{base: base, toggles: stressToggles(base)}
		s.reqs = allRequests(base)
		if len(s.reqs) > 400 {
			s.reqs = s.reqs[:400]
		}
		// Half without context: those the decision cache remembers.
		for i := range s.reqs {
			if i%2 == 1 {
				s.reqs[i].Context = nil
			}
		}
		want := s.want(base)
		for i := range s.toggles {
			if !slices.Equal(s.want(s.with(1<<i)), want) {
				return s
			}
		}
	}
	t.Fatal("no toggle changes any decision in 100 models: the test would prove nothing")
	return nil
}

// with returns the base model with the toggles whose bits are set in mask.
func (s *stressSetup) with(mask int) authz.Batch {
	bt := s.base
	bt.ScopeOverrides = slices.Clone(s.base.ScopeOverrides)
	bt.ResourcePolicies = slices.Clone(s.base.ResourcePolicies)
	bt.Memberships = slices.Clone(s.base.Memberships)
	for i, tg := range s.toggles {
		if mask&(1<<i) != 0 {
			tg.add(&bt)
		}
	}
	return bt
}

// want returns the oracle's answers to the requests on model bt.
func (s *stressSetup) want(bt authz.Batch) []bool {
	o := &oracle{bt: bt, readActions: map[string]bool{"read": true, "list": true, "view": true}}
	out := make([]bool, len(s.reqs))
	for i, q := range s.reqs {
		out[i], _ = o.decide(oracleRequest{subject: q.Actor.SubjectID, scope: q.ScopeID, action: q.Action, resource: q.Resource.ResourceID, context: q.Context})
	}
	return out
}

// stressToggles returns the toggles around base's first membership.
func stressToggles(base authz.Batch) []stressToggle {
	sub, scope, role := base.Subjects[0].ID, base.Memberships[0].ScopeID, base.Memberships[0].RoleIDs[0]
	return []stressToggle{
		{ // a disabled override of a role that grants
			add: func(bt *authz.Batch) {
				bt.ScopeOverrides = append(bt.ScopeOverrides, authz.ScopeOverrideInput{ID: "stress_ov", ChildScopeID: scope, Kind: authz.OverrideRole, RoleID: role, State: authz.OverrideDisabled})
			},
			create: func(ctx context.Context, c *authz.Client) error {
				_, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ID: "stress_ov", ChildScopeID: scope, Kind: authz.OverrideRole, RoleID: role, State: authz.OverrideDisabled})
				return err
			},
			remove: func(ctx context.Context, c *authz.Client) error { return c.DeleteScopeOverride(ctx, "stress_ov") },
		},
		{ // a deny-everything policy on a resource
			add: func(bt *authz.Batch) {
				bt.ResourcePolicies = append(bt.ResourcePolicies, stressPolicy(base))
			},
			create: func(ctx context.Context, c *authz.Client) error {
				_, err := c.CreateResourcePolicy(ctx, stressPolicy(base))
				return err
			},
			remove: func(ctx context.Context, c *authz.Client) error { return c.DeleteResourcePolicy(ctx, "stress_pol") },
		},
		{ // a membership of the first subject
			add: func(bt *authz.Batch) {
				bt.Memberships = append(bt.Memberships, authz.MembershipInput{ID: "stress_m", SubjectID: sub, ScopeID: scope, RoleIDs: []string{role}})
			},
			create: func(ctx context.Context, c *authz.Client) error {
				_, err := c.CreateMembership(ctx, authz.MembershipInput{ID: "stress_m", SubjectID: sub, ScopeID: scope, RoleIDs: []string{role}})
				return err
			},
			remove: func(ctx context.Context, c *authz.Client) error { return c.DeleteMembership(ctx, "stress_m") },
		},
	}
}

func stressPolicy(base authz.Batch) authz.ResourcePolicyInput {
	return authz.ResourcePolicyInput{ID: "stress_pol", ScopeID: base.Resources[0].ScopeID, Name: "stress", Effect: authz.EffectDeny, Priority: 9,
		Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: base.Resources[0].ID}, Actions: []string{"*"}}
}

// stressAsk answers q with Evaluate (how 0 or 1), or with a lookup: whether
// the actor is among the subjects allowed on the resource (2), or the
// resource among those the actor is allowed on (3).
func stressAsk(c *authz.Client, base authz.Batch, q authz.EvaluateInput, how int) (authz.Decision, error) {
	switch how {
	case 2:
		p, err := c.ListAllowedSubjects(context.Background(), authz.LookupSubjectsInput{ScopeID: q.ScopeID, Action: q.Action, Resource: *q.Resource, Context: q.Context})
		allowed := slices.ContainsFunc(p.Subjects, func(s authz.SubjectRef) bool { return s.SubjectID == q.Actor.SubjectID })
		return authz.Decision{Allowed: allowed, Explanation: fmt.Sprintf("ListAllowedSubjects: %v", p.Subjects)}, err
	case 3:
		i := slices.IndexFunc(base.Resources, func(r authz.ResourceInput) bool { return r.ID == q.Resource.ResourceID })
		typeID := base.Resources[i].ResourceTypeID
		if slices.ContainsFunc(base.ResourceTypes, func(rt authz.ResourceTypeInput) bool { return rt.Key == typeID }) {
			// The id is also a type key, which a request resolves first:
			// the lookup would list another type.
			return c.Evaluate(context.Background(), q)
		}
		p, err := c.ListAllowedResources(context.Background(), authz.LookupResourcesInput{Actor: q.Actor, ScopeID: q.ScopeID, Action: q.Action,
			ResourceType: typeID, Context: q.Context})
		if errors.Is(err, authz.ErrNotFound) {
			// The type is not visible from the request scope: it cannot be
			// asked for by a lookup there.
			return c.Evaluate(context.Background(), q)
		}
		allowed := slices.ContainsFunc(p.Resources, func(r authz.ResourceRef) bool { return r.ResourceID == q.Resource.ResourceID })
		return authz.Decision{Allowed: allowed, Explanation: fmt.Sprintf("ListAllowedResources: %v", p.Resources)}, err
	}
	return c.Evaluate(context.Background(), q)
}
