package authz_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/logic"
)

// literals writes the literal array [0, 1, …, n-1].
func literals(n int) string {
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

// hostileGlob is the glob: k times "a?" between stars, then "b".
// It matches a run of a's of at least 2k followed by b, and costs about k/32
// operations per 16 characters of the id it is matched against.
func hostileGlob(k int) string { return "*" + strings.Repeat("a?", k) + "b*" }

// costRecorder collects what the evaluations of one call cost (see
// authz.SetCostHook).
type costRecorder struct {
	used  []int64
	stops []error
}

func (r *costRecorder) hook(used int64, stop error) {
	r.used = append(r.used, used)
	r.stops = append(r.stops, stop)
}

func (r *costRecorder) reset() { r.used, r.stops = r.used[:0], r.stops[:0] }

// total returns the operations of all the evaluations recorded and the
// first reason one of them stopped early.
func (r *costRecorder) total() (used int64, stop error) {
	for i, u := range r.used {
		used += u
		if stop == nil {
			stop = r.stops[i]
		}
	}
	return used, stop
}

// budgetClient returns a client over store with the given budget (and no
// decision cache, so that every request is evaluated) and its recorder.
func budgetClient(t *testing.T, b backend, limit int64) (*authz.Client, *costRecorder) {
	t.Helper()
	o := testOptions()
	o.DecisionCacheSize = -1
	o.MaxEvaluationCost = limit
	c, err := authz.New(b.open(t), o)
	if err != nil {
		t.Fatal(err)
	}
	rec := &costRecorder{}
	authz.SetCostHook(c, rec.hook)
	return c, rec
}

// hostileModel is a generated model meant to make evaluations expensive:
// conditions whose cost depends on the request's context (a some over a
// context array against a literal list, a long context string), nested
// quantifiers over literal arrays near the static limit, conditions that
// return a context value (which must never run as logic), glob patterns
// that cost a lot on long external ids, collections whose definitions hold
// such patterns and conditions, and allow and deny policies guarded by
// them. Conditions and patterns come in true and false variants, and the
// true ones are true only after the full work, so that a budget that runs
// out changes what is known.
type hostileModel struct {
	r     *rand.Rand
	batch authz.Batch
}

// The resources of every hostile model: a short external id, a long run of
// a's that the hostile globs do not match, the same with a b that they do.
var hostileResources = []authz.ResourceInput{
	{ID: "short", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "doc-1"},
	{ID: "long", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: strings.Repeat("a", 4000)},
	{ID: "longb", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: strings.Repeat("a", 4000) + "b"},
}

func (m *hostileModel) pick(n int) int { return m.r.IntN(n) }

// condition returns a generated condition.
func (m *hostileModel) condition() string {
	switch m.pick(8) {
	case 7:
		return bobOnly
	case 0:
		return `{"==":[1,1]}`
	case 1:
		return `{"==":[1,2]}`
	case 2:
		// True when the context array holds a small number (the request
		// generator puts one, if at all, last).
		return `{"some":[{"var":"context.arr"},{"in":[{"var":""},` + literals([]int{10, 60, 400}[m.pick(3)]) + `]}]}`
	case 3:
		// Nested quantifiers over literal arrays: all outer elements
		// scan the inner list; true when the target is its last element.
		a, b := 1+m.pick(15), 1+m.pick(40)
		return fmt.Sprintf(`{"all":[%s,{"some":[%s,{"==":[{"var":""},%d]}]}]}`, literals(a), literals(b), b-m.pick(2))
	case 4:
		// The context's object is a value, never logic: never true.
		return `{"if":[{"var":"context.flag"},{"var":"context.custom"},{"var":"context.custom"}]}`
	case 5:
		return `{"in":["zz",{"var":"context.long"}]}`
	default:
		return `{"some":[{"var":"context.strs"},{"==":[{"substr":[{"var":""},1]},"tem-7"]}]}`
	}
}

// bobOnly is a condition that is expensive for bob only (false after a
// scan of the context array): the decision of one subject must not depend
// on what the evaluation of another one computed before it.
const bobOnly = `{"and":[{"==":[{"var":"subject.id"},"bob"]},{"some":[{"var":"context.arr"},{"==":[{"var":""},-1]}]}]}`

// pattern returns a generated resource pattern.
func (m *hostileModel) pattern() string {
	switch m.pick(4) {
	case 0:
		return "*"
	case 1:
		return "doc-*"
	default:
		return hostileGlob([]int{20, 200, 1900}[m.pick(3)])
	}
}

// definition returns a generated match definition.
func (m *hostileModel) definition() string {
	p := fmt.Sprintf(`{"patterns":{"externalResourceId":%q}}`, m.pattern())
	c := `{"condition":` + m.condition() + `}`
	switch m.pick(4) {
	case 0, 1:
		return p
	case 2:
		return c
	}
	return `{"any":[` + p + `,` + c + `]}`
}

func newHostileModel(seed uint64) *hostileModel {
	m := &hostileModel{r: rand.New(rand.NewPCG(seed, 14))}
	b := oneTenantBatch()
	b.Resources = hostileResources
	b.Subjects = append(b.Subjects, authz.SubjectInput{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice"})
	b.Memberships = append(b.Memberships, authz.MembershipInput{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"r"}})
	for i := range 1 + m.pick(6) {
		id := fmt.Sprintf("p%d", i)
		var cond []byte
		if m.pick(3) > 0 {
			cond = []byte(m.condition())
		}
		b.Permissions = append(b.Permissions, authz.PermissionInput{ID: id, ScopeID: "acme", Action: []string{"read", "write"}[m.pick(2)],
			ResourceType: "doc", ResourcePattern: m.pattern(), Key: id, Logic: cond})
		b.RolePermissions = append(b.RolePermissions, authz.RolePermissionInput{RoleID: "r", PermissionID: id})
	}
	for i := range m.pick(3) {
		b.Collections = append(b.Collections, authz.CollectionInput{ID: fmt.Sprintf("c%d", i), ScopeID: "acme", ResourceTypeID: "rt",
			Name: fmt.Sprintf("C%d", i), MatchDefinition: []byte(m.definition())})
	}
	for i := range m.pick(3) * m.pick(3) {
		target := authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: hostileResources[m.pick(len(hostileResources))].ID}
		if len(b.Collections) > 0 && m.pick(2) == 0 {
			target = authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: b.Collections[m.pick(len(b.Collections))].ID}
		}
		b.ResourcePolicies = append(b.ResourcePolicies, authz.ResourcePolicyInput{ID: fmt.Sprintf("pol%d", i), ScopeID: "acme", Name: fmt.Sprintf("P%d", i),
			Target: target, Actions: []string{"*"}, Effect: []authz.Effect{authz.EffectAllow, authz.EffectDeny}[m.pick(2)],
			Priority: m.pick(3), ContextCondition: []byte(m.condition())})
		switch m.pick(3) {
		case 0:
			b.ResourcePolicies[i].SubjectCondition = []byte(m.condition())
		case 1:
			b.ResourcePolicies[i].SubjectCondition = []byte(bobOnly)
		}
	}
	m.batch = b
	return m
}

