package authz_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
)

func TestBatchTooLarge(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			opts := testOptions()
			opts.MaxBatchSize = 3
			c := must(authz.New(b.open(t), opts))(t)
			// One subject with two inline memberships (one with a role) is four items.
			_, err := c.CreateSubjects(ctx, []authz.SubjectInput{{SubjectType: authz.SubjectUser, ExternalID: "x",
				Memberships: []authz.SubjectMembershipInput{{ScopeID: "a", RoleIDs: []string{"r"}}, {ScopeID: "b"}}}})
			wantErr(t, err, authz.ErrBatchTooLarge)
			if got := must(c.ListSubjects(ctx, authz.SubjectFilter{}))(t); len(got) != 0 {
				t.Errorf("got %d subjects stored; want none", len(got))
			}
		})
	}
}

func TestApplyIsAtomic(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		rev := must(c.Revision(ctx))(t)
		_, err := c.Apply(ctx, authz.Batch{
			Subjects:    []authz.SubjectInput{{ID: "subject_new", SubjectType: authz.SubjectUser, ExternalID: "new"}},
			Memberships: []authz.MembershipInput{{SubjectID: "subject_new", ScopeID: "scope_eng", RoleIDs: []string{"role_globex"}}},
		})
		// role_globex is defined in another tenant: not in chain(scope_eng).
		be := wantItems(t, err, authz.ErrNotAllowed, "0 roleIds[0]")
		if be.Items[0].Kind != "memberships" {
			t.Errorf("got kind %q; want memberships", be.Items[0].Kind)
		}
		_, err = c.GetSubject(ctx, "subject_new")
		wantErr(t, err, authz.ErrNotFound)
		if got := must(c.Revision(ctx))(t); got != rev {
			t.Errorf("got revision %d; want %d", got, rev)
		}
	})
}

