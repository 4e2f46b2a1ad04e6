package authz_test

import (
	"flag"
	"fmt"
	"testing"

	"github.com/scopegate/authz"
)

// chainLen is the length of the chains the write benchmarks build: the
// number of chained edges of one batch, and the depth of the deep scope
// chain.
var chainLen = flag.Int("authz.chain", 10000, "length of the chains of the write benchmarks")

// chainBatch is the batch size in which the benchmarks build the parts of
// their models that are not measured.
const chainBatch = 1000

// inBatches applies the items 0..n-1 made by one in batches of chainBatch.
func inBatches(b *testing.B, c *authz.Client, n int, one func(bt *authz.Batch, i int)) {
	b.Helper()
	for lo := 0; lo < n; lo += chainBatch {
		var bt authz.Batch
		for i := lo; i < min(lo+chainBatch, n); i++ {
			one(&bt, i)
		}
		if _, err := c.Apply(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
}

// chainTypes stores the scope types t0 … t(n-1) and, when linked, the type
// edges t0 → t1 → … → t(n-1): a tree n levels deep needs n types, since a
// scope's type must be a child type of its parent's.
func chainTypes(b *testing.B, c *authz.Client, n int, linked bool) {
	inBatches(b, c, n, func(bt *authz.Batch, i int) {
		bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: fmt.Sprintf("t%d", i), Name: "T"})
	})
	if linked {
		inBatches(b, c, n-1, func(bt *authz.Batch, i int) {
			bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: fmt.Sprintf("t%d", i), ChildTypeID: fmt.Sprintf("t%d", i+1)})
		})
	}
}

