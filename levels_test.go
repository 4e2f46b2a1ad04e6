package authz_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
)

// TestScopeLevelsFollowTheTree runs random writes that change the scope
// tree (scopes created under others or as roots, stored trees placed under
// other scopes, edges deleted, leaves deleted), checks the whole store
// after each one (Check recomputes every scope's level from the tree), and
// compares the chain rule as writes apply it (a role assignment needs the
// role's scope in the chain of the membership's scope) with chain(S)
// walked in the test's own copy of the tree.
func TestScopeLevelsFollowTheTree(t *testing.T) {
	t.Parallel()
	const types = 10
	steps := envCount(t, "AUTHZ_LEVEL_STEPS", 120)
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		r := rand.New(rand.NewPCG(5, uint64(len(t.Name()))))
		define := map[int]bool{}
		var setup authz.Batch
		for i := range types {
			define[i] = r.IntN(4) == 0
			mode := authz.PermissionModeInherit
			if define[i] {
				mode = authz.PermissionModeDefine
			}
			setup.ScopeTypes = append(setup.ScopeTypes, authz.ScopeTypeInput{ID: fmt.Sprintf("T%d", i), Name: "T", Config: authz.ScopeTypeConfig{PermissionMode: mode}})
			for j := i + 1; j < types; j++ {
				setup.ScopeTypeEdges = append(setup.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: fmt.Sprintf("T%d", i), ChildTypeID: fmt.Sprintf("T%d", j)})
			}
		}
		setup.Subjects = []authz.SubjectInput{{ID: "u", SubjectType: authz.SubjectUser, ExternalID: "u"}}
		must(c.Apply(ctx, setup))(t)

		typeOf := map[string]int{}
		parent := map[string]string{}
		var scopes []string
		kids := func(p string) (out []string) {
			for k, q := range parent {
				if q == p {
					out = append(out, k)
				}
			}
			return out
		}
		chain := func(s string) []string {
			var out []string
			for x := s; x != ""; x = parent[x] {
				out = append(out, x)
				if define[typeOf[x]] {
					break
				}
			}
			return out
		}
		next := 0
		checked := map[bool]int{}
		for step := range steps {
			var what string
			switch k := r.IntN(10); {
			case k < 5 || len(scopes) < 4:
				// New scopes, some under others (stored or of the batch),
				// and stored roots placed under other scopes.
				var bt authz.Batch
				added := map[string]string{}
				for range 1 + r.IntN(5) {
					id := fmt.Sprintf("s%d", next)
					next++
					ti := r.IntN(types)
					in := authz.ScopeInput{ID: id, TypeID: fmt.Sprintf("T%d", ti)}
					var above []string
					for _, s := range scopes {
						if typeOf[s] < ti {
							above = append(above, s)
						}
					}
					if len(above) > 0 && r.IntN(4) > 0 {
						in.ParentScopeID = above[r.IntN(len(above))]
						added[id] = in.ParentScopeID
					}
					typeOf[id] = ti
					scopes = append(scopes, id)
					bt.Scopes = append(bt.Scopes, in)
				}
				for range r.IntN(3) {
					root := scopes[r.IntN(len(scopes))]
					if _, has := parent[root]; has {
						continue
					}
					if _, has := added[root]; has {
						continue
					}
					var above []string
					for _, s := range scopes {
						if typeOf[s] < typeOf[root] {
							above = append(above, s)
						}
					}
					if len(above) == 0 {
						continue
					}
					p := above[r.IntN(len(above))]
					added[root] = p
					bt.ScopeEdges = append(bt.ScopeEdges, authz.ScopeEdgeInput{ParentScopeID: p, ChildScopeID: root})
				}
				maps := fmt.Sprint(added)
				if _, err := c.Apply(ctx, bt); err != nil {
					t.Fatalf("step %d: placing %s: %v", step, maps, err)
				}
				for k, p := range added {
					parent[k] = p
				}
				what = "create " + maps
			case k < 8:
				// Detach a subtree.
				var with []string
				for k := range parent {
					with = append(with, k)
				}
				if len(with) == 0 {
					continue
				}
				slices.Sort(with)
				child := with[r.IntN(len(with))]
				e := must(c.ListScopeEdges(ctx, authz.ScopeEdgeFilter{ChildScopeID: child}))(t)
				if len(e) != 1 {
					t.Fatalf("step %d: got edges %v above %s; want one", step, e, child)
				}
				if err := c.DeleteScopeEdge(ctx, e[0].ID); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				delete(parent, child)
				what = "detach " + child
			default:
				// Delete a leaf.
				var leaves []string
				for _, s := range scopes {
					if len(kids(s)) == 0 {
						leaves = append(leaves, s)
					}
				}
				leaf := leaves[r.IntN(len(leaves))]
				if err := c.DeleteScope(ctx, leaf); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				delete(parent, leaf)
				scopes = slices.DeleteFunc(scopes, func(s string) bool { return s == leaf })
				what = "delete " + leaf
			}
			if err := c.Check(ctx); err != nil {
				t.Fatalf("step %d (%s): %v", step, what, err)
			}
			for range 3 {
				s, target := scopes[r.IntN(len(scopes))], scopes[r.IntN(len(scopes))]
				if r.IntN(2) == 0 {
					if ch := chain(s); len(ch) > 1 {
						target = ch[r.IntN(len(ch))]
					}
				}
				role := "role_" + target
				if _, err := c.GetRole(ctx, role); err != nil {
					must(c.CreateRole(ctx, authz.RoleInput{ID: role, ScopeID: target, Name: "R"}))(t)
				}
				m := "m_" + s
				if _, err := c.GetMembership(ctx, m); err != nil {
					must(c.CreateMembership(ctx, authz.MembershipInput{ID: m, SubjectID: "u", ScopeID: s}))(t)
				}
				want := slices.Contains(chain(s), target)
				ra, err := c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: m, RoleID: role})
				switch {
				case want && err != nil:
					t.Fatalf("step %d: role at %s, member at %s (chain %v): got %v; want the assignment", step, target, s, chain(s), err)
				case !want && !errors.Is(err, authz.ErrNotAllowed):
					t.Fatalf("step %d: role at %s, member at %s (chain %v): got %v; want ErrNotAllowed", step, target, s, chain(s), err)
				case want:
					if err := c.DeleteRoleAssignment(ctx, ra.ID); err != nil {
						t.Fatal(err)
					}
				}
				checked[want]++
			}
		}
		if checked[true] < steps/2 || checked[false] < steps/2 {
			t.Errorf("checked %d pairs in a chain and %d outside: want at least %d of each", checked[true], checked[false], steps/2)
		}
	})
}

