package authz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/memstore"
)

// allChanges pages through the whole feed.
func allChanges(t *testing.T, c *authz.Client, in authz.ChangesInput) []authz.Change {
	t.Helper()
	var out []authz.Change
	for {
		p := must(c.Changes(ctx, in))(t)
		out = append(out, p.Changes...)
		if !p.More {
			return out
		}
		in.After = p.Next
	}
}

// summary is a change without its times and values, for comparisons.
func summary(chs []authz.Change) []string {
	var out []string
	for _, ch := range chs {
		out = append(out, string(ch.Action)+" "+ch.Kind+" "+ch.ID+" by "+ch.Actor+" in "+ch.Op)
	}
	return out
}

// TestChangesRecordEveryWrite: creations of a batch, an update with the
// object before and after, a delete and its cascade, each with who, when,
// the write and the revision, on every backend; filters and pages.
func TestChangesRecordEveryWrite(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		alice := authz.WithActor(ctx, "alice")
		res := must(c.Apply(alice, tinyModel()))(t)
		created := allChanges(t, c, authz.ChangesInput{})
		// 2 scope types, 1 type edge, 2 scopes, 1 scope edge, 2 subjects,
		// 1 membership, 1 role assignment, 1 resource type, 1 permission,
		// 1 role, 1 role-permission, 1 resource.
		if len(created) != 15 {
			t.Fatalf("entries after the batch: got %d %v; want 15", len(created), summary(created))
		}
		for i, ch := range created {
			if ch.Seq != uint64(i+1) || ch.Revision != res.Revision || ch.Action != authz.ChangeCreate || ch.Actor != "alice" ||
				ch.Op != "apply" || ch.Before != nil || ch.After == nil || !ch.Time.Equal(authztest.Now) {
				t.Errorf("entry %d: got %+v; want a creation by alice in apply at revision %d", i, ch, res.Revision)
			}
		}
		must(c.UpdateRole(ctx, "viewer", authz.RolePatch{Name: ptr("Reader")}))(t)
		upd := must(c.Changes(ctx, authz.ChangesInput{After: 15}))(t)
		if len(upd.Changes) != 1 {
			t.Fatalf("entries after the update: got %v; want one", summary(upd.Changes))
		}
		u := upd.Changes[0]
		var before, after authz.Role
		_ = json.Unmarshal(u.Before, &before)
		_ = json.Unmarshal(u.After, &after)
		if u.Action != authz.ChangeUpdate || u.Kind != "roles" || u.ID != "viewer" || u.Op != "update role" || u.Actor != authz.SystemActor ||
			before.Name != "Viewer" || after.Name != "Reader" {
			t.Errorf("update entry: got %+v (before %q after %q); want the role renamed Viewer → Reader by the system", u, before.Name, after.Name)
		}
		// Deleting alice deletes her membership and its role assignment.
		if err := c.DeleteSubject(authz.WithActor(ctx, "bob"), "alice"); err != nil {
			t.Fatal(err)
		}
		del := allChanges(t, c, authz.ChangesInput{After: 16})
		got := summary(del)
		slices.Sort(got)
		want := []string{"delete memberships membership_0003 by bob in delete subject", "delete roleAssignments role_assign_0004 by bob in delete subject",
			"delete subjects alice by bob in delete subject"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("delete entries (-want +got):\n%s", diff)
		}
		for _, ch := range del {
			if ch.Action != authz.ChangeDelete || ch.After != nil || ch.Before == nil {
				t.Errorf("delete entry %+v: want the object before and nothing after", ch)
			}
		}
		// Filters, and pages of one.
		roles := allChanges(t, c, authz.ChangesInput{Kind: "roles", Limit: 1})
		if diff := cmp.Diff([]string{"create roles viewer by alice in apply", "update roles viewer by system in update role"}, summary(roles)); diff != "" {
			t.Errorf("changes of kind roles (-want +got):\n%s", diff)
		}
		one := allChanges(t, c, authz.ChangesInput{ID: "alice"})
		if len(one) != 2 || one[0].Action != authz.ChangeCreate || one[1].Action != authz.ChangeDelete {
			t.Errorf("changes of alice: got %v; want her creation and deletion", summary(one))
		}
	})
}

