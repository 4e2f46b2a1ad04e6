package authz

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/scopegate/authz/internal/cow"
	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/internal/match"
)

// graph is the in-memory form of the authorization model that Evaluate
// reads: every object decoded once, conditions and match definitions
// compiled once, references turned into handles. A graph describes the store
// at revision rev and is immutable once published, so any number of
// evaluations read it without locks.
//
// A write does not rebuild the graph: the next snapshot reloads only the
// nodes the write touched (listed in the change log) into a new graph that
// shares everything else with the old one (persistent containers, internal/cow).
// Nodes refer to each other by handle, never by pointer, so that a reloaded
// node is seen by every node that refers to it.
type graph struct {
	rev uint64
	// seq is the storage version (storage.Versioner) at which the graph
	// was known to be current.
	seq uint64

	ids   cow.Map[handle] // object id → handle, for every node (kept after a deletion)
	nodes cow.Vec[handle] // handle → node (*gScope, *gSubject, …), nil when deleted
	next  handle
	// resByExt finds a resource by resourceTypeId \x00 externalResourceId.
	resByExt cow.Map[handle]
	// typesByKey finds the resource types of a key.
	typesByKey cow.Map[[]handle]
	// actionsAt counts the permissions and the policies that name an
	// action at a scope (actionKey; explain.go).
	actionsAt cow.Map[int]
	// Reverse edges, for the lookups (lookup.go), each a cow.Vec of
	// *handleSet indexed by scope handle: kids holds the child scopes of a
	// scope; members the subjects with a membership there. subjects holds
	// every subject, in buckets of subjectBucket handles (key
	// h/subjectBucket), so that adding one copies a bucket, not the list of
	// all subjects.
	kids, members, subjects cow.Vec[handle]
	// homes holds the resources living in each scope, by type (homeindex.go).
	homes cow.Vec[handle]
	// decisions remembers the decisions made on this graph; nil when off.
	decisions *decisionCache
	// grants remembers the outcomes of lists of grants, denials the
	// sentences of the role step's denials and texts the other sentences
	// made from the graph and the request (explain.go); nil when not.
	grants  *memo[hitKey, outcome]
	denials *memo[denialKey, string]
	texts   *memo[textKey, string]
}

// handle is the index of a node in graph.nodes. Handles are assigned to ids
// on first sight and never change while the graph lives.
type handle int32

const noHandle handle = -1

type gScope struct {
	s      *Scope
	h      handle
	parent handle // noHandle for a root
	define bool   // the scope's type has permissionMode define
	// Overrides defined at this scope, by role, permission, and pair.
	roleOv map[handle]*ScopeOverride
	permOv map[handle]*ScopeOverride
	rpOv   map[[2]handle]*gOverride
}

type gOverride struct {
	o    *ScopeOverride
	cond *logic.Cond
}

type gScopeType struct {
	st *ScopeType
}

type gSubject struct {
	s *Subject
	// id and typ are s's, copied so that a decision names the subject
	// without loading its record.
	id      string
	typ     SubjectType
	members []gMemberRef
	tags    []gTag
	// data is the subject as conditions see it, with empty tags, made on
	// first use; conditions never modify it.
	data atomic.Pointer[map[string]any]
}

// gMemberRef is a membership of a subject with its scope, so that the role
// step can skip the memberships off the request's line without loading them.
//
// role is the membership's role when it has exactly one (nroles), the
// common case, so that the role step reaches the role without loading the
// membership; the builder sets both once the membership has its roles
// (memberRoles), and a change of a membership's roles reloads its subject
// (graph.update).
type gMemberRef struct {
	h      handle // *gMember
	scope  handle
	role   handle // *gRole, when nroles is 1
	nroles int32
}

// memberRoles sets the role and nroles of s's member refs from the
// membership nodes.
func (g *graph) memberRoles(s *gSubject) {
	for i := range s.members {
		ref := &s.members[i]
		ref.role, ref.nroles = noHandle, 0
		if m := nodeAt[gMember](g, ref.h); m != nil {
			ref.nroles = int32(len(m.roles))
			if len(m.roles) == 1 {
				ref.role = m.roles[0]
			}
		}
	}
}

type gMember struct {
	id      string
	subject handle
	scope   handle
	roles   []handle // *gRole
}

// gTag is one tag assignment as conditions see it.
type gTag struct {
	scope handle
	tag   handle // *gTag
}

type gTagNode struct {
	t        *Tag
	groupKey string
}

type gTagGroup struct {
	tg *TagGroup
}

type gRole struct {
	r *Role
	// perms are the role's grants, sorted by resource type key and action
	// (sortPerms) and otherwise in the order of the store, so that the role
	// step reads only those of the request's type and action (grantsFor).
	perms []*gRolePerm
}

// sortPerms orders r.perms for grantsFor; the builder calls it once the
// role has all its grants.
func (r *gRole) sortPerms() {
	slices.SortStableFunc(r.perms, func(a, b *gRolePerm) int {
		if c := strings.Compare(a.typeKey, b.typeKey); c != 0 {
			return c
		}
		return strings.Compare(a.action, b.action)
	})
}

