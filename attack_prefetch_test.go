package authz_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/memstore"
)

// prefetchPair is the same sequence of writes on memstore (whose Tx does
// not prefetch) and on pgstore (whose Tx does): every answer must be the
// same.
type prefetchPair struct {
	mem, pg *authz.Client
}

func newPrefetchPair(t *testing.T) prefetchPair {
	t.Helper()
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	return prefetchPair{
		mem: authztest.NewClient(t, mem, testOptions()),
		pg:  authztest.NewClient(t, authztest.Pgstore(t), testOptions()),
	}
}

// describeErr renders an error of Apply with every item error: message,
// kind, index, id and field.
func describeErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	var be *authz.BatchError
	if errors.As(err, &be) {
		for _, it := range be.Items {
			s += fmt.Sprintf("\n  %s[%d] id %q field %q: %v", it.Kind, it.Index, it.ID, it.Field, it.Err)
		}
	}
	return s
}

func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return "marshal: " + err.Error()
	}
	return string(raw)
}

// apply applies bt on both stores and requires the same result or error;
// while the batch is refused it drops the items memstore refused (and
// applies the rest again, comparing again). It returns what was stored.
func (p prefetchPair) apply(t *testing.T, bt authz.Batch) authz.Batch {
	t.Helper()
	for round := range 50 {
		rm, em := p.mem.Apply(ctx, bt)
		rp, ep := p.pg.Apply(ctx, bt)
		if dm, dp := describeErr(em), describeErr(ep); dm != dp {
			t.Fatalf("round %d: Apply errors differ:\nmemstore: %s\npgstore:  %s\nbatch: %s", round, dm, dp, jsonText(bt))
		}
		if jm, jp := jsonText(rm), jsonText(rp); jm != jp {
			t.Fatalf("round %d: BatchResults differ:\nmemstore: %s\npgstore:  %s", round, jm, jp)
		}
		if em == nil {
			if round > 0 {
				t.Logf("accepted after %d refusals", round)
			}
			return bt
		}
		var be *authz.BatchError
		if !errors.As(em, &be) {
			t.Fatalf("round %d: Apply: %v", round, em)
		}
		if debugAttack {
			t.Log(describeErr(em))
		}
		bt = pruneRefused(bt, be)
	}
	t.Fatal("still refused after 50 rounds of pruning")
	return bt
}

// sameDecision evaluates in on both stores and requires the same decision
// or error.
func (p prefetchPair) sameDecision(t *testing.T, in authz.EvaluateInput) {
	t.Helper()
	dm, em := p.mem.Evaluate(ctx, in)
	dp, ep := p.pg.Evaluate(ctx, in)
	if fmt.Sprint(em) != fmt.Sprint(ep) || jsonText(dm) != jsonText(dp) {
		t.Fatalf("Evaluate %s:\nmemstore: %s %v\npgstore:  %s %v", jsonText(in), jsonText(dm), em, jsonText(dp), ep)
	}
}

// TestAttackPrefetchRandomModels loads random oracle models, unpruned (so
// that the batches hold refused items), on memstore and pgstore, and then
// compares decisions of random requests.
func TestAttackPrefetchRandomModels(t *testing.T) {
	t.Parallel()
	for seed := range 4 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			p := newPrefetchPair(t)
			r := rand.New(rand.NewPCG(uint64(seed), 99))
			bt := p.apply(t, randomModel(r))
			for range 40 {
				p.sameDecision(t, randomRequest(r, bt).input())
			}
		})
	}
}

// deepModel generates batches over a scope tree deeper than the rounds of
// prefetched levels: scope types t0 → t1 → … (every fifth a define type),
// chains of scopes that each batch extends (the parent stored or in the
// same batch), branches, and in every batch objects at scopes of every
// depth that refer to objects of the same batch, of earlier batches, to
// missing ids, to ids of the wrong kind, and duplicate ids.
type deepModel struct {
	r      *rand.Rand
	depth  int                  // the number of types
	at     map[string]int       // scope → depth (the index of its type)
	parent map[string]string    // scope → parent proposed
	stored map[string]bool      // ids stored
	scopes map[string]bool      // scopes stored
	ids    map[string][]string  // kind → ids stored, and proposed in this batch
	next   int                  // id counter
	tips   []string             // the deepest scope of each chain
	subs   []authz.SubjectInput // the subjects
	keys   []string             // resource type keys
	extern map[string]bool      // resource type|external id used
	types  map[string]string    // resource type id → key
}