// context returns a generated request context: arrays of numbers that the
// literal lists do not hold (with, sometimes, one that they do, last), a
// long string, strings, a boolean and an object that reads as logic.
func (m *hostileModel) context() map[string]any {
	n := []int{0, 5, 50, 500}[m.pick(4)]
	arr := make([]any, n)
	for i := range arr {
		arr[i] = float64(5000 + i)
	}
	if n > 0 && m.pick(2) == 0 {
		arr[n-1] = float64(m.pick(10))
	}
	strs := make([]any, []int{0, 10, 300}[m.pick(3)])
	for i := range strs {
		strs[i] = fmt.Sprint("item-", i)
	}
	return map[string]any{"arr": arr, "strs": strs, "long": strings.Repeat("ab", []int{10, 5000, 50000}[m.pick(3)]),
		"flag": m.pick(2) == 0, "custom": map[string]any{"==": []any{1, 1}}}
}

// TestHostileModelsStayWithinBudget is the general test of the evaluation
// budget. It evaluates generated hostile models with generated hostile
// contexts twice, with a small budget and with none, counting the
// operations of each evaluation, and checks, for every request and every
// lookup:
//   - no evaluation counts more operations than its budget;
//   - an evaluation that needs no more than the budget is exactly the
//     unbounded one (same decision, same count): the budget changes
//     nothing but what it stops;
//   - one that needs more stops, and fails closed: it is allowed only when
//     the unbounded one is too, by the role step (grants found before the
//     budget ran out), and a denial says the budget ran out;
//   - a lookup with the budget lists a subset of the unbounded one.
//
// Deny policies whose conditions the budget cannot finish, allow policies
// and grants behind such conditions and patterns, and context values that
// read as logic are all in the generated models.
func TestHostileModelsStayWithinBudget(t *testing.T) {
	t.Parallel()
	models := envCount(t, "AUTHZ_HOSTILE_MODELS", 60)
	if testing.Short() {
		models = min(models, 10)
	}
	// What the generated requests exercised: evaluations that ran out,
	// decisions that running out changed, deny policies that ran out, and
	// lookups that listed less.
	stopped, differs, denials, lookups := 0, 0, 0, 0
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for seed := range uint64(models) {
				m := newHostileModel(seed)
				limit := []int64{300, 3000, 30000}[m.pick(3)]
				bounded, brec := budgetClient(t, be, limit)
				free, frec := budgetClient(t, be, -1)
				must(bounded.Apply(ctx, m.batch))(t)
				must(free.Apply(ctx, m.batch))(t)
				for q := range 12 {
					in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: []string{"read", "write"}[m.pick(2)],
						Resource: &authz.ResourceRef{ResourceID: hostileResources[m.pick(len(hostileResources))].ID},
						Context:  m.context(), Explain: m.pick(2) == 0}
					where := fmt.Sprintf("seed %d, request %d (%s %s, budget %d)", seed, q, in.Action, in.Resource.ResourceID, limit)
					brec.reset()
					frec.reset()
					got := must(bounded.Evaluate(ctx, in))(t)
					want := must(free.Evaluate(ctx, in))(t)
					gotUsed, gotStop := brec.total()
					wantUsed, wantStop := frec.total()
					if wantStop != nil {
						t.Fatalf("%s: the unbounded evaluation stopped: %v", where, wantStop)
					}
					if gotUsed > limit {
						t.Fatalf("%s: counted %d operations; want at most %d", where, gotUsed, limit)
					}
					if wantUsed <= limit {
						if gotStop != nil || gotUsed != wantUsed || got.Allowed != want.Allowed || got.DecidedBy != want.DecidedBy ||
							got.PolicyID != want.PolicyID || got.Explanation != want.Explanation {
							t.Fatalf("%s: within the budget (%d operations) got %v %s %q after %d operations, stop %v; want the unbounded %v %s %q after %d",
								where, wantUsed, got.Allowed, got.DecidedBy, got.Explanation, gotUsed, gotStop, want.Allowed, want.DecidedBy, want.Explanation, wantUsed)
						}
						continue
					}
					stopped++
					if !errors.Is(gotStop, logic.ErrBudgetExceeded) {
						t.Fatalf("%s: the unbounded evaluation needs %d operations, the budget is %d, and the bounded one stopped with %v; want ErrBudgetExceeded",
							where, wantUsed, limit, gotStop)
					}
					switch {
					case got.Allowed && (!want.Allowed || got.DecidedBy != authz.DecidedByRole):
						t.Fatalf("%s: out of budget got allowed by %s; want a grant only by the role step and only when the unbounded evaluation grants (it says %v by %s: %s)",
							where, got.DecidedBy, want.Allowed, want.DecidedBy, want.Explanation)
					case !got.Allowed && !strings.Contains(got.Explanation, "operation budget exceeded"):
						t.Fatalf("%s: out of budget got the denial %q; want it to say the budget ran out", where, got.Explanation)
					case got.Allowed != want.Allowed:
						differs++
					}
					if want.DecidedBy == authz.DecidedByPolicy && !want.Allowed {
						denials++
					}
				}
				lin := authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read", ResourceType: "doc", Context: m.context()}
				brec.reset()
				got := must(bounded.ListAllowedResources(ctx, lin))(t)
				want := must(free.ListAllowedResources(ctx, lin))(t)
				for _, u := range brec.used {
					if u > limit {
						t.Fatalf("seed %d lookup: a candidate counted %d operations; want at most %d", seed, u, limit)
					}
				}
				if len(got.Resources) < len(want.Resources) {
					lookups++
				}
				for _, r := range got.Resources {
					if !slices.ContainsFunc(want.Resources, func(w authz.ResourceRef) bool { return w.ResourceID == r.ResourceID }) {
						t.Fatalf("seed %d lookup: the bounded lookup lists %s; the unbounded one lists only %v", seed, r.ResourceID, want.Resources)
					}
				}
				for range 4 {
					boundedLookupsAreExact(t, bounded, fmt.Sprintf("seed %d (budget %d)", seed, limit), m.context(), "short", "long", "longb")
				}
			}
		})
	}
	// The generator must be hostile: many evaluations run out, running
	// out changes some decisions (to denials) and some lookups, and deny
	// policies run out too.
	t.Logf("%d evaluations ran out of budget; %d of them changed the decision, %d were denied by a policy without a budget; %d lookups listed less",
		stopped, differs, denials, lookups)
	if min := models * 12 * len(backends) / 6; stopped < min {
		t.Errorf("%d evaluations ran out of budget; want at least %d (the generator is not hostile enough)", stopped, min)
	}
	if differs == 0 || denials == 0 || lookups == 0 {
		t.Errorf("running out changed %d decisions and %d lookups, and %d deny policies ran out; want some of each", differs, lookups, denials)
	}
}

