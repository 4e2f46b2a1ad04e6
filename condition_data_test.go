package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/memstore"
)

// newConditionDataClient returns a Client (memstore) over a model whose
// condition data has every field: subjects and resources with and without
// meta and tags, tags in and out of chain(eng), resource meta keys that
// clash with the resource's fields.
func newConditionDataClient(t *testing.T) *Client {
	t.Helper()
	ctx := context.Background()
	c, err := New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, Batch{
		ScopeTypes:     []ScopeTypeInput{{ID: "org", Name: "Org"}, {ID: "team", Name: "Team"}},
		ScopeTypeEdges: []ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "team"}},
		Scopes: []ScopeInput{{ID: "root", TypeID: "org"}, {ID: "eng", TypeID: "team", ParentScopeID: "root"},
			{ID: "ops", TypeID: "team", ParentScopeID: "root"}},
		Subjects: []SubjectInput{
			{ID: "jane", SubjectType: SubjectUser, ExternalID: "jane", DisplayName: "Jane", Meta: map[string]any{"dept": "eng", "level": 3, "tags": "meta tags"}},
			{ID: "svc", SubjectType: SubjectService, ExternalID: "svc"},
		},
		ResourceTypes: []ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "document", Name: "Document"}},
		Resources: []ResourceInput{
			{ID: "doc", ResourceTypeID: "rt", ScopeID: "eng", ExternalResourceID: "doc-1", OwnerID: "jane",
				Meta: map[string]any{"classification": "internal", "size": 10, "id": "shadowed", "owner": "jane", "nested": map[string]any{"deep": 1}}},
			{ID: "bare", ResourceTypeID: "rt", ScopeID: "eng", ExternalResourceID: "doc-2"},
		},
		TagGroups: []TagGroupInput{{ID: "tg", ScopeID: "root", Key: "dept", Name: "Dept",
			Tags: []InlineTagInput{{ID: "t_eng", Identifier: "engineering", Label: "Eng"}, {ID: "t_fin", Identifier: "finance", Label: "Fin"}}}},
		TagBindings: []TagBindingInput{{TagGroupID: "tg", ModelType: ModelSubject}, {TagGroupID: "tg", ModelType: ModelResource}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, Batch{TagAssignments: []TagAssignmentInput{
		{TagID: "t_eng", TargetType: ModelSubject, TargetID: "jane", ScopeID: "eng"},
		{TagID: "t_fin", TargetType: ModelSubject, TargetID: "jane", ScopeID: "ops"}, // not in chain(eng)
		{TagID: "t_eng", TargetType: ModelResource, TargetID: "doc", ScopeID: "root"},
	}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFastCondSeesConditionData checks that a condition of the fast form
// decided by subjectEval.fastCond, which looks values up without building
// the condition data, gives the answer of the condition evaluated on the
// data conditionData builds: for every field of the data (the subject's and
// the resource's, their meta and tags in and out of the chain, the context,
// the action and the scope), for subjects and resources with and without
// tags, with resource tags included or not, and for the type-level data.
func TestFastCondSeesConditionData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newConditionDataClient(t)
	g, err := c.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"subject.id", "subject.type", "subject.subjectType", "subject.externalId", "subject.displayName",
		"subject.meta.dept", "subject.meta.level", "subject.meta.tags", "subject.meta", "subject.tags.dept", "subject.tags.dept.0",
		"subject.tags.nope", "subject.nope", "subject.id.x",
		"resource.id", "resource.type", "resource.resourceTypeId", "resource.scopeId", "resource.ownerId", "resource.createdAt",
		"resource.classification", "resource.size", "resource.meta.classification", "resource.meta.id", "resource.tags.dept",
		"resource.tags.dept.0", "resource.resourcePattern", "resource.nope.deeper",
		"context.hour", "context.region", "context.nested.x", "context.nested.n", "context.nested", "context.nope",
		"context.raw.x", "context.raw.n", "context.when", "context.null", "context.null.x", "context.hour.x", "context.list.0", "action", "scopeId", "scopeId.x", "nope", "nope.x"}
	fixedTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	literals := []any{"2026-01-02T03:04:05Z", "eng", "jane", "user", "service", "internal", "engineering", "document", "read", "eng", "", 3.0, 10.0, 18.0}
	var decided, held int
	for _, res := range []*ResourceRef{{ResourceID: "doc"}, {ResourceID: "bare"}, {ResourceType: "document"}, {ResourceType: "document", ResourcePattern: "doc-*"}} {
		for _, resTags := range []bool{true, false} {
			for _, subject := range []string{"jane", "svc"} {
				in := EvaluateInput{Actor: SubjectRef{SubjectID: subject}, ScopeID: "eng", Action: "read", Resource: res,
					Context: map[string]any{"hour": 9, "region": "eu", "nested": map[string]any{"x": "eng", "n": int64(3)},
						"raw": json.RawMessage(`{"x":"eng","n":10}`), "when": fixedTime, "null": nil, "list": []string{"eng"}},
					IncludeResourceTags: &resTags}
				e := new(evaluation)
				if err := e.init(c, g, &in); err != nil {
					t.Fatal(err)
				}
				s := subjectEval{evaluation: e, x: e.actor}
				s.budget.Reset(context.Background(), -1)
				l := line{home: e.scope.h, e: e.scope.h}
				for _, path := range paths {
					for _, lit := range literals {
						for _, op := range []string{"==", "!=", "<", ">="} {
							js, _ := json.Marshal(lit)
							src := fmt.Sprintf(`{%q:[{"var":%q},%s]}`, op, path, js)
							// logic.Parse, not parseCondition: stored conditions
							// may read paths a write would refuse.
							cnd, err := logic.Parse([]byte(src))
							if err != nil || cnd.Fast() == nil {
								t.Fatalf("%s: no fast form (%v)", src, err)
							}
							e.context = nil // fastCond reads in.Context until conditionData converts it
							fresh := subjectEval{evaluation: e, x: e.actor}
							fresh.budget.Reset(context.Background(), -1)
							got, ok := fresh.fastCond(cnd.Fast(), e.res, l)
							if !ok {
								continue
							}
							decided++
							want, _ := cnd.Eval(s.conditionData(e.res, l), nil)
							if got != want {
								t.Errorf("%s for %s on %+v (resource tags %v): fastCond says %v; on the condition data it is %v",
									src, subject, *res, resTags, got, want)
							}
							if got {
								held++
							}
						}
					}
				}
			}
		}
	}
	if decided == 0 || held == 0 {
		t.Fatalf("fastCond decided %d conditions, %d of them true; want both above 0", decided, held)
	}
}