// FuzzApply decodes arbitrary bytes into a Batch and applies it: the result
// is nil or a *BatchError (or a decoding error), never a panic, and a failed
// batch leaves the store untouched.
func FuzzApply(f *testing.F) {
	f.Add([]byte(`{"scopeTypes":[{"id":"t","name":"T"}],"scopes":[{"id":"s","typeId":"t","memberships":[{"subjectId":"u","roleIds":["r"]}]}],"subjects":[{"id":"u","subjectType":"user","externalId":"u"}],"roles":[{"id":"r","scopeId":"s","name":"R"}]}`))
	f.Add([]byte(`{"scopes":[{"id":"a","typeId":"t","parentScopeId":"b"},{"id":"b","typeId":"t","parentScopeId":"a"}],"scopeTypes":[{"id":"t","name":"T"}]}`))
	f.Add([]byte(`{"permissions":[{"scopeId":"s","action":"read","resourceType":"doc","logic":{"regex":[1]}}]}`))
	f.Add([]byte(`{"resourcePolicies":[{"scopeId":"s","name":"p","target":{"kind":"collection","collectionId":"c"},"actions":[],"effect":"maybe"}]}`))
	f.Add([]byte(`{"tagGroups":[{"scopeId":"s","key":"K","name":"n","tags":[{"identifier":"-x","label":""}]}]}`))
	f.Add([]byte(`{"scopes":[{"id":"s","typeId":"base"}],"resourceTypes":[{"id":"a","scopeId":"s","key":"a","name":"A"},{"id":"b","scopeId":"s","key":"b","name":"B"}],"resourceTypeEdges":[{"parentTypeId":"a","childTypeId":"b"},{"parentTypeId":"b","childTypeId":"a"},{"parentTypeId":"a","childTypeId":"a"}],"resources":[{"id":"x","resourceTypeId":"a","scopeId":"s","externalResourceId":"x"},{"id":"y","resourceTypeId":"b","scopeId":"s","externalResourceId":"y"}],"resourceEdges":[{"parentResourceId":"y","childResourceId":"x"},{"parentResourceId":"x","childResourceId":"y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b authz.Batch
		if json.Unmarshal(data, &b) != nil {
			return
		}
		c, err := authz.New(authztest.Memstore(t), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Apply(ctx, authz.Batch{ScopeTypes: []authz.ScopeTypeInput{{ID: "base", Name: "Base"}}}); err != nil {
			t.Fatal(err)
		}
		rev, _ := c.Revision(ctx)
		_, err = c.Apply(ctx, b)
		if cerr := c.Check(ctx); cerr != nil {
			t.Fatalf("after Apply (error %v): %v", err, cerr)
		}
		if err == nil {
			return
		}
		var be *authz.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("got %T %v; want a *BatchError", err, err)
		}
		for _, it := range be.Items {
			if !errors.Is(it, authz.ErrInvalid) && !errors.Is(it, authz.ErrNotFound) && !errors.Is(it, authz.ErrAlreadyExists) &&
				!errors.Is(it, authz.ErrNotAllowed) && !errors.Is(it, authz.ErrBatchTooLarge) {
				t.Fatalf("item error %v matches no documented sentinel", it)
			}
		}
		if got, _ := c.Revision(ctx); got != rev {
			t.Fatalf("failed batch changed the revision from %d to %d", rev, got)
		}
		if got := must(c.ListScopeTypes(ctx, authz.ScopeTypeFilter{}))(t); len(got) != 1 {
			t.Fatalf("failed batch left %d scope types; want 1", len(got))
		}
	})
}

// BenchmarkCreateScopes creates 10,000 scopes with two inline memberships
// each, in batches of 1,000, on each backend (boltstore with fsync on).
func BenchmarkCreateScopes(b *testing.B) {
	synced := backend{"boltstore-fsync", func(t testing.TB) storage.Storage {
		return authztest.OpenBolt(t, filepath.Join(t.TempDir(), "authz.bolt"), nil)
	}}
	for _, be := range []backend{backends[0], synced} {
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				store := be.open(b)
				c := must(authz.New(store, nil))(b)
				must(c.Apply(ctx, authz.Batch{
					ScopeTypes:     []authz.ScopeTypeInput{{ID: "org", Name: "Org"}, {ID: "t", Name: "T"}},
					ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "t"}},
					Scopes:         []authz.ScopeInput{{ID: "root", TypeID: "org"}},
					Subjects:       []authz.SubjectInput{{ID: "u1", SubjectType: "user", ExternalID: "1"}, {ID: "u2", SubjectType: "user", ExternalID: "2"}},
					Roles:          []authz.RoleInput{{ID: "r", ScopeID: "root", Name: "R"}},
				}))(b)
				b.StartTimer()
				for batch := 0; batch < 10; batch++ {
					in := make([]authz.ScopeInput, 1000)
					for i := range in {
						in[i] = authz.ScopeInput{ID: fmt.Sprintf("s%d_%d", batch, i), TypeID: "t", Name: "S", ParentScopeID: "root",
							Memberships: []authz.ScopeMembershipInput{{SubjectID: "u1", RoleIDs: []string{"r"}}, {SubjectID: "u2"}}}
					}
					must(c.CreateScopes(ctx, in))(b)
				}
			}
		})
	}
}

// TestTakenIDIsTheOneError: an input whose id a stored object already
// has, of any kind, gets that one error — not errors of its nested items
// (a scope's parent edge, a subject's memberships) checked against the
// stored object of that id. Each item of random models is applied again
// alone, as it was and moved to another scope of the model.
func TestTakenIDIsTheOneError(t *testing.T) {
	t.Parallel()
	for _, be := range authztest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			tried := 0
			for m := range max(invariantModels(t)/10, 2) {
				c, bt := loadRandomModel(t, be.Open(t), m)
				groups := reflect.ValueOf(bt)
				for f := range groups.NumField() {
					list := groups.Field(f)
					for i := range list.Len() {
						in := list.Index(i)
						id := in.FieldByName("ID")
						if !id.IsValid() || id.String() == "" {
							continue
						}
						for _, move := range []bool{false, true} {
							one := reflect.New(groups.Type()).Elem()
							item := reflect.New(in.Type()).Elem()
							item.Set(in)
							if p := item.FieldByName("ParentScopeID"); move && p.IsValid() && p.Kind() == reflect.String {
								p.SetString("P")
							}
							one.Field(f).Set(reflect.Append(reflect.MakeSlice(list.Type(), 0, 1), item))
							_, err := c.Apply(ctx, one.Interface().(authz.Batch))
							var be *authz.BatchError
							if !errors.As(err, &be) || len(be.Items) != 1 || be.Items[0].Field != "id" || !errors.Is(be.Items[0], authz.ErrAlreadyExists) {
								t.Fatalf("model %d: %s %q applied again: got %v; want the one error that its id is taken", m, groups.Type().Field(f).Name, id.String(), err)
							}
							tried++
						}
					}
				}
			}
			if tried == 0 {
				t.Fatal("no item with an id was tried")
			}
		})
	}
}