// boundedLookupsAreExact checks that, with a budget, lookups and
// delegation still answer what Evaluate answers for each subject and
// resource: running out must not make a decision depend on which subject
// or resource was decided first in the same request.
func boundedLookupsAreExact(t *testing.T, c *authz.Client, where string, cx map[string]any, resources ...string) {
	t.Helper()
	subjects := []string{"alice", "bob"}
	allowed := func(actor string, onBehalfOf *authz.SubjectRef, res string) bool {
		return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: actor}, OnBehalfOf: onBehalfOf, ScopeID: "acme", Action: "read",
			Resource: &authz.ResourceRef{ResourceID: res}, Context: cx}))(t).Allowed
	}
	var wantRes []string
	for _, id := range resources {
		r := authz.ResourceInput{ID: id}
		var want []string
		for _, x := range subjects {
			if allowed(x, nil, r.ID) {
				want = append(want, x)
			}
		}
		if slices.Contains(want, "bob") {
			wantRes = append(wantRes, r.ID)
		}
		page := must(c.ListAllowedSubjects(ctx, authz.LookupSubjectsInput{ScopeID: "acme", Action: "read", Resource: authz.ResourceRef{ResourceID: r.ID}, Context: cx}))(t)
		var got []string
		for _, s := range page.Subjects {
			got = append(got, s.SubjectID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: ListAllowedSubjects on %s = %v; Evaluate allows %v", where, r.ID, got, want)
		}
		delegated := allowed("alice", &authz.SubjectRef{SubjectID: "bob"}, r.ID)
		if want := slices.Contains(want, "alice") && slices.Contains(want, "bob"); delegated != want {
			t.Fatalf("%s: alice on behalf of bob on %s: got allowed=%v; want %v (each alone: %v)", where, r.ID, delegated, want, want)
		}
	}
	page := must(c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read", ResourceType: "doc", Context: cx}))(t)
	var got []string
	for _, r := range page.Resources {
		got = append(got, r.ResourceID)
	}
	slices.Sort(wantRes)
	if fmt.Sprint(got) != fmt.Sprint(wantRes) {
		t.Fatalf("%s: ListAllowedResources for bob = %v; Evaluate allows %v", where, got, wantRes)
	}
}

// worstCaseModel holds the expensive cases of the security review, each
// behind its own action of resource type doc at scope acme, and a
// collection whose definition runs out of any budget:
//   - "scan": a some over the context array against 9,000 literals;
//   - "glob": ten 4 KB patterns *a?a?…b* against the 4 KB external ids;
//   - "if": a condition whose result is the context's object
//     {"==":[1,1]}, which must stay a value;
//   - "mixed": a plain grant next to the scan;
//   - "denied": a grant, and a deny policy behind the scan.
func worstCaseModel(t *testing.T, c *authz.Client, resources int) {
	t.Helper()
	b := oneTenantBatch()
	for i := range resources {
		id := fmt.Sprintf("d%03d", i)
		b.Resources = append(b.Resources, authz.ResourceInput{ID: id, ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: strings.Repeat("a", 4093) + fmt.Sprintf("%03d", i)})
	}
	scan := []byte(`{"some":[{"var":"context.arr"},{"in":[{"var":""},` + literals(9000) + `]}]}`)
	perm := func(id, action, pattern string, logic []byte) {
		b.Permissions = append(b.Permissions, authz.PermissionInput{ID: id, ScopeID: "acme", Action: action, ResourceType: "doc", ResourcePattern: pattern, Key: id, Logic: logic})
		b.RolePermissions = append(b.RolePermissions, authz.RolePermissionInput{RoleID: "r", PermissionID: id})
	}
	perm("scan", "scan", "*", scan)
	for i := range 10 {
		perm(fmt.Sprintf("glob%d", i), "glob", hostileGlob(2046-i), nil)
	}
	perm("if", "if", "*", []byte(`{"if":[{"var":"context.flag"},{"var":"context.custom"},{"var":"context.custom"}]}`))
	perm("mixed-scan", "mixed", "*", scan)
	perm("mixed-plain", "mixed", "*", nil)
	perm("denied", "denied", "*", nil)
	b.Collections = []authz.CollectionInput{{ID: "heavy", ScopeID: "acme", ResourceTypeID: "rt", Name: "Heavy", MatchDefinition: []byte(
		`{"any":[` + strings.Repeat(`{"patterns":{"externalResourceId":"`+hostileGlob(2000)+`"}},`, 9) + `{"condition":{"==":[1,1]}}]}`)}}
	b.ResourcePolicies = []authz.ResourcePolicyInput{{ID: "deny-scan", ScopeID: "acme", Name: "Deny", Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "heavy"},
		Actions: []string{"denied"}, Effect: authz.EffectDeny, ContextCondition: scan}}
	must(c.Apply(ctx, b))(t)
}

