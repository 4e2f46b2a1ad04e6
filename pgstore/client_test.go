package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/pgstore"
)

// procModel is the model of the tests of several Clients and processes: bob's role may or may not
// hold the grant the writer toggles.
var procModel = authz.Batch{
	ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}},
	Scopes:        []authz.ScopeInput{{ID: "acme", TypeID: "org"}},
	Subjects:      []authz.SubjectInput{{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob"}},
	ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "acme", Key: "doc", Name: "Doc"}},
	Resources:     []authz.ResourceInput{{ID: "d0", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d0"}},
	Roles:         []authz.RoleInput{{ID: "r", ScopeID: "acme", Name: "R"}},
	Memberships:   []authz.MembershipInput{{SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"r"}}},
	Permissions:   []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: "p"}},
}

var procQuestion = authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read",
	Resource: &authz.ResourceRef{ResourceID: "d0"}}

// TestClientsOfTwoStores: two Clients on two Stores of one database, as two
// processes of an app would be. A grant written through one is seen through
// the other with AtLeastRevision at once, and by default once the other
// Store has learned of the commit (its notification, here; the poll is off).
func TestClientsOfTwoStores(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	a := authztest.NewClient(t, open(t, url, &pgstore.Options{PollInterval: -1}), authztest.Options())
	bs := open(t, url, &pgstore.Options{PollInterval: -1})
	b := authztest.NewClient(t, bs, authztest.Options())
	res, err := a.Apply(ctx, procModel)
	if err != nil {
		t.Fatal(err)
	}
	in := procQuestion
	// b built its graph when it was made, before the model: it answers
	// from the model once it asks for its revision (or has learnt of it).
	model := in
	model.Consistency = &authz.Consistency{AtLeastRevision: res.Revision}
	if d := authztest.Must(b.Evaluate(ctx, model))(t); d.Allowed {
		t.Fatal("before the grant: got allowed; want denied")
	}
	if _, err := a.CreateRolePermission(ctx, authz.RolePermissionInput{ID: "grant", RoleID: "r", PermissionID: "p"}); err != nil {
		t.Fatal(err)
	}
	// By default, once the other Store knows of the commit.
	deadline := time.Now().Add(10 * time.Second)
	for !authztest.Must(b.Evaluate(ctx, in))(t).Allowed {
		if time.Now().After(deadline) {
			t.Fatal("the default never saw the grant within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// With the revision of a write, at once.
	var w authz.WriteRevision
	if err := a.DeleteRolePermission(authz.WithWriteRevision(ctx, &w), "grant"); err != nil {
		t.Fatal(err)
	}
	fresh := in
	fresh.Consistency = &authz.Consistency{AtLeastRevision: w.Revision()}
	if d := authztest.Must(b.Evaluate(ctx, fresh))(t); d.Allowed {
		t.Errorf("AtLeastRevision %d (the grant deleted) through the other Store: got allowed; want denied", w.Revision())
	}
}

// BenchmarkClientWrites measures writes of the authz Client through
// pgstore: one subject per Apply (the latency of a small write), and
// batches of 1,000 subjects (the rate of a bulk load, reported as
// objects/s).
func BenchmarkClientWrites(b *testing.B) {
	ctx := context.Background()
	c, err := authz.New(open(b, pgtest.URL(b), nil), nil)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	b.Run("apply-one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n++
			if _, err := c.CreateSubject(ctx, authz.SubjectInput{ID: fmt.Sprintf("one%d", n), SubjectType: authz.SubjectUser, ExternalID: fmt.Sprintf("one%d", n)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("apply-1000", func(b *testing.B) {
		b.ReportAllocs()
		objects := 0
		for b.Loop() {
			in := make([]authz.SubjectInput, 1000)
			for i := range in {
				n++
				in[i] = authz.SubjectInput{ID: fmt.Sprintf("bulk%d", n), SubjectType: authz.SubjectUser, ExternalID: fmt.Sprintf("bulk%d", n)}
			}
			if _, err := c.CreateSubjects(ctx, in); err != nil {
				b.Fatal(err)
			}
			objects += len(in)
		}
		b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
	})
}