// TestAttachAndDetachDeepSubtrees moves a 1,500-deep chain, built as a
// stored tree of its own, under another tree and back, and requires the
// levels to follow (Check) and the chain rule to see the new ancestors.
func TestAttachAndDetachDeepSubtrees(t *testing.T) {
	t.Parallel()
	const depth = 1500
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		typeChain(t, c, depth+2)
		must(c.Apply(ctx, authz.Batch{
			Scopes:   []authz.ScopeInput{{ID: "top", TypeID: "t0"}},
			Roles:    []authz.RoleInput{{ID: "role_top", ScopeID: "top", Name: "Top"}},
			Subjects: []authz.SubjectInput{{ID: "u", SubjectType: authz.SubjectUser, ExternalID: "u"}},
		}))(t)
		applyInBatches(t, c, depth, func(bt *authz.Batch, i int) {
			in := authz.ScopeInput{ID: fmt.Sprintf("s%d", i+1), TypeID: fmt.Sprintf("t%d", i+1)}
			if i > 0 {
				in.ParentScopeID = fmt.Sprintf("s%d", i)
			}
			bt.Scopes = append(bt.Scopes, in)
		})
		bottom := fmt.Sprintf("s%d", depth)
		must(c.CreateMembership(ctx, authz.MembershipInput{ID: "m", SubjectID: "u", ScopeID: bottom}))(t)
		assign := func() error {
			ra, err := c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: "m", RoleID: "role_top"})
			if err == nil {
				return c.DeleteRoleAssignment(ctx, ra.ID)
			}
			return err
		}
		wantErr(t, assign(), authz.ErrNotAllowed)
		e := must(c.CreateScopeEdge(ctx, authz.ScopeEdgeInput{ParentScopeID: "top", ChildScopeID: "s1"}))(t)
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if err := assign(); err != nil {
			t.Fatalf("after the move under top: got %v; want the assignment", err)
		}
		// A scope appended at the bottom of the moved chain is in top's tree.
		must(c.CreateScope(ctx, authz.ScopeInput{ID: "leaf", TypeID: fmt.Sprintf("t%d", depth+1), ParentScopeID: bottom}))(t)
		must(c.CreateMembership(ctx, authz.MembershipInput{ID: "m_leaf", SubjectID: "u", ScopeID: "leaf", RoleIDs: []string{"role_top"}}))(t)
		if err := c.DeleteScopeEdge(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		wantErr(t, assign(), authz.ErrNotAllowed)
	})
}