// worstContext is the caller's context of the worst cases: 100,000 numbers
// none of which is among the 9,000 literals, and an object that reads as
// logic.
func worstContext() map[string]any {
	arr := make([]any, 100000)
	for i := range arr {
		arr[i] = float64(9000 + i)
	}
	return map[string]any{"arr": arr, "flag": true, "custom": map[string]any{"==": []any{1, 1}}}
}

// TestWorstCasesFailClosedWithinTheDefaultBudget runs the security
// review's expensive cases with the default budget: each stops within it
// and denies, saying so, without an error; a grant found before the
// budget runs out stands; a deny policy that cannot be finished denies; a
// context value is never run as logic; and a lookup over 50 such resources
// spends at most the budget on each. Without a budget the same cases run
// to their end.
func TestWorstCasesFailClosedWithinTheDefaultBudget(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c, rec := budgetClient(t, be, 0)
			worstCaseModel(t, c, 50)
			cx := worstContext()
			ask := func(action string) authz.Decision {
				rec.reset()
				d, err := c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: action,
					Resource: &authz.ResourceRef{ResourceID: "d000"}, Context: cx})
				if err != nil {
					t.Fatalf("%s: got error %v; want a decision", action, err)
				}
				if used, _ := rec.total(); used > authz.DefaultMaxEvaluationCost {
					t.Fatalf("%s: counted %d operations; want at most %d", action, used, authz.DefaultMaxEvaluationCost)
				}
				return d
			}
			for _, action := range []string{"scan", "glob", "denied"} {
				d := ask(action)
				if _, stop := rec.total(); d.Allowed || !errors.Is(stop, logic.ErrBudgetExceeded) || !strings.Contains(d.Explanation, "operation budget exceeded") {
					t.Errorf("%s: got allowed=%v %q (stop %v); want a denial that says the budget ran out", action, d.Allowed, d.Explanation, stop)
				}
			}
			if d := ask("if"); d.Allowed || strings.Contains(d.Explanation, "budget") {
				t.Errorf("if: got allowed=%v %q; want a denial: the context's object is a value, not true", d.Allowed, d.Explanation)
			}
			if d := ask("mixed"); !d.Allowed || d.DecidedBy != authz.DecidedByRole {
				t.Errorf("mixed: got allowed=%v by %s %q; want the plain grant", d.Allowed, d.DecidedBy, d.Explanation)
			}

			rec.reset()
			page := must(c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "glob", ResourceType: "doc", Context: cx}))(t)
			if len(page.Resources) != 0 {
				t.Errorf("lookup: got %d resources; want none", len(page.Resources))
			}
			if len(rec.used) < 50 {
				t.Errorf("lookup: %d candidates evaluated; want the 50 resources", len(rec.used))
			}
			for _, u := range rec.used {
				if u > authz.DefaultMaxEvaluationCost {
					t.Fatalf("lookup: a candidate counted %d operations; want at most %d", u, authz.DefaultMaxEvaluationCost)
				}
			}

			if in := must(c.MatchesCollection(ctx, "heavy", "d000"))(t); in {
				t.Errorf("MatchesCollection on a definition that runs out: got true; want false (failing closed)")
			}
			if rs := must(c.ListCollectionResources(ctx, "heavy", authz.Page{}))(t); len(rs) != 0 {
				t.Errorf("ListCollectionResources on a definition that runs out: got %d resources; want none", len(rs))
			}

			free, frec := budgetClient(t, be, -1)
			worstCaseModel(t, free, 1)
			d := must(free.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "glob",
				Resource: &authz.ResourceRef{ResourceID: "d000"}}))(t)
			if used, stop := frec.total(); d.Allowed || stop != nil || used <= authz.DefaultMaxEvaluationCost {
				t.Errorf("unbounded glob: got allowed=%v after %d operations, stop %v; want a denial after more than %d operations, not stopped",
					d.Allowed, used, stop, authz.DefaultMaxEvaluationCost)
			}
			if in := must(free.MatchesCollection(ctx, "heavy", "d000"))(t); !in {
				t.Errorf("unbounded MatchesCollection: got false; want true (its last alternative holds)")
			}
		})
	}
}

