package authz

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scopegate/authz/internal/flatjson"
	"github.com/scopegate/authz/storage"
)

// The storage layout. Every kind has its own table of JSON records keyed by
// id. Four shared tables hold the rest:
//
//	meta   "schema" → schema version (decimal), "revision" → uint64 big endian
//	ids    id → kind name, for every stored object (ids are unique store-wide)
//	index  name \x00 value... \x00 id → empty: non-unique secondary indexes
//	unique name \x00 value... → id: uniqueness rules, also used as lookups
//
// plus the change log (write.go) and the scope levels (levels.go).
//
// Index values are escaped so that a value never contains the separator:
// \x01 → \x01\x02, \x00 → \x01\x01. Ids never contain \x00 or \x01.
const (
	tableMeta   = "meta"
	tableIDs    = "ids"
	tableIndex  = "index"
	tableUnique = "unique"

	metaSchema   = "schema"
	metaRevision = "revision"

	// schemaVersion is the version of the layout above. Bump it on any
	// incompatible change and teach New to migrate older stores. It is
	// stored as a decimal number, always: boltstore recognizes the files
	// written before it marked its files by this key and that form.
	//
	// Version 2 added the scope levels (levels.go) and the index of resource
	// types by key; New upgrades a version 1 store in place (upgradeFrom1).
	schemaVersion = 2
)

// kindSpec describes one kind of stored object. newKind makes it; its row
// in kindTable sets the rest.
type kindSpec struct {
	name   string // singular, used in messages: `scope "x": not found`
	table  string // table of records keyed by id
	prefix string // id prefix of generated ids
	// dependents are the objects that reference an object of this kind.
	// Delete removes them first (recursively) or refuses.
	dependents []dependent
	// decode decodes a stored record of this kind.
	decode func([]byte) (record, error)
	// beforeDelete, when set, may refuse the deletion of r (also when r is
	// reached by a cascade).
	beforeDelete func(v *view, r record) error
	// touches names the graph nodes a write of a record of this kind
	// makes stale.
	touches func(r record, add toucher)
}

// dependent is a reference from objects of another kind, found through an
// index whose single value is the referenced id.
type dependent struct {
	index string
	kind  *kindSpec
	// refuse, when set, makes Delete fail with ErrNotAllowed while such
	// objects exist; the text follows "it" and says what to do: "has child
	// scopes: delete them first".
	refuse string
}

// kindsByName resolves the kind names stored in the ids table.
var kindsByName = map[string]*kindSpec{}

func newKind[T any, P interface {
	*T
	record
}](name, table, prefix string) *kindSpec {
	k := &kindSpec{name: name, table: table, prefix: prefix}
	plan := flatjson.For[T]()
	k.decode = func(v []byte) (record, error) {
		t := new(T)
		if plan.Decode(v, t) {
			return P(t), nil
		}
		*t = *new(T)
		if err := json.Unmarshal(v, t); err != nil {
			return nil, fmt.Errorf("authz: decode %s: %w", name, err)
		}
		return P(t), nil
	}
	kindsByName[name] = k
	return k
}

// record is implemented by every stored type.
type record interface {
	kind() *kindSpec
	recordID() string
	// indexes lists the non-unique index entries of the record.
	indexes() []indexEntry
	// uniques lists the uniqueness rules the record takes part in.
	uniques() []uniqueEntry
}

type indexEntry struct {
	name   string
	values []string
}

type uniqueEntry struct {
	name   string
	values []string
	field  string // the input field reported on a clash
	// what says the rule in words: `membership of subject "s" in scope
	// "x"`. It is a function so that only a clash pays for the formatting.
	what func() string
	// clash builds the error for a clash with the object otherID; nil means
	// the generic ErrAlreadyExists message.
	clash func(otherID string) error
}

// describe returns the rule of u in words.
func (u uniqueEntry) describe() string {
	if u.what == nil {
		return fmt.Sprintf("%s %q", u.name, u.values)
	}
	return u.what()
}

func idx(name string, values ...string) indexEntry { return indexEntry{name: name, values: values} }

func escapeValue(v string) string {
	if !strings.ContainsAny(v, "\x00\x01") {
		return v
	}
	v = strings.ReplaceAll(v, "\x01", "\x01\x02")
	return strings.ReplaceAll(v, "\x00", "\x01\x01")
}

// keyOf joins a name and its escaped values with \x00.
func keyOf(name string, values []string) string {
	n := len(name)
	for _, v := range values {
		n += 1 + len(v)
	}
	var b strings.Builder
	b.Grow(n + 2)
	b.WriteString(name)
	for _, v := range values {
		b.WriteByte(0)
		b.WriteString(escapeValue(v))
	}
	return b.String()
}

