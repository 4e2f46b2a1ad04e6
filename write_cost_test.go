package authz_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/modelgen"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// countingStore wraps a store and counts what its transactions read: Get
// calls, Scan calls and the rows the Scans deliver. The write tests below
// bound the cost of a write by these counts, not by wall time.
type countingStore struct {
	storage.Storage
	gets, scans, rows atomic.Int64
}

type countingTx struct {
	storage.Tx
	s *countingStore
}

func (s *countingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Storage.View(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Storage.Update(ctx, func(tx storage.Tx) error { return fn(countingTx{tx, s}) })
}

func (t countingTx) Get(table, key string) ([]byte, error) {
	t.s.gets.Add(1)
	return t.Tx.Get(table, key)
}

func (t countingTx) Scan(table, prefix string, fn func(string, []byte) error) error {
	t.s.scans.Add(1)
	return t.Tx.Scan(table, prefix, func(k string, v []byte) error {
		t.s.rows.Add(1)
		return fn(k, v)
	})
}

// reads returns the reads fn makes: Gets, Scans and rows scanned.
func (s *countingStore) reads(fn func()) int64 {
	s.gets.Store(0)
	s.scans.Store(0)
	s.rows.Store(0)
	fn()
	return s.gets.Load() + s.scans.Load() + s.rows.Load()
}

// eachCountingBackend runs fn against a fresh client over a counting store
// of every backend.
func eachCountingBackend(t *testing.T, fn func(t *testing.T, c *authz.Client, s *countingStore)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := &countingStore{Storage: b.open(t)}
			fn(t, s.mustClient(t), s)
		})
	}
}

// mustClient returns a Client over s that defers its graph: the reads
// counted are the write path's own, not the graph's catch-up after a
// write (TestWritesBringTheGraphUpToDate).
func (s *countingStore) mustClient(t testing.TB) *authz.Client {
	opts := testOptions()
	opts.DeferGraph = true
	c, err := authz.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// applyInBatches applies the items 0..n-1 made by one in batches of 500.
func applyInBatches(t testing.TB, c *authz.Client, n int, one func(bt *authz.Batch, i int)) {
	t.Helper()
	for lo := 0; lo < n; lo += 500 {
		var bt authz.Batch
		for i := lo; i < min(lo+500, n); i++ {
			one(&bt, i)
		}
		if _, err := c.Apply(ctx, bt); err != nil {
			t.Fatal(err)
		}
	}
}

// typeChain stores the scope types t0 … t(n-1), none of them define, and
// the type edges t0 → t1 → … → t(n-1): a scope tree n levels deep needs
// them.
func typeChain(t testing.TB, c *authz.Client, n int) {
	applyInBatches(t, c, n, func(bt *authz.Batch, i int) {
		bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: fmt.Sprintf("t%d", i), Name: "T"})
	})
	applyInBatches(t, c, n-1, func(bt *authz.Batch, i int) {
		bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: fmt.Sprintf("t%d", i), ChildTypeID: fmt.Sprintf("t%d", i+1)})
	})
}

