// Package modelgen generates the deterministic authorization models the
// benchmarks run on: tenants with scope trees, subjects with memberships,
// roles and permissions (some conditional), overrides, resources with
// cascades and links, collections and policies; and a fixed mix of requests
// whose answers are certain by construction. Nothing is downloaded: the
// same Config always gives the same Model.
package modelgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/scopegate/authz"
)

// Config sizes a model.
type Config struct {
	Seed        int64
	Tenants     int // root scopes (type tenant, permission mode define)
	Scopes      int // all scopes, tenants included, spread evenly over the tenants
	Depth       int // depth of each tenant's tree; the tenant is depth 1
	Subjects    int
	Resources   int
	Memberships int // each with one role assignment
	Roles       int
	Permissions int
	Overrides   int
	Policies    int // collection policies (cascade roots get one direct policy each, on top)
	Collections int
	// ConditionalFraction is the fraction of role-permission grants that
	// carry a JSON Logic condition.
	ConditionalFraction float64
}

// Small returns the small preset: 1 tenant, 100 scopes, 1k subjects, 10k
// resources.
func Small() Config {
	return Config{Seed: 1, Tenants: 1, Scopes: 100, Depth: 4, Subjects: 1_000, Resources: 10_000, Memberships: 2_000,
		Roles: 20, Permissions: 100, Overrides: 20, Policies: 20, Collections: 6, ConditionalFraction: 0.2}
}

// Medium returns the medium preset: 10 tenants, 2k scopes (depth 5), 10k
// subjects, 100k resources, 100k memberships, 200 roles, 1k permissions, 500
// overrides, 200 policies over 50 collections, 20% of grants conditional.
func Medium() Config {
	return Config{Seed: 2, Tenants: 10, Scopes: 2_000, Depth: 5, Subjects: 10_000, Resources: 100_000, Memberships: 100_000,
		Roles: 200, Permissions: 1_000, Overrides: 500, Policies: 200, Collections: 50, ConditionalFraction: 0.2}
}

// Large returns the large preset: medium with 1M resources and 1M
// memberships.
func Large() Config {
	c := Medium()
	c.Seed, c.Resources, c.Memberships = 3, 1_000_000, 1_000_000
	return c
}

// Preset returns the preset named small, medium or large.
func Preset(name string) (Config, bool) {
	switch name {
	case "small":
		return Small(), true
	case "medium":
		return Medium(), true
	case "large":
		return Large(), true
	}
	return Config{}, false
}

// Model is a generated model.
type Model struct {
	Config Config
	// Batches are to be applied in order; each has at most BatchSize items,
	// inline role assignments counted.
	Batches []authz.Batch
	// Objects is the number of objects the batches store.
	Objects  int
	Requests []Request
	RBAC     RBAC
}

// BatchSize is the most items a batch of a Model has.
const BatchSize = 1000

// The paths of Request.Path.
const (
	PathRole      = "role"
	PathCondition = "condition"
	PathPolicy    = "policy"
	PathCascade   = "cascade"
	PathLink      = "link"
)

// Request is one benchmark request with the answer the model was built to
// give.
type Request struct {
	Path  string
	Input authz.EvaluateInput
	Want  bool
}

// RBAC is the unconditional role part of the model as RBAC with domains, in
// Casbin's terms: r = sub, dom, obj, act; p = sub, dom, obj, act; g = _, _, _.
type RBAC struct {
	Policies  [][]string // p: role id, scope id (domain), resource type key (object), action
	Groupings [][]string // g: subject id, role id, scope id (domain)
	Requests  []RBACRequest
}

// RBACRequest is one request in both forms, the same question asked of
// Casbin (Sub, Dom, Obj, Act) and of authz (Input), with the expected
// answer.
type RBACRequest struct {
	Sub, Dom, Obj, Act string
	Input              authz.EvaluateInput
	Want               bool
}

// Actions. Roles grant read, write and delete; approve only under a
// condition; share only comes from collection policies, edit only from the
// direct policies of cascade roots. Each path's answers are then certain.
var (
	roleActions = []string{"read", "write", "delete"}
	typeKeys    = []string{"document", "folder", "report"}
	classes     = []string{"public", "internal", "secret"}
)

// ActionPublish is allowed on the internal resources of a tenant to the
// services, through a collection policy with a subject condition; no
// request of the mix uses it.
const ActionPublish = "publish"

