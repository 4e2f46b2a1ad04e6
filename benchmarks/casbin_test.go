package benchmarks

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/modelgen"
	"github.com/scopegate/authz/memstore"
)

var sizesFlag = flag.String("sizes", "small", "comma-separated model sizes: small, medium, large")

// rbacWithDomains is Casbin's RBAC with domains model: a role held in a
// domain grants the role's permissions in that domain.
const rbacWithDomains = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`

// engines is one model loaded into every engine compared.
type engines struct {
	model   *modelgen.Model
	authz   *authz.Client // with its decision cache, as by default
	nocache *authz.Client // the same store, evaluating every request
	plain   *casbin.Enforcer
	cached  *casbin.CachedEnforcer
}

var (
	loadedMu sync.Mutex
	loaded   = map[string]*engines{}
)

// load generates the model of size and loads it into every engine, once.
func load(tb testing.TB, size string) *engines {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if e := loaded[size]; e != nil {
		return e
	}
	cfg, ok := modelgen.Preset(size)
	if !ok {
		tb.Fatalf("unknown size %q", size)
	}
	m := modelgen.Generate(cfg)
	e := &engines{model: m}

	start := time.Now()
	store := memstore.New()
	c, err := authz.New(store, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i, bt := range m.Batches {
		if _, err := c.Apply(context.Background(), bt); err != nil {
			tb.Fatalf("authz: batch %d: %v", i, err)
		}
	}
	e.authz = c
	if e.nocache, err = authz.New(store, &authz.Options{DecisionCacheSize: -1}); err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s: authz loaded %d objects in %v\n", size, m.Objects, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	e.plain = newEnforcer(tb, m, func(md model.Model) (*casbin.Enforcer, error) { return casbin.NewEnforcer(md) })
	fmt.Fprintf(os.Stderr, "%s: casbin Enforcer loaded %d policies and %d groupings in %v\n", size, len(m.RBAC.Policies), len(m.RBAC.Groupings), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	cached, err := casbin.NewCachedEnforcer(casbinModel(tb))
	if err != nil {
		tb.Fatal(err)
	}
	addRules(tb, cached.Enforcer, m)
	e.cached = cached
	fmt.Fprintf(os.Stderr, "%s: casbin CachedEnforcer loaded in %v\n", size, time.Since(start).Round(time.Millisecond))
	loaded[size] = e
	return e
}

func casbinModel(tb testing.TB) model.Model {
	md, err := model.NewModelFromString(rbacWithDomains)
	if err != nil {
		tb.Fatal(err)
	}
	return md
}

func newEnforcer(tb testing.TB, m *modelgen.Model, mk func(model.Model) (*casbin.Enforcer, error)) *casbin.Enforcer {
	e, err := mk(casbinModel(tb))
	if err != nil {
		tb.Fatal(err)
	}
	addRules(tb, e, m)
	return e
}

// addRules loads the policies and groupings in chunks.
func addRules(tb testing.TB, e *casbin.Enforcer, m *modelgen.Model) {
	for rules, add := range map[*[][]string]func([][]string) (bool, error){
		&m.RBAC.Policies: e.AddPolicies, &m.RBAC.Groupings: e.AddGroupingPolicies,
	} {
		all := *rules
		for i := 0; i < len(all); i += 10000 {
			if _, err := add(all[i:min(i+10000, len(all))]); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func sizes(tb testing.TB) []string {
	var out []string
	for _, s := range strings.Split(*sizesFlag, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestSameAnswers checks that every engine answers every RBAC request as
// the model was built to.
func TestSameAnswers(t *testing.T) {
	for _, size := range sizes(t) {
		e := load(t, size)
		for i, r := range e.model.RBAC.Requests {
			d, err := e.authz.Evaluate(context.Background(), r.Input)
			if err != nil || d.Allowed != r.Want {
				t.Fatalf("%s: request %d: authz got allowed=%v err=%v; want %v: %s", size, i, d.Allowed, err, r.Want, d.Explanation)
			}
			for name, enforce := range map[string]func(...any) (bool, error){"Enforcer": e.plain.Enforce, "CachedEnforcer": e.cached.Enforce} {
				got, err := enforce(r.Sub, r.Dom, r.Obj, r.Act)
				if err != nil || got != r.Want {
					t.Fatalf("%s: request %d (%s, %s, %s, %s): casbin %s got %v, %v; want %v", size, i, r.Sub, r.Dom, r.Obj, r.Act, name, got, err, r.Want)
				}
			}
		}
	}
}

// BenchmarkCompare runs the same request list through each engine; each op
// is one request, in turn (benchEvaluate, benchEnforce).
func BenchmarkCompare(b *testing.B) {
	for _, size := range sizes(b) {
		e := load(b, size)
		var inputs []authz.EvaluateInput
		var reqs [][]any
		for _, r := range e.model.RBAC.Requests {
			inputs = append(inputs, r.Input)
			reqs = append(reqs, []any{r.Sub, r.Dom, r.Obj, r.Act})
		}
		benchEngines(b, size, e.authz, e.nocache, e.plain, e.cached, inputs, reqs)
	}
}