func newDeepModel(r *rand.Rand, depth int) *deepModel {
	return &deepModel{r: r, depth: depth, at: map[string]int{}, ids: map[string][]string{},
		keys: []string{"doc", "folder"}, extern: map[string]bool{}, types: map[string]string{}, parent: map[string]string{}}
}

func (d *deepModel) id(prefix string) string {
	d.next++
	return fmt.Sprintf("%s%d", prefix, d.next)
}

// ref returns an id for a field of kind: mostly one proposed before (in
// this batch or an earlier one), sometimes a missing id, an id of another
// kind, or "".
func (d *deepModel) ref(kind string) string {
	switch n := d.r.IntN(40); {
	case n == 0:
		return "missing-" + kind
	case n == 1:
		for _, k := range []string{"scope", "role", "perm", "rtype", "subject", "res"} {
			if k != kind && len(d.ids[k]) > 0 {
				return pickFrom(d.r, d.ids[k])
			}
		}
	}
	if len(d.ids[kind]) == 0 {
		return "missing-" + kind
	}
	return pickFrom(d.r, d.ids[kind])
}

// scopeRef is ref for scopes, preferring deep ones.
func (d *deepModel) scopeRef() string {
	if d.r.IntN(3) > 0 && len(d.tips) > 0 {
		return pickFrom(d.r, d.tips)
	}
	return d.ref("scope")
}

// dupID returns a new id, or (rarely) one already proposed, of any kind.
func (d *deepModel) dupID(prefix string) string {
	if d.r.IntN(25) == 0 {
		for _, k := range []string{"role", "scope", "perm", prefix} {
			if len(d.ids[k]) > 0 {
				return pickFrom(d.r, d.ids[k])
			}
		}
	}
	return d.id(prefix)
}

func (d *deepModel) setup() authz.Batch {
	var bt authz.Batch
	for i := range d.depth {
		mode := authz.PermissionModeInherit
		if i%5 == 0 {
			mode = authz.PermissionModeDefine
		}
		bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: fmt.Sprintf("t%d", i), Name: "T", Config: authz.ScopeTypeConfig{PermissionMode: mode}})
		if i > 0 {
			bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: fmt.Sprintf("t%d", i-1), ChildTypeID: fmt.Sprintf("t%d", i)})
		}
	}
	for i := range 4 {
		s := authz.SubjectInput{ID: fmt.Sprintf("u%d", i), SubjectType: authz.SubjectUser, ExternalID: fmt.Sprintf("u%d", i)}
		bt.Subjects = append(bt.Subjects, s)
		d.ids["subject"] = append(d.ids["subject"], s.ID)
	}
	d.subs = bt.Subjects
	for range 2 {
		id := d.id("s")
		bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: id, TypeID: "t0"})
		d.at[id] = 0
		d.ids["scope"] = append(d.ids["scope"], id)
		d.tips = append(d.tips, id)
	}
	return bt
}

