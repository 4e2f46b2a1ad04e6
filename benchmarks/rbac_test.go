package benchmarks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// rbacEngines is one RBAC workload loaded into every engine compared.
type rbacEngines struct {
	w       *RBAC
	store   storage.Storage
	authz   *authz.Client // with its decision cache, as by default
	nocache *authz.Client // the same store, evaluating every request
	plain   *casbin.Enforcer
	cached  *casbin.CachedEnforcer
}

var (
	rbacMu     sync.Mutex
	rbacLoaded = map[string]*rbacEngines{}
)

func rbacWorkload(tb testing.TB, size string) *RBAC {
	cfg, ok := RBACPreset(size)
	if !ok {
		tb.Fatalf("unknown size %q", size)
	}
	return GenerateRBAC(cfg)
}

// loadRBAC generates the workload of size and loads it into every engine,
// once per run.
func loadRBAC(tb testing.TB, size string) *rbacEngines {
	rbacMu.Lock()
	defer rbacMu.Unlock()
	if e := rbacLoaded[size]; e != nil {
		return e
	}
	w := rbacWorkload(tb, size)
	e := &rbacEngines{w: w, store: memstore.New()}
	loadAuthz(tb, e.store, w, nil)
	var err error
	if e.authz, err = authz.New(e.store, nil); err != nil {
		tb.Fatal(err)
	}
	if e.nocache, err = authz.New(e.store, &authz.Options{DecisionCacheSize: -1}); err != nil {
		tb.Fatal(err)
	}
	if e.plain, err = casbin.NewEnforcer(rbacCasbinModel(tb)); err != nil {
		tb.Fatal(err)
	}
	addRBACRules(tb, e.plain, w)
	if e.cached, err = casbin.NewCachedEnforcer(rbacCasbinModel(tb)); err != nil {
		tb.Fatal(err)
	}
	addRBACRules(tb, e.cached.Enforcer, w)
	rbacLoaded[size] = e
	return e
}

// loadAuthz applies the workload's batches to store with opts (nil: the
// defaults, the audit feed on) and returns the number of objects stored.
func loadAuthz(tb testing.TB, store storage.Storage, w *RBAC, opts *authz.Options) int {
	c, err := authz.New(store, opts)
	if err != nil {
		tb.Fatal(err)
	}
	batches, objects := w.Batches()
	for i, bt := range batches {
		if _, err := c.Apply(context.Background(), bt); err != nil {
			tb.Fatalf("batch %d: %v", i, err)
		}
	}
	return objects
}

func rbacCasbinModel(tb testing.TB) model.Model {
	md, err := model.NewModelFromString(rbacHierarchy)
	if err != nil {
		tb.Fatal(err)
	}
	return md
}

