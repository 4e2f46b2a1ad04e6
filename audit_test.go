package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
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