// batch returns the next batch: at least 8 items.
func (d *deepModel) batch() authz.Batch {
	var bt authz.Batch
	r := d.r
	// Extend every chain by 2 to 4 scopes, the first under a stored
	// scope, the others under scopes of this batch; sometimes a branch,
	// or a scope of the wrong type, or under a missing or wrong parent.
	for ti, tip := range d.tips {
		parent := tip
		for range 2 + r.IntN(3) {
			depth := d.at[parent] + 1
			if depth >= d.depth {
				break
			}
			id := d.dupID("s")
			in := authz.ScopeInput{ID: id, TypeID: fmt.Sprintf("t%d", depth), ParentScopeID: parent}
			switch r.IntN(20) {
			case 0:
				in.TypeID = fmt.Sprintf("t%d", min(depth+1, d.depth-1)) // no such type edge
			case 1:
				in.ParentScopeID = d.ref("role")
			case 2:
				in.ParentScopeID = "missing-scope"
			}
			bt.Scopes = append(bt.Scopes, in)
			if _, dup := d.at[id]; !dup {
				d.at[id] = depth
				d.parent[id] = parent
				d.ids["scope"] = append(d.ids["scope"], id)
			}
			parent = id
		}
		d.tips[ti] = parent
	}
	if r.IntN(2) == 0 && len(d.ids["scope"]) > 0 {
		// A branch under a scope at any depth.
		p := pickFrom(r, d.ids["scope"])
		if depth := d.at[p] + 1; depth < d.depth {
			id := d.id("s")
			bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: id, TypeID: fmt.Sprintf("t%d", depth), ParentScopeID: p})
			d.at[id] = depth
			d.ids["scope"] = append(d.ids["scope"], id)
		}
	}
	for range 1 + r.IntN(2) {
		id := d.dupID("rt")
		key := pickFrom(r, d.keys)
		bt.ResourceTypes = append(bt.ResourceTypes, authz.ResourceTypeInput{ID: id, ScopeID: d.scopeRef(), Key: key, Name: key})
		d.ids["rtype"] = append(d.ids["rtype"], id)
		d.types[id] = key
	}
	for range 2 + r.IntN(3) {
		id := d.dupID("r")
		bt.Roles = append(bt.Roles, authz.RoleInput{ID: id, ScopeID: d.scopeRef(), Name: id})
		d.ids["role"] = append(d.ids["role"], id)
	}
	for range 2 + r.IntN(3) {
		id := d.dupID("p")
		bt.Permissions = append(bt.Permissions, authz.PermissionInput{ID: id, ScopeID: d.scopeRef(), Action: pickFrom(r, []string{"read", "write"}),
			ResourceType: pickFrom(r, d.keys), ResourcePattern: pickFrom(r, []string{"*", "x-*", "x-1"})})
		d.ids["perm"] = append(d.ids["perm"], id)
	}
	for range 2 + r.IntN(4) {
		bt.RolePermissions = append(bt.RolePermissions, authz.RolePermissionInput{ID: d.dupID("rp"), RoleID: d.ref("role"), PermissionID: d.ref("perm")})
	}
	for range 1 + r.IntN(3) {
		m := authz.MembershipInput{ID: d.dupID("m"), SubjectID: d.ref("subject"), ScopeID: d.scopeRef()}
		for range r.IntN(3) {
			m.RoleIDs = append(m.RoleIDs, d.ref("role"))
		}
		bt.Memberships = append(bt.Memberships, m)
		d.ids["membership"] = append(d.ids["membership"], m.ID)
	}
	for range r.IntN(3) {
		bt.RoleAssignments = append(bt.RoleAssignments, authz.RoleAssignmentInput{ID: d.dupID("ra"), MembershipID: d.ref("membership"), RoleID: d.ref("role")})
	}
	for range r.IntN(3) {
		ov := authz.ScopeOverrideInput{ID: d.dupID("o"), ChildScopeID: d.scopeRef(), State: pickFrom(r, []authz.OverrideState{authz.OverrideDisabled, authz.OverrideEnabled})}
		switch r.IntN(3) {
		case 0:
			ov.Kind, ov.RoleID = authz.OverrideRole, d.ref("role")
		case 1:
			ov.Kind, ov.PermissionID = authz.OverridePermission, d.ref("perm")
		default:
			ov.Kind, ov.RoleID, ov.PermissionID = authz.OverrideRolePermission, d.ref("role"), d.ref("perm")
		}
		bt.ScopeOverrides = append(bt.ScopeOverrides, ov)
	}
	for range 1 + r.IntN(3) {
		typ := d.ref("rtype")
		ext := pickFrom(r, []string{"x-1", "x-2", "y-1"})
		if d.extern[typ+"|"+ext] {
			ext = d.id("x-")
		}
		d.extern[typ+"|"+ext] = true
		res := authz.ResourceInput{ID: d.dupID("res"), ResourceTypeID: typ, ScopeID: d.scopeRef(), ExternalResourceID: ext, OwnerID: d.ref("subject")}
		bt.Resources = append(bt.Resources, res)
		d.ids["res"] = append(d.ids["res"], res.ID)
	}
	for range r.IntN(3) {
		bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ID: d.dupID("e"), ParentResourceID: d.ref("res"), ChildResourceID: d.ref("res"), Cascade: authz.CascadeInherit})
	}
	for range r.IntN(2) {
		bt.ResourceScopeLinks = append(bt.ResourceScopeLinks, authz.ResourceScopeLinkInput{ID: d.dupID("l"), ResourceID: d.ref("res"), ScopeID: d.scopeRef(),
			LinkType: pickFrom(r, []authz.LinkType{authz.LinkShare, authz.LinkAlias, authz.LinkMirror})})
	}
	for range r.IntN(2) {
		bt.ResourcePolicies = append(bt.ResourcePolicies, authz.ResourcePolicyInput{ID: d.dupID("pol"), ScopeID: d.scopeRef(), Name: "p",
			Effect: pickFrom(r, []authz.Effect{authz.EffectAllow, authz.EffectDeny}), Actions: []string{pickFrom(r, []string{"read", "*"})},
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: d.ref("res")}})
	}
	return bt
}

