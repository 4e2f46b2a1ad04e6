package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/scopegate/authz"
)

// The workload a Casbin user brings: RBAC with domains and a role
// hierarchy. Casbin's model for it is rbacHierarchy; this library gets the
// same rules as a model (Batches), and both answer the same requests,
// whose answers the generator knows (Allowed).

// rbacHierarchy is Casbin's RBAC with domains, with a role hierarchy inside
// each domain (g(role, parent role, domain)) and grants on one object or
// on every object ("*").
const rbacHierarchy = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && (r.obj == p.obj || p.obj == "*") && r.act == p.act
`

// RBACConfig sizes an RBAC workload.
type RBACConfig struct {
	Domains, Users, RolesPerDomain, Objects, Assignments, Grants, Requests int
	Seed                                                                   uint64
}

// RBACPreset returns the configuration of a named size: small, medium,
// large, or xlarge (large with ten times the objects: 1,000,000).
func RBACPreset(size string) (RBACConfig, bool) {
	c := RBACConfig{Requests: 10_000, Seed: 19}
	switch size {
	case "small":
		c.Domains, c.Users, c.RolesPerDomain, c.Objects, c.Assignments, c.Grants = 1, 1_000, 20, 10_000, 1_000, 100
	case "medium":
		c.Domains, c.Users, c.RolesPerDomain, c.Objects, c.Assignments, c.Grants = 10, 10_000, 20, 100_000, 100_000, 1_000
	case "large":
		c.Domains, c.Users, c.RolesPerDomain, c.Objects, c.Assignments, c.Grants = 10, 100_000, 20, 100_000, 1_000_000, 1_000
	case "xlarge":
		c.Domains, c.Users, c.RolesPerDomain, c.Objects, c.Assignments, c.Grants = 10, 100_000, 20, 1_000_000, 1_000_000, 1_000
	default:
		return RBACConfig{}, false
	}
	return c, true
}

// RBACGrant grants Role, in Dom, Act on Obj ("*": every object of Dom).
type RBACGrant struct{ Role, Dom, Obj, Act string }

// RBACAssignment gives User the role Role in Dom.
type RBACAssignment struct{ User, Role, Dom string }

// RBACRequest is one question and the answer the generator knows.
type RBACRequest struct {
	Sub, Dom, Obj, Act string
	Want               bool
	Input              authz.EvaluateInput
}

// RBAC is a generated workload.
type RBAC struct {
	Config      RBACConfig
	Grants      []RBACGrant
	Assignments []RBACAssignment
	// Parents maps each role but the root of its domain's tree to the
	// role whose grants it inherits.
	Parents  map[string]string
	Requests []RBACRequest

	domains []string
	objects map[string][]string // per domain
	roles   map[string][]string // per domain, role k at index k
	// grantsOf holds the grants of each role, its ancestors' included.
	grantsOf map[string][]RBACGrant
	held     map[[2]string][]string // (user, domain) → roles
}

var rbacActions = []string{"read", "write", "delete"}

// GenerateRBAC generates the workload of c, deterministically.
func GenerateRBAC(c RBACConfig) *RBAC {
	r := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	w := &RBAC{Config: c, Parents: map[string]string{}, objects: map[string][]string{}, roles: map[string][]string{},
		grantsOf: map[string][]RBACGrant{}, held: map[[2]string][]string{}}
	for d := range c.Domains {
		dom := fmt.Sprintf("dom%02d", d)
		w.domains = append(w.domains, dom)
		for k := range c.RolesPerDomain {
			role := fmt.Sprintf("%s_r%02d", dom, k)
			w.roles[dom] = append(w.roles[dom], role)
			if k > 0 {
				w.Parents[role] = w.roles[dom][(k-1)/2]
			}
		}
	}
	for i := range c.Objects {
		dom := w.domains[i%c.Domains]
		w.objects[dom] = append(w.objects[dom], fmt.Sprintf("o%07d", i))
	}
	seen := map[RBACGrant]bool{}
	for len(w.Grants) < c.Grants {
		dom := w.domains[r.IntN(c.Domains)]
		g := RBACGrant{Role: w.roles[dom][r.IntN(c.RolesPerDomain)], Dom: dom, Obj: "*", Act: rbacActions[r.IntN(3)]}
		if r.IntN(4) != 0 {
			g.Obj = w.objects[dom][r.IntN(len(w.objects[dom]))]
		}
		if !seen[g] {
			seen[g] = true
			w.Grants = append(w.Grants, g)
		}
	}
	direct := map[string][]RBACGrant{}
	for _, g := range w.Grants {
		direct[g.Role] = append(direct[g.Role], g)
	}
	for _, dom := range w.domains {
		for _, role := range w.roles[dom] {
			for a := role; a != ""; a = w.Parents[a] {
				w.grantsOf[role] = append(w.grantsOf[role], direct[a]...)
			}
		}
	}
	// Assignments: each user gets Assignments/Users roles (at least one
	// user each), in random domains.
	held := map[RBACAssignment]bool{}
	for len(w.Assignments) < c.Assignments {
		a := RBACAssignment{User: fmt.Sprintf("u%06d", len(w.Assignments)%c.Users)}
		a.Dom = w.domains[r.IntN(c.Domains)]
		a.Role = w.roles[a.Dom][r.IntN(c.RolesPerDomain)]
		if held[a] {
			continue
		}
		held[a] = true
		w.Assignments = append(w.Assignments, a)
		key := [2]string{a.User, a.Dom}
		w.held[key] = append(w.held[key], a.Role)
	}
	for len(w.Requests) < c.Requests {
		var q RBACRequest
		if len(w.Requests)%5 < 3 { // allowed, from a real path
			a := w.Assignments[r.IntN(len(w.Assignments))]
			gs := w.grantsOf[a.Role]
			if len(gs) == 0 {
				continue
			}
			g := gs[r.IntN(len(gs))]
			q = RBACRequest{Sub: a.User, Dom: a.Dom, Obj: g.Obj, Act: g.Act}
			if q.Obj == "*" {
				q.Obj = w.objects[a.Dom][r.IntN(len(w.objects[a.Dom]))]
			}
		} else {
			dom := w.domains[r.IntN(c.Domains)]
			q = RBACRequest{Sub: fmt.Sprintf("u%06d", r.IntN(c.Users)), Dom: dom,
				Obj: w.objects[dom][r.IntN(len(w.objects[dom]))], Act: rbacActions[r.IntN(3)]}
		}
		q.Want = w.Allowed(q.Sub, q.Dom, q.Obj, q.Act)
		if q.Want != (len(w.Requests)%5 < 3) {
			continue
		}
		q.Input = authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: q.Sub}, ScopeID: q.Dom, Action: q.Act,
			Resource: &authz.ResourceRef{ResourceID: q.Obj}}
		w.Requests = append(w.Requests, q)
	}
	r.Shuffle(len(w.Requests), func(i, j int) { w.Requests[i], w.Requests[j] = w.Requests[j], w.Requests[i] })
	return w
}

// Allowed is the generator's answer: a role sub holds in dom, or a role
// above it in the domain's tree, grants act on obj or on "*".
func (w *RBAC) Allowed(sub, dom, obj, act string) bool {
	for _, role := range w.held[[2]string{sub, dom}] {
		for _, g := range w.grantsOf[role] {
			if g.Act == act && (g.Obj == "*" || g.Obj == obj) {
				return true
			}
		}
	}
	return false
}

// CasbinRules returns the policies (p) and groupings (g) of Casbin's model:
// one policy per grant; one grouping per assignment and per role edge.
func (w *RBAC) CasbinRules() (p, g [][]string) {
	for _, gr := range w.Grants {
		p = append(p, []string{gr.Role, gr.Dom, gr.Obj, gr.Act})
	}
	for _, a := range w.Assignments {
		g = append(g, []string{a.User, a.Role, a.Dom})
	}
	for _, dom := range w.domains {
		for _, role := range w.roles[dom][1:] {
			g = append(g, []string{role, w.Parents[role], dom})
		}
	}
	return p, g
}

// Rules is the number of Casbin rules: policies and groupings.
func (w *RBAC) Rules() int {
	return len(w.Grants) + len(w.Assignments) + len(w.domains)*(w.Config.RolesPerDomain-1)
}

// rbacBatchSize is the most items a batch of Batches holds.
const rbacBatchSize = 10_000

// Batches returns the model as batches for Client.Apply: a domain is a
// scope of a define type, with one resource type ("object"); a role is a
// role at its domain holding the permissions of its grants and of its
// ancestors' (flattened: the library has no role inheritance); a grant is
// a permission with pattern "*" or the object's id, which is the external
// id of its resource; an assignment is a membership with that role.
// Objects counts the objects stored.
func (w *RBAC) Batches() (batches []authz.Batch, objects int) {
	first := authz.Batch{ScopeTypes: []authz.ScopeTypeInput{{ID: "domain", Name: "Domain",
		Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}}}
	perms := map[RBACGrant]string{} // a grant without its role → permission id
	for _, dom := range w.domains {
		first.Scopes = append(first.Scopes, authz.ScopeInput{ID: dom, TypeID: "domain"})
		first.ResourceTypes = append(first.ResourceTypes, authz.ResourceTypeInput{ID: "rt_" + dom, ScopeID: dom, Key: "object", Name: "Object"})
		for _, role := range w.roles[dom] {
			first.Roles = append(first.Roles, authz.RoleInput{ID: role, ScopeID: dom, Name: role})
		}
	}
	for _, g := range w.Grants {
		k := RBACGrant{Dom: g.Dom, Obj: g.Obj, Act: g.Act}
		if perms[k] == "" {
			perms[k] = fmt.Sprintf("p_%s_%s_%s", g.Dom, g.Obj, g.Act)
			if g.Obj == "*" {
				perms[k] = fmt.Sprintf("p_%s_all_%s", g.Dom, g.Act)
			}
			first.Permissions = append(first.Permissions, authz.PermissionInput{ID: perms[k], ScopeID: g.Dom, Action: g.Act,
				ResourceType: "object", ResourcePattern: g.Obj})
		}
	}
	for _, dom := range w.domains {
		for _, role := range w.roles[dom] {
			var ids []string
			for _, g := range w.grantsOf[role] {
				ids = append(ids, perms[RBACGrant{Dom: g.Dom, Obj: g.Obj, Act: g.Act}])
			}
			slices.Sort(ids)
			for _, id := range slices.Compact(ids) {
				first.RolePermissions = append(first.RolePermissions, authz.RolePermissionInput{RoleID: role, PermissionID: id})
			}
		}
	}
	objects = 1 + len(first.Scopes) + len(first.ResourceTypes) + len(first.Roles) + len(first.Permissions) + len(first.RolePermissions)
	batches = append(batches, first)
	var cur authz.Batch
	n := 0
	flush := func(size int) {
		if n+size > rbacBatchSize {
			batches = append(batches, cur)
			cur, n = authz.Batch{}, 0
		}
		n += size
	}
	for u := range w.Config.Users {
		flush(1)
		id := fmt.Sprintf("u%06d", u)
		cur.Subjects = append(cur.Subjects, authz.SubjectInput{ID: id, SubjectType: authz.SubjectUser, ExternalID: id})
		objects++
	}
	for _, dom := range w.domains {
		for _, o := range w.objects[dom] {
			flush(1)
			cur.Resources = append(cur.Resources, authz.ResourceInput{ID: o, ResourceTypeID: "rt_" + dom, ScopeID: dom, ExternalResourceID: o})
			objects++
		}
	}
	// One membership per (user, domain), with the roles held there, in
	// the order of the first assignment of each.
	done := map[[2]string]bool{}
	for _, a := range w.Assignments {
		key := [2]string{a.User, a.Dom}
		if done[key] {
			continue
		}
		done[key] = true
		roles := w.held[key]
		flush(1 + len(roles))
		cur.Memberships = append(cur.Memberships, authz.MembershipInput{SubjectID: a.User, ScopeID: a.Dom, RoleIDs: roles})
		objects += 1 + len(roles)
	}
	if n > 0 {
		batches = append(batches, cur)
	}
	return batches, objects
}