// TestWriteReadsIndependentOfDepth writes at depth 100 and at depth 1,999 of
// one scope chain without define scopes (so chain(S) is the whole path to
// the root), each write validated against objects defined at the root, and
// requires the deep write to read no more than the shallow one plus an
// allowance: none for appending a scope, and for the writes that test
// chain membership, a few reads per doubling of the depth (the jump
// pointers find an ancestor in O(log depth) reads). Walking the chain would
// cost thousands more.
func TestWriteReadsIndependentOfDepth(t *testing.T) {
	t.Parallel()
	const depth, shallow = 2000, 100
	eachCountingBackend(t, func(t *testing.T, c *authz.Client, s *countingStore) {
		typeChain(t, c, depth+1)
		applyInBatches(t, c, depth, func(bt *authz.Batch, i int) {
			in := authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)}
			if i > 0 {
				in.ParentScopeID = fmt.Sprintf("s%d", i-1)
			}
			bt.Scopes = append(bt.Scopes, in)
		})
		must(c.Apply(ctx, authz.Batch{
			Subjects:      []authz.SubjectInput{{ID: "u", SubjectType: authz.SubjectUser, ExternalID: "u"}},
			Roles:         []authz.RoleInput{{ID: "role_top", ScopeID: "s0", Name: "Top"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt_doc", ScopeID: "s0", Key: "doc", Name: "Doc"}},
			Permissions:   []authz.PermissionInput{{ID: "p_top", ScopeID: "s0", Action: "read", ResourceType: "doc"}},
			TagGroups:     []authz.TagGroupInput{{ID: "tg", ScopeID: "s0", Key: "env", Name: "Env"}},
		}))(t)
		levels := []int{shallow, depth - 1}
		for _, d := range levels {
			x := fmt.Sprintf("s%d", d)
			must(c.Apply(ctx, authz.Batch{
				Memberships: []authz.MembershipInput{{ID: "m" + x, SubjectID: "u", ScopeID: x}},
				Roles:       []authz.RoleInput{{ID: "role_" + x, ScopeID: x, Name: "Local"}},
			}))(t)
		}
		writes := []struct {
			name  string
			log   bool // the cost may grow with log(depth)
			write func(x string, d int) error
		}{
			{"append scope", false, func(x string, d int) error {
				_, err := c.CreateScope(ctx, authz.ScopeInput{TypeID: fmt.Sprintf("t%d", d+1), ParentScopeID: x})
				return err
			}},
			{"override of a root role", true, func(x string, _ int) error {
				_, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: x, RoleID: "role_top", State: authz.OverrideDisabled})
				return err
			}},
			{"assignment of a root role", true, func(x string, _ int) error {
				_, err := c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: "m" + x, RoleID: "role_top"})
				return err
			}},
			{"permission of a root type", true, func(x string, _ int) error {
				_, err := c.CreatePermission(ctx, authz.PermissionInput{ScopeID: x, Action: "read", ResourceType: "doc"})
				return err
			}},
			{"grant of a root permission", true, func(x string, _ int) error {
				_, err := c.CreateRolePermission(ctx, authz.RolePermissionInput{RoleID: "role_" + x, PermissionID: "p_top"})
				return err
			}},
			{"resource of a root type", true, func(x string, _ int) error {
				_, err := c.CreateResource(ctx, authz.ResourceInput{ID: "r_" + x, ResourceTypeID: "rt_doc", ScopeID: x, ExternalResourceID: x})
				return err
			}},
			{"root policy on that resource", true, func(x string, _ int) error {
				_, err := c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: "s0", Name: "p", Effect: authz.EffectDeny, Actions: []string{"*"},
					Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "r_" + x}})
				return err
			}},
			{"local policy on that resource", true, func(x string, _ int) error {
				_, err := c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: x, Name: "p", Effect: authz.EffectDeny, Actions: []string{"*"},
					Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "r_" + x}})
				return err
			}},
			{"tag of a root group", true, func(x string, _ int) error {
				_, err := c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg", ScopeID: x, Identifier: x, Label: x})
				return err
			}},
		}
		// Each doubling of the depth may add one jump step and one parent
		// step per chain test: two reads.
		logAllowance := int64(2*math.Ceil(math.Log2(float64(depth-1)/shallow))) + 2
		for _, w := range writes {
			var reads []int64
			for _, d := range levels {
				x := fmt.Sprintf("s%d", d)
				var err error
				reads = append(reads, s.reads(func() { err = w.write(x, d) }))
				if err != nil {
					t.Fatalf("%s at depth %d: %v", w.name, d, err)
				}
			}
			allowance := int64(0)
			if w.log {
				allowance = logAllowance
			}
			t.Logf("%s: %d reads at depth %d, %d at depth %d", w.name, reads[0], levels[0], reads[1], levels[1])
			if reads[1] > reads[0]+allowance {
				t.Errorf("%s: got %d reads at depth %d; want at most %d (%d at depth %d, plus %d)", w.name, reads[1], levels[1], reads[0]+allowance, reads[0], levels[0], allowance)
			}
		}
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatchEdgeReadsLinear applies one batch of n chained edges, then one of
// 4n, of each kind whose graph must stay acyclic, between objects stored
// before, and requires the reads to grow linearly: at most 4.5 times as
// many for 4n. A check walking the graph per edge costs 16 times as many.
func TestBatchEdgeReadsLinear(t *testing.T) {
	t.Parallel()
	const n = 200
	kinds := []struct {
		name  string
		setup func(t *testing.T, c *authz.Client, m int)
		batch func(m int) authz.Batch
	}{
		{
			"scope type edges",
			func(t *testing.T, c *authz.Client, m int) {
				applyInBatches(t, c, m+1, func(bt *authz.Batch, i int) {
					bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: fmt.Sprintf("t%d", i), Name: "T"})
				})
			},
			func(m int) (bt authz.Batch) {
				for i := range m {
					bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: fmt.Sprintf("t%d", i), ChildTypeID: fmt.Sprintf("t%d", i+1)})
				}
				return bt
			},
		},
		{
			"scope edges",
			func(t *testing.T, c *authz.Client, m int) {
				typeChain(t, c, m+1)
				applyInBatches(t, c, m+1, func(bt *authz.Batch, i int) {
					bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)})
				})
			},
			func(m int) (bt authz.Batch) {
				for i := range m {
					bt.ScopeEdges = append(bt.ScopeEdges, authz.ScopeEdgeInput{ParentScopeID: fmt.Sprintf("s%d", i), ChildScopeID: fmt.Sprintf("s%d", i+1)})
				}
				return bt
			},
		},
		{
			"scopes created under each other",
			func(t *testing.T, c *authz.Client, m int) { typeChain(t, c, m+1) },
			func(m int) (bt authz.Batch) {
				for i := range m + 1 {
					in := authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)}
					if i > 0 {
						in.ParentScopeID = fmt.Sprintf("s%d", i-1)
					}
					bt.Scopes = append(bt.Scopes, in)
				}
				return bt
			},
		},
		{
			"resource edges",
			func(t *testing.T, c *authz.Client, m int) {
				must(c.Apply(ctx, authz.Batch{
					ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
					Scopes:        []authz.ScopeInput{{ID: "root", TypeID: "org"}},
					ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "folder", Name: "Folder"}},
				}))(t)
				applyInBatches(t, c, m+1, func(bt *authz.Batch, i int) {
					bt.Resources = append(bt.Resources, authz.ResourceInput{ID: fmt.Sprintf("r%d", i), ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: fmt.Sprint(i)})
				})
			},
			func(m int) (bt authz.Batch) {
				for i := range m {
					bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", i), ChildResourceID: fmt.Sprintf("r%d", i+1)})
				}
				return bt
			},
		},
		{
			"resource type edges",
			func(t *testing.T, c *authz.Client, m int) {
				must(c.Apply(ctx, authz.Batch{ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org"}}, Scopes: []authz.ScopeInput{{ID: "root", TypeID: "org"}}}))(t)
				applyInBatches(t, c, m+1, func(bt *authz.Batch, i int) {
					bt.ResourceTypes = append(bt.ResourceTypes, authz.ResourceTypeInput{ID: fmt.Sprintf("rt%d", i), ScopeID: "root", Key: fmt.Sprintf("k%d", i), Name: "T"})
				})
			},
			func(m int) (bt authz.Batch) {
				for i := range m {
					bt.ResourceTypeEdges = append(bt.ResourceTypeEdges, authz.ResourceTypeEdgeInput{ParentTypeID: fmt.Sprintf("rt%d", i), ChildTypeID: fmt.Sprintf("rt%d", i+1)})
				}
				return bt
			},
		},
		{
			"resource edges under a resource type hierarchy",
			func(t *testing.T, c *authz.Client, m int) {
				must(c.Apply(ctx, authz.Batch{
					ScopeTypes:        []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
					Scopes:            []authz.ScopeInput{{ID: "root", TypeID: "org"}},
					ResourceTypes:     []authz.ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "folder", Name: "Folder"}},
					ResourceTypeEdges: []authz.ResourceTypeEdgeInput{{ParentTypeID: "rt", ChildTypeID: "rt"}},
				}))(t)
				applyInBatches(t, c, m+1, func(bt *authz.Batch, i int) {
					bt.Resources = append(bt.Resources, authz.ResourceInput{ID: fmt.Sprintf("r%d", i), ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: fmt.Sprint(i)})
				})
			},
			func(m int) (bt authz.Batch) {
				for i := range m {
					bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", i), ChildResourceID: fmt.Sprintf("r%d", i+1)})
				}
				return bt
			},
		},
	}
	for _, k := range kinds {
		for _, be := range backends {
			t.Run(k.name+"/"+be.name, func(t *testing.T) {
				var reads []int64
				for _, m := range []int{n, 4 * n} {
					s := &countingStore{Storage: be.open(t)}
					c := s.mustClient(t)
					k.setup(t, c, m)
					var err error
					reads = append(reads, s.reads(func() { _, err = c.Apply(ctx, k.batch(m)) }))
					if err != nil {
						t.Fatalf("%d edges: %v", m, err)
					}
					if err := c.Check(ctx); err != nil {
						t.Fatalf("%d edges: %v", m, err)
					}
				}
				t.Logf("%d reads for %d edges, %d for %d", reads[0], n, reads[1], 4*n)
				if float64(reads[1]) > 4.5*float64(reads[0]) {
					t.Errorf("got %d reads for %d edges and %d for %d: ratio %.2f; want at most 4.5", reads[0], n, reads[1], 4*n, float64(reads[1])/float64(reads[0]))
				}
			})
		}
	}
}

