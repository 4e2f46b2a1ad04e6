package authz

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/scopegate/authz/internal/cow"
	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/internal/match"
	"github.com/scopegate/authz/storage"
)

// The kinds whose records the graph holds, in the order a build reads them:
// a record's node, and the nodes it attaches to, come before it.
var graphKinds = []*graphKind{
	{k: scopeTypeKind, node: func(_ *graphBuilder, r record) any { return &gScopeType{st: r.(*ScopeType)} }},
	{k: scopeKind, node: newScopeNode},
	{k: scopeEdgeKind, attach: attachScopeEdge, to: []attachIndex{{scopeKind, ixScopeEdgeChild}}},
	{k: overrideKind, attach: attachOverride, to: []attachIndex{{scopeKind, ixOverrideChild}}},
	{k: subjectKind, node: newSubjectNode},
	{k: membershipKind, node: newMemberNode, attach: attachMembership, attachID: attachMemberID, to: []attachIndex{{subjectKind, ixMembershipSubject}}},
	{k: roleAssignKind, attach: attachRoleAssignment, to: []attachIndex{{membershipKind, ixRoleAssignMember}}},
	{k: permKind, node: newPermNode},
	{k: roleKind, node: func(_ *graphBuilder, r record) any { return &gRole{r: r.(*Role)} }},
	{k: rolePermKind, attach: attachRolePermission, to: []attachIndex{{roleKind, ixRolePermRole}}},
	{k: resourceTypeKind, node: func(_ *graphBuilder, r record) any { return &gResType{rt: r.(*ResourceType)} }},
	{k: collKind, node: newCollNode, attach: attachCollection, to: []attachIndex{{resourceTypeKind, ixCollType}}},
	{k: resourceKind, node: newResourceNode},
	{k: linkKind, attach: attachLink, to: []attachIndex{{resourceKind, ixLinkResource}}},
	{k: resourceEdgeKind, attach: attachResourceEdge, to: []attachIndex{{resourceKind, ixResourceEdgeChild}}},
	{k: policyKind, node: newPolicyNode, attach: attachPolicy, to: []attachIndex{{resourceKind, ixPolicyResource}, {collKind, ixPolicyCollection}}},
	{k: tagGroupKind, node: func(_ *graphBuilder, r record) any { return &gTagGroup{tg: r.(*TagGroup)} }},
	{k: tagKind, node: newTagNode},
	{k: tagAssignKind, attach: attachTagAssignment, to: []attachIndex{{subjectKind, ixTagAssignTarget}, {resourceKind, ixTagAssignTarget}}},
}

// graphKind says how the records of one kind enter the graph: as nodes of
// their own, attached to other nodes, or both. attach adds a record to the
// node it belongs to; it finds that node with fresh and leaves alone a
// record whose node is not being built. to lists, for each kind of node the
// records attach to, the index that lists them by that node's id. attachID,
// when set, attaches by ids alone (the node's and the record's), so that
// reloading a node with many such records decodes none of them.
type graphKind struct {
	k        *kindSpec
	node     func(b *graphBuilder, r record) any
	attach   func(b *graphBuilder, r record)
	attachID func(b *graphBuilder, nodeID, id string)
	to       []attachIndex
}

type attachIndex struct {
	kind  *kindSpec
	index string
}

var graphKindOrder = func() map[*kindSpec]int {
	m := map[*kindSpec]int{}
	for i, gk := range graphKinds {
		m[gk.k] = i
	}
	return m
}()

// reloadOrder is the order in which an update reloads nodes: the order of
// graphKinds, except that memberships come before subjects, whose member
// list reads their nodes (attachMemberID).
func reloadOrder(k *kindSpec) int {
	if k == membershipKind {
		return graphKindOrder[subjectKind]*2 - 1
	}
	return graphKindOrder[k] * 2
}

// generations numbers graph builds, for the copy-on-write containers.
var generations atomic.Uint64

// graphBuilder makes a new graph: from scratch (all) or from a published one
// by reloading some nodes.
type graphBuilder struct {
	g   *graph
	gen uint64
	tx  storage.Tx
	all bool // a full build: every node is being built
	// fresh holds the handles of the nodes built by an incremental update,
	// old the node each had before.
	fresh map[handle]bool
	old   map[handle]any
	// homeDeltas are the changes to graph.homes, applied by finish.
	homeDeltas map[homeKey]*homeDelta
}