// schema1Tables are the tables of a version 1 store.
var schema1Tables = []string{"meta", "ids", "index", "unique", "changes",
	"scope_types", "scope_type_edges", "scopes", "scope_edges", "memberships", "role_assignments", "subjects",
	"roles", "permissions", "role_permissions", "scope_overrides", "collections", "resource_policies",
	"resource_types", "resources", "resource_edges", "resource_scope_links",
	"tag_groups", "tags", "tag_bindings", "tag_assignments"}

// openSchema1 returns a store of schema version 1 of backend be: the bolt
// file of testdata/schema1.bolt.gz, written by the library at commit
// 9c60a98 (a platform scope over two define tenants, acme with a
// department, team and project under it and globex with a project; a
// stray root team; roles at the platform and at acme; resource types with
// key document at acme and at globex and one with key report at the
// platform; a member of the project with the acme role), or, for
// memstore, a copy of all its tables.
func openSchema1(t *testing.T, be backend) storage.Storage {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "schema1.bolt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "schema1.bolt")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	bolt := authztest.OpenBolt(t, path, &boltstore.Options{NoSync: true})
	if be.name == "boltstore" {
		return bolt
	}
	mem := authztest.Memstore(t)
	err = bolt.View(ctx, func(from storage.Tx) error {
		return mem.Update(ctx, func(to storage.Tx) error {
			for _, table := range schema1Tables {
				err := from.Scan(table, "", func(k string, v []byte) error { return to.Put(table, k, v) })
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

// TestUpgradeFromSchema1 opens a store written by the library before scope
// levels existed: New upgrades it (and says so in the log), the upgraded
// store passes Check, and the writes that read chains and trees behave as
// before the upgrade.
func TestUpgradeFromSchema1(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			store := openSchema1(t, be)
			var logged bytes.Buffer
			// Random ids: the fixture holds ids of the test generator.
			opts := &authz.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))}
			c := must(authz.New(store, opts))(t)
			if !strings.Contains(logged.String(), "authz: upgrading the store") || !strings.Contains(logged.String(), "fromSchema=1 toSchema=2") {
				t.Errorf("got log %q; want the upgrade from 1 to 2 stated", logged.String())
			}
			if err := c.Check(ctx); err != nil {
				t.Fatal(err)
			}
			// The chain of api ends at acme, a define scope.
			must(c.CreateRole(ctx, authz.RoleInput{ID: "r_eng", ScopeID: "eng", Name: "Eng"}))(t)
			must(c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: "m_alice", RoleID: "r_eng"}))(t)
			_, err := c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: "m_alice", RoleID: "r_platform"})
			wantErr(t, err, authz.ErrNotAllowed)
			// Keys are found in the chain through the new index.
			for _, p := range []authz.PermissionInput{
				{ScopeID: "api", Action: "write", ResourceType: "document"},
				{ScopeID: "gx_proj", Action: "write", ResourceType: "document"},
				{ScopeID: "platform", Action: "write", ResourceType: "report"},
			} {
				if _, err := c.CreatePermission(ctx, p); err != nil {
					t.Errorf("permission %+v: %v", p, err)
				}
			}
			_, err = c.CreatePermission(ctx, authz.PermissionInput{ScopeID: "api", Action: "write", ResourceType: "report"})
			wantErr(t, err, authz.ErrNotAllowed)
			// The stray team goes under eng, and a project under it.
			must(c.CreateScopeEdge(ctx, authz.ScopeEdgeInput{ParentScopeID: "eng", ChildScopeID: "loose"}))(t)
			must(c.CreateScope(ctx, authz.ScopeInput{ID: "p2", TypeID: "t_project", ParentScopeID: "loose"}))(t)
			must(c.CreatePermission(ctx, authz.PermissionInput{ScopeID: "p2", Action: "write", ResourceType: "document"}))(t)
			_, err = c.CreateScopeEdge(ctx, authz.ScopeEdgeInput{ParentScopeID: "p2", ChildScopeID: "platform"})
			wantErr(t, err, authz.ErrNotAllowed)
			if err := c.Check(ctx); err != nil {
				t.Fatal(err)
			}
			// A second open finds nothing to upgrade.
			logged.Reset()
			must(authz.New(store, opts))(t)
			if logged.Len() != 0 {
				t.Errorf("second open logged %q; want nothing", logged.String())
			}
		})
	}
}