// TestBatchTagAssignmentReadsLinear applies n, then 4n, tag assignments on
// one target in one batch, of a group with a per-target limit and one
// binding per subject, and requires the reads to grow linearly: counting
// the group's tags on the target and finding a binding once per item cost
// 16 times as many.
func TestBatchTagAssignmentReadsLinear(t *testing.T) {
	t.Parallel()
	const n = 200
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			var reads []int64
			for _, m := range []int{n, 4 * n} {
				s := &countingStore{Storage: be.open(t)}
				c := s.mustClient(t)
				limit := m
				must(c.Apply(ctx, authz.Batch{
					ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
					Scopes:     []authz.ScopeInput{{ID: "root", TypeID: "org"}},
					TagGroups:  []authz.TagGroupInput{{ID: "tg", ScopeID: "root", Key: "label", Name: "Label", MaxAppliedPerTarget: &limit}},
				}))(t)
				applyInBatches(t, c, m, func(bt *authz.Batch, i int) {
					id := fmt.Sprintf("u%d", i)
					bt.Subjects = append(bt.Subjects, authz.SubjectInput{ID: id, SubjectType: authz.SubjectUser, ExternalID: id})
					bt.Tags = append(bt.Tags, authz.TagInput{ID: fmt.Sprintf("tag%d", i), TagGroupID: "tg", Identifier: fmt.Sprint(i), Label: "L"})
					bt.TagBindings = append(bt.TagBindings, authz.TagBindingInput{TagGroupID: "tg", ModelType: authz.ModelSubject, ModelID: &id})
				})
				var in []authz.TagAssignmentInput
				for i := range m {
					in = append(in, authz.TagAssignmentInput{TagID: fmt.Sprintf("tag%d", i), TargetType: authz.ModelSubject, TargetID: "u0", ScopeID: "root"})
				}
				var err error
				reads = append(reads, s.reads(func() { _, err = c.CreateTagAssignments(ctx, in) }))
				if err != nil {
					t.Fatalf("%d assignments: %v", m, err)
				}
			}
			t.Logf("%d reads for %d assignments, %d for %d", reads[0], n, reads[1], 4*n)
			if float64(reads[1]) > 4.5*float64(reads[0]) {
				t.Errorf("got %d reads for %d assignments and %d for %d: ratio %.2f; want at most 4.5", reads[0], n, reads[1], 4*n, float64(reads[1])/float64(reads[0]))
			}
		})
	}
}