// handle returns the handle of id, assigning one if it has none.
func (b *graphBuilder) handle(id string) handle {
	if id == "" {
		return noHandle
	}
	h, found := b.g.ids.GetOrSet(b.gen, id, b.g.next)
	if !found {
		b.g.next++
	}
	return h
}

// fresh returns the node of id if it is a *T being built, else nil: only
// those may be changed.
func fresh[T any](b *graphBuilder, id string) *T {
	h, ok := b.g.ids.Get(id)
	if !ok || (!b.all && !b.fresh[h]) {
		return nil
	}
	return nodeAt[T](b.g, h)
}

func (b *graphBuilder) setNode(h handle, n any) {
	if !b.all && !b.fresh[h] {
		b.old[h] = b.g.nodes.At(h)
		b.fresh[h] = true
	}
	b.g.nodes.Set(b.gen, h, n)
}

// finish brings the graph's lookup maps and reverse edges in step with the
// nodes built, once they have all their attachments.
func (b *graphBuilder) finish() {
	if b.all {
		for h := range b.g.next {
			if n := b.g.nodes.At(h); n != nil {
				b.index(h, nil, n)
			}
		}
	} else {
		for _, h := range slices.Sorted(maps.Keys(b.old)) {
			b.index(h, b.old[h], b.g.nodes.At(h))
		}
	}
	b.applyHomes()
}