// TestChangesRetention: the feed keeps the last MaxEntries entries, and
// drops entries older than MaxAge as writes come; the graph still catches
// up with every write, whatever the feed dropped.
func TestChangesRetention(t *testing.T) {
	now := authztest.Now
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	opts.AuditRetention = authz.AuditRetention{MaxEntries: 5, MaxAge: time.Hour}
	store := memstore.New()
	c := must(authz.New(store, opts))(t)
	reader := must(authz.New(store, testOptions()))(t)
	must(c.Apply(ctx, tinyModel()))(t)
	kept := allChanges(t, c, authz.ChangesInput{})
	if len(kept) != 5 || kept[0].Seq != 11 || kept[4].Seq != 15 {
		t.Fatalf("after 15 entries with MaxEntries 5: got seqs %v; want 11..15", seqs(kept))
	}
	now = now.Add(2 * time.Hour)
	must(c.CreateSubject(ctx, authz.SubjectInput{ID: "carol", SubjectType: authz.SubjectUser, ExternalID: "carol"}))(t)
	kept = allChanges(t, c, authz.ChangesInput{})
	if len(kept) != 1 || kept[0].ID != "carol" {
		t.Errorf("two hours later, with MaxAge 1h: got %v; want only the new entry", summary(kept))
	}
	if d := must(reader.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read",
		Resource: &authz.ResourceRef{ResourceID: "doc_1"}}))(t); !d.Allowed {
		t.Errorf("another Client after the trims: got denied; want allowed (%s)", d.Explanation)
	}
	off := testOptions()
	off.AuditRetention.MaxEntries = -1
	c2 := must(authz.New(memstore.New(), off))(t)
	must(c2.Apply(ctx, tinyModel()))(t)
	if got := allChanges(t, c2, authz.ChangesInput{}); len(got) != 0 {
		t.Errorf("feed turned off: got %d entries; want none", len(got))
	}
}

func seqs(chs []authz.Change) []uint64 {
	var out []uint64
	for _, ch := range chs {
		out = append(out, ch.Seq)
	}
	return out
}

// TestWatchChanges streams the entries of writes made by another Client
// on the same store, on every backend, and ends with ctx.
func TestWatchChanges(t *testing.T) {
	for _, be := range authztest.AllBackends {
		t.Run(be.Name, func(t *testing.T) {
			store := be.Open(t)
			watcher := must(authz.New(store, testOptions()))(t)
			writer := must(authz.New(store, testOptions()))(t)
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var (
				mu  sync.Mutex
				got []authz.Change
				end error
			)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ch, err := range watcher.WatchChanges(wctx, authz.ChangesInput{Kind: "subjects"}) {
					mu.Lock()
					if err != nil {
						end = err
					} else {
						got = append(got, ch)
					}
					n := len(got)
					mu.Unlock()
					if n == 3 {
						cancel()
					}
				}
			}()
			for _, id := range []string{"u1", "u2", "u3"} {
				must(writer.CreateSubject(ctx, authz.SubjectInput{ID: id, SubjectType: authz.SubjectUser, ExternalID: id}))(t)
				must(writer.CreateScopeType(ctx, authz.ScopeTypeInput{ID: "type_" + id, Name: id}))(t) // filtered out
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("WatchChanges did not deliver three entries within 10 s")
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]string{"create subjects u1 by system in create subjects", "create subjects u2 by system in create subjects",
				"create subjects u3 by system in create subjects"}, summary(got)); diff != "" {
				t.Errorf("watched entries (-want +got):\n%s", diff)
			}
			if !errors.Is(end, context.Canceled) {
				t.Errorf("end of the watch: got %v; want context.Canceled", end)
			}
		})
	}
}