const (
	actionApprove = "approve"
	actionShare   = "share"
	actionEdit    = "edit"
	hourCondition = `{"<":[{"var":"context.hour"},18]}`
	requestCount  = 1000
)

// gen holds the state of one generation.
type gen struct {
	cfg Config
	r   *rand.Rand
	m   *Model
	b   batcher

	tenants    []tenant
	subjectsOf [][]int // subject numbers per tenant
	// grants of each role: unconditional (action, type) pairs and whether
	// it has a conditional approve grant, per type.
	roleGrants map[string][][2]string
	roleCond   map[string]map[string]bool
	members    []member
	membersOf  map[int][]int    // subject → indexes in members
	membersAt  map[[2]int][]int // (tenant, scope) → indexes in members
	resIndex   map[string]int   // resource id → index in resources
	resources  []resource
	overridden map[string]bool // scopes with an override
	chains     [][4]string     // cascade chains: folder, folder, folder, document
	linked     []link
}

type tenant struct {
	id     string
	scopes []scope // scopes[0] is the tenant
	roles  []string
	perms  []perm
}

type scope struct {
	id     string
	parent int // index in tenant.scopes; -1 for the tenant
	depth  int
	leaf   bool
	res    []int // resources owned
}

type perm struct {
	id, action, typeKey string
}

type member struct {
	subject, tenant, scope int
	role                   string
}

type resource struct {
	id      string
	tenant  int
	scope   int
	typeKey string
	class   string
}

type link struct {
	res       int
	toScope   int // in the resource's tenant
	linkScope string
}

// Generate builds the model of cfg.
func Generate(cfg Config) *Model {
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		m: &Model{Config: cfg}, roleGrants: map[string][][2]string{}, roleCond: map[string]map[string]bool{}, overridden: map[string]bool{},
		membersOf: map[int][]int{}, membersAt: map[[2]int][]int{}, resIndex: map[string]int{}}
	g.b.m = g.m
	g.scopes()
	g.rolesAndPermissions()
	g.subjects()
	g.memberships()
	g.resourcesAndEdges()
	g.overrides()
	g.collections()
	g.b.flush()
	g.requests()
	g.rbac()
	return g.m
}

func (g *gen) typeID(t int, key string) string { return fmt.Sprintf("t%d.rt.%s", t, key) }

// scopes makes each tenant a tree of the configured depth with the
// smallest fan-out that holds its share of the scopes.
func (g *gen) scopes() {
	// One scope type per level below the tenant: a type cannot be its own
	// child.
	g.b.add(1, func(bt *authz.Batch) {
		bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: "tenant", Name: "Tenant", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}})
	})
	for d := 2; d <= g.cfg.Depth; d++ {
		id, parent := levelType(d), levelType(d-1)
		g.b.add(1, func(bt *authz.Batch) { bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: id, Name: id}) })
		g.b.add(1, func(bt *authz.Batch) {
			bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ParentTypeID: parent, ChildTypeID: id})
		})
	}
	per := g.cfg.Scopes / g.cfg.Tenants
	fan := 1
	for capacity(fan, g.cfg.Depth) < per {
		fan++
	}
	for t := range g.cfg.Tenants {
		tn := tenant{id: fmt.Sprintf("t%d", t)}
		tn.scopes = append(tn.scopes, scope{id: tn.id, parent: -1, depth: 1})
		for j := 1; j < per; j++ {
			parent := (j - 1) / fan
			tn.scopes = append(tn.scopes, scope{id: fmt.Sprintf("t%d.s%d", t, j), parent: parent, depth: tn.scopes[parent].depth + 1})
		}
		for j := range tn.scopes {
			tn.scopes[j].leaf = true
		}
		for j := 1; j < len(tn.scopes); j++ {
			tn.scopes[tn.scopes[j].parent].leaf = false
		}
		for j, s := range tn.scopes {
			in := authz.ScopeInput{ID: s.id, TypeID: levelType(s.depth), Name: s.id}
			cost := 1
			if j > 0 {
				in.ParentScopeID = tn.scopes[s.parent].id
				cost = 2 // the scope and its parent edge
			}
			g.b.add(cost, func(bt *authz.Batch) { bt.Scopes = append(bt.Scopes, in) })
		}
		g.tenants = append(g.tenants, tn)
	}
}