// TestBatchChecksSeeTheTreeTheyMake: the checks of a batch that reads
// chains see the tree as the batch leaves it: a stored subtree placed
// under a scope by the batch, scopes created under it, and only the edges
// that pass.
func TestBatchChecksSeeTheTreeTheyMake(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		must(c.Apply(ctx, authz.Batch{
			ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org"}, {ID: "team", Name: "Team"}, {ID: "project", Name: "Project"}, {ID: "other", Name: "Other"}},
			ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "team"}, {ParentTypeID: "team", ChildTypeID: "project"},
				{ParentTypeID: "other", ChildTypeID: "project"}},
			Scopes:   []authz.ScopeInput{{ID: "acme", TypeID: "org"}, {ID: "t", TypeID: "team"}, {ID: "p", TypeID: "project", ParentScopeID: "t"}, {ID: "x", TypeID: "other"}},
			Roles:    []authz.RoleInput{{ID: "role_acme", ScopeID: "acme", Name: "Acme"}, {ID: "role_x", ScopeID: "x", Name: "X"}},
			Subjects: []authz.SubjectInput{{ID: "u", SubjectType: authz.SubjectUser, ExternalID: "u"}},
		}))(t)
		// t goes under acme in the batch that assigns acme's role at p, and
		// at a project created under p's sibling in the same batch.
		must(c.Apply(ctx, authz.Batch{
			ScopeEdges: []authz.ScopeEdgeInput{{ParentScopeID: "acme", ChildScopeID: "t"}},
			Scopes: []authz.ScopeInput{{ID: "t2", TypeID: "team", ParentScopeID: "acme",
				Memberships: []authz.ScopeMembershipInput{{SubjectID: "u", RoleIDs: []string{"role_acme"}}}}},
			Memberships: []authz.MembershipInput{{SubjectID: "u", ScopeID: "p", RoleIDs: []string{"role_acme"}}},
		}))(t)
		// An edge refused by the type rule does not place x above q: the
		// assignment of x's role at q is refused too.
		_, err := c.Apply(ctx, authz.Batch{
			Scopes:      []authz.ScopeInput{{ID: "q", TypeID: "team"}},
			ScopeEdges:  []authz.ScopeEdgeInput{{ParentScopeID: "x", ChildScopeID: "q"}},
			Memberships: []authz.MembershipInput{{SubjectID: "u", ScopeID: "q", RoleIDs: []string{"role_x"}}},
		})
		wantItems(t, err, authz.ErrNotAllowed, "0 parentScopeId", "0 roleIds[0]")
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