// TestChangesByScope: on random models, every entry names the scope its
// object hangs on — computed here from the export, kind by kind — and a
// ScopeID filter, alone or with Subtree, keeps exactly the entries of that
// scope or of its subtree; an update that moves a resource names both
// scopes, and a deletion the scope the object hung on.
func TestChangesByScope(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, be := range authztest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			for m := range max(invariantModels(t)/6, 2) {
				c, _ := loadRandomModel(t, be.Open(t), m)
				want := expectedScopes(t, c)
				var scopes, resources []string
				for _, ch := range allChanges(t, c, authz.ChangesInput{}) {
					if ch.ScopeID != want[ch.ID] || ch.PreviousScopeID != "" {
						t.Fatalf("model %d: %s %s hangs on %q (previous %q); want %q", m, ch.Kind, ch.ID, ch.ScopeID, ch.PreviousScopeID, want[ch.ID])
					}
					if ch.ScopeID != "" {
						seen[ch.Kind] = true
					}
					switch ch.Kind {
					case "scopes":
						scopes = append(scopes, ch.ID)
					case "resources":
						resources = append(resources, ch.ID)
					}
				}
				tree := scopeTree(t, c)
				for _, s := range scopes {
					for _, subtree := range []bool{false, true} {
						var got, exp []string
						for _, ch := range allChanges(t, c, authz.ChangesInput{ScopeID: s, Subtree: subtree, Limit: 7}) {
							got = append(got, ch.ID)
						}
						for _, ch := range allChanges(t, c, authz.ChangesInput{}) {
							if ch.ScopeID == s || subtree && tree.below(s, ch.ScopeID) {
								exp = append(exp, ch.ID)
							}
						}
						if diff := cmp.Diff(exp, got); diff != "" {
							t.Fatalf("model %d: changes of scope %s (subtree %v) (-want +got):\n%s", m, s, subtree, diff)
						}
					}
				}
				// Deleting a scope deletes what hangs on it, each entry with
				// the scope it hung on, read before the cascade.
				if len(scopes) > 1 {
					last := allChanges(t, c, authz.ChangesInput{})
					// The scope with the most role assignments and role
					// permissions that a delete may remove (no child scope,
					// no resource of its own).
					count := map[string]int{}
					for _, ch := range last {
						if ch.Kind == "roleAssignments" || ch.Kind == "rolePermissions" {
							count[ch.ScopeID]++
						}
					}
					byCount := slices.Clone(scopes)
					slices.SortStableFunc(byCount, func(a, b string) int { return count[b] - count[a] })
					victim := ""
					for _, s := range byCount {
						if len(must(c.ListScopes(ctx, authz.ScopeFilter{ParentScopeID: s}))(t)) == 0 &&
							!slices.ContainsFunc(last, func(ch authz.Change) bool { return ch.Kind == "resources" && ch.ScopeID == s }) {
							victim = s
							break
						}
					}
					if err := c.DeleteScope(ctx, victim); victim != "" && err == nil {
						for _, ch := range allChanges(t, c, authz.ChangesInput{After: last[len(last)-1].Seq}) {
							if ch.Action != authz.ChangeDelete || ch.ScopeID != want[ch.ID] {
								t.Fatalf("model %d: deleting scope %s: %s %s %s hangs on %q; want a delete in %q", m, victim, ch.Action, ch.Kind, ch.ID, ch.ScopeID, want[ch.ID])
							}
							seen["cascades"] = seen["cascades"] || ch.Kind == "rolePermissions" || ch.Kind == "roleAssignments"
						}
					}
				}
				// Move a resource to another scope of its tenant, then delete it.
				if len(resources) == 0 {
					continue
				}
				r := must(c.GetResource(ctx, resources[m%len(resources)]))(t)
				var to string
				for _, s := range scopes {
					if s != r.ScopeID && tree.tenant(s) == tree.tenant(r.ScopeID) && tree.tenant(s) != "" {
						to = s
						break
					}
				}
				if to == "" {
					continue
				}
				if _, err := c.UpdateResource(ctx, r.ID, authz.ResourcePatch{ScopeID: &to}); err != nil {
					continue // refused for a reason of the model (a policy, an edge): not this test's subject
				}
				moved := allChanges(t, c, authz.ChangesInput{ID: r.ID})
				last := moved[len(moved)-1]
				if last.Action != authz.ChangeUpdate || last.ScopeID != to || last.PreviousScopeID != r.ScopeID {
					t.Fatalf("model %d: moving %s from %s to %s: got %s in %q from %q", m, r.ID, r.ScopeID, to, last.Action, last.ScopeID, last.PreviousScopeID)
				}
				for _, s := range []string{r.ScopeID, to} {
					if got := allChanges(t, c, authz.ChangesInput{ScopeID: s, ID: r.ID}); len(got) == 0 || got[len(got)-1].Seq != last.Seq {
						t.Fatalf("model %d: the move of %s is not among the changes of %s", m, r.ID, s)
					}
				}
				seen["moves"] = true
			}
		})
	}
	for _, k := range []string{"scopes", "scopeEdges", "memberships", "roleAssignments", "roles", "permissions", "rolePermissions",
		"scopeOverrides", "resources", "resourceEdges", "resourceTypeEdges", "resourceScopeLinks", "resourcePolicies", "moves", "cascades"} {
		if !seen[k] {
			t.Errorf("no entry of %s hung on a scope: the random models do not exercise it", k)
		}
	}
	if _, err := authztest.NewClient(t, authztest.Memstore(t), testOptions()).Changes(ctx, authz.ChangesInput{ScopeID: "nope", Subtree: true}); !errors.Is(err, authz.ErrNotFound) {
		t.Errorf("subtree of a missing scope: got %v; want ErrNotFound", err)
	}
}