// levelType is the scope type of the scopes at depth d.
func levelType(d int) string {
	if d == 1 {
		return "tenant"
	}
	return fmt.Sprintf("level%d", d)
}

// capacity is the number of scopes of a tree of the given fan-out and depth.
func capacity(fan, depth int) int {
	n, level := 1, 1
	for range depth - 1 {
		level *= fan
		n += level
	}
	return n
}

// rolesAndPermissions defines, per tenant, resource types, permissions and
// roles, and grants each role a few permissions, some under a condition.
func (g *gen) rolesAndPermissions() {
	for t := range g.tenants {
		tn := &g.tenants[t]
		for _, key := range typeKeys {
			in := authz.ResourceTypeInput{ID: g.typeID(t, key), ScopeID: tn.id, Key: key, Name: key}
			g.b.add(1, func(bt *authz.Batch) { bt.ResourceTypes = append(bt.ResourceTypes, in) })
		}
		for k := range g.cfg.Permissions / g.cfg.Tenants {
			action := roleActions[k%len(roleActions)]
			if k%5 == 4 {
				action = actionApprove
			}
			p := perm{id: fmt.Sprintf("t%d.p%d", t, k), action: action, typeKey: typeKeys[(k/len(roleActions))%len(typeKeys)]}
			tn.perms = append(tn.perms, p)
			in := authz.PermissionInput{ID: p.id, ScopeID: tn.id, Key: fmt.Sprintf("%s:%s:%d", p.typeKey, p.action, k), Action: p.action, ResourceType: p.typeKey}
			g.b.add(1, func(bt *authz.Batch) { bt.Permissions = append(bt.Permissions, in) })
		}
		for k := range g.cfg.Roles / g.cfg.Tenants {
			role := fmt.Sprintf("t%d.r%d", t, k)
			tn.roles = append(tn.roles, role)
			g.b.add(1, func(bt *authz.Batch) {
				bt.Roles = append(bt.Roles, authz.RoleInput{ID: role, ScopeID: tn.id, Name: role})
			})
			g.roleCond[role] = map[string]bool{}
			for _, pi := range g.r.Perm(len(tn.perms))[:min(6, len(tn.perms))] {
				p := tn.perms[pi]
				in := authz.RolePermissionInput{RoleID: role, PermissionID: p.id}
				if p.action == actionApprove || g.r.Float64() < g.cfg.ConditionalFraction {
					in.Condition = json.RawMessage(hourCondition)
					if p.action == actionApprove {
						g.roleCond[role][p.typeKey] = true
					}
				} else {
					g.roleGrants[role] = append(g.roleGrants[role], [2]string{p.action, p.typeKey})
				}
				g.b.add(1, func(bt *authz.Batch) { bt.RolePermissions = append(bt.RolePermissions, in) })
			}
		}
	}
}

func (g *gen) subjects() {
	g.subjectsOf = make([][]int, len(g.tenants))
	for n := range g.cfg.Subjects {
		t := n % len(g.tenants)
		g.subjectsOf[t] = append(g.subjectsOf[t], n)
		in := authz.SubjectInput{ID: subjectID(n), SubjectType: authz.SubjectUser, ExternalID: subjectID(n)}
		if n%50 == 49 {
			in.SubjectType = authz.SubjectService
		}
		g.b.add(1, func(bt *authz.Batch) { bt.Subjects = append(bt.Subjects, in) })
	}
}

func subjectID(n int) string { return fmt.Sprintf("u%d", n) }

// memberships spreads the memberships over the subjects; a subject's
// memberships are at distinct scopes of its tenant.
func (g *gen) memberships() {
	per := (g.cfg.Memberships + g.cfg.Subjects - 1) / g.cfg.Subjects
	made := 0
	for k := 0; k < per && made < g.cfg.Memberships; k++ {
		for n := 0; n < g.cfg.Subjects && made < g.cfg.Memberships; n++ {
			t := n % len(g.tenants)
			tn := &g.tenants[t]
			ns := len(tn.scopes)
			if k >= ns {
				continue
			}
			// A stride coprime with the scope count visits distinct scopes.
			stride := coprime(ns, 7+n%13)
			sc := (n*31 + k*stride) % ns
			mb := member{subject: n, tenant: t, scope: sc, role: tn.roles[(n+k*3)%len(tn.roles)]}
			g.membersOf[n] = append(g.membersOf[n], len(g.members))
			g.membersAt[[2]int{t, sc}] = append(g.membersAt[[2]int{t, sc}], len(g.members))
			g.members = append(g.members, mb)
			in := authz.MembershipInput{ID: fmt.Sprintf("m%d", made), SubjectID: subjectID(n), ScopeID: tn.scopes[sc].id, RoleIDs: []string{mb.role}}
			g.b.add(2, func(bt *authz.Batch) { bt.Memberships = append(bt.Memberships, in) })
			made++
		}
	}
}

