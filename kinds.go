package authz

// The kinds of the model, one row each. A row holds everything the generic
// code needs to know of a kind: its names (newKind), the slice of Batch it
// is created through, what deleting one does to the objects that reference
// it, the checks that may refuse its deletion, and the graph nodes a write
// of one touches. Adding a kind means adding its row here, its file (the
// record type with its uniques and indexes, its builder and its Client
// methods), its entry in graphKinds when Evaluate reads it, and its HTTP
// routes. TestKindTable validates the table, and that what a write touches
// agrees with where graphKinds puts the record.

// The kinds, in the order of the fields of Batch.
var (
	scopeTypeKind        = newKind[ScopeType]("scope type", "scope_types", "scope_type")
	scopeTypeEdgeKind    = newKind[ScopeTypeEdge]("scope type edge", "scope_type_edges", "scope_type_edge")
	scopeKind            = newKind[Scope]("scope", "scopes", "scope")
	scopeEdgeKind        = newKind[ScopeEdge]("scope edge", "scope_edges", "scope_edge")
	subjectKind          = newKind[Subject]("subject", "subjects", "subject")
	membershipKind       = newKind[Membership]("membership", "memberships", "membership")
	roleAssignKind       = newKind[RoleAssignment]("role assignment", "role_assignments", "role_assign")
	roleKind             = newKind[Role]("role", "roles", "role")
	permKind             = newKind[Permission]("permission", "permissions", "permission")
	rolePermKind         = newKind[RolePermission]("role permission", "role_permissions", "role_perm")
	overrideKind         = newKind[ScopeOverride]("scope override", "scope_overrides", "override")
	resourceTypeKind     = newKind[ResourceType]("resource type", "resource_types", "resource_type")
	resourceTypeEdgeKind = newKind[ResourceTypeEdge]("resource type edge", "resource_type_edges", "resource_type_edge")
	resourceKind         = newKind[Resource]("resource", "resources", "resource")
	resourceEdgeKind     = newKind[ResourceEdge]("resource edge", "resource_edges", "resource_edge")
	linkKind             = newKind[ResourceScopeLink]("resource scope link", "resource_scope_links", "rsl")
	collKind             = newKind[Collection]("collection", "collections", "collection")
	policyKind           = newKind[ResourcePolicy]("policy", "resource_policies", "policy")
	tagGroupKind         = newKind[TagGroup]("tag group", "tag_groups", "tag_group")
	tagKind              = newKind[Tag]("tag", "tags", "tag")
	tagBindingKind       = newKind[TagBinding]("tag binding", "tag_bindings", "tag_binding")
	tagAssignKind        = newKind[TagAssignment]("tag assignment", "tag_assignments", "tag_assignment")
)

// kindRow is one row of kindTable.
type kindRow struct {
	kind *kindSpec
	// group is the slice of Batch the kind is created through.
	group groupSpec
	// dependents are the objects that reference one of this kind, found
	// through an index of theirs: Delete refuses while a refusing one
	// exists (ErrNotAllowed), then deletes the others first, recursively,
	// in its transaction, so that nothing is left dangling.
	dependents []dependent
	// beforeDelete, when set, may refuse the deletion of a record (also
	// when a cascade reaches it).
	beforeDelete func(v *view, r record) error
	// touches names the graph nodes whose content depends on a record of
	// the kind: a write of the record makes the graph reload them.
	touches func(r record, add toucher)
}

// toucher records that the graph node of kind k and id id must be
// reloaded; an empty id is ignored.
type toucher func(k *kindSpec, id string)