// addRBACRules loads the policies and groupings in chunks of 10,000.
func addRBACRules(tb testing.TB, e *casbin.Enforcer, w *RBAC) {
	p, g := w.CasbinRules()
	for rules, add := range map[*[][]string]func([][]string) (bool, error){&p: e.AddPolicies, &g: e.AddGroupingPolicies} {
		all := *rules
		for i := 0; i < len(all); i += 10_000 {
			if _, err := add(all[i:min(i+10_000, len(all))]); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// TestRBACSameAnswers: on the RBAC workload every engine answers every
// request as the generator does, and the generator's requests are 60%
// allowed.
func TestRBACSameAnswers(t *testing.T) {
	for _, size := range sizes(t) {
		e := loadRBAC(t, size)
		allowed := 0
		for i, r := range e.w.Requests {
			if r.Want {
				allowed++
			}
			for name, c := range map[string]*authz.Client{"authz": e.authz, "authz-nocache": e.nocache} {
				d, err := c.Evaluate(context.Background(), r.Input)
				if err != nil || d.Allowed != r.Want {
					t.Fatalf("%s: request %d (%s, %s, %s, %s): %s got allowed=%v err=%v; want %v: %s", size, i, r.Sub, r.Dom, r.Obj, r.Act, name, d.Allowed, err, r.Want, d.Explanation)
				}
			}
			for name, enforce := range map[string]func(...any) (bool, error){"Enforcer": e.plain.Enforce, "CachedEnforcer": e.cached.Enforce} {
				got, err := enforce(r.Sub, r.Dom, r.Obj, r.Act)
				if err != nil || got != r.Want {
					t.Fatalf("%s: request %d (%s, %s, %s, %s): casbin %s got %v, %v; want %v", size, i, r.Sub, r.Dom, r.Obj, r.Act, name, got, err, r.Want)
				}
			}
		}
		if want := len(e.w.Requests) * 3 / 5; allowed != want {
			t.Errorf("%s: %d of %d requests allowed; want %d", size, allowed, len(e.w.Requests), want)
		}
	}
}

// BenchmarkRBAC runs the workload's requests through each engine, one
// request per op, in turn (benchEvaluate, benchEnforce).
func BenchmarkRBAC(b *testing.B) {
	for _, size := range sizes(b) {
		e := loadRBAC(b, size)
		var inputs []authz.EvaluateInput
		var reqs [][]any
		for _, r := range e.w.Requests {
			inputs = append(inputs, r.Input)
			reqs = append(reqs, []any{r.Sub, r.Dom, r.Obj, r.Act})
		}
		benchEngines(b, size, e.authz, e.nocache, e.plain, e.cached, inputs, reqs)
	}
}

// BenchmarkRBACCacheResident runs the checks of BenchmarkRBAC's
// authz-nocache over fewer distinct requests (the first n of the
// workload's), so that what they read stays in the CPU's caches: the
// difference to BenchmarkRBAC's 10,000 requests is the cost of reading the
// graph from memory.
func BenchmarkRBACCacheResident(b *testing.B) {
	for _, size := range sizes(b) {
		e := loadRBAC(b, size)
		for _, n := range []int{16, 1000} {
			var inputs []authz.EvaluateInput
			for _, r := range e.w.Requests[:n] {
				inputs = append(inputs, r.Input)
			}
			b.Run(fmt.Sprintf("%s/requests=%d", size, n), func(b *testing.B) { benchEvaluate(b, e.nocache, inputs) })
		}
	}
}

// BenchmarkRBACFirstPass measures the first pass over the requests by a
// new Client on the loaded store, without a decision cache: each op is
// New (not timed; its time is reported as new-ms) and every request once.
// It reports ns per request of the pass, to compare with BenchmarkRBAC's
// authz-nocache (the steady cost).
func BenchmarkRBACFirstPass(b *testing.B) {
	for _, size := range sizes(b) {
		e := loadRBAC(b, size)
		reqs := e.w.Requests
		b.Run(size, func(b *testing.B) {
			b.ReportAllocs()
			var newTime time.Duration
			for b.Loop() {
				b.StopTimer()
				start := time.Now()
				c, err := authz.New(e.store, &authz.Options{DecisionCacheSize: -1})
				if err != nil {
					b.Fatal(err)
				}
				newTime += time.Since(start)
				b.StartTimer()
				for _, r := range reqs {
					if _, err := c.Evaluate(context.Background(), r.Input); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(reqs)), "ns/request")
			b.ReportMetric(float64(newTime.Milliseconds())/float64(b.N), "new-ms")
		})
	}
}

// BenchmarkRBACLoad loads the workload into a new store per op: memstore,
// memstore without the audit feed (what AuditRetention.MaxEntries -1
// saves), boltstore (a file, fsync per batch, as by default), and Casbin's
// plain Enforcer. It reports rules/s (Casbin's rules) and objects/s (the
// library's stored objects).
func BenchmarkRBACLoad(b *testing.B) {
	for _, size := range sizes(b) {
		w := rbacWorkload(b, size)
		_, objects := w.Batches()
		for _, engine := range []string{"memstore", "memstore-noaudit", "boltstore", "casbin"} {
			b.Run(size+"/"+engine, func(b *testing.B) {
				for b.Loop() {
					switch engine {
					case "memstore":
						s := memstore.New()
						loadAuthz(b, s, w, nil)
						s.Close()
					case "memstore-noaudit":
						s := memstore.New()
						loadAuthz(b, s, w, noAudit)
						s.Close()
					case "boltstore":
						path := filepath.Join(b.TempDir(), fmt.Sprintf("rbac-%d.bolt", time.Now().UnixNano()))
						s, err := boltstore.Open(path, nil)
						if err != nil {
							b.Fatal(err)
						}
						loadAuthz(b, s, w, nil)
						s.Close()
						os.Remove(path)
					case "casbin":
						en, err := casbin.NewEnforcer(rbacCasbinModel(b))
						if err != nil {
							b.Fatal(err)
						}
						addRBACRules(b, en, w)
					}
				}
				secs := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(w.Rules())/secs, "rules/s")
				if engine != "casbin" {
					b.ReportMetric(float64(objects)/secs, "objects/s")
				}
			})
		}
	}
}

// BenchmarkRBACHeap reports the live heap a loaded workload holds, per
// Casbin rule: a memstore with a Client whose graph is built (one
// Evaluate), the same loaded without the audit feed, and Casbin's plain
// Enforcer.
func BenchmarkRBACHeap(b *testing.B) {
	for _, size := range sizes(b) {
		w := rbacWorkload(b, size)
		_, objects := w.Batches()
		for _, engine := range []string{"authz-memstore", "authz-memstore-noaudit", "casbin"} {
			b.Run(size+"/"+engine, func(b *testing.B) {
				var perRule float64
				for b.Loop() {
					before := liveHeap()
					var keep any
					switch engine {
					case "authz-memstore", "authz-memstore-noaudit":
						s := memstore.New()
						opts := &authz.Options{DecisionCacheSize: -1}
						if engine == "authz-memstore-noaudit" {
							loadAuthz(b, s, w, noAudit)
							opts.AuditRetention = noAudit.AuditRetention
						} else {
							loadAuthz(b, s, w, nil)
						}
						c, err := authz.New(s, opts)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := c.Evaluate(context.Background(), w.Requests[0].Input); err != nil {
							b.Fatal(err)
						}
						keep = c
					case "casbin":
						en, err := casbin.NewEnforcer(rbacCasbinModel(b))
						if err != nil {
							b.Fatal(err)
						}
						addRBACRules(b, en, w)
						keep = en
					}
					perRule = float64(liveHeap()-before) / float64(w.Rules())
					runtime.KeepAlive(keep)
				}
				b.ReportMetric(perRule, "B/rule")
				if engine != "casbin" {
					b.ReportMetric(perRule*float64(w.Rules())/float64(objects), "B/object")
				}
			})
		}
	}
}

// noAudit are the default options with the audit feed off.
var noAudit = &authz.Options{AuditRetention: authz.AuditRetention{MaxEntries: -1}}

// liveHeap returns the bytes of live heap after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