// TestNestedQuantifiersOverLiteralsAreRefused: the review's nested some
// over literal arrays (177 bytes) is refused when written, naming the
// quantifier, whatever the data it would see.
func TestNestedQuantifiersOverLiteralsAreRefused(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		worstCaseModel(t, c, 0)
		l := literals(25)
		src := `{"some":[` + l + `,{"some":[` + l + `,{"some":[` + l + `,{"==":[{"var":""},-1]}]}]}]}`
		_, err := c.CreatePermissions(ctx, []authz.PermissionInput{{ID: "nested", ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: "nested", Logic: []byte(src)}})
		wantErr(t, err, authz.ErrInvalid)
		if !strings.Contains(err.Error(), `"some"`) || !strings.Contains(err.Error(), "logic") {
			t.Errorf("got %v; want the error to name the field and the quantifier", err)
		}
	})
}

// BenchmarkEvaluateWorstCase measures the most expensive requests the
// default budget allows: each runs until the budget stops it (a lookup:
// for each of its 50 candidates), or, for "static-limit", a condition at
// MaxConditionCost that holds only after all its work. "scan" and
// "denied" carry the 100,000-number context, whose conversion for the
// conditions is part of their cost.
func BenchmarkEvaluateWorstCase(b *testing.B) {
	c, err := authz.New(backends[0].open(b), &authz.Options{DecisionCacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	worstCaseModel(&testing.T{}, c, 50)
	// A condition at the static limit: the largest n × n nesting that is
	// accepted, true only at its very last predicate run.
	for n := 60; ; n-- {
		l := literals(n)
		src := fmt.Sprintf(`{"all":[%s,{"some":[%s,{"==":[{"var":""},%d]}]}]}`, l, l, n-1)
		_, err := c.CreatePermissions(ctx, []authz.PermissionInput{{ID: "limit", ScopeID: "acme", Action: "limit", ResourceType: "doc", ResourcePattern: "*", Key: "limit", Logic: []byte(src)}})
		if err == nil {
			b.Logf("static-limit: %d × %d predicate runs", n, n)
			break
		}
		if !errors.Is(err, authz.ErrInvalid) || n == 1 {
			b.Fatal(err)
		}
	}
	if _, err := c.CreateRolePermissions(ctx, []authz.RolePermissionInput{{RoleID: "r", PermissionID: "limit"}}); err != nil {
		b.Fatal(err)
	}
	cx := worstContext()
	for _, tc := range []struct {
		action string
		allow  bool
	}{{"static-limit", true}, {"scan", false}, {"glob", false}, {"denied", false}} {
		action := strings.TrimPrefix(tc.action, "static-")
		in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: action, Resource: &authz.ResourceRef{ResourceID: "d000"}}
		if action == "scan" || action == "denied" {
			in.Context = cx // 100,000 numbers: converting them is part of the cost
		}
		b.Run(tc.action, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, err := c.Evaluate(ctx, in); err != nil || d.Allowed != tc.allow {
					b.Fatalf("got %v, %v; want allowed=%v", d.Allowed, err, tc.allow)
				}
			}
		})
	}
	b.Run("lookup-glob-50", func(b *testing.B) {
		in := authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "glob", ResourceType: "doc"}
		b.ReportAllocs()
		for b.Loop() {
			if p, err := c.ListAllowedResources(ctx, in); err != nil || len(p.Resources) != 0 {
				b.Fatalf("got %v, %v; want none", p.Resources, err)
			}
		}
	})
}