// coprime returns the first number from start up that shares no factor
// with n.
func coprime(n, start int) int {
	for s := start; ; s++ {
		if gcd(n, s) == 1 {
			return s
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// resourcesAndEdges spreads the resources over the scopes; every 100th
// scope-local group of four becomes a cascade chain, every 100th resource
// is shared into a sibling scope.
func (g *gen) resourcesAndEdges() {
	chainsWanted := max(20, g.cfg.Resources/2000)
	for i := range g.cfg.Resources {
		t := i % len(g.tenants)
		tn := &g.tenants[t]
		sc := g.r.IntN(len(tn.scopes))
		res := resource{id: fmt.Sprintf("res%d", i), tenant: t, scope: sc, typeKey: typeKeys[g.r.IntN(len(typeKeys))], class: classes[g.r.IntN(len(classes))]}
		if len(g.chains) < chainsWanted && i%4 == 0 && i+3 < g.cfg.Resources && !tn.scopes[sc].leaf {
			g.chain(i, t, sc)
			continue
		}
		if i%4 != 0 && len(g.chains) > 0 && g.isChainMember(i) {
			continue
		}
		g.addResource(res)
	}
	for _, c := range g.chains {
		for k := 1; k < 4; k++ {
			in := authz.ResourceEdgeInput{ParentResourceID: c[k-1], ChildResourceID: c[k], Cascade: authz.CascadeInherit}
			g.b.add(1, func(bt *authz.Batch) { bt.ResourceEdges = append(bt.ResourceEdges, in) })
		}
		in := authz.ResourcePolicyInput{ScopeID: g.tenants[g.chainTenant(c)].id, Name: "edit " + c[0], Effect: authz.EffectAllow,
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: c[0]}, Actions: []string{actionEdit}}
		if g.chainDenied(c) {
			continue // the root of every other chain has no policy: edit is denied there
		}
		g.b.add(1, func(bt *authz.Batch) { bt.ResourcePolicies = append(bt.ResourcePolicies, in) })
	}
	// Links: a resource shared into a sibling scope (same parent).
	for i := 0; i < len(g.resources); i += 100 {
		res := g.resources[i]
		tn := &g.tenants[res.tenant]
		s := tn.scopes[res.scope]
		if s.parent < 0 {
			continue
		}
		sib := -1
		for j := 1; j < len(tn.scopes); j++ {
			if j != res.scope && tn.scopes[j].parent == s.parent {
				sib = j
				break
			}
		}
		if sib < 0 {
			continue
		}
		g.linked = append(g.linked, link{res: i, toScope: sib, linkScope: tn.scopes[sib].id})
		in := authz.ResourceScopeLinkInput{ResourceID: res.id, ScopeID: tn.scopes[sib].id, LinkType: authz.LinkShare}
		g.b.add(1, func(bt *authz.Batch) { bt.ResourceScopeLinks = append(bt.ResourceScopeLinks, in) })
	}
}

// chain makes resources i..i+3 a cascade chain in scope sc: three folders
// and a document.
func (g *gen) chain(i, t, sc int) {
	var c [4]string
	for k := range 4 {
		key := "folder"
		if k == 3 {
			key = "document"
		}
		res := resource{id: fmt.Sprintf("res%d", i+k), tenant: t, scope: sc, typeKey: key, class: "public"}
		c[k] = res.id
		g.addResource(res)
	}
	g.chains = append(g.chains, c)
}

func (g *gen) isChainMember(i int) bool {
	last := g.chains[len(g.chains)-1]
	for _, id := range last[1:] {
		if id == fmt.Sprintf("res%d", i) {
			return true
		}
	}
	return false
}

func (g *gen) chainTenant(c [4]string) int {
	var n int
	fmt.Sscanf(c[0], "res%d", &n)
	return n % len(g.tenants)
}

// chainDenied reports whether the root of chain c has no edit policy.
func (g *gen) chainDenied(c [4]string) bool {
	var n int
	fmt.Sscanf(c[0], "res%d", &n)
	return (n/4)%2 == 1
}

func (g *gen) addResource(res resource) {
	tn := &g.tenants[res.tenant]
	n := len(g.resources)
	g.resIndex[res.id] = n
	g.resources = append(g.resources, res)
	tn.scopes[res.scope].res = append(tn.scopes[res.scope].res, n)
	owner := g.subjectsOf[res.tenant][n%len(g.subjectsOf[res.tenant])]
	in := authz.ResourceInput{ID: res.id, ResourceTypeID: g.typeID(res.tenant, res.typeKey), ScopeID: tn.scopes[res.scope].id,
		ExternalResourceID: "x" + res.id[3:], OwnerID: subjectID(owner), Meta: map[string]any{"classification": res.class, "pages": n % 97}}
	g.b.add(1, func(bt *authz.Batch) { bt.Resources = append(bt.Resources, in) })
}

// overrides disables roles (and some permissions) at leaf scopes, which the
// requests then avoid.
func (g *gen) overrides() {
	var leaves [][2]int
	for t, tn := range g.tenants {
		for j, s := range tn.scopes {
			if s.leaf {
				leaves = append(leaves, [2]int{t, j})
			}
		}
	}
	seen := map[string]bool{}
	for k := 0; k < g.cfg.Overrides && len(leaves) > 0; k++ {
		l := leaves[(k*7919)%len(leaves)]
		tn := &g.tenants[l[0]]
		s := tn.scopes[l[1]]
		in := authz.ScopeOverrideInput{ChildScopeID: s.id, State: authz.OverrideDisabled}
		if k%4 == 3 {
			in.Kind, in.PermissionID = authz.OverridePermission, tn.perms[k%len(tn.perms)].id
		} else {
			in.Kind, in.RoleID = authz.OverrideRole, tn.roles[k%len(tn.roles)]
		}
		key := string(in.Kind) + in.ChildScopeID + in.RoleID + in.PermissionID
		if seen[key] {
			continue
		}
		seen[key] = true
		g.overridden[s.id] = true
		g.b.add(1, func(bt *authz.Batch) { bt.ScopeOverrides = append(bt.ScopeOverrides, in) })
	}
}

// collections makes, per tenant, collections of internal resources (share
// allowed) and of secret ones (share denied), type by type, with the
// policies spread over them.
func (g *gen) collections() {
	per := max(2, g.cfg.Collections/len(g.tenants))
	policies := max(1, g.cfg.Policies/(per*len(g.tenants)))
	for t, tn := range g.tenants {
		for k := range per {
			key := typeKeys[(k/2)%len(typeKeys)]
			class, effect := "internal", authz.EffectAllow
			if k%2 == 1 {
				class, effect = "secret", authz.EffectDeny
			}
			id := fmt.Sprintf("t%d.c%d", t, k)
			in := authz.CollectionInput{ID: id, ScopeID: tn.id, ResourceTypeID: g.typeID(t, key), Name: id,
				MatchDefinition: json.RawMessage(fmt.Sprintf(`{"fields":{"classification":%q}}`, class))}
			g.b.add(1, func(bt *authz.Batch) { bt.Collections = append(bt.Collections, in) })
			for p := range policies {
				pin := authz.ResourcePolicyInput{ScopeID: tn.id, Name: fmt.Sprintf("%s %s %d", effect, id, p), Effect: effect, Priority: p,
					Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: id}, Actions: []string{actionShare}}
				g.b.add(1, func(bt *authz.Batch) { bt.ResourcePolicies = append(bt.ResourcePolicies, pin) })
			}
			if k == 0 {
				// Services (one subject in 50) may publish internal
				// resources: a policy whose answer depends on the subject.
				pin := authz.ResourcePolicyInput{ScopeID: tn.id, Name: "services publish " + id, Effect: authz.EffectAllow,
					Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: id}, Actions: []string{ActionPublish},
					SubjectCondition: json.RawMessage(`{"==":[{"var":"subject.subjectType"},"service"]}`)}
				g.b.add(1, func(bt *authz.Batch) { bt.ResourcePolicies = append(bt.ResourcePolicies, pin) })
			}
		}
	}
}

