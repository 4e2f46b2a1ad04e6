package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/scopegate/authz/storage"
)

// Batch is a mixed batch: an atomic import of objects of any kinds, such as a
// tenant bootstrap, a fixture or a migration. Any id-valued field of any item
// may name an object created by another item of the batch, of any kind,
// earlier or later in any slice.
type Batch struct {
	ScopeTypes         []ScopeTypeInput         `json:"scopeTypes,omitempty"`
	ScopeTypeEdges     []ScopeTypeEdgeInput     `json:"scopeTypeEdges,omitempty"`
	Scopes             []ScopeInput             `json:"scopes,omitempty"`
	ScopeEdges         []ScopeEdgeInput         `json:"scopeEdges,omitempty"`
	Subjects           []SubjectInput           `json:"subjects,omitempty"`
	Memberships        []MembershipInput        `json:"memberships,omitempty"`
	RoleAssignments    []RoleAssignmentInput    `json:"roleAssignments,omitempty"`
	Roles              []RoleInput              `json:"roles,omitempty"`
	Permissions        []PermissionInput        `json:"permissions,omitempty"`
	RolePermissions    []RolePermissionInput    `json:"rolePermissions,omitempty"`
	ScopeOverrides     []ScopeOverrideInput     `json:"scopeOverrides,omitempty"`
	ResourceTypes      []ResourceTypeInput      `json:"resourceTypes,omitempty"`
	ResourceTypeEdges  []ResourceTypeEdgeInput  `json:"resourceTypeEdges,omitempty"`
	Resources          []ResourceInput          `json:"resources,omitempty"`
	ResourceEdges      []ResourceEdgeInput      `json:"resourceEdges,omitempty"`
	ResourceScopeLinks []ResourceScopeLinkInput `json:"resourceScopeLinks,omitempty"`
	Collections        []CollectionInput        `json:"collections,omitempty"`
	ResourcePolicies   []ResourcePolicyInput    `json:"resourcePolicies,omitempty"`
	TagGroups          []TagGroupInput          `json:"tagGroups,omitempty"`
	Tags               []TagInput               `json:"tags,omitempty"`
	TagBindings        []TagBindingInput        `json:"tagBindings,omitempty"`
	TagAssignments     []TagAssignmentInput     `json:"tagAssignments,omitempty"`
}

// BatchResult holds the objects stored by Apply: each slice has one element
// per element of the same slice of the Batch, in the same order. Objects
// created inline (memberships of scopes and subjects, their role
// assignments, tags of tag groups) are not listed separately.
type BatchResult struct {
	ScopeTypes         []ScopeType         `json:"scopeTypes,omitempty"`
	ScopeTypeEdges     []ScopeTypeEdge     `json:"scopeTypeEdges,omitempty"`
	Scopes             []Scope             `json:"scopes,omitempty"`
	ScopeEdges         []ScopeEdge         `json:"scopeEdges,omitempty"`
	Subjects           []Subject           `json:"subjects,omitempty"`
	Memberships        []Membership        `json:"memberships,omitempty"`
	RoleAssignments    []RoleAssignment    `json:"roleAssignments,omitempty"`
	Roles              []Role              `json:"roles,omitempty"`
	Permissions        []Permission        `json:"permissions,omitempty"`
	RolePermissions    []RolePermission    `json:"rolePermissions,omitempty"`
	ScopeOverrides     []ScopeOverride     `json:"scopeOverrides,omitempty"`
	ResourceTypes      []ResourceType      `json:"resourceTypes,omitempty"`
	ResourceTypeEdges  []ResourceTypeEdge  `json:"resourceTypeEdges,omitempty"`
	Resources          []Resource          `json:"resources,omitempty"`
	ResourceEdges      []ResourceEdge      `json:"resourceEdges,omitempty"`
	ResourceScopeLinks []ResourceScopeLink `json:"resourceScopeLinks,omitempty"`
	Collections        []Collection        `json:"collections,omitempty"`
	ResourcePolicies   []ResourcePolicy    `json:"resourcePolicies,omitempty"`
	TagGroups          []TagGroup          `json:"tagGroups,omitempty"`
	Tags               []Tag               `json:"tags,omitempty"`
	TagBindings        []TagBinding        `json:"tagBindings,omitempty"`
	TagAssignments     []TagAssignment     `json:"tagAssignments,omitempty"`
	// Revision is the revision the batch committed: pass it as
	// Consistency.AtLeastRevision for a request that must see the batch,
	// from any Client of the store. It is 0 for an empty batch, which
	// commits nothing.
	Revision uint64 `json:"revision,omitempty"`
}