// TestCancellationStopsAnUnboundedCondition: without a budget, the scan of
// 100,000 context numbers against 9,000 literals (900 million comparisons)
// still stops as soon as the request's ctx is done, since the condition's
// evaluation checks it as it goes (every logic.CheckInterval operations,
// between charges).
func TestCancellationStopsAnUnboundedCondition(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c, rec := budgetClient(t, be, -1)
			worstCaseModel(t, c, 1)
			in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "scan",
				Resource: &authz.ResourceRef{ResourceID: "d000"}, Context: worstContext()}
			for _, k := range []int64{0, 1, 2, 5, 50} {
				rec.reset()
				cx := newCountdown(k)
				d, err := c.Evaluate(cx, in)
				if !errors.Is(err, context.Canceled) || d.Allowed {
					t.Fatalf("cancelled at check %d: got allowed=%v, %v; want a denial and context.Canceled", k, d.Allowed, err)
				}
				if extra := cx.calls.Load() - k; extra > 3 {
					t.Errorf("cancelled at check %d: the evaluation went on for %d more checks; want at most 3", k, extra)
				}
				// The ctx is checked between charges; one charge here is an
				// in over the 9,000 literals.
				if used, _ := rec.total(); used > (k+1)*10000 {
					t.Errorf("cancelled at check %d: counted %d operations; want at most %d", k, used, (k+1)*10000)
				}
			}
		})
	}
}