// policyTypes returns the type keys of tenant t that have both an allow and
// a deny collection.
func (g *gen) policyTypes() map[string]bool {
	per := max(2, g.cfg.Collections/len(g.tenants))
	out := map[string]bool{}
	for k := 0; k+1 < per; k += 2 {
		out[typeKeys[(k/2)%len(typeKeys)]] = true
	}
	return out
}

// requests draws the fixed mix: per path, 60% allowed and 40% denied.
func (g *gen) requests() {
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed), 99))
	quota := map[string]int{PathRole: 400, PathCondition: 150, PathPolicy: 150, PathCascade: 150, PathLink: 150}
	for _, path := range []string{PathRole, PathCondition, PathPolicy, PathCascade, PathLink} {
		n := quota[path] * requestCount / 1000
		for i := 0; i < n; i++ {
			want := i%5 < 3
			for tries := 0; tries < 1000; tries++ {
				if req, ok := g.request(r, path, want); ok {
					g.m.Requests = append(g.m.Requests, req)
					break
				}
			}
		}
	}
}

func (g *gen) request(r *rand.Rand, path string, want bool) (Request, bool) {
	in := authz.EvaluateInput{}
	switch path {
	case PathRole, PathCondition:
		mb := g.members[r.IntN(len(g.members))]
		tn := &g.tenants[mb.tenant]
		s := tn.scopes[mb.scope]
		if g.overridden[s.id] || len(s.res) == 0 {
			return Request{}, false
		}
		res := g.resources[s.res[r.IntN(len(s.res))]]
		in = authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: subjectID(mb.subject)}, ScopeID: s.id, Resource: &authz.ResourceRef{ResourceID: res.id}}
		if path == PathCondition {
			if !g.roleCond[mb.role][res.typeKey] {
				return Request{}, false
			}
			in.Action = actionApprove
			in.Context = map[string]any{"hour": 9}
			if !want {
				in.Context = map[string]any{"hour": 20}
			}
			return Request{Path: path, Input: in, Want: want}, true
		}
		action, ok := g.grantFor(mb.role, res.typeKey)
		if !ok {
			return Request{}, false
		}
		in.Action = action
		if !want {
			stranger, ok := g.stranger(r, mb.tenant, mb.scope)
			if !ok {
				return Request{}, false
			}
			in.Actor.SubjectID = subjectID(stranger)
		}
		return Request{Path: path, Input: in, Want: want}, true
	case PathPolicy:
		res := g.resources[r.IntN(len(g.resources))]
		if !g.policyTypes()[res.typeKey] || res.class == "public" || (res.class == "internal") != want {
			return Request{}, false
		}
		subs := g.subjectsOf[res.tenant]
		in = authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: subjectID(subs[r.IntN(len(subs))])}, ScopeID: g.tenants[res.tenant].scopes[res.scope].id,
			Action: actionShare, Resource: &authz.ResourceRef{ResourceID: res.id}}
		return Request{Path: path, Input: in, Want: want}, true
	case PathCascade:
		c := g.chains[r.IntN(len(g.chains))]
		if g.chainDenied(c) == want {
			return Request{}, false
		}
		t := g.chainTenant(c)
		var n int
		fmt.Sscanf(c[3], "res%d", &n)
		subs := g.subjectsOf[t]
		in = authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: subjectID(subs[r.IntN(len(subs))])}, ScopeID: g.ownerScope(c[3]),
			Action: actionEdit, Resource: &authz.ResourceRef{ResourceID: c[3]}}
		return Request{Path: path, Input: in, Want: want}, true
	case PathLink:
		l := g.linked[r.IntN(len(g.linked))]
		res := g.resources[l.res]
		tn := &g.tenants[res.tenant]
		if g.overridden[l.linkScope] {
			return Request{}, false
		}
		// A member of the linked scope, with a role that reads the type.
		for _, mi := range g.membersAt[[2]int{res.tenant, l.toScope}] {
			mb := g.members[mi]
			action, ok := g.grantFor(mb.role, res.typeKey)
			if !ok {
				continue
			}
			target := res.id
			if !want {
				// A resource of the same scope that is not linked.
				target = ""
				for _, o := range tn.scopes[res.scope].res {
					if !g.isLinked(o) && g.resources[o].typeKey == res.typeKey {
						target = g.resources[o].id
						break
					}
				}
				if target == "" {
					return Request{}, false
				}
			}
			in = authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: subjectID(mb.subject)}, ScopeID: l.linkScope, Action: action,
				Resource: &authz.ResourceRef{ResourceID: target}}
			return Request{Path: path, Input: in, Want: want}, true
		}
		return Request{}, false
	}
	return Request{}, false
}