// grantsFor returns the grants of r for resources of type key typeKey and
// action, found by binary search: the cost does not grow with the grants
// of other types and actions that the role holds.
func (r *gRole) grantsFor(typeKey, action string) []*gRolePerm {
	cmp := func(rp *gRolePerm, _ struct{}) int {
		if c := strings.Compare(rp.typeKey, typeKey); c != 0 {
			return c
		}
		return strings.Compare(rp.action, action)
	}
	lo, found := slices.BinarySearchFunc(r.perms, struct{}{}, cmp)
	if !found {
		return nil
	}
	hi := lo + 1
	for hi < len(r.perms) && cmp(r.perms[hi], struct{}{}) == 0 {
		hi++
	}
	return r.perms[lo:hi]
}

type gRolePerm struct {
	id   string
	perm handle // *gPerm
	// action, typeKey and pattern are the permission's, copied so that the
	// role step compares them without loading the permission; exact says
	// the pattern names one resource (it is not "*", "owned" or a glob).
	action, typeKey, pattern string
	exact                    bool
	cond                     *logic.Cond
	// match and explanation are the role step's result when this is the
	// only grant: made once, shared by every Decision (permissions and
	// role permissions never change).
	match       []Match
	explanation string
}

type gPerm struct {
	p     *Permission
	logic *logic.Cond
	glob  bool // the pattern contains * or ? (and is not "*")
}

type gResType struct {
	rt    *ResourceType
	colls []handle // *gColl
}

type gResource struct {
	r *Resource
	// id and ext are r's ID and ExternalResourceID, copied so that the role
	// step matches patterns without loading the record.
	id, ext string
	typ     handle // *gResType
	owner   handle // *gScope
	// x holds what most resources have none of, so that the node fits in
	// one cache line; nil when the resource has none.
	x *gResourceExtra
	// data is the resource as conditions see it, with empty tags, made on
	// first use; conditions never modify it.
	data atomic.Pointer[map[string]any]
}

// gResourceExtra is the part of a resource node most resources leave
// empty.
type gResourceExtra struct {
	links    []gLink
	parents  []gParent
	policies []handle // *gPolicy that target the resource directly
	tags     []gTag
}

// extra returns r.x, made first if r has none; only the builder calls it.
func (r *gResource) extra() *gResourceExtra {
	if r.x == nil {
		r.x = &gResourceExtra{}
	}
	return r.x
}

func (r *gResource) links() []gLink {
	if r.x == nil {
		return nil
	}
	return r.x.links
}

func (r *gResource) parents() []gParent {
	if r.x == nil {
		return nil
	}
	return r.x.parents
}

func (r *gResource) policies() []handle {
	if r.x == nil {
		return nil
	}
	return r.x.policies
}

func (r *gResource) tags() []gTag {
	if r.x == nil {
		return nil
	}
	return r.x.tags
}

type gLink struct {
	scope handle
	typ   LinkType
}

type gParent struct {
	edgeID  string
	res     handle // *gResource
	cascade Cascade
}

type gColl struct {
	c   *Collection
	def *match.Def
	// readsData is set when def has a condition section, which reads the
	// subject and the request context.
	readsData bool
	scope     handle
	policies  []handle        // *gPolicy
	actions   map[string]bool // the actions its policies list
}

type gPolicy struct {
	p       *ResourcePolicy
	scope   handle
	subject *logic.Cond
	context *logic.Cond
	direct  bool
}

// nodeAt returns the node at h if it is a *T, else nil.
func nodeAt[T any](g *graph, h handle) *T {
	n, _ := g.nodes.At(h).(*T)
	return n
}

// lookup returns the handle of id, or noHandle.
func (g *graph) lookup(id string) handle {
	if h, ok := g.ids.Get(id); ok {
		return h
	}
	return noHandle
}

func (g *graph) scope(h handle) *gScope       { return nodeAt[gScope](g, h) }
func (g *graph) subject(h handle) *gSubject   { return nodeAt[gSubject](g, h) }
func (g *graph) resource(h handle) *gResource { return nodeAt[gResource](g, h) }

func (g *graph) scopeByID(id string) *gScope     { return g.scope(g.lookup(id)) }
func (g *graph) subjectByID(id string) *gSubject { return g.subject(g.lookup(id)) }

// inChain reports whether target is in chain(x) (docs/model.md#chains-and-tenants): x and its
// ancestors up to and including the first define scope.
func (g *graph) inChain(x, target handle) bool {
	for range maxScopeDepth {
		if x == target {
			return true
		}
		s := g.scope(x)
		if s == nil || s.define {
			return false
		}
		x = s.parent
	}
	return false
}

// chainOf appends chain(x) to buf: x and its ancestors up to and including
// the first define scope.
func (g *graph) chainOf(x handle, buf []handle) []handle {
	for range maxScopeDepth {
		s := g.scope(x)
		if s == nil {
			break
		}
		buf = append(buf, x)
		if s.define {
			break
		}
		x = s.parent
	}
	return buf
}

// inAncestors reports whether target is in ancestors(x): x and all the
// scopes above it.
func (g *graph) inAncestors(x, target handle) bool {
	for range maxScopeDepth {
		if x == target {
			return true
		}
		s := g.scope(x)
		if s == nil {
			return false
		}
		x = s.parent
	}
	return false
}
