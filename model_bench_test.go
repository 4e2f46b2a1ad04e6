package authz_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/modelgen"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
)

// benchSizes selects the generated models the benchmarks run on. CI runs
// small only; scripts/bench.sh runs all three.
var benchSizes = flag.String("authz.sizes", "small", "comma-separated model sizes for the benchmarks: small, medium, large")

func sizes(b *testing.B) []string {
	var out []string
	for _, s := range strings.Split(*benchSizes, ",") {
		if _, ok := modelgen.Preset(strings.TrimSpace(s)); !ok {
			b.Fatalf("-authz.sizes: unknown size %q", s)
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// loaded is a generated model loaded into a Client, shared by the
// benchmarks of one run.
type loaded struct {
	model  *modelgen.Model
	client *authz.Client
	store  storage.Storage
	path   string // the bolt file, for boltstore
	schema string // the schema, for pgstore
}

var (
	loadedMu sync.Mutex
	models   = map[string]*modelgen.Model{}
	clients  = map[string]*loaded{}
	benchDir string
)

// TestMain closes the stores the benchmarks loaded and removes their
// files: a run on the large model leaves gigabytes of bolt files otherwise.
func TestMain(m *testing.M) {
	code := m.Run()
	loadedMu.Lock()
	for key, l := range clients {
		if err := l.store.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "closing the %s store: %v\n", key, err)
		}
	}
	if benchDir != "" {
		if err := os.RemoveAll(benchDir); err != nil {
			fmt.Fprintf(os.Stderr, "removing the benchmark files: %v\n", err)
		}
	}
	loadedMu.Unlock()
	pgtest.Stop()
	os.Exit(code)
}

func model(size string) *modelgen.Model {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if m := models[size]; m != nil {
		return m
	}
	cfg, _ := modelgen.Preset(size)
	m := modelgen.Generate(cfg)
	models[size] = m
	return m
}

// openBackend opens an empty store of the named backend: a bolt file in
// dir, synced on commit as in production, or a new schema of the database
// the test binary shares (the benchmark skips without PostgreSQL). It
// returns the file or the schema.
func openBackend(b testing.TB, backend, dir string) (storage.Storage, string) {
	switch backend {
	case "memstore":
		return memstore.New(), ""
	case "pgstore":
		schema := fmt.Sprintf("bench%d", benchSchemas.Add(1))
		return openPgstore(b, schema), schema
	}
	path := filepath.Join(dir, "authz.bolt")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s, path
}

var benchSchemas atomic.Int64

// openPgstore opens the pgstore of schema in the database the test binary
// shares, with the default options.
func openPgstore(b testing.TB, schema string) *pgstore.Store {
	s, err := pgstore.Open(context.Background(), pgtest.SharedURL(b), &pgstore.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// load returns the model of size loaded into backend, loading it on first
// use. The stores stay open for the whole run.
func load(b *testing.B, size, backend string) *loaded {
	m := model(size)
	loadedMu.Lock()
	defer loadedMu.Unlock()
	key := size + "/" + backend
	if l := clients[key]; l != nil {
		return l
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "authz-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	dir := filepath.Join(benchDir, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	s, where := openBackend(b, backend, dir)
	// The decision cache would answer the repeated requests of the
	// benchmarks: measure evaluation itself (role-repeated measures the
	// cache).
	c := must(authz.New(s, &authz.Options{DecisionCacheSize: -1}))(b)
	for i, bt := range m.Batches {
		if _, err := c.Apply(context.Background(), bt); err != nil {
			b.Fatalf("%s: batch %d: %v", key, i, err)
		}
	}
	l := &loaded{model: m, client: c, store: s}
	if backend == "pgstore" {
		l.schema = where
	} else {
		l.path = where
	}
	checkAnswers(b, key, l)
	clients[key] = l
	return l
}

// checkAnswers fails unless the client answers every request of the model
// as the model was built to.
func checkAnswers(b *testing.B, key string, l *loaded) {
	for i, r := range l.model.Requests {
		d, err := l.client.Evaluate(context.Background(), r.Input)
		if err != nil || d.Allowed != r.Want {
			b.Fatalf("%s: request %d (%s): got allowed=%v err=%v; want %v: %s", key, i, r.Path, d.Allowed, err, r.Want, d.Explanation)
		}
	}
}

var benchBackends = []string{"memstore", "boltstore", "pgstore"}

// byPath groups the requests of a model by path.
func byPath(m *modelgen.Model) map[string][]authz.EvaluateInput {
	out := map[string][]authz.EvaluateInput{}
	for _, r := range m.Requests {
		out[r.Path] = append(out[r.Path], r.Input)
	}
	return out
}

var paths = []string{"role", "condition", "policy", "cascade", "link"}

// BenchmarkModelEvaluate measures Evaluate per path, size and backend, each
// op one request of the path's mix (allowed and denied), in turn.
func BenchmarkModelEvaluate(b *testing.B) {
	for _, size := range sizes(b) {
		for _, backend := range benchBackends {
			b.Run(size+"/"+backend, func(b *testing.B) {
				l := load(b, size, backend)
				reqs := byPath(l.model)
				for _, p := range paths {
					b.Run(p, func(b *testing.B) {
						in := reqs[p]
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							if _, err := l.client.Evaluate(context.Background(), in[i%len(in)]); err != nil {
								b.Fatal(err)
							}
							i++
						}
					})
				}
				b.Run("role-repeated", func(b *testing.B) {
					cached := must(authz.New(l.store, nil))(b)
					in := reqs["role"]
					for _, q := range in {
						must(cached.Evaluate(context.Background(), q))(b)
					}
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if _, err := cached.Evaluate(context.Background(), in[i%len(in)]); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
				b.Run("role-parallel", func(b *testing.B) {
					in := reqs["role"]
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						i := 0
						for pb.Next() {
							if _, err := l.client.Evaluate(context.Background(), in[i%len(in)]); err != nil {
								b.Error(err)
								return
							}
							i++
						}
					})
				})
				b.Run("batch-of-mix", func(b *testing.B) {
					in := make([]authz.EvaluateInput, len(l.model.Requests))
					for i, r := range l.model.Requests {
						in[i] = r.Input
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := l.client.EvaluateBatch(context.Background(), in); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/decision")
				})
			})
		}
	}
}

// BenchmarkModelFirstEvaluateAfterWrite measures the first Evaluate after a
// write of one object (a membership of a subject of its own, created and
// deleted in turn): the cost of bringing the graph up to date.
func BenchmarkModelFirstEvaluateAfterWrite(b *testing.B) {
	for _, size := range sizes(b) {
		for _, backend := range benchBackends {
			b.Run(size+"/"+backend, func(b *testing.B) {
				l := load(b, size, backend)
				c := l.client
				in := byPath(l.model)["role"][0]
				writer := "bench-writer"
				if _, err := c.GetSubject(context.Background(), writer); err != nil {
					must(c.CreateSubject(context.Background(), authz.SubjectInput{ID: writer, SubjectType: authz.SubjectUser, ExternalID: writer}))(b)
				}
				var mem string
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					if mem == "" {
						m := must(c.CreateMembership(context.Background(), authz.MembershipInput{SubjectID: writer, ScopeID: in.ScopeID}))(b)
						mem = m.ID
					} else {
						if err := c.DeleteMembership(context.Background(), mem); err != nil {
							b.Fatal(err)
						}
						mem = ""
					}
					b.StartTimer()
					if _, err := c.Evaluate(context.Background(), in); err != nil {
						b.Fatal(err)
					}
				}
				if mem != "" {
					if err := c.DeleteMembership(context.Background(), mem); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkModelBulkLoad loads the whole model with Apply, in batches of up
// to 1,000 items, into a new store per op.
func BenchmarkModelBulkLoad(b *testing.B) {
	for _, size := range sizes(b) {
		for _, backend := range benchBackends {
			b.Run(size+"/"+backend, func(b *testing.B) {
				m := model(size)
				for b.Loop() {
					b.StopTimer()
					s, _ := openBackend(b, backend, b.TempDir())
					c := must(authz.New(s, nil))(b)
					b.StartTimer()
					for i, bt := range m.Batches {
						if _, err := c.Apply(context.Background(), bt); err != nil {
							b.Fatalf("batch %d: %v", i, err)
						}
					}
					b.StopTimer()
					s.Close()
					b.StartTimer()
				}
				b.ReportMetric(float64(m.Objects)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
			})
		}
	}
}

// BenchmarkModelColdOpen opens the store of a loaded model and answers one
// request: what a restarted process pays before its first decision. On
// boltstore it opens the bolt file (the shared store is closed meanwhile:
// a file has one process); on pgstore it opens a new Store on the schema.
func BenchmarkModelColdOpen(b *testing.B) {
	for _, size := range sizes(b) {
		for _, backend := range []string{"boltstore", "pgstore"} {
			b.Run(size+"/"+backend, func(b *testing.B) {
				l := load(b, size, backend)
				in := l.model.Requests[0].Input
				loadedMu.Lock()
				defer loadedMu.Unlock()
				open := func() storage.Storage { return openPgstore(b, l.schema) }
				if backend == "boltstore" {
					open = func() storage.Storage {
						s, err := boltstore.Open(l.path, nil)
						if err != nil {
							b.Fatal(err)
						}
						return s
					}
					// Close the shared store for the duration, and reopen it after.
					if err := l.store.Close(); err != nil {
						b.Fatal(err)
					}
					defer func() {
						s := open()
						l.store, l.client = s, must(authz.New(s, &authz.Options{DecisionCacheSize: -1}))(b)
					}()
				}
				for b.Loop() {
					s := open()
					c := must(authz.New(s, nil))(b)
					if _, err := c.Evaluate(context.Background(), in); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					s.Close()
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkModelBackup copies the bolt file of a loaded model to a new
// file (boltstore's BackupFile: one read transaction, written and synced)
// while the store stays open.
func BenchmarkModelBackup(b *testing.B) {
	for _, size := range sizes(b) {
		b.Run(size, func(b *testing.B) {
			l := load(b, size, "boltstore")
			s := l.store.(*boltstore.Store)
			path := filepath.Join(b.TempDir(), "backup.bolt")
			for b.Loop() {
				n, err := s.BackupFile(context.Background(), path)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(n)
			}
		})
	}
}

// BenchmarkModelExportImport exports a loaded memstore model (to a
// buffer) and imports that export into a new memstore, in batches of
// Options.MaxBatchSize, reporting objects/s both ways.
func BenchmarkModelExportImport(b *testing.B) {
	for _, size := range sizes(b) {
		l := load(b, size, "memstore")
		var exp bytes.Buffer
		if _, err := l.client.Export(context.Background(), &exp, nil); err != nil {
			b.Fatal(err)
		}
		b.Run(size+"/export", func(b *testing.B) {
			var objects int
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				sum, err := l.client.Export(context.Background(), &out, nil)
				if err != nil {
					b.Fatal(err)
				}
				objects += sum.Objects
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
		b.Run(size+"/import", func(b *testing.B) {
			var objects int
			for b.Loop() {
				b.StopTimer()
				s := memstore.New()
				c := must(authz.New(s, nil))(b)
				b.StartTimer()
				sum, err := c.Import(context.Background(), bytes.NewReader(exp.Bytes()), nil)
				if err != nil {
					b.Fatal(err)
				}
				objects += sum.Objects
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkModelMemory reports the heap a loaded memstore model holds, with
// its graph built, per stored object.
func BenchmarkModelMemory(b *testing.B) {
	for _, size := range sizes(b) {
		b.Run(size, func(b *testing.B) {
			m := model(size)
			var before, after runtime.MemStats
			var c *authz.Client
			var s storage.Storage
			for b.Loop() {
				b.StopTimer()
				c, s = nil, nil
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				s = memstore.New()
				c = must(authz.New(s, nil))(b)
				for _, bt := range m.Batches {
					must(c.Apply(context.Background(), bt))(b)
				}
				must(c.Evaluate(context.Background(), m.Requests[0].Input))(b)
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.StartTimer()
			}
			runtime.KeepAlive(c)
			runtime.KeepAlive(s)
			perObject := float64(after.HeapAlloc-before.HeapAlloc) / float64(m.Objects)
			b.ReportMetric(perObject, "B/object")
			b.ReportMetric(float64(m.Objects), "objects")
			fmt.Fprintf(os.Stderr, "memory %s: %d objects, %.0f MiB heap, %.0f B/object\n", size, m.Objects, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), perObject)
		})
	}
}