// Apply stores every object of the batch in one transaction: all or nothing.
// References between items are resolved whatever their order; every item is
// validated and every problem found is reported in one *BatchError (Op
// "apply", ItemError.Kind naming the slice) before anything is committed.
//
// Edges that would close a cycle (scope type edges, scope edges, resource
// type edges, resource edges) are checked as if one by one in item order, each against the
// stored edges and the batch's edges not refused before it: of the edges
// that together close a cycle, the first is reported. At most 100 such
// edges of each kind are reported; the batch is refused all the same. The
// checks cost time linear in the size of the batch (plus the stored part
// of the graph above the edges they add), and a write's validation does
// not read the chain of scopes it writes into.
func (c *Client) Apply(ctx context.Context, b Batch) (BatchResult, error) {
	return c.runBatch(ctx, "apply", true, &b, nil)
}

// groupSpec binds one slice of Batch to its builder and result slice.
type groupSpec struct {
	name    string
	recKind func() *kindSpec // the kind of the records it makes
	count   func(*Batch) int
	build   func(*builder, *Batch)
	collect func(*builder, *BatchResult)
}

// batchGroup binds a slice of Batch, the field name, to the kind of its
// records (for kindTable): get reads the inputs, set stores the results,
// build fills it.rec (and may add nested items), size counts the items an
// input stands for (nil: 1).
func batchGroup[I any, O any, P interface {
	*O
	record
}](name string, get func(*Batch) []I, set func(*BatchResult, []O), build func(*builder, *item, *I), size func(*I) int) groupSpec {
	return groupSpec{
		name:    name,
		recKind: func() *kindSpec { return P(new(O)).kind() },
		count: func(bt *Batch) int {
			ins := get(bt)
			if size == nil {
				return len(ins)
			}
			n := 0
			for i := range ins {
				n += size(&ins[i])
			}
			return n
		},
		build: func(b *builder, bt *Batch) {
			ins := get(bt)
			for i := range ins {
				it := &item{group: name, index: i}
				b.top[name] = append(b.top[name], it)
				build(b, it, &ins[i])
			}
		},
		collect: func(b *builder, r *BatchResult) {
			tops := b.top[name]
			if len(tops) == 0 {
				return
			}
			out := make([]O, len(tops))
			for i, it := range tops {
				out[i] = *it.rec.(P)
			}
			set(r, out)
		},
	}
}

// createMany runs a batch of one kind and returns its result slice.
func createMany[O any](ctx context.Context, c *Client, op string, bt *Batch, get func(*BatchResult) []O) ([]O, error) {
	r, err := c.runBatch(ctx, op, false, bt, nil)
	if err != nil {
		return nil, err
	}
	out := get(&r)
	if out == nil {
		out = []O{}
	}
	return out, nil
}

// createOne is the single form of a batch method.
func createOne[I, O any](ctx context.Context, op string, in I, many func(context.Context, []I) ([]O, error)) (O, error) {
	out, err := many(ctx, []I{in})
	if err != nil {
		var zero O
		return zero, singleError(op, err)
	}
	return out[0], nil
}

// item is one object to create: a top-level input or a nested one.
type item struct {
	group string // the Batch slice, "scopes"
	index int    // position in that slice
	field string // path of a nested item inside its top-level input, "memberships[1]"
	owner string // id reported in errors: the top-level item's id
	rec   record
	refs  []ref
	// check runs after every item is written and every reference resolved;
	// it enforces the rules that need the graph (hierarchies, chains,
	// bindings, cycles).
	check  func(*view)
	failed bool
}

type ref struct {
	field string
	id    string
	kind  *kindSpec
}

// builder collects the items of one batch and their errors.
type builder struct {
	c     *Client
	mixed bool
	now   time.Time
	actor string
	// restoring is set for Import. The scope type hierarchy and the
	// resource type hierarchy are checked when a scope edge or a resource
	// edge is created, and a store keeps the edges made before an edge of
	// a hierarchy was declared or deleted; an export holds them, and its
	// import must restore them too.
	restoring bool
	items     []*item
	top       map[string][]*item
	byID      map[string]*item
	errs      []*ItemError
	// The edges of the batch whose graphs must stay acyclic, in item
	// order, checked by one pass per kind (cycles.go).
	typeEdges         []dagEdge
	scopeEdges        []scopeEdgeItem
	resourceTypeEdges []dagEdge
	resourceEdges     []dagEdge
}