// TestResourceEdgeReadsIndependentOfDepth places resources under the
// resource at depth 100 and at depth 1,999 of a resource chain, new ones
// (created by the same batch) and stored ones without children, and
// requires the same reads at both depths: an edge whose child has no child
// lies on no cycle, and its check reads nothing above its parent.
func TestResourceEdgeReadsIndependentOfDepth(t *testing.T) {
	t.Parallel()
	const depth = 2000
	eachCountingBackend(t, func(t *testing.T, c *authz.Client, s *countingStore) {
		must(c.Apply(ctx, authz.Batch{
			ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
			Scopes:        []authz.ScopeInput{{ID: "root", TypeID: "org"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "folder", Name: "Folder"}},
		}))(t)
		applyInBatches(t, c, depth, func(bt *authz.Batch, i int) {
			id := fmt.Sprintf("r%d", i)
			bt.Resources = append(bt.Resources, authz.ResourceInput{ID: id, ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: id})
			if i > 0 {
				bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", i-1), ChildResourceID: id})
			}
		})
		for _, w := range []struct {
			name    string
			prepare func(child string) // not counted
			write   func(parent, child string) error
		}{
			{"new resource under it", func(string) {}, func(parent, child string) error {
				_, err := c.Apply(ctx, authz.Batch{
					Resources:     []authz.ResourceInput{{ID: child, ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: child}},
					ResourceEdges: []authz.ResourceEdgeInput{{ParentResourceID: parent, ChildResourceID: child}},
				})
				return err
			}},
			{"stored resource under it", func(child string) {
				must(c.CreateResource(ctx, authz.ResourceInput{ID: child, ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: child}))(t)
			}, func(parent, child string) error {
				_, err := c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: parent, ChildResourceID: child})
				return err
			}},
		} {
			var reads []int64
			for _, d := range []int{100, depth - 1} {
				var err error
				child := fmt.Sprintf("leaf_%s_%d", w.name[:3], d)
				w.prepare(child)
				reads = append(reads, s.reads(func() { err = w.write(fmt.Sprintf("r%d", d), child) }))
				if err != nil {
					t.Fatalf("%s at depth %d: %v", w.name, d, err)
				}
			}
			t.Logf("%s: %d reads at depth 100, %d at depth %d", w.name, reads[0], reads[1], depth-1)
			if reads[1] != reads[0] {
				t.Errorf("%s: got %d reads at depth %d; want %d, as at depth 100", w.name, reads[1], depth-1, reads[0])
			}
		}
	})
}