// kindTable has one row per kind, in the order of the fields of Batch.
var kindTable = []kindRow{
	{kind: scopeTypeKind,
		group: batchGroup("scopeTypes", func(b *Batch) []ScopeTypeInput { return b.ScopeTypes }, func(r *BatchResult, o []ScopeType) { r.ScopeTypes = o }, buildScopeType, nil),
		dependents: []dependent{
			refuse(ixScopeType, scopeKind, "has scopes of this type: delete them first"),
			on(ixScopeTypeEdgePar, scopeTypeEdgeKind),
			on(ixScopeTypeEdgeChild, scopeTypeEdgeKind)},
		touches: touchSelf},
	{kind: scopeTypeEdgeKind,
		group:   batchGroup("scopeTypeEdges", func(b *Batch) []ScopeTypeEdgeInput { return b.ScopeTypeEdges }, func(r *BatchResult, o []ScopeTypeEdge) { r.ScopeTypeEdges = o }, buildScopeTypeEdge, nil),
		touches: touchNothing}, // only the write path reads them
	{kind: scopeKind,
		group: batchGroup("scopes", func(b *Batch) []ScopeInput { return b.Scopes }, func(r *BatchResult, o []Scope) { r.Scopes = o }, buildScope, sizeScope),
		dependents: []dependent{
			refuse(ixScopeEdgeParent, scopeEdgeKind, "has child scopes: delete them first"),
			refuse(ixResourceScope, resourceKind, "owns resources: move them to another scope (UpdateResource) or delete them first"),
			on(ixScopeEdgeChild, scopeEdgeKind),
			on(ixMembershipScope, membershipKind),
			on(ixRoleScope, roleKind),
			on(ixPermScope, permKind),
			on(ixOverrideChild, overrideKind),
			on(ixCollScope, collKind),
			on(ixPolicyScope, policyKind),
			on(ixResourceTypeScope, resourceTypeKind),
			on(ixTagGroupScope, tagGroupKind),
			on(ixTagScope, tagKind),
			on(ixLinkScope, linkKind),
			on(ixTagAssignScope, tagAssignKind)},
		touches: touchSelf},
	{kind: scopeEdgeKind,
		group: batchGroup("scopeEdges", func(b *Batch) []ScopeEdgeInput { return b.ScopeEdges }, func(r *BatchResult, o []ScopeEdge) { r.ScopeEdges = o }, buildScopeEdge, nil),
		// A scope holds its edge to its parent.
		touches: touching(func(e *ScopeEdge, add toucher) { add(scopeKind, e.ChildScopeID) })},
	{kind: subjectKind,
		group: batchGroup("subjects", func(b *Batch) []SubjectInput { return b.Subjects }, func(r *BatchResult, o []Subject) { r.Subjects = o }, buildSubject, sizeSubject),
		dependents: []dependent{
			on(ixMembershipSubject, membershipKind),
			on(ixTagAssignTarget, tagAssignKind),
			on(ixTagBindingModel, tagBindingKind)},
		touches: touchSelf},
	{kind: membershipKind,
		group:      batchGroup("memberships", func(b *Batch) []MembershipInput { return b.Memberships }, func(r *BatchResult, o []Membership) { r.Memberships = o }, buildMembershipInput, sizeMembership),
		dependents: []dependent{on(ixRoleAssignMember, roleAssignKind)},
		// A subject holds its memberships.
		touches: touching(func(m *Membership, add toucher) { add(membershipKind, m.ID); add(subjectKind, m.SubjectID) })},
	{kind: roleAssignKind,
		group: batchGroup("roleAssignments", func(b *Batch) []RoleAssignmentInput { return b.RoleAssignments }, func(r *BatchResult, o []RoleAssignment) { r.RoleAssignments = o }, buildRoleAssignmentInput, nil),
		// A membership holds its role assignments.
		touches: touching(func(a *RoleAssignment, add toucher) { add(membershipKind, a.MembershipID) })},
	{kind: roleKind,
		group: batchGroup("roles", func(b *Batch) []RoleInput { return b.Roles }, func(r *BatchResult, o []Role) { r.Roles = o }, buildRole, nil),
		dependents: []dependent{
			on(ixRoleAssignRole, roleAssignKind),
			on(ixRolePermRole, rolePermKind),
			on(ixOverrideRole, overrideKind),
			on(ixTagAssignTarget, tagAssignKind),
			on(ixTagBindingModel, tagBindingKind)},
		touches: touchSelf},
	{kind: permKind,
		group: batchGroup("permissions", func(b *Batch) []PermissionInput { return b.Permissions }, func(r *BatchResult, o []Permission) { r.Permissions = o }, buildPermission, nil),
		dependents: []dependent{
			on(ixRolePermPerm, rolePermKind),
			on(ixOverridePerm, overrideKind),
			on(ixTagAssignTarget, tagAssignKind),
			on(ixTagBindingModel, tagBindingKind)},
		touches: touchSelf},
	{kind: rolePermKind,
		group: batchGroup("rolePermissions", func(b *Batch) []RolePermissionInput { return b.RolePermissions }, func(r *BatchResult, o []RolePermission) { r.RolePermissions = o }, buildRolePermission, nil),
		// A role holds its permissions.
		touches: touching(func(rp *RolePermission, add toucher) { add(roleKind, rp.RoleID) })},
	{kind: overrideKind,
		group: batchGroup("scopeOverrides", func(b *Batch) []ScopeOverrideInput { return b.ScopeOverrides }, func(r *BatchResult, o []ScopeOverride) { r.ScopeOverrides = o }, buildScopeOverride, nil),
		// A scope holds its overrides.
		touches: touching(func(o *ScopeOverride, add toucher) { add(scopeKind, o.ChildScopeID) })},
	{kind: resourceTypeKind,
		group: batchGroup("resourceTypes", func(b *Batch) []ResourceTypeInput { return b.ResourceTypes }, func(r *BatchResult, o []ResourceType) { r.ResourceTypes = o }, buildResourceType, nil),
		dependents: []dependent{
			refuse(ixResourceType, resourceKind, "has resources of this type: delete them first"),
			on(ixResourceTypeEdgePar, resourceTypeEdgeKind),
			on(ixResourceTypeEdgeChild, resourceTypeEdgeKind),
			on(ixCollType, collKind),
			on(ixTagBindingModel, tagBindingKind)},
		touches: touchSelf},
	{kind: resourceTypeEdgeKind,
		group:   batchGroup("resourceTypeEdges", func(b *Batch) []ResourceTypeEdgeInput { return b.ResourceTypeEdges }, func(r *BatchResult, o []ResourceTypeEdge) { r.ResourceTypeEdges = o }, buildResourceTypeEdge, nil),
		touches: touchNothing}, // only the write path reads them
	{kind: resourceKind,
		group: batchGroup("resources", func(b *Batch) []ResourceInput { return b.Resources }, func(r *BatchResult, o []Resource) { r.Resources = o }, buildResource, nil),
		dependents: []dependent{
			on(ixResourceEdgeParent, resourceEdgeKind),
			on(ixResourceEdgeChild, resourceEdgeKind),
			on(ixLinkResource, linkKind),
			on(ixPolicyResource, policyKind),
			on(ixTagAssignTarget, tagAssignKind),
			on(ixTagBindingModel, tagBindingKind)},
		touches: touchSelf},
	{kind: resourceEdgeKind,
		group: batchGroup("resourceEdges", func(b *Batch) []ResourceEdgeInput { return b.ResourceEdges }, func(r *BatchResult, o []ResourceEdge) { r.ResourceEdges = o }, buildResourceEdge, nil),
		// A resource holds its edges to its parents.
		touches: touching(func(e *ResourceEdge, add toucher) { add(resourceKind, e.ChildResourceID) })},
	{kind: linkKind,
		group: batchGroup("resourceScopeLinks", func(b *Batch) []ResourceScopeLinkInput { return b.ResourceScopeLinks }, func(r *BatchResult, o []ResourceScopeLink) { r.ResourceScopeLinks = o }, buildResourceScopeLink, nil),
		// A resource holds its links.
		touches: touching(func(l *ResourceScopeLink, add toucher) { add(resourceKind, l.ResourceID) })},
	{kind: collKind,
		group:      batchGroup("collections", func(b *Batch) []CollectionInput { return b.Collections }, func(r *BatchResult, o []Collection) { r.Collections = o }, buildCollection, nil),
		dependents: []dependent{on(ixPolicyCollection, policyKind)},
		// A resource type holds its collections.
		touches: touching(func(c *Collection, add toucher) { add(collKind, c.ID); add(resourceTypeKind, c.ResourceTypeID) })},
	{kind: policyKind,
		group: batchGroup("resourcePolicies", func(b *Batch) []ResourcePolicyInput { return b.ResourcePolicies }, func(r *BatchResult, o []ResourcePolicy) { r.ResourcePolicies = o }, buildResourcePolicy, nil),
		// A resource holds its direct policies, a collection its policies.
		touches: touching(func(p *ResourcePolicy, add toucher) {
			add(policyKind, p.ID)
			add(resourceKind, p.Target.ResourceID)
			add(collKind, p.Target.CollectionID)
		})},
	{kind: tagGroupKind,
		group: batchGroup("tagGroups", func(b *Batch) []TagGroupInput { return b.TagGroups }, func(r *BatchResult, o []TagGroup) { r.TagGroups = o }, buildTagGroup, sizeTagGroup),
		dependents: []dependent{
			on(ixTagGroup, tagKind),
			on(ixTagBindingGroup, tagBindingKind)},
		beforeDelete: checkTagGroupUnlocked,
		touches:      touchSelf},
	{kind: tagKind,
		group:        batchGroup("tags", func(b *Batch) []TagInput { return b.Tags }, func(r *BatchResult, o []Tag) { r.Tags = o }, buildTag, nil),
		dependents:   []dependent{on(ixTagAssignTag, tagAssignKind)},
		beforeDelete: checkTagGroupOfTagUnlocked,
		touches:      touchSelf},
	{kind: tagBindingKind,
		group:   batchGroup("tagBindings", func(b *Batch) []TagBindingInput { return b.TagBindings }, func(r *BatchResult, o []TagBinding) { r.TagBindings = o }, buildTagBinding, nil),
		touches: touchNothing}, // only the write path reads them
	{kind: tagAssignKind,
		group: batchGroup("tagAssignments", func(b *Batch) []TagAssignmentInput { return b.TagAssignments }, func(r *BatchResult, o []TagAssignment) { r.TagAssignments = o }, buildTagAssignment, nil),
		// A subject or a resource holds its tags.
		touches: touching(func(a *TagAssignment, add toucher) {
			switch a.TargetType {
			case ModelSubject:
				add(subjectKind, a.TargetID)
			case ModelResource:
				add(resourceKind, a.TargetID)
			}
		})},
}

// groups lists the slices of Batch in field order, from kindTable. Their
// order does not matter for correctness: references are resolved after
// every item is built; it orders a BatchError's items.
var groups []groupSpec

// The table is wired into the kinds once, before any Client exists.
func init() {
	for i := range kindTable {
		row := &kindTable[i]
		row.kind.dependents = row.dependents
		row.kind.beforeDelete = row.beforeDelete
		row.kind.touches = row.touches
		groups = append(groups, row.group)
	}
}

// on is a dependent that a deletion cascades to.
func on(index string, k *kindSpec) dependent { return dependent{index: index, kind: k} }

// refuse is a dependent whose existence refuses the deletion; why follows
// "it" in the error and says what to do.
func refuse(index string, k *kindSpec, why string) dependent {
	return dependent{index: index, kind: k, refuse: why}
}

// touchSelf touches the record's own node.
func touchSelf(r record, add toucher) { add(r.kind(), r.recordID()) }

// touchNothing is for kinds the graph does not hold.
func touchNothing(record, toucher) {}

// touching adapts a function of one record type to a row's touches.
func touching[T any](f func(*T, toucher)) func(record, toucher) {
	return func(r record, add toucher) { f(any(r).(*T), add) }
}