// grantFor returns an action role grants unconditionally on type key.
func (g *gen) grantFor(role, key string) (string, bool) {
	for _, gr := range g.roleGrants[role] {
		if gr[1] == key {
			return gr[0], true
		}
	}
	return "", false
}

func (g *gen) isLinked(res int) bool {
	for _, l := range g.linked {
		if l.res == res {
			return true
		}
	}
	return false
}

func (g *gen) ownerScope(id string) string {
	res := g.resources[g.resIndex[id]]
	return g.tenants[res.tenant].scopes[res.scope].id
}

// stranger returns a subject of tenant t with no membership at scope sc or
// above it: no role of theirs counts there.
func (g *gen) stranger(r *rand.Rand, t, sc int) (int, bool) {
	subs := g.subjectsOf[t]
	for range 100 {
		n := subs[r.IntN(len(subs))]
		member := false
		for _, mi := range g.membersOf[n] {
			if mb := g.members[mi]; mb.tenant == t && g.above(t, mb.scope, sc) {
				member = true
				break
			}
		}
		if !member {
			return n, true
		}
	}
	return 0, false
}

// above reports whether scope x of tenant t is scope y or an ancestor of
// it.
func (g *gen) above(t, x, y int) bool {
	tn := &g.tenants[t]
	for ; y >= 0; y = tn.scopes[y].parent {
		if x == y {
			return true
		}
	}
	return false
}