// TestLongChainInMessages: a permission whose resource type key is visible
// nowhere, at the bottom of a 300-deep chain, is refused with a message
// that names the first scopes of the chain, how many are left out and its
// last scope, and the refusal reads as much as at depth 10. Short chains
// are named in full.
func TestLongChainInMessages(t *testing.T) {
	t.Parallel()
	eachCountingBackend(t, func(t *testing.T, c *authz.Client, s *countingStore) {
		typeChain(t, c, 300)
		applyInBatches(t, c, 300, func(bt *authz.Batch, i int) {
			in := authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)}
			if i > 0 {
				in.ParentScopeID = fmt.Sprintf("s%d", i-1)
			}
			bt.Scopes = append(bt.Scopes, in)
		})
		var reads []int64
		for _, tc := range []struct {
			scope, chain string
		}{
			{"s7", "s7, s6, s5, s4, s3, s2, s1, s0"},
			{"s8", "s8, s7, s6, s5, s4, s3, … (2 more) …, s0"},
			{"s10", "s10, s9, s8, s7, s6, s5, … (4 more) …, s0"},
			{"s299", "s299, s298, s297, s296, s295, s294, … (293 more) …, s0"},
		} {
			var err error
			reads = append(reads, s.reads(func() {
				_, err = c.CreatePermission(ctx, authz.PermissionInput{ScopeID: tc.scope, Action: "read", ResourceType: "nowhere"})
			}))
			wantErr(t, err, authz.ErrNotAllowed)
			if want := "(looked in " + tc.chain + ")"; !strings.Contains(err.Error(), want) {
				t.Errorf("got %q; want it to contain %q", err, want)
			}
		}
		if reads[3] != reads[2] {
			t.Errorf("got %d reads at depth 299; want %d, as at depth 10", reads[3], reads[2])
		}
	})
}

// prefetchingStore wraps a memstore whose transactions implement
// storage.Prefetcher: they record the keys a Prefetch names and count the
// Gets of keys no Prefetch of the transaction named, the reads a store
// over a network would make one round trip each.
type prefetchingStore struct {
	storage.Storage
	unprefetched, prefetches atomic.Int64
}

type prefetchingTx struct {
	storage.Tx
	s    *prefetchingStore
	read map[string]bool
}

