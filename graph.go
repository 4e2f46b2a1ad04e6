package authz

import (
	"github.com/scopegate/authz/storage"
)

// graph is the in-memory form of the authorization model that Evaluate
// reads: every object decoded once, conditions and match definitions
// compiled once, references turned into pointers. A graph is immutable once
// built and describes the store at revision rev.
type graph struct {
	rev uint64

	scopes     map[string]*gScope
	subjects   map[string]*gSubject
	resources  map[string]*gResource
	resTypes   map[string]*gResType
	typesByKey map[string][]*gResType
	// resByExt finds a resource by (resourceTypeId, externalResourceId).
	resByExt map[[2]string]*gResource
	roles    map[string]*gRole
	perms    map[string]*gPerm
	colls    map[string]*gColl
}

type gScope struct {
	s      *Scope
	parent *gScope
	define bool
	depth  int // 0 for a root
	// chain is chain(S) (SPEC §4.1); anc is ancestors(S); both start with
	// the scope itself.
	chain []*gScope
	anc   []*gScope
	// Overrides defined at this scope, by role, permission, and pair.
	roleOv map[string]*ScopeOverride
	permOv map[string]*ScopeOverride
	rpOv   map[[2]string]*gOverride
}

type gOverride struct {
	o    *ScopeOverride
	cond *condition
}

type gSubject struct {
	s       *Subject
	members []*gMember
	tags    []gTag
}

type gMember struct {
	id    string
	scope *gScope
	roles []*gRole
}

// gTag is one tag assignment as conditions see it.
type gTag struct {
	scope      *gScope
	groupKey   string
	identifier string
}

type gRole struct {
	r     *Role
	scope *gScope
	perms []*gRolePerm
}

type gRolePerm struct {
	id   string
	perm *gPerm
	cond *condition
}

type gPerm struct {
	p     *Permission
	logic *condition
	glob  bool // the pattern contains * or ? (and is not "*")
}

type gResType struct {
	rt        *ResourceType
	colls     []*gColl
	resources []*gResource // in id order (tables scan in key order)
}

type gResource struct {
	r        *Resource
	typ      *gResType
	owner    *gScope
	links    []gLink
	parents  []gParent
	policies []*gPolicy // policies that target the resource directly
	tags     []gTag
}

type gLink struct {
	scope *gScope
	typ   LinkType
}

type gParent struct {
	edgeID  string
	res     *gResource
	cascade Cascade
}

type gColl struct {
	c        *Collection
	def      *matchDef
	scope    *gScope
	policies []*gPolicy
}

type gPolicy struct {
	p       *ResourcePolicy
	scope   *gScope
	subject *condition
	context *condition
	direct  bool
}