// buildGraph reads the whole store in tx and builds its graph.
//
// The records are decoded on a second goroutine while this one scans the
// store and adds the records decoded before them, in the order read:
// decoding is about half the work of a build, which a Client does when it
// opens a store.
func buildGraph(tx storage.Tx, seq uint64) (*graph, error) {
	rev, err := readRevision(tx)
	if err != nil {
		return nil, err
	}
	gen := generations.Add(1)
	g := &graph{rev: rev, seq: seq, ids: cow.NewMap[handle](gen, 0), resByExt: cow.NewMap[handle](gen, 0), typesByKey: cow.NewMap[[]handle](gen, 0),
		actionsAt: cow.NewMap[int](gen, 0)}
	b := &graphBuilder{g: g, gen: gen, tx: tx, all: true}
	d := startDecoder()
	defer d.stop()
	for _, gk := range graphKinds {
		c := &decodeChunk{gk: gk}
		err := tx.Scan(gk.k.table, "", func(_ string, v []byte) error {
			c.raw = append(c.raw, v)
			if len(c.raw) < decodeChunkSize {
				return nil
			}
			err := d.send(b, c)
			c = &decodeChunk{gk: gk}
			return err
		})
		if err == nil && len(c.raw) > 0 {
			err = d.send(b, c)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := d.finish(b); err != nil {
		return nil, err
	}
	b.finish()
	return g, nil
}

// decodeChunkSize is the number of records buildGraph hands its decoder at
// a time.
const decodeChunkSize = 256

// decodeChunk is a run of records of one kind: read (raw), then decoded
// (recs, or the first error).
type decodeChunk struct {
	gk   *graphKind
	raw  [][]byte
	recs []record
	err  error
}

// decoder decodes chunks on its own goroutine, in the order sent.
type decoder struct {
	in, out chan *decodeChunk
	// closed says in is closed; drained that out was read to its end.
	closed, drained bool
}

func startDecoder() *decoder {
	d := &decoder{in: make(chan *decodeChunk, 8), out: make(chan *decodeChunk, 8)}
	go func() {
		defer close(d.out)
		for c := range d.in {
			c.decode()
			d.out <- c
		}
	}()
	return d
}

// decode decodes the records of c. A panic while decoding becomes c's
// error: on the decoder's goroutine it would end the process, where the
// caller of New could not recover it.
func (c *decodeChunk) decode() {
	defer func() {
		if p := recover(); p != nil {
			c.err = fmt.Errorf("authz: decode %s: internal error: %v", c.gk.k.name, p)
		}
		c.raw = nil
	}()
	c.recs = make([]record, 0, len(c.raw))
	for _, v := range c.raw {
		r, err := c.gk.k.decode(v)
		if err != nil {
			c.err = err
			return
		}
		c.recs = append(c.recs, r)
	}
}

// send hands c to the decoder, adding to b the chunks decoded meanwhile.
func (d *decoder) send(b *graphBuilder, c *decodeChunk) error {
	for {
		select {
		case d.in <- c:
			return nil
		case done := <-d.out:
			if err := b.addChunk(done); err != nil {
				return err
			}
		}
	}
}

// finish adds to b the chunks still being decoded.
func (d *decoder) finish(b *graphBuilder) error {
	d.closed = true
	close(d.in)
	for c := range d.out {
		if err := b.addChunk(c); err != nil {
			return err
		}
	}
	d.drained = true
	return nil
}

// stop ends the decoder, whether the build finished or failed: the
// decoder's goroutine then ends once it has nothing more to send.
func (d *decoder) stop() {
	if !d.closed {
		d.closed = true
		close(d.in)
	}
	if !d.drained {
		go d.drain()
	}
}

// drain discards what the decoder still sends, so that it ends.
func (d *decoder) drain() {
	for range d.out {
	}
}

// addChunk adds the records of c, or returns its decoding error.
func (b *graphBuilder) addChunk(c *decodeChunk) error {
	if c.err != nil {
		return c.err
	}
	for _, r := range c.recs {
		b.add(c.gk, r)
	}
	return nil
}

func (b *graphBuilder) add(gk *graphKind, r record) {
	if gk.node != nil {
		h := b.handle(r.recordID())
		n := gk.node(b, r)
		b.setNode(h, n)
	}
	if gk.attach != nil {
		gk.attach(b, r)
	}
}

// index keeps the graph's lookup maps and reverse edges in step with a node
// that changed from old to n (either may be nil).
func (b *graphBuilder) index(h handle, old, n any) {
	b.reverse(&b.g.kids, h, scopeParent(old), scopeParent(n))
	b.rehome(h, old, n)
	// A membership's id may be reused for a membership of another
	// subject within one update: the old subject leaves the old scope's
	// set, the new one enters the new scope's.
	if was, is := memberSubject(old), memberSubject(n); was == is {
		b.reverse(&b.g.members, is, memberScope(old), memberScope(n))
	} else {
		b.reverse(&b.g.members, was, memberScope(old), nil)
		b.reverse(&b.g.members, is, nil, memberScope(n))
	}
	b.reverse(&b.g.subjects, h, subjectBucketOf(h, old), subjectBucketOf(h, n))
	if r, ok := old.(*gResource); ok {
		// Another resource may have taken the type and external id in
		// the same update, and been indexed first.
		key := extKey(r.r.ResourceTypeID, r.r.ExternalResourceID)
		if cur, found := b.g.resByExt.Get(key); found && cur == h {
			b.g.resByExt.Del(b.gen, key)
		}
	}
	if r, ok := n.(*gResource); ok {
		b.g.resByExt.Set(b.gen, extKey(r.r.ResourceTypeID, r.r.ExternalResourceID), h)
	}
	if t, ok := old.(*gResType); ok {
		list, _ := b.g.typesByKey.Get(t.rt.Key)
		b.g.typesByKey.Set(b.gen, t.rt.Key, slices.DeleteFunc(slices.Clone(list), func(x handle) bool { return x == h }))
	}
	if t, ok := n.(*gResType); ok {
		list, _ := b.g.typesByKey.Get(t.rt.Key)
		b.g.typesByKey.Set(b.gen, t.rt.Key, append(slices.Clone(list), h))
	}
	b.countActions(old, -1)
	b.countActions(n, 1)
	switch n := n.(type) {
	case *gRole:
		n.sortPerms()
	case *gSubject:
		b.g.memberRoles(n)
	}
}

func extKey(typeID, ext string) string { return typeID + "\x00" + ext }

// update returns the graph of the store in tx, whose revision is rev, made
// from g by reloading the nodes in keys.
func (g *graph) update(tx storage.Tx, rev, seq uint64, keys []nodeKey) (*graph, error) {
	gen := generations.Add(1)
	ng := &graph{rev: rev, seq: seq, ids: g.ids.ForWrite(), nodes: g.nodes.ForWrite(), next: g.next,
		resByExt: g.resByExt.ForWrite(), typesByKey: g.typesByKey.ForWrite(), actionsAt: g.actionsAt.ForWrite(),
		kids: g.kids.ForWrite(), homes: g.homes.ForWrite(), members: g.members.ForWrite(), subjects: g.subjects.ForWrite()}
	b := &graphBuilder{g: ng, gen: gen, tx: tx, fresh: map[handle]bool{}, old: map[handle]any{}}
	keys = g.withMemberSubjects(keys)
	slices.SortStableFunc(keys, func(x, y nodeKey) int { return reloadOrder(x.kind) - reloadOrder(y.kind) })
	if err := prefetchNodes(tx, keys); err != nil {
		return nil, err
	}
	for _, key := range keys {
		if err := b.reload(key); err != nil {
			return nil, err
		}
	}
	b.finish()
	return ng, nil
}

// withMemberSubjects adds to keys the subject of each membership in keys
// that the graph has: a subject's member refs hold their memberships'
// roles (gMemberRef), which a role assignment changes without touching
// the subject. (A new membership touches its subject itself.)
func (g *graph) withMemberSubjects(keys []nodeKey) []nodeKey {
	var seen map[nodeKey]bool
	for _, key := range keys {
		if key.kind != membershipKind {
			continue
		}
		m := nodeAt[gMember](g, g.lookup(key.id))
		if m == nil {
			continue
		}
		s := g.subject(m.subject)
		if s == nil {
			continue
		}
		if seen == nil {
			seen = make(map[nodeKey]bool, len(keys))
			for _, k := range keys {
				seen[k] = true
			}
		}
		if sk := (nodeKey{subjectKind, s.s.ID}); !seen[sk] {
			seen[sk] = true
			keys = append(keys, sk)
		}
	}
	return keys
}

// prefetchNodes prefetches the records of keys, one Prefetch per kind, on
// a store that has it: a store over a network then makes one round trip
// for them, not one per key.
func prefetchNodes(tx storage.Tx, keys []nodeKey) error {
	p, ok := tx.(storage.Prefetcher)
	if !ok || len(keys) < 2 {
		return nil
	}
	byKind := map[*kindSpec][]string{}
	for _, k := range keys {
		byKind[k.kind] = append(byKind[k.kind], k.id)
	}
	for k, ids := range byKind {
		if err := p.Prefetch(k.table, ids); err != nil {
			return err
		}
	}
	return nil
}

// reload rebuilds the node of key from the store: its record, then every
// record attached to it, found through the attachment's index.
func (b *graphBuilder) reload(key nodeKey) error {
	h := b.handle(key.id)
	gk := graphKinds[graphKindOrder[key.kind]]
	raw, err := b.tx.Get(key.kind.table, key.id)
	if errors.Is(err, storage.ErrNotFound) {
		// An id is unique across kinds only among the objects that exist:
		// an object of another kind created with the id of this deleted
		// one may have been reloaded first (reloadOrder); its node stays.
		if b.fresh[h] && b.g.nodes.At(h) != nil {
			return nil
		}
		b.setNode(h, nil)
		return nil
	}
	if err != nil {
		return err
	}
	r, err := key.kind.decode(raw)
	if err != nil {
		return err
	}
	n := gk.node(b, r)
	b.setNode(h, n)
	for _, dk := range graphKinds {
		for _, a := range dk.to {
			if a.kind != key.kind {
				continue
			}
			err := scanIndex(b.tx, a.index, []string{key.id}, func(id string) error {
				if dk.attachID != nil {
					dk.attachID(b, key.id, id)
					return nil
				}
				raw, err := b.tx.Get(dk.k.table, id)
				if err != nil {
					return err
				}
				dr, err := dk.k.decode(raw)
				if err != nil {
					return err
				}
				dk.attach(b, dr)
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func newScopeNode(b *graphBuilder, r record) any {
	s := r.(*Scope)
	define := false
	if t := nodeAt[gScopeType](b.g, b.handle(s.TypeID)); t != nil {
		define = t.st.Config.PermissionMode == PermissionModeDefine
	}
	return &gScope{s: s, h: b.handle(s.ID), parent: noHandle, define: define}
}

func attachScopeEdge(b *graphBuilder, r record) {
	e := r.(*ScopeEdge)
	if s := fresh[gScope](b, e.ChildScopeID); s != nil {
		s.parent = b.handle(e.ParentScopeID)
	}
}

func attachOverride(b *graphBuilder, r record) {
	o := r.(*ScopeOverride)
	s := fresh[gScope](b, o.ChildScopeID)
	if s == nil {
		return
	}
	role, perm := b.handle(o.RoleID), b.handle(o.PermissionID)
	switch o.Kind {
	case OverrideRole:
		if s.roleOv == nil {
			s.roleOv = map[handle]*ScopeOverride{}
		}
		s.roleOv[role] = o
	case OverridePermission:
		if s.permOv == nil {
			s.permOv = map[handle]*ScopeOverride{}
		}
		s.permOv[perm] = o
	case OverrideRolePermission:
		if s.rpOv == nil {
			s.rpOv = map[[2]handle]*gOverride{}
		}
		s.rpOv[[2]handle{role, perm}] = &gOverride{o: o, cond: logic.Stored(o.Condition)}
	}
}

func newSubjectNode(_ *graphBuilder, r record) any {
	s := r.(*Subject)
	return &gSubject{s: s, id: s.ID, typ: s.SubjectType}
}

func newMemberNode(b *graphBuilder, r record) any {
	m := r.(*Membership)
	return &gMember{id: m.ID, subject: b.handle(m.SubjectID), scope: b.handle(m.ScopeID)}
}

func attachMembership(b *graphBuilder, r record) {
	m := r.(*Membership)
	if s := fresh[gSubject](b, m.SubjectID); s != nil {
		s.members = append(s.members, gMemberRef{h: b.handle(m.ID), scope: b.handle(m.ScopeID)})
	}
}

// attachMemberID attaches membership id to the subject being reloaded,
// taking its scope from its node: memberships are reloaded before subjects
// (reloadOrder), and a membership never changes scope.
func attachMemberID(b *graphBuilder, subjectID, id string) {
	s := fresh[gSubject](b, subjectID)
	h := b.handle(id)
	if m := nodeAt[gMember](b.g, h); s != nil && m != nil {
		s.members = append(s.members, gMemberRef{h: h, scope: m.scope})
	}
}

func attachRoleAssignment(b *graphBuilder, r record) {
	ra := r.(*RoleAssignment)
	if m := fresh[gMember](b, ra.MembershipID); m != nil {
		m.roles = append(m.roles, b.handle(ra.RoleID))
	}
}

func newPermNode(_ *graphBuilder, r record) any {
	p := r.(*Permission)
	return &gPerm{p: p, logic: logic.Stored(p.Logic), glob: p.ResourcePattern != "*" && containsGlob(p.ResourcePattern)}
}

func attachRolePermission(b *graphBuilder, r record) {
	rp := r.(*RolePermission)
	role := fresh[gRole](b, rp.RoleID)
	p := nodeAt[gPerm](b.g, b.handle(rp.PermissionID))
	if role == nil || p == nil {
		return
	}
	role.perms = append(role.perms, &gRolePerm{id: rp.ID, perm: b.handle(rp.PermissionID), cond: logic.Stored(rp.Condition),
		action: p.p.Action, typeKey: p.p.ResourceType, pattern: p.p.ResourcePattern,
		exact:       !p.glob && p.p.ResourcePattern != "*" && p.p.ResourcePattern != "owned",
		match:       []Match{newMatch(p.p, []string{role.r.ID})},
		explanation: "Allowed: " + grantedThrough(p.p.Key, []string{role.r.ID}) + "."})
}

func newCollNode(b *graphBuilder, r record) any {
	c := r.(*Collection)
	// A definition that no longer parses matches nothing (a nil match.Def),
	// so its policies fail closed.
	def, _ := match.Parse(c.MatchDefinition)
	return &gColl{c: c, def: def, readsData: def.ReadsData(), scope: b.handle(c.ScopeID)}
}

func attachCollection(b *graphBuilder, r record) {
	c := r.(*Collection)
	if t := fresh[gResType](b, c.ResourceTypeID); t != nil {
		t.colls = append(t.colls, b.handle(c.ID))
	}
}

func newResourceNode(b *graphBuilder, r record) any {
	res := r.(*Resource)
	return &gResource{r: res, id: res.ID, ext: res.ExternalResourceID, typ: b.handle(res.ResourceTypeID), owner: b.handle(res.ScopeID)}
}

func attachLink(b *graphBuilder, r record) {
	l := r.(*ResourceScopeLink)
	if res := fresh[gResource](b, l.ResourceID); res != nil {
		res.extra().links = append(res.extra().links, gLink{scope: b.handle(l.ScopeID), typ: l.LinkType})
	}
}

func attachResourceEdge(b *graphBuilder, r record) {
	e := r.(*ResourceEdge)
	if res := fresh[gResource](b, e.ChildResourceID); res != nil {
		res.extra().parents = append(res.extra().parents, gParent{edgeID: e.ID, res: b.handle(e.ParentResourceID), cascade: e.Cascade})
	}
}

func newPolicyNode(b *graphBuilder, r record) any {
	p := r.(*ResourcePolicy)
	return &gPolicy{p: p, scope: b.handle(p.ScopeID), subject: logic.Stored(p.SubjectCondition),
		context: logic.Stored(p.ContextCondition), direct: p.Target.Kind == TargetResource}
}

func attachPolicy(b *graphBuilder, r record) {
	p := r.(*ResourcePolicy)
	h := b.handle(p.ID)
	switch p.Target.Kind {
	case TargetResource:
		if res := fresh[gResource](b, p.Target.ResourceID); res != nil {
			res.extra().policies = append(res.extra().policies, h)
		}
	case TargetCollection:
		if c := fresh[gColl](b, p.Target.CollectionID); c != nil {
			c.policies = append(c.policies, h)
			if c.actions == nil {
				c.actions = map[string]bool{}
			}
			for _, a := range p.Actions {
				c.actions[a] = true
			}
		}
	}
}

func newTagNode(b *graphBuilder, r record) any {
	t := r.(*Tag)
	n := &gTagNode{t: t}
	if g := nodeAt[gTagGroup](b.g, b.handle(t.TagGroupID)); g != nil {
		n.groupKey = g.tg.Key
	}
	return n
}

func attachTagAssignment(b *graphBuilder, r record) {
	a := r.(*TagAssignment)
	t := gTag{scope: b.handle(a.ScopeID), tag: b.handle(a.TagID)}
	switch a.TargetType {
	case ModelSubject:
		if s := fresh[gSubject](b, a.TargetID); s != nil {
			s.tags = append(s.tags, t)
		}
	case ModelResource:
		if res := fresh[gResource](b, a.TargetID); res != nil {
			res.extra().tags = append(res.extra().tags, t)
		}
	}
}

func containsGlob(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' {
			return true
		}
	}
	return false
}

// Reverse edges: what a node points to, for the sets of graph.kids,
// graph.members and graph.subjects, and the lists of graph.homes.

func scopeParent(n any) []handle {
	if s, ok := n.(*gScope); ok && s.parent != noHandle {
		return []handle{s.parent}
	}
	return nil
}

// resourceHomes returns the scopes r lives in: its owner and every scope it
// is linked to.
func resourceHomes(n any) []handle {
	r, ok := n.(*gResource)
	if !ok {
		return nil
	}
	out := []handle{r.owner}
	for _, l := range r.links() {
		if !slices.Contains(out, l.scope) {
			out = append(out, l.scope)
		}
	}
	return out
}

func memberScope(n any) []handle {
	if m, ok := n.(*gMember); ok {
		return []handle{m.scope}
	}
	return nil
}

const subjectBucket = 4096

// subjectBucketOf returns the bucket of graph.subjects that holds h when n
// is a subject.
func subjectBucketOf(h handle, n any) []handle {
	if _, ok := n.(*gSubject); ok {
		return []handle{h / subjectBucket}
	}
	return nil
}

// memberSubject returns the subject of n when n is a membership.
func memberSubject(n any) handle {
	if m, ok := n.(*gMember); ok {
		return m.subject
	}
	return noHandle
}

// reverse moves v from the sets of the keys in was to those of the keys in
// is.
func (b *graphBuilder) reverse(vec *cow.Vec[handle], v handle, was, is []handle) {
	for _, k := range was {
		if !slices.Contains(is, k) {
			if s, _ := vec.At(k).(*handleSet); s != nil {
				if i := slices.Index(s.hs, v); i >= 0 {
					s = b.writableSet(vec, k, s)
					s.hs[i] = s.hs[len(s.hs)-1]
					s.hs = s.hs[:len(s.hs)-1]
				}
			}
		}
	}
	for _, k := range is {
		if k != noHandle && !slices.Contains(was, k) {
			s, _ := vec.At(k).(*handleSet)
			s = b.writableSet(vec, k, s)
			s.hs = append(s.hs, v)
		}
	}
}

// handleSet is a set of handles in no order. A graph update copies the
// sets it changes, each once.
type handleSet struct {
	gen uint64
	hs  []handle
}

// writableSet returns the set of key k in vec (s, which may be nil), copied
// first unless it was made in the builder's generation.
func (b *graphBuilder) writableSet(vec *cow.Vec[handle], k handle, s *handleSet) *handleSet {
	if s != nil && s.gen == b.gen {
		return s
	}
	ns := &handleSet{gen: b.gen}
	if s != nil {
		ns.hs = slices.Clone(s.hs)
	}
	vec.Set(b.gen, k, ns)
	return ns
}

// reverseOf returns the set of key k in vec. It belongs to the graph: do
// not modify it.
func reverseOf(vec *cow.Vec[handle], k handle) []handle {
	if s, _ := vec.At(k).(*handleSet); s != nil {
		return s.hs
	}
	return nil
}
