package authz_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/scopegate/authz"
)

// TestTagAssignmentChecksMatchReference applies random batches of tag
// assignments (subjects and resources as targets, groups with and without a
// per-target limit, bindings of one object, of a model type and of a
// resource type, assignments already stored, duplicates) and compares the
// items refused with a reference that checks the items one by one in item
// order: a duplicate of a stored or earlier assignment clashes; an
// assignment no binding of its group covers is refused; one that would put
// more tags of a limited group on a target (across scopes: stored ones plus
// the earlier items accepted) than the limit is refused, naming the count.
func TestTagAssignmentChecksMatchReference(t *testing.T) {
	t.Parallel()
	rounds := envCount(t, "AUTHZ_TAG_ROUNDS", 40)
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		r := rand.New(rand.NewPCG(6, uint64(len(t.Name()))))
		refusals := map[string]int{}
		for round := range rounds {
			p := func(s string) string { return fmt.Sprintf("%s_%d", s, round) }
			type target struct {
				typ authz.ModelType
				id  string
			}
			targets := []target{{authz.ModelSubject, p("u0")}, {authz.ModelSubject, p("u1")}, {authz.ModelResource, p("d0")}, {authz.ModelResource, p("d1")}}
			setup := authz.Batch{
				ScopeTypes:     []authz.ScopeTypeInput{{ID: p("org"), Name: "Org"}, {ID: p("team"), Name: "Team"}},
				ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: p("org"), ChildTypeID: p("team")}},
				Scopes:         []authz.ScopeInput{{ID: p("root"), TypeID: p("org")}, {ID: p("sub"), TypeID: p("team"), ParentScopeID: p("root")}},
				ResourceTypes:  []authz.ResourceTypeInput{{ID: p("rt"), ScopeID: p("root"), Key: "doc", Name: "Doc"}},
			}
			for _, x := range targets {
				if x.typ == authz.ModelSubject {
					setup.Subjects = append(setup.Subjects, authz.SubjectInput{ID: x.id, SubjectType: authz.SubjectUser, ExternalID: x.id})
				} else {
					setup.Resources = append(setup.Resources, authz.ResourceInput{ID: x.id, ResourceTypeID: p("rt"), ScopeID: p("root"), ExternalResourceID: x.id})
				}
			}
			limit := map[string]int{} // 0: none
			covers := map[string]func(target) bool{}
			var tags []string
			groupOf := map[string]string{}
			for gi := range 3 {
				g := p(fmt.Sprintf("g%d", gi))
				in := authz.TagGroupInput{ID: g, ScopeID: p("root"), Key: fmt.Sprintf("k%d", gi), Name: "G"}
				if k := r.IntN(4); k > 0 {
					in.MaxAppliedPerTarget = &k
					limit[g] = k
				}
				for ti := range 4 {
					id := fmt.Sprintf("%s_t%d", g, ti)
					tags = append(tags, id)
					groupOf[id] = g
					in.Tags = append(in.Tags, authz.InlineTagInput{ID: id, Identifier: fmt.Sprint(ti), Label: "T"})
				}
				setup.TagGroups = append(setup.TagGroups, in)
				var binds []func(target) bool
				for range 1 + r.IntN(2) {
					switch r.IntN(4) {
					case 0:
						setup.TagBindings = append(setup.TagBindings, authz.TagBindingInput{TagGroupID: g, ModelType: authz.ModelSubject})
						binds = append(binds, func(x target) bool { return x.typ == authz.ModelSubject })
					case 1:
						x := targets[r.IntN(len(targets))]
						setup.TagBindings = append(setup.TagBindings, authz.TagBindingInput{TagGroupID: g, ModelType: x.typ, ModelID: &x.id})
						binds = append(binds, func(y target) bool { return y == x })
					case 2:
						rt := p("rt")
						setup.TagBindings = append(setup.TagBindings, authz.TagBindingInput{TagGroupID: g, ModelType: authz.ModelResourceType, ModelID: &rt})
						binds = append(binds, func(x target) bool { return x.typ == authz.ModelResource })
					default:
						setup.TagBindings = append(setup.TagBindings, authz.TagBindingInput{TagGroupID: g, ModelType: authz.ModelResourceType})
						binds = append(binds, func(x target) bool { return x.typ == authz.ModelResource })
					}
				}
				covers[g] = func(x target) bool { return slices.ContainsFunc(binds, func(f func(target) bool) bool { return f(x) }) }
			}
			must(c.Apply(ctx, setup))(t)

			type assign struct {
				tag   string
				x     target
				scope string
			}
			count := map[[3]string]int{} // group, type, target → tags on it
			keyOf := func(a assign) [3]string { return [3]string{groupOf[a.tag], string(a.x.typ), a.x.id} }
			taken := map[assign]bool{}
			random := func() assign {
				return assign{tags[r.IntN(len(tags))], targets[r.IntN(len(targets))], []string{p("root"), p("sub")}[r.IntN(2)]}
			}
			// Stored assignments, within the rules.
			for range r.IntN(6) {
				a := random()
				if taken[a] || !covers[groupOf[a.tag]](a.x) || (limit[groupOf[a.tag]] > 0 && count[keyOf(a)] >= limit[groupOf[a.tag]]) {
					continue
				}
				must(c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: a.tag, TargetType: a.x.typ, TargetID: a.x.id, ScopeID: a.scope}))(t)
				taken[a] = true
				count[keyOf(a)]++
			}
			var batch []assign
			for range 1 + r.IntN(12) {
				if len(batch) > 0 && r.IntN(6) == 0 {
					batch = append(batch, batch[r.IntN(len(batch))])
					continue
				}
				batch = append(batch, random())
			}
			var want []string
			failed := make([]bool, len(batch))
			for i, a := range batch {
				if taken[a] {
					failed[i] = true
					want = append(want, fmt.Sprintf("%d tagId %v", i, authz.ErrAlreadyExists))
					continue
				}
				taken[a] = true
			}
			for i, a := range batch {
				if failed[i] {
					continue
				}
				g := groupOf[a.tag]
				if !covers[g](a.x) {
					want = append(want, fmt.Sprintf("%d targetId %v", i, authz.ErrNotAllowed))
					refusals["binding"]++
					continue
				}
				if limit[g] == 0 {
					continue
				}
				if n := count[keyOf(a)] + 1; n > limit[g] {
					want = append(want, fmt.Sprintf("%d tagId %v: tag group %q allows at most %d of its tags on one target (maxAppliedPerTarget, counted across scopes), and %s %q would carry %d: remove one of its tags of that group first, or raise the limit",
						i, authz.ErrNotAllowed, g, limit[g], a.x.typ, a.x.id, n))
					refusals["limit"]++
					continue
				}
				count[keyOf(a)]++
			}
			var in []authz.TagAssignmentInput
			for _, a := range batch {
				in = append(in, authz.TagAssignmentInput{TagID: a.tag, TargetType: a.x.typ, TargetID: a.x.id, ScopeID: a.scope})
			}
			_, err := c.CreateTagAssignments(ctx, in)
			var got []string
			if err != nil {
				var be *authz.BatchError
				if !errors.As(err, &be) {
					t.Fatalf("round %d: got %v; want a *BatchError", round, err)
				}
				for _, it := range be.Items {
					line := fmt.Sprintf("%d %s %s", it.Index, it.Field, sentinelName(it.Err))
					if it.Field == "tagId" && errors.Is(it, authz.ErrNotAllowed) {
						line += ": " + it.Err.Error()
					}
					got = append(got, line)
				}
			}
			slices.Sort(got)
			diffLines(t, fmt.Sprintf("round %d: batch %v", round, batch), want, got)
		}
		if refusals["binding"] < rounds/4 || refusals["limit"] < rounds/4 {
			t.Errorf("refusals %v in %d rounds: the generator is too tame", refusals, rounds)
		}
	})
}