// expectedScopes reads every object of c's export and returns, by id, the
// scope it hangs on.
func expectedScopes(t *testing.T, c *authz.Client) map[string]string {
	t.Helper()
	var exp bytes.Buffer
	must(c.Export(ctx, &exp, nil))(t)
	type fields struct {
		ID, ScopeID, ChildScopeID, RoleID, MembershipID, ChildResourceID, ChildTypeID, TagGroupID string
	}
	objs := map[string]fields{}
	kinds := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(exp.String()), "\n") {
		var l struct {
			Kind string
			Item fields
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		if l.Kind != "" {
			objs[l.Item.ID], kinds[l.Item.ID] = l.Item, l.Kind
		}
	}
	out := map[string]string{}
	for id, f := range objs {
		switch kinds[id] {
		case "scopeTypes", "scopeTypeEdges", "subjects":
		case "scopes":
			out[id] = id
		case "scopeEdges", "scopeOverrides":
			out[id] = f.ChildScopeID
		case "rolePermissions":
			out[id] = objs[f.RoleID].ScopeID
		case "roleAssignments":
			out[id] = objs[f.MembershipID].ScopeID
		case "resourceEdges":
			out[id] = objs[f.ChildResourceID].ScopeID
		case "tagBindings":
			out[id] = objs[f.TagGroupID].ScopeID
		case "resourceTypeEdges":
			out[id] = objs[f.ChildTypeID].ScopeID
		default:
			if f.ScopeID == "" {
				t.Fatalf("%s %s has no scopeId", kinds[id], id)
			}
			out[id] = f.ScopeID
		}
	}
	return out
}

// tree is a scope tree: each scope's parent.
type tree map[string]string

func scopeTree(t *testing.T, c *authz.Client) tree {
	t.Helper()
	out := tree{}
	for _, e := range must(c.ListScopeEdges(ctx, authz.ScopeEdgeFilter{}))(t) {
		out[e.ChildScopeID] = e.ParentScopeID
	}
	return out
}

// below reports whether s is root or under it.
func (tr tree) below(root, s string) bool {
	for ; s != ""; s = tr[s] {
		if s == root {
			return true
		}
	}
	return false
}

// tenant returns the child of the tree's root that s is under ("" for the
// root itself).
func (tr tree) tenant(s string) string {
	for ; s != "" && tr[s] != ""; s = tr[s] {
		if tr[tr[s]] == "" {
			return s
		}
	}
	return ""
}