// newID registers it as an object of kind k with the client id (validated)
// or a generated one, and returns the id.
func (b *builder) newID(it *item, k *kindSpec, clientID string) string {
	id := clientID
	if id == "" {
		id = b.c.newID(k.prefix)
	} else if err := checkID(id); err != nil {
		b.fail(it, "id", err)
	}
	if it.owner == "" {
		it.owner = id
	}
	b.items = append(b.items, it)
	if other, dup := b.byID[id]; dup {
		b.fail(it, "id", existsf("id %q is used twice in this batch (also by %s)", id, other.describe(b.mixed)))
	} else {
		b.byID[id] = it
	}
	return id
}

// child starts a nested item of parent at the given path.
func (b *builder) child(parent *item, field string) *item {
	return &item{group: parent.group, index: parent.index, field: joinField(parent.field, field), owner: parent.owner}
}

func (it *item) describe(mixed bool) string {
	s := fmt.Sprintf("item %d", it.index)
	if mixed {
		s = it.group + " " + s
	}
	if it.field != "" {
		s += " " + it.field
	}
	return s
}

func joinField(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case b[0] == '[':
		return a + b
	}
	return a + "." + b
}

// fail records an error of it at field (relative to the item).
func (b *builder) fail(it *item, field string, err error) {
	it.failed = true
	ie := &ItemError{Index: it.index, ID: it.owner, Field: joinField(it.field, field), Err: err}
	if b.mixed {
		ie.Kind = it.group
	}
	b.errs = append(b.errs, ie)
}

// required reports a missing required string field.
func (b *builder) required(it *item, field, v string) bool {
	if v == "" {
		b.fail(it, field, invalidf("is required"))
		return false
	}
	return true
}

// ref records that field names an object of kind k; it is resolved against
// the batch and the store once every item is built. An empty id is ignored
// (use required for required references).
func (b *builder) ref(it *item, field, id string, k *kindSpec) {
	if id != "" {
		it.refs = append(it.refs, ref{field: field, id: id, kind: k})
	}
}

// requiredRef is required followed by ref.
func (b *builder) requiredRef(it *item, field, id string, k *kindSpec) {
	if b.required(it, field, id) {
		b.ref(it, field, id, k)
	}
}

// enum checks that v is one of allowed; empty v is accepted when optional.
func enum[E ~string](b *builder, it *item, field string, v E, optional bool, allowed ...E) bool {
	if v == "" && optional {
		return true
	}
	if v == "" {
		b.fail(it, field, invalidf("is required"))
		return false
	}
	if err := checkEnum("", v, allowed...); err != nil {
		b.fail(it, field, err)
		return false
	}
	return true
}

// checkEnum returns nil when v is one of allowed, else an ErrInvalid error
// "<what>: unknown value …" (just "unknown value …" when what is empty). It
// is the one enum check of inputs, patches and list filters.
func checkEnum[E ~string](what string, v E, allowed ...E) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	if what != "" {
		what += ": "
	}
	return invalidf("%sunknown value %q; want one of %v", what, v, allowed)
}