// learn keeps, of the ids proposed, those of the batch stored (and of the
// batches before): later batches refer to them, and extend each chain from
// its deepest stored scope.
func (d *deepModel) learn(stored authz.Batch) {
	var fields map[string][]struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(jsonText(stored)), &fields)
	if d.stored == nil {
		d.stored = map[string]bool{}
	}
	for _, items := range fields {
		for _, it := range items {
			d.stored[it.ID] = true
		}
	}
	for k, ids := range d.ids {
		var kept []string
		for _, id := range ids {
			if d.stored[id] {
				kept = append(kept, id)
			}
		}
		d.ids[k] = kept
	}
	if d.scopes == nil {
		d.scopes = map[string]bool{}
	}
	for _, sc := range stored.Scopes {
		d.scopes[sc.ID] = true
	}
	for i, tip := range d.tips {
		for tip != "" && !d.scopes[tip] {
			tip = d.parent[tip]
		}
		if tip != "" {
			d.tips[i] = tip
		}
	}
}

// TestAttackPrefetchDeepBatches loads deepModel batches (trees deeper than
// the prefetched rounds) on memstore and pgstore, requiring the same
// results and item errors batch after batch, then the same decisions at
// every depth, by resource id, by external id and at the type level.
func TestAttackPrefetchDeepBatches(t *testing.T) {
	t.Parallel()
	for seed := range 3 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			p := newPrefetchPair(t)
			r := rand.New(rand.NewPCG(uint64(seed), 23))
			d := newDeepModel(r, 30)
			d.learn(p.apply(t, d.setup()))
			var stored []authz.Batch
			for range 14 {
				bt := p.apply(t, d.batch())
				d.learn(bt)
				stored = append(stored, bt)
			}
			var scopes, resources []string
			for _, bt := range stored {
				for _, s := range bt.Scopes {
					scopes = append(scopes, s.ID)
				}
				for _, res := range bt.Resources {
					resources = append(resources, res.ID)
				}
			}
			deepest := 0
			for _, s := range scopes {
				deepest = max(deepest, d.at[s])
			}
			if deepest < 12 {
				t.Fatalf("the deepest scope stored is at depth %d; want at least 12 (more than the prefetched rounds)", deepest)
			}
			t.Logf("%d scopes down to depth %d, %d resources stored", len(scopes), deepest, len(resources))
			for range 60 {
				in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: pickFrom(r, d.subs).ID}, ScopeID: pickFrom(r, scopes),
					Action: pickFrom(r, []string{"read", "write"})}
				switch r.IntN(3) {
				case 0:
					if len(resources) == 0 {
						continue
					}
					in.Resource = &authz.ResourceRef{ResourceID: pickFrom(r, resources)}
				case 1:
					in.Resource = &authz.ResourceRef{ResourceType: pickFrom(r, d.keys), ExternalResourceID: pickFrom(r, []string{"x-1", "x-2", "y-1"})}
				default:
					in.Resource = &authz.ResourceRef{ResourceType: pickFrom(r, d.keys)}
				}
				p.sameDecision(t, in)
			}
		})
	}
}

// debugAttack logs every refusal of the batches.
var debugAttack = false

// TestAttackPrefetchOddIDs sends batches of at least 8 items whose ids and
// references hold bytes a store may encode differently (NUL, 0xff,
// invalid UTF-8, long ids) to both stores, requiring the same results.
func TestAttackPrefetchOddIDs(t *testing.T) {
	t.Parallel()
	p := newPrefetchPair(t)
	p.apply(t, oneTenantBatch())
	odd := []string{"a\x00b", "\xff", "\xff\xfe", "é", "e\u0301", "acme\x00", strings.Repeat("x", 300), strings.Repeat("y", 3000), " acme", "ACME", "r", "acme"}
	for i := range 3 {
		var bt authz.Batch
		for j, id := range odd {
			ref := odd[(j+i)%len(odd)]
			bt.Roles = append(bt.Roles, authz.RoleInput{ID: fmt.Sprintf("%s%d", id, i), ScopeID: ref, Name: "R"})
			bt.Memberships = append(bt.Memberships, authz.MembershipInput{SubjectID: "bob", ScopeID: ref, RoleIDs: []string{ref, "r"}})
			bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: id, TypeID: "org", ParentScopeID: ref})
		}
		p.apply(t, bt)
	}
}