// TestSharedMatchIsChargedToEverySubject: a collection match that reads
// nothing of the subject is computed once per request, but every subject
// that uses it pays for it, so that bob's decision is the same whether he
// is asked about alone, as the principal of alice, or after alice in a
// lookup (the security review's case: a deny policy on a collection of
// costly globs, and an allow policy whose condition is costly for bob
// only).
func TestSharedMatchIsChargedToEverySubject(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c, _ := budgetClient(t, be, 0)
			b := oneTenantBatch()
			b.Subjects = append(b.Subjects, authz.SubjectInput{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice"})
			b.Memberships = append(b.Memberships, authz.MembershipInput{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"r"}})
			b.Resources = []authz.ResourceInput{{ID: "d0", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: strings.Repeat("a", 4096)}}
			b.Permissions = []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: "p"}}
			b.RolePermissions = []authz.RolePermissionInput{{RoleID: "r", PermissionID: "p"}}
			b.Collections = []authz.CollectionInput{{ID: "heavy", ScopeID: "acme", ResourceTypeID: "rt", Name: "Heavy", MatchDefinition: []byte(
				`{"any":[` + strings.Repeat(`{"patterns":{"externalResourceId":"`+hostileGlob(2000)+`"}},`, 3) + `{"patterns":{"externalResourceId":"` + hostileGlob(2000) + `"}}]}`)}}
			b.ResourcePolicies = []authz.ResourcePolicyInput{
				{ID: "pol-direct", ScopeID: "acme", Name: "D", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "d0"}, Actions: []string{"read"},
					Effect: authz.EffectAllow, SubjectCondition: []byte(bobOnly)},
				{ID: "pol-deny", ScopeID: "acme", Name: "X", Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "heavy"}, Actions: []string{"read"},
					Effect: authz.EffectDeny},
			}
			must(c.Apply(ctx, b))(t)
			changed := 0
			for _, n := range []int{1000, 4000, 5000, 6000, 7000, 20000} {
				arr := make([]any, n)
				for i := range arr {
					arr[i] = float64(i)
				}
				cx := map[string]any{"arr": arr}
				alone := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read",
					Resource: &authz.ResourceRef{ResourceID: "d0"}, Context: cx}))(t)
				if !alone.Allowed {
					changed++
				}
				boundedLookupsAreExact(t, c, fmt.Sprintf("context of %d numbers", n), cx, "d0")
			}
			if changed == 0 || changed == 6 {
				t.Errorf("bob was denied for %d of the 6 contexts; want some of each (the case must straddle the budget)", changed)
			}
		})
	}
}