// runBatch builds, validates and stores a batch in one transaction.
// stamps, when set, holds for items of bt (by Batch field name and index)
// the JSON of the times and actors their records get instead of now and
// ctx's actor: Import restores them. A batch with stamps restores a
// snapshot, so its resource edges are not checked against the resource
// type hierarchy (see restoring).
func (c *Client) runBatch(ctx context.Context, op string, mixed bool, bt *Batch, stamps map[string][]json.RawMessage) (BatchResult, error) {
	n := 0
	for _, g := range groups {
		n += g.count(bt)
	}
	if n > c.maxBatchSize {
		return BatchResult{}, &BatchError{Op: op, Items: []*ItemError{{Index: -1, Err: &ruleError{
			msg:  fmt.Sprintf("batch has %d items (inline memberships, role assignments and tags included); the limit is %d (Options.MaxBatchSize)", n, c.maxBatchSize),
			kind: ErrBatchTooLarge,
		}}}}
	}
	var res BatchResult
	if n == 0 {
		return res, nil
	}
	b := &builder{
		c: c, mixed: mixed, now: c.timestamp(), actor: ActorFrom(ctx), restoring: stamps != nil,
		top: map[string][]*item{}, byID: make(map[string]*item, n),
	}
	for _, g := range groups {
		g.build(b, bt)
	}
	for name, list := range stamps {
		for i, raw := range list {
			if len(raw) > 0 && i < len(b.top[name]) {
				if err := json.Unmarshal(raw, b.top[name][i].rec); err != nil {
					return BatchResult{}, fmt.Errorf("authz: %s: the stamps of %s[%d]: %w", op, name, i, err) // Import checked them
				}
			}
		}
	}
	for _, it := range b.items {
		if field, err := checkLimits(it.rec); err != nil && !it.failed {
			b.fail(it, field, err)
		}
	}
	rev, err := c.write(ctx, op, func(tx *writeTx) error {
		if err := b.store(tx); err != nil {
			return err
		}
		if len(b.errs) > 0 {
			return b.batchError(op)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, g := range groups {
		g.collect(b, &res)
	}
	res.Revision = rev
	c.log.Debug("authz: batch committed", "op", op, "items", n, "revision", rev)
	return res, nil
}

// store resolves references, writes the items and runs their checks. Item
// problems are collected in b.errs; the returned error is a storage error.
func (b *builder) store(tx *writeTx) error {
	if err := b.prefetch(tx); err != nil {
		return err
	}
	type input struct {
		group string
		index int
	}
	taken := map[input]bool{}
	for _, it := range b.items {
		if it.failed {
			continue
		}
		k, err := kindOf(tx, it.rec.recordID())
		if err != nil {
			return err
		}
		if k != nil {
			b.fail(it, "id", existsf("id %q is already used by a %s", it.rec.recordID(), k.name))
			taken[input{it.group, it.index}] = true
			// The id names the stored object for every other item's checks.
			if b.byID[it.rec.recordID()] == it {
				delete(b.byID, it.rec.recordID())
			}
		}
	}
	if len(taken) > 0 {
		// The items nested in an input whose id is taken (a scope's parent
		// edge and memberships) would be checked against the stored
		// object of that id, with errors that describe another object:
		// the taken id is the input's one error.
		for _, it := range b.items {
			if taken[input{it.group, it.index}] {
				it.failed = true
			}
		}
	}
	for _, it := range b.items {
		if err := b.resolve(tx, it); err != nil {
			return err
		}
	}
	for _, it := range b.items {
		if it.failed {
			continue
		}
		err := putRecord(tx, it.rec, nil)
		var ce *clashError
		if errors.As(err, &ce) {
			b.failClash(it, ce)
			continue
		}
		if err != nil {
			return err
		}
	}
	// The scope tree is checked and its levels computed first: the checks
	// of chains read them. The resource edges are checked where their items
	// come, so that they see the resources refused by the checks before.
	v := newView(tx, b)
	checkScopeTypeEdges(v, b.typeEdges)
	checkResourceTypeEdges(v, b.resourceTypeEdges)
	checkScopeEdges(v, b.scopeEdges)
	if err := syncLevels(v); err != nil {
		return err
	}
	resourceEdges := false
	for _, it := range b.items {
		if it.group == "resourceEdges" && !resourceEdges {
			resourceEdges = true
			checkResourceEdges(v, b.resourceEdges)
		}
		if it.check != nil && !it.failed {
			it.check(v)
		}
		if v.err != nil {
			return v.err
		}
	}
	return nil
}

// prefetchFrom is the number of items from which a batch prefetches: below
// it, reading key by key costs no more.
const prefetchFrom = 8

// prefetchLevelRounds bounds the rounds that prefetch the level records of
// the scopes above those a batch names: each round reads the parents and
// jump targets of the levels the round before read, so that the chain
// checks of a tree of that depth read nothing key by key. Deeper trees read
// the rest key by key.
const prefetchLevelRounds = 8

// prefetchedRecords are the kinds whose records the checks of a batch read
// when an item refers to one (the scope of a membership, the role it
// grants, the type of a resource); of the other kinds they read only the
// id (kindOf).
var prefetchedRecords = map[*kindSpec]bool{scopeKind: true, roleKind: true, permKind: true, resourceTypeKind: true, resourceKind: true}

// prefetch tells a store that reads over a network (storage.Prefetcher)
// what the checks of the batch will read one key at a time, so that it
// reads them in a few statements: the ids of the items and of the objects
// they refer to, their unique keys, the records referred to, and the level
// records of the scopes referred to and of the scopes above them (see
// prefetchLevelRounds).
func (b *builder) prefetch(tx *writeTx) error {
	p, ok := tx.Tx.(storage.Prefetcher)
	if !ok || len(b.items) < prefetchFrom {
		return nil
	}
	var ids, uniques, scopes []string
	records := map[string][]string{} // by table
	for _, it := range b.items {
		if it.failed {
			continue
		}
		ids = append(ids, it.rec.recordID())
		for _, r := range it.refs {
			ids = append(ids, r.id)
			if _, inBatch := b.byID[r.id]; inBatch {
				continue
			}
			if prefetchedRecords[r.kind] {
				records[r.kind.table] = append(records[r.kind.table], r.id)
			}
			if r.kind == scopeKind {
				scopes = append(scopes, r.id)
			}
		}
		for _, u := range it.rec.uniques() {
			uniques = append(uniques, keyOf(u.name, u.values))
		}
	}
	if err := p.Prefetch(tableIDs, ids); err != nil {
		return err
	}
	if err := p.Prefetch(tableUnique, uniques); err != nil {
		return err
	}
	for _, table := range slices.Sorted(maps.Keys(records)) {
		if err := p.Prefetch(table, records[table]); err != nil {
			return err
		}
	}
	if err := b.prefetchTypePairs(tx, p); err != nil {
		return err
	}
	return prefetchLevels(tx, p, scopes)
}

// prefetchTypePairs prefetches the unique keys of the resource type edges
// that the checks of the batch's resource edges look up
// (checkResourceEdgeTypes): one per pair of the types of the resources an
// edge joins, read from the batch or from the resource records prefetched
// before. A resource that is missing or does not decode is left for the
// checks to report.
func (b *builder) prefetchTypePairs(tx storage.Tx, p storage.Prefetcher) error {
	if b.restoring || len(b.resourceEdges) == 0 {
		return nil
	}
	typeOf := func(id string) string {
		if it, ok := b.byID[id]; ok {
			if r, ok := it.rec.(*Resource); ok {
				return r.ResourceTypeID
			}
			return ""
		}
		r, err := load[Resource](tx, resourceKind, id)
		if err != nil {
			return ""
		}
		return r.ResourceTypeID
	}
	seen := map[[2]string]bool{}
	var keys []string
	for _, e := range b.resourceEdges {
		if e.it.failed {
			continue
		}
		pair := [2]string{typeOf(e.parent), typeOf(e.child)}
		if pair[0] == "" || pair[1] == "" || seen[pair] {
			continue
		}
		seen[pair] = true
		keys = append(keys, keyOf(uniqueResourceTypeEdge, pair[:]))
	}
	return p.Prefetch(tableUnique, keys)
}

// prefetchLevels prefetches the level records of scopes and, round by
// round, of the scopes they name (parent, jump, define): at most
// prefetchLevelRounds rounds. A level that does not decode is left for the
// check that reads it to report.
func prefetchLevels(tx storage.Tx, p storage.Prefetcher, scopes []string) error {
	seen := make(map[string]bool, len(scopes))
	for range prefetchLevelRounds {
		var next []string
		for _, id := range scopes {
			if id != "" && !seen[id] {
				seen[id] = true
				next = append(next, id)
			}
		}
		if len(next) == 0 {
			return nil
		}
		if err := p.Prefetch(tableLevels, next); err != nil {
			return err
		}
		scopes = scopes[:0]
		for _, id := range next {
			raw, err := tx.Get(tableLevels, id)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			l, err := decodeLevel(id, raw)
			if err != nil {
				continue
			}
			scopes = append(scopes, l.Parent, l.Jump, l.Define)
		}
	}
	return nil
}

func (b *builder) resolve(tx storage.Tx, it *item) error {
	for _, r := range it.refs {
		if other, ok := b.byID[r.id]; ok {
			if other.rec.kind() != r.kind {
				b.fail(it, r.field, &ruleError{msg: fmt.Sprintf("%s %q: not found (that id is a %s of this batch)", r.kind.name, r.id, other.rec.kind().name), kind: ErrNotFound})
			}
			continue
		}
		k, err := kindOf(tx, r.id)
		if err != nil {
			return err
		}
		switch {
		case k == nil:
			b.fail(it, r.field, notFound(r.kind.name, r.id))
		case k != r.kind:
			b.fail(it, r.field, &ruleError{msg: fmt.Sprintf("%s %q: not found (that id is a %s)", r.kind.name, r.id, k.name), kind: ErrNotFound})
		}
	}
	return nil
}

func (b *builder) failClash(it *item, ce *clashError) {
	if other, ok := b.byID[ce.otherID]; ok && ce.entry.clash == nil {
		b.fail(it, ce.entry.field, existsf("%s is created twice in this batch (also by %s)", ce.entry.describe(), other.describe(b.mixed)))
		return
	}
	b.fail(it, ce.entry.field, ce)
}

// batchError sorts the collected errors by slice and index.
func (b *builder) batchError(op string) *BatchError {
	order := map[string]int{}
	for i, g := range groups {
		order[g.name] = i
	}
	sort.SliceStable(b.errs, func(i, j int) bool {
		a, c := b.errs[i], b.errs[j]
		if order[a.Kind] != order[c.Kind] {
			return order[a.Kind] < order[c.Kind]
		}
		return a.Index < c.Index
	})
	return &BatchError{Op: op, Items: b.errs}
}