func (s *prefetchingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Storage.View(ctx, func(tx storage.Tx) error { return fn(&prefetchingTx{tx, s, map[string]bool{}}) })
}

func (s *prefetchingStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Storage.Update(ctx, func(tx storage.Tx) error { return fn(&prefetchingTx{tx, s, map[string]bool{}}) })
}

func (t *prefetchingTx) Prefetch(table string, keys []string) error {
	t.s.prefetches.Add(1)
	for _, k := range keys {
		t.read[table+"\x00"+k] = true
	}
	return nil
}

func (t *prefetchingTx) Get(table, key string) ([]byte, error) {
	if !t.read[table+"\x00"+key] {
		t.s.unprefetched.Add(1)
	}
	return t.Tx.Get(table, key)
}

// TestLargeBatchesReadThroughPrefetch loads the small generated model (its
// batches of up to 1,000 items refer to scopes four levels deep, roles,
// types and subjects of earlier batches) into a store that prefetches, and
// bounds the Gets no Prefetch covered: a few per batch, not one per item.
// Each is a round trip on PostgreSQL; reading the levels, scopes and roles
// that a batch refers to one by one made the bulk load twice as slow.
func TestLargeBatchesReadThroughPrefetch(t *testing.T) {
	t.Parallel()
	m := modelgen.Generate(modelgen.Small())
	s := &prefetchingStore{Storage: memstore.New()}
	t.Cleanup(func() { s.Close() })
	c := s.client(t)
	for _, bt := range m.Batches {
		if _, err := c.Apply(ctx, bt); err != nil {
			t.Fatal(err)
		}
	}
	items := m.Objects
	const perBatch = 8
	if got, limit := s.unprefetched.Load(), int64(perBatch*len(m.Batches)); got > limit {
		t.Errorf("Gets not prefetched loading %d objects in %d batches: got %d; want at most %d (%d a batch)", items, len(m.Batches), got, limit, perBatch)
	}
	if s.prefetches.Load() == 0 {
		t.Error("no batch prefetched")
	}
	t.Logf("%d objects in %d batches: %d prefetches, %d Gets not prefetched", items, len(m.Batches), s.prefetches.Load(), s.unprefetched.Load())
}

// client returns a Client over s that defers its graph, as mustClient.
func (s *prefetchingStore) client(t testing.TB) *authz.Client {
	opts := testOptions()
	opts.DeferGraph = true
	c, err := authz.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWritesBringTheGraphUpToDate: a Client builds its graph in New and
// brings it up to date after each write of its own that touches few nodes,
// so that Evaluate then reads nothing from the store but its revision; a
// write touching more nodes, and a Client with DeferGraph, leave the
// update to the next Evaluate. Counted in reads, on every backend.
func TestWritesBringTheGraphUpToDate(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := &countingStore{Storage: b.open(t)}
			evalModel(t, s.mustClient(t)) // a Client with DeferGraph
			c := must(authz.New(s, testOptions()))(t)
			evaluate := func(c *authz.Client) (gets, scans int64) {
				g, sc := s.gets.Load(), s.scans.Load()
				ask(t, c, "alice", "api", "read", "doc_api")
				return s.gets.Load() - g, s.scans.Load() - sc
			}
			check := func(what string, c *authz.Client, caughtUp bool) {
				t.Helper()
				gets, scans := evaluate(c)
				if got := gets <= 1 && scans == 0; got != caughtUp {
					t.Errorf("Evaluate %s: %d gets and %d scans; want the graph up to date: %v", what, gets, scans, caughtUp)
				}
			}
			check("after New", c, true)
			must(c.CreateRole(ctx, authz.RoleInput{ID: "auditor", ScopeID: "acme", Name: "Auditor"}))(t)
			check("after a write of one object", c, true)
			var many []authz.ResourceInput
			for i := range 300 {
				many = append(many, authz.ResourceInput{ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "bulk-" + strconv.Itoa(i)})
			}
			must(c.CreateResources(ctx, many))(t)
			check("after a write of 300 objects", c, false)
			check("again", c, true)
			check("of a Client with DeferGraph", s.mustClient(t), false)
		})
	}
}