// rbac flattens the unconditional role grants, per membership scope, into
// Casbin's policies and groupings, and asks the role path's questions in
// the exact scope of a membership.
func (g *gen) rbac() {
	seen := map[[4]string]bool{}
	for _, mb := range g.members {
		s := g.tenants[mb.tenant].scopes[mb.scope].id
		g.m.RBAC.Groupings = append(g.m.RBAC.Groupings, []string{subjectID(mb.subject), mb.role, s})
		for _, gr := range g.roleGrants[mb.role] {
			p := [4]string{mb.role, s, gr[1], gr[0]}
			if !seen[p] {
				seen[p] = true
				g.m.RBAC.Policies = append(g.m.RBAC.Policies, p[:])
			}
		}
	}
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed), 123))
	for len(g.m.RBAC.Requests) < requestCount {
		want := len(g.m.RBAC.Requests)%5 < 3
		mb := g.members[r.IntN(len(g.members))]
		tn := &g.tenants[mb.tenant]
		s := tn.scopes[mb.scope]
		if g.overridden[s.id] || len(s.res) == 0 {
			continue
		}
		res := g.resources[s.res[r.IntN(len(s.res))]]
		action, ok := g.grantFor(mb.role, res.typeKey)
		if !ok {
			continue
		}
		sub := subjectID(mb.subject)
		if !want {
			stranger, ok := g.stranger(r, mb.tenant, mb.scope)
			if !ok {
				continue
			}
			sub = subjectID(stranger)
		}
		g.m.RBAC.Requests = append(g.m.RBAC.Requests, RBACRequest{Sub: sub, Dom: s.id, Obj: res.typeKey, Act: action, Want: want,
			Input: authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub}, ScopeID: s.id, Action: action, Resource: &authz.ResourceRef{ResourceID: res.id}}})
	}
}

// batcher cuts the objects into batches of at most BatchSize items, in the
// order added, which is dependency order.
type batcher struct {
	m   *Model
	cur authz.Batch
	n   int
}

// add appends an object of cost items with fn.
func (b *batcher) add(cost int, fn func(*authz.Batch)) {
	if b.n+cost > BatchSize {
		b.flush()
	}
	fn(&b.cur)
	b.n += cost
	b.m.Objects += cost
}

func (b *batcher) flush() {
	if b.n > 0 {
		b.m.Batches = append(b.m.Batches, b.cur)
		b.cur, b.n = authz.Batch{}, 0
	}
}