// BenchmarkWriteChainedEdges measures one batch of n chained edges, n from
// -authz.chain (10,000 by default), of each kind whose graph must stay
// acyclic: x0 → x1 → … → xn, between objects stored before. Each op
// builds a new store; only the batch of edges is timed. Target: ≤ 1 s.
func BenchmarkWriteChainedEdges(b *testing.B) {
	n := *chainLen
	kinds := []struct {
		name  string
		setup func(b *testing.B, c *authz.Client)
		batch authz.Batch
	}{
		{
			name:  "scope-type-edges",
			setup: func(b *testing.B, c *authz.Client) { chainTypes(b, c, n+1, false) },
			batch: func() (bt authz.Batch) {
				for i := range n {
					bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: fmt.Sprintf("t%d", i), ChildTypeID: fmt.Sprintf("t%d", i+1)})
				}
				return bt
			}(),
		},
		{
			name: "scope-edges",
			setup: func(b *testing.B, c *authz.Client) {
				chainTypes(b, c, n+1, true)
				inBatches(b, c, n+1, func(bt *authz.Batch, i int) {
					bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)})
				})
			},
			batch: func() (bt authz.Batch) {
				for i := range n {
					bt.ScopeEdges = append(bt.ScopeEdges, authz.ScopeEdgeInput{ParentScopeID: fmt.Sprintf("s%d", i), ChildScopeID: fmt.Sprintf("s%d", i+1)})
				}
				return bt
			}(),
		},
		{
			name: "resource-edges",
			setup: func(b *testing.B, c *authz.Client) {
				must(c.Apply(ctx, authz.Batch{
					ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
					Scopes:        []authz.ScopeInput{{ID: "root", TypeID: "org"}},
					ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "folder", Name: "Folder"}},
				}))(b)
				inBatches(b, c, n+1, func(bt *authz.Batch, i int) {
					bt.Resources = append(bt.Resources, authz.ResourceInput{ID: fmt.Sprintf("r%d", i), ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: fmt.Sprint(i)})
				})
			},
			batch: func() (bt authz.Batch) {
				for i := range n {
					bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", i), ChildResourceID: fmt.Sprintf("r%d", i+1)})
				}
				return bt
			}(),
		},
	}
	for _, k := range kinds {
		for _, be := range backends {
			b.Run(fmt.Sprintf("%s/%d/%s", k.name, n, be.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					c := must(authz.New(be.open(b), nil))(b)
					k.setup(b, c)
					b.StartTimer()
					if _, err := c.Apply(ctx, k.batch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkWriteDeepChain measures single writes at the bottom of a scope
// chain -authz.chain levels deep (10,000 by default) with no define scope,
// so that the chain of its bottom scope is the whole tree: appending a
// scope (target ≤ 1 ms), an override of a role defined at the top, and the
// assignment of that role to a member of the bottom scope. The chain is
// built once per backend (boltstore without fsync: the commit's fsync is
// not what is measured).
func BenchmarkWriteDeepChain(b *testing.B) {
	depth := *chainLen
	bottom := fmt.Sprintf("s%d", depth-1)
	for _, be := range backends {
		b.Run(fmt.Sprintf("%d/%s", depth, be.name), func(b *testing.B) {
			c := must(authz.New(be.open(b), nil))(b)
			chainTypes(b, c, depth+1, true)
			inBatches(b, c, depth, func(bt *authz.Batch, i int) {
				in := authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)}
				if i > 0 {
					in.ParentScopeID = fmt.Sprintf("s%d", i-1)
				}
				bt.Scopes = append(bt.Scopes, in)
			})
			must(c.Apply(ctx, authz.Batch{
				Roles:       []authz.RoleInput{{ID: "role_top", ScopeID: "s0", Name: "Top"}},
				Subjects:    []authz.SubjectInput{{ID: "u", SubjectType: authz.SubjectUser, ExternalID: "u"}},
				Memberships: []authz.MembershipInput{{ID: "m_bottom", SubjectID: "u", ScopeID: bottom}},
			}))(b)
			leaf := fmt.Sprintf("t%d", depth)
			b.Run("append-scope", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.CreateScope(ctx, authz.ScopeInput{TypeID: leaf, ParentScopeID: bottom}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("override-at-bottom", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					o, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: bottom, RoleID: "role_top", State: authz.OverrideDisabled})
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if err := c.DeleteScopeOverride(ctx, o.ID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
			// One override at every other level, each its own write (a
			// fresh role per op).
			op := 0
			b.Run(fmt.Sprintf("%d-overrides-along-the-chain", depth/2), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					op++
					role := must(c.CreateRole(ctx, authz.RoleInput{ID: fmt.Sprintf("role_op%d", op), ScopeID: "s0", Name: "Op"}))(b)
					b.StartTimer()
					for i := 0; i < depth; i += 2 {
						if _, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: fmt.Sprintf("s%d", i), RoleID: role.ID, State: authz.OverrideDisabled}); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.Run("role-assignment-at-bottom", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ra, err := c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: "m_bottom", RoleID: "role_top"})
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if err := c.DeleteRoleAssignment(ctx, ra.ID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		})
	}
}

// BenchmarkWriteChainBuild measures building a scope chain -authz.chain
// levels deep (10,000 by default) in batches of 500 scopes, each scope
// created under the one before (the scope types exist already).
func BenchmarkWriteChainBuild(b *testing.B) {
	depth := *chainLen
	for _, be := range backends {
		b.Run(fmt.Sprintf("%d/%s", depth, be.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				c := must(authz.New(be.open(b), nil))(b)
				chainTypes(b, c, depth, true)
				b.StartTimer()
				for lo := 0; lo < depth; lo += 500 {
					var in []authz.ScopeInput
					for i := lo; i < min(lo+500, depth); i++ {
						s := authz.ScopeInput{ID: fmt.Sprintf("s%d", i), TypeID: fmt.Sprintf("t%d", i)}
						if i > 0 {
							s.ParentScopeID = fmt.Sprintf("s%d", i-1)
						}
						in = append(in, s)
					}
					if _, err := c.CreateScopes(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkWriteTagAssignments measures one batch of n tag assignments
// (-authz.chain, 10,000 by default) on one target, of a group with a
// per-target limit and one binding per subject: each assignment counts the
// group's tags on the target and looks for a binding that covers it.
func BenchmarkWriteTagAssignments(b *testing.B) {
	n := *chainLen
	for _, be := range backends {
		b.Run(fmt.Sprintf("%d/%s", n, be.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				c := must(authz.New(be.open(b), nil))(b)
				limit := n
				must(c.Apply(ctx, authz.Batch{
					ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
					Scopes:     []authz.ScopeInput{{ID: "root", TypeID: "org"}},
					TagGroups:  []authz.TagGroupInput{{ID: "tg", ScopeID: "root", Key: "label", Name: "Label", MaxAppliedPerTarget: &limit}},
				}))(b)
				inBatches(b, c, n, func(bt *authz.Batch, i int) {
					id := fmt.Sprintf("u%d", i)
					bt.Subjects = append(bt.Subjects, authz.SubjectInput{ID: id, SubjectType: authz.SubjectUser, ExternalID: id})
					bt.Tags = append(bt.Tags, authz.TagInput{ID: fmt.Sprintf("tag%d", i), TagGroupID: "tg", Identifier: fmt.Sprint(i), Label: "L"})
					bt.TagBindings = append(bt.TagBindings, authz.TagBindingInput{TagGroupID: "tg", ModelType: authz.ModelSubject, ModelID: &id})
				})
				var bt authz.Batch
				for i := range n {
					bt.TagAssignments = append(bt.TagAssignments, authz.TagAssignmentInput{TagID: fmt.Sprintf("tag%d", i), TargetType: authz.ModelSubject, TargetID: "u0", ScopeID: "root"})
				}
				b.StartTimer()
				if _, err := c.Apply(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