// BenchmarkManyConditions is the security review's case of many grants
// whose conditions have long sources of equal length (4,000 conditions of
// 1 KB reading a missing context key, so each is false): remembering the
// results costs the same per condition however many there are.
func BenchmarkManyConditions(b *testing.B) {
	c, err := authz.New(backends[0].open(b), &authz.Options{DecisionCacheSize: -1, MaxEvaluationCost: -1})
	if err != nil {
		b.Fatal(err)
	}
	bt := oneTenantBatch()
	bt.Resources = []authz.ResourceInput{{ID: "d0", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d0"}}
	for i := range 4000 {
		id := fmt.Sprintf("p%04d", i)
		bt.Permissions = append(bt.Permissions, authz.PermissionInput{ID: id, ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: id,
			Logic: []byte(fmt.Sprintf(`{"var":"context.%s%06d"}`, strings.Repeat("a", 1024), i))})
		bt.RolePermissions = append(bt.RolePermissions, authz.RolePermissionInput{RoleID: "r", PermissionID: id})
	}
	must(c.Apply(ctx, bt))(b)
	in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read", Resource: &authz.ResourceRef{ResourceID: "d0"},
		Context: map[string]any{"x": 1}}
	b.ReportAllocs()
	for b.Loop() {
		if d := must(c.Evaluate(ctx, in))(b); d.Allowed {
			b.Fatal("allowed")
		}
	}
}

// TestSharedContextValuesAreCharged: a Go caller's context whose maps are
// shared (each level holds the next twice, 22 levels: 4 million paths) is
// converted for the conditions value by value, as a tree; the conversion
// is charged, so the evaluation stops within its budget, failing closed,
// and a done ctx stops it without a budget.
func TestSharedContextValuesAreCharged(t *testing.T) {
	t.Parallel()
	var dag any = map[string]any{"leaf": 1.0}
	for range 22 {
		dag = map[string]any{"l": dag, "r": dag}
	}
	cx := map[string]any{"dag": dag, "arr": []any{1.0}}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			c, rec := budgetClient(t, be, 0)
			worstCaseModel(t, c, 1)
			in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "scan",
				Resource: &authz.ResourceRef{ResourceID: "d000"}, Context: cx}
			d := must(c.Evaluate(ctx, in))(t)
			used, stop := rec.total()
			if d.Allowed || !errors.Is(stop, logic.ErrBudgetExceeded) || used > authz.DefaultMaxEvaluationCost {
				t.Errorf("got allowed=%v after %d operations, stop %v; want a denial within %d operations, out of budget", d.Allowed, used, stop, authz.DefaultMaxEvaluationCost)
			}
			free, _ := budgetClient(t, be, -1)
			worstCaseModel(t, free, 1)
			cd := newCountdown(20)
			if d, err := free.Evaluate(cd, in); !errors.Is(err, context.Canceled) || d.Allowed {
				t.Errorf("without a budget, cancelled: got allowed=%v, %v; want a denial and context.Canceled", d.Allowed, err)
			}
		})
	}
}