// buildGraph reads the whole store in tx and builds its graph. Objects whose
// references do not resolve (which a consistent store never has) are left
// out rather than failing every evaluation.
func buildGraph(tx storage.Tx) (*graph, error) {
	rev, err := readRevision(tx)
	if err != nil {
		return nil, err
	}
	g := &graph{
		rev: rev, scopes: map[string]*gScope{}, subjects: map[string]*gSubject{}, resources: map[string]*gResource{},
		resTypes: map[string]*gResType{}, typesByKey: map[string][]*gResType{}, resByExt: map[[2]string]*gResource{},
		roles: map[string]*gRole{}, perms: map[string]*gPerm{}, colls: map[string]*gColl{},
	}
	types := map[string]*ScopeType{}
	if err := scanAll(tx, scopeTypeKind, func(st *ScopeType) error { types[st.ID] = st; return nil }); err != nil {
		return nil, err
	}
	if err := scanAll(tx, scopeKind, func(s *Scope) error {
		st := types[s.TypeID]
		g.scopes[s.ID] = &gScope{s: s, define: st != nil && st.Config.PermissionMode == PermissionModeDefine}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, scopeEdgeKind, func(e *ScopeEdge) error {
		if c, p := g.scopes[e.ChildScopeID], g.scopes[e.ParentScopeID]; c != nil && p != nil {
			c.parent = p
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, s := range g.scopes {
		g.linkScope(s)
	}
	if err := scanAll(tx, subjectKind, func(s *Subject) error { g.subjects[s.ID] = &gSubject{s: s}; return nil }); err != nil {
		return nil, err
	}
	if err := scanAll(tx, permKind, func(p *Permission) error {
		g.perms[p.ID] = &gPerm{p: p, logic: storedCondition(p.Logic), glob: p.ResourcePattern != "*" && containsGlob(p.ResourcePattern)}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, roleKind, func(r *Role) error {
		g.roles[r.ID] = &gRole{r: r, scope: g.scopes[r.ScopeID]}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, rolePermKind, func(rp *RolePermission) error {
		r, p := g.roles[rp.RoleID], g.perms[rp.PermissionID]
		if r == nil || p == nil {
			return nil
		}
		r.perms = append(r.perms, &gRolePerm{id: rp.ID, perm: p, cond: storedCondition(rp.Condition)})
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, overrideKind, func(o *ScopeOverride) error {
		s := g.scopes[o.ChildScopeID]
		if s == nil {
			return nil
		}
		switch o.Kind {
		case OverrideRole:
			if s.roleOv == nil {
				s.roleOv = map[string]*ScopeOverride{}
			}
			s.roleOv[o.RoleID] = o
		case OverridePermission:
			if s.permOv == nil {
				s.permOv = map[string]*ScopeOverride{}
			}
			s.permOv[o.PermissionID] = o
		case OverrideRolePermission:
			if s.rpOv == nil {
				s.rpOv = map[[2]string]*gOverride{}
			}
			s.rpOv[[2]string{o.RoleID, o.PermissionID}] = &gOverride{o: o, cond: storedCondition(o.Condition)}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	members := map[string]*gMember{}
	if err := scanAll(tx, membershipKind, func(m *Membership) error {
		sub, sc := g.subjects[m.SubjectID], g.scopes[m.ScopeID]
		if sub == nil || sc == nil {
			return nil
		}
		gm := &gMember{id: m.ID, scope: sc}
		members[m.ID] = gm
		sub.members = append(sub.members, gm)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, roleAssignKind, func(ra *RoleAssignment) error {
		if m, r := members[ra.MembershipID], g.roles[ra.RoleID]; m != nil && r != nil {
			m.roles = append(m.roles, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, resourceTypeKind, func(rt *ResourceType) error {
		t := &gResType{rt: rt}
		g.resTypes[rt.ID] = t
		g.typesByKey[rt.Key] = append(g.typesByKey[rt.Key], t)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, resourceKind, func(r *Resource) error {
		t, s := g.resTypes[r.ResourceTypeID], g.scopes[r.ScopeID]
		if t == nil || s == nil {
			return nil
		}
		gr := &gResource{r: r, typ: t, owner: s}
		g.resources[r.ID] = gr
		g.resByExt[[2]string{r.ResourceTypeID, r.ExternalResourceID}] = gr
		t.resources = append(t.resources, gr)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, linkKind, func(l *ResourceScopeLink) error {
		if r, s := g.resources[l.ResourceID], g.scopes[l.ScopeID]; r != nil && s != nil {
			r.links = append(r.links, gLink{scope: s, typ: l.LinkType})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, resourceEdgeKind, func(e *ResourceEdge) error {
		if c, p := g.resources[e.ChildResourceID], g.resources[e.ParentResourceID]; c != nil && p != nil {
			c.parents = append(c.parents, gParent{edgeID: e.ID, res: p, cascade: e.Cascade})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, collKind, func(c *Collection) error {
		t, s := g.resTypes[c.ResourceTypeID], g.scopes[c.ScopeID]
		if t == nil || s == nil {
			return nil
		}
		// A definition that no longer parses matches nothing (a nil
		// matchDef), so its policies fail closed.
		def, _ := parseMatchDefinition(c.MatchDefinition)
		gc := &gColl{c: c, def: def, scope: s}
		g.colls[c.ID] = gc
		t.colls = append(t.colls, gc)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(tx, policyKind, func(p *ResourcePolicy) error {
		s := g.scopes[p.ScopeID]
		if s == nil {
			return nil
		}
		gp := &gPolicy{p: p, scope: s, subject: storedCondition(p.SubjectCondition), context: storedCondition(p.ContextCondition)}
		switch p.Target.Kind {
		case TargetResource:
			if r := g.resources[p.Target.ResourceID]; r != nil {
				gp.direct = true
				r.policies = append(r.policies, gp)
			}
		case TargetCollection:
			if c := g.colls[p.Target.CollectionID]; c != nil {
				c.policies = append(c.policies, gp)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := g.loadTags(tx); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *graph) loadTags(tx storage.Tx) error {
	groups := map[string]string{} // tag group id → key
	if err := scanAll(tx, tagGroupKind, func(tg *TagGroup) error { groups[tg.ID] = tg.Key; return nil }); err != nil {
		return err
	}
	tags := map[string]*Tag{}
	if err := scanAll(tx, tagKind, func(t *Tag) error { tags[t.ID] = t; return nil }); err != nil {
		return err
	}
	return scanAll(tx, tagAssignKind, func(a *TagAssignment) error {
		t, s := tags[a.TagID], g.scopes[a.ScopeID]
		if t == nil || s == nil {
			return nil
		}
		key, ok := groups[t.TagGroupID]
		if !ok {
			return nil
		}
		gt := gTag{scope: s, groupKey: key, identifier: t.Identifier}
		switch a.TargetType {
		case ModelSubject:
			if sub := g.subjects[a.TargetID]; sub != nil {
				sub.tags = append(sub.tags, gt)
			}
		case ModelResource:
			if r := g.resources[a.TargetID]; r != nil {
				r.tags = append(r.tags, gt)
			}
		}
		return nil
	})
}

// linkScope computes depth, chain and ancestors of s (and of its ancestors,
// first). A cycle, which the write path prevents, is cut.
func (g *graph) linkScope(s *gScope) {
	if s.anc != nil {
		return
	}
	s.anc = []*gScope{s} // marks s as in progress: a cycle stops here
	if p := s.parent; p != nil {
		g.linkScope(p)
		if containsScope(p.anc, s) {
			s.parent = nil
		}
	}
	if p := s.parent; p != nil {
		s.depth = p.depth + 1
		s.anc = append([]*gScope{s}, p.anc...)
		if s.define {
			s.chain = []*gScope{s}
		} else {
			s.chain = append([]*gScope{s}, p.chain...)
		}
		return
	}
	s.chain = []*gScope{s}
}

func containsScope(list []*gScope, s *gScope) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scanAll decodes every record of kind k and passes it to fn.
func scanAll[T any](tx storage.Tx, k *kindSpec, fn func(*T) error) error {
	return tx.Scan(k.table, "", func(_ string, v []byte) error {
		r, err := k.decode(v)
		if err != nil {
			return err
		}
		return fn(any(r).(*T))
	})
}

func containsGlob(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' {
			return true
		}
	}
	return false
}