// indexPrefix is the scan prefix of the entries of index name with the
// given leading values.
func indexPrefix(name string, values ...string) string { return keyOf(name, values) + "\x00" }

func indexKey(e indexEntry, id string) string { return keyOf(e.name, e.values) + "\x00" + id }

// idFromIndexKey returns the id at the end of an index key.
func idFromIndexKey(k string) string { return k[strings.LastIndexByte(k, 0)+1:] }

// kindOf returns the kind of the stored object id, or nil when no object has
// that id.
func kindOf(tx storage.Tx, id string) (*kindSpec, error) {
	v, err := tx.Get(tableIDs, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k := kindsByName[string(v)]
	if k == nil {
		return nil, fmt.Errorf("authz: store corrupted: id %q has unknown kind %q", id, v)
	}
	return k, nil
}

// load reads the record id of kind k into a new T. It returns ErrNotFound
// (wrapped with the kind and id) when there is none.
func load[T any](tx storage.Tx, k *kindSpec, id string) (*T, error) {
	v, err := tx.Get(k.table, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound(k.name, id)
	}
	if err != nil {
		return nil, err
	}
	if r, err := k.decode(v); err == nil {
		if t, ok := r.(any).(*T); ok {
			return t, nil
		}
	}
	t := new(T)
	if err := json.Unmarshal(v, t); err != nil {
		return nil, fmt.Errorf("authz: decode %s %q: %w", k.name, id, err)
	}
	return t, nil
}

// lookupUnique returns the id registered under a unique key, or "".
func lookupUnique(tx storage.Tx, name string, values ...string) (string, error) {
	v, err := tx.Get(tableUnique, keyOf(name, values))
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	return string(v), err
}

// putRecord writes r and its index entries. old is the previous version of
// the record (nil on create); its entries that changed are removed. A unique
// clash with another object is returned as a *clashError and nothing of r is
// written.
func putRecord(tx *writeTx, r, old record) error {
	tx.touch(r)
	if old != nil {
		tx.touch(old)
	}
	k, id := r.kind(), r.recordID()
	var oldU []uniqueEntry
	if old != nil {
		oldU = old.uniques()
	}
	newU := r.uniques()
	for _, u := range newU {
		if containsUnique(oldU, u) {
			continue
		}
		other, err := lookupUnique(tx, u.name, u.values...)
		if err != nil {
			return err
		}
		if other != "" && other != id {
			return &clashError{entry: u, otherID: other}
		}
	}
	for _, u := range oldU {
		if !containsUnique(newU, u) {
			if err := tx.Delete(tableUnique, keyOf(u.name, u.values)); err != nil {
				return err
			}
		}
	}
	for _, u := range newU {
		if err := tx.Put(tableUnique, keyOf(u.name, u.values), []byte(id)); err != nil {
			return err
		}
	}
	var oldI []indexEntry
	if old != nil {
		oldI = old.indexes()
	}
	newI := r.indexes()
	for _, e := range oldI {
		if !containsIndex(newI, e) {
			if err := tx.Delete(tableIndex, indexKey(e, id)); err != nil {
				return err
			}
		}
	}
	for _, e := range newI {
		if !containsIndex(oldI, e) {
			if err := tx.Put(tableIndex, indexKey(e, id), nil); err != nil {
				return err
			}
		}
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("authz: encode %s %q: %w", k.name, id, err)
	}
	if old == nil {
		if err := tx.Put(tableIDs, id, []byte(k.name)); err != nil {
			return err
		}
		tx.structural(r)
	}
	if err := tx.recordChange(k, id, old, r, v); err != nil {
		return err
	}
	return tx.Put(k.table, id, v)
}

// deleteEntries removes r, its id and its index entries.
func deleteEntries(tx *writeTx, r record) error {
	tx.touch(r)
	tx.structural(r)
	id := r.recordID()
	for _, u := range r.uniques() {
		if err := tx.Delete(tableUnique, keyOf(u.name, u.values)); err != nil {
			return err
		}
	}
	for _, e := range r.indexes() {
		if err := tx.Delete(tableIndex, indexKey(e, id)); err != nil {
			return err
		}
	}
	if err := tx.Delete(tableIDs, id); err != nil {
		return err
	}
	if err := tx.recordChange(r.kind(), id, r, nil, nil); err != nil {
		return err
	}
	return tx.Delete(r.kind().table, id)
}

func containsUnique(list []uniqueEntry, u uniqueEntry) bool {
	for _, o := range list {
		if o.name == u.name && equalStrings(o.values, u.values) {
			return true
		}
	}
	return false
}

func containsIndex(list []indexEntry, e indexEntry) bool {
	for _, o := range list {
		if o.name == e.name && equalStrings(o.values, e.values) {
			return true
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// clashError is a unique clash found by putRecord.
type clashError struct {
	entry   uniqueEntry
	otherID string
}

func (e *clashError) Error() string { return e.err().Error() }
func (e *clashError) Unwrap() error { return e.err() }

func (e *clashError) err() error {
	if e.entry.clash != nil {
		return e.entry.clash(e.otherID)
	}
	return existsf("%s already exists (%s)", e.entry.describe(), e.otherID)
}

// scanIndex calls fn with the id of every entry of index name whose leading
// values are values, in id order.
func scanIndex(tx storage.Tx, name string, values []string, fn func(id string) error) error {
	return tx.Scan(tableIndex, indexPrefix(name, values...), func(k string, _ []byte) error {
		return fn(idFromIndexKey(k))
	})
}

var errStopScan = errors.New("stop scan")

// errCorrupt marks data no version of the library writes.
var errCorrupt = errors.New("store corrupted")

// revision reads the store's revision counter.
func readRevision(tx storage.Tx) (uint64, error) {
	v, err := tx.Get(tableMeta, metaRevision)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("authz: revision has %d bytes: %w", len(v), errCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

// checkSchema stamps an empty store with the current schema version,
// upgrades a store of version 1, and refuses a store stamped with another
// version. It returns the version the store had (0 when it had none). A
// store without the stamp but with data in a table of the layout was not
// written by this library (another program wrote it, or it lost its
// stamp): it is refused too, and nothing is written to it. Tables outside
// the layout are not looked at: a Storage has no list of its tables.
func checkSchema(tx storage.Tx) (int, error) {
	v, err := tx.Get(tableMeta, metaSchema)
	if errors.Is(err, storage.ErrNotFound) {
		if err := checkUnstamped(tx); err != nil {
			return 0, err
		}
		return 0, tx.Put(tableMeta, metaSchema, []byte(strconv.Itoa(schemaVersion)))
	}
	if err != nil {
		return 0, err
	}
	got, err := strconv.Atoi(string(v))
	switch {
	case err == nil && got == schemaVersion:
		return got, nil
	case err == nil && got == 1:
		if err := upgradeFrom1(tx); err != nil {
			return got, fmt.Errorf("authz: upgrade the store from schema version 1 to %d: %w", schemaVersion, err)
		}
		return got, nil
	}
	return 0, fmt.Errorf("authz: store has schema version %q; this version of the library reads version %d: %w", v, schemaVersion, ErrSchemaVersion)
}

// openSchema is the transaction New runs on the store: checkSchema, with a
// log record when it upgrades the store (the record precedes the commit).
func (c *Client) openSchema(tx storage.Tx) error {
	from, err := checkSchema(tx)
	if err == nil && from != 0 && from != schemaVersion {
		c.log.Info("authz: upgrading the store", "fromSchema", from, "toSchema", schemaVersion)
	}
	return err
}

// upgradeFrom1 adds to a version 1 store what version 2 keeps: the level of
// every scope and the index of resource types by key. The store's objects
// and revision are left as they are: nothing a reader sees changes.
func upgradeFrom1(tx storage.Tx) error {
	levels, cyclic, err := computeLevels(tx)
	if err != nil {
		return err
	}
	if len(cyclic) > 0 {
		return corruptf("scopes %q lie on a cycle of scope edges", cyclic)
	}
	for _, id := range sortedKeys(levels) {
		if err := tx.Put(tableLevels, id, levels[id].encode()); err != nil {
			return err
		}
	}
	var keys []string
	err = tx.Scan(resourceTypeKind.table, "", func(id string, v []byte) error {
		r, err := resourceTypeKind.decode(v)
		if err != nil {
			return err
		}
		keys = append(keys, indexKey(idx(ixResourceTypeKey, r.(*ResourceType).Key), id))
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Put(tableIndex, k, nil); err != nil {
			return err
		}
	}
	return tx.Put(tableMeta, metaSchema, []byte(strconv.Itoa(schemaVersion)))
}

// layoutTables lists every table of the layout, sorted.
func layoutTables() []string {
	tables := []string{tableMeta, tableIDs, tableIndex, tableUnique, tableLevels}
	for _, k := range kindsByName {
		tables = append(tables, k.table)
	}
	slices.Sort(tables)
	return tables
}

// checkUnstamped refuses a store without a schema version that holds a key
// in any table of the layout.
func checkUnstamped(tx storage.Tx) error {
	for _, table := range layoutTables() {
		err := tx.Scan(table, "", func(string, []byte) error { return errStopScan })
		if errors.Is(err, errStopScan) {
			return fmt.Errorf("authz: store has no schema version but holds data in table %q: it was not written by this library: %w", table, ErrSchemaVersion)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// The index and unique names of every kind, in one place: an index lists
// the records of a kind by the values its name says (each record type's
// indexes method writes them), a unique name keeps those values unique.

// Index and unique names of the role and policy model.
const (
	ixRoleScope          = "role.scope"           // [scopeId]
	ixPermScope          = "permission.scope"     // [scopeId]
	ixRolePermRole       = "role_perm.role"       // [roleId]
	ixRolePermPerm       = "role_perm.permission" // [permissionId]
	ixOverrideChild      = "override.child"       // [childScopeId]
	ixOverrideRole       = "override.role"        // [roleId]
	ixOverridePerm       = "override.permission"  // [permissionId]
	ixCollScope          = "collection.scope"     // [scopeId]
	ixCollType           = "collection.type"      // [resourceTypeId]
	ixPolicyScope        = "policy.scope"         // [scopeId]
	ixPolicyResource     = "policy.resource"      // [resourceId]
	ixPolicyCollection   = "policy.collection"    // [collectionId]
	uniquePermKey        = "permission.key"       // [scopeId, key]
	uniqueRolePermission = "role_perm"            // [roleId, permissionId]
	uniqueOverride       = "override"             // [kind, childScopeId, roleId, permissionId]
)

// Index and unique names of the scope model.
const (
	ixScopeType          = "scope.type"             // [typeId]
	ixScopeExternal      = "scope.external"         // [externalId]
	ixScopeTypeEdgeChild = "scope_type_edge.child"  // [childTypeId]
	ixScopeTypeEdgePar   = "scope_type_edge.parent" // [parentTypeId]
	ixScopeEdgeParent    = "scope_edge.parent"      // [parentScopeId]
	ixScopeEdgeChild     = "scope_edge.child"       // [childScopeId]
	ixMembershipSubject  = "membership.subject"     // [subjectId]
	ixMembershipScope    = "membership.scope"       // [scopeId]
	ixRoleAssignMember   = "role_assign.membership" // [membershipId]
	ixRoleAssignRole     = "role_assign.role"       // [roleId]

	uniqueScopeTypeEdge  = "scope_type_edge" // [parentTypeId, childTypeId]
	uniqueScopeParent    = "scope.parent"    // [childScopeId] → scope edge id
	uniqueMembership     = "membership"      // [subjectId, scopeId]
	uniqueRoleAssignment = "role_assign"     // [membershipId, roleId]
)

// Index and unique names of the resource model.
const (
	ixResourceTypeScope     = "resource_type.scope"       // [scopeId]
	ixResourceTypeKey       = "resource_type.by_key"      // [key]: the types of a key, in every scope
	ixResourceTypeEdgePar   = "resource_type_edge.parent" // [parentTypeId]
	ixResourceTypeEdgeChild = "resource_type_edge.child"  // [childTypeId]
	ixResourceScope         = "resource.scope"            // [scopeId]
	ixResourceType          = "resource.type"             // [resourceTypeId]
	ixResourceEdgeChild     = "resource_edge.child"       // [childResourceId]
	ixResourceEdgeParent    = "resource_edge.parent"      // [parentResourceId]
	ixLinkResource          = "rsl.resource"              // [resourceId]
	ixLinkScope             = "rsl.scope"                 // [scopeId]
	uniqueResourceTypeKey   = "resource_type.key"         // [scopeId, key]
	uniqueResourceTypeEdge  = "resource_type_edge"        // [parentTypeId, childTypeId]
	uniqueResourceExt       = "resource.external"         // [resourceTypeId, externalResourceId]
	uniqueResourceEdge      = "resource_edge"             // [parentResourceId, childResourceId]
	uniqueLink              = "rsl"                       // [resourceId, scopeId]
)

// Index and unique names of the tag model.
const (
	ixTagGroupScope     = "tag_group.scope"       // [scopeId]
	ixTagGroup          = "tag.group"             // [tagGroupId]
	ixTagScope          = "tag.scope"             // [scopeId]
	ixTagBindingGroup   = "tag_binding.group"     // [tagGroupId]
	ixTagBindingModel   = "tag_binding.model"     // [modelId]
	ixTagAssignTag      = "tag_assignment.tag"    // [tagId]
	ixTagAssignTarget   = "tag_assignment.target" // [targetId]
	ixTagAssignScope    = "tag_assignment.scope"  // [scopeId]
	uniqueTagGroupKey   = "tag_group.key"         // [scopeId, key]
	uniqueTagIdentifier = "tag.identifier"        // [tagGroupId, identifier]
	uniqueTagAssignment = "tag_assignment"        // [tagId, targetType, targetId, scopeId]
)

// Index name of the subject model.
const ixSubjectExternal = "subject.external" // [subjectType, externalId]
