package authz

// The delete cascades of SPEC §3.1, in one table. Deleting an object first
// checks its refusing dependents (ErrNotAllowed while any exists), then
// deletes its cascading dependents recursively, all in the transaction of
// the Delete, so that nothing is left dangling.
func init() {
	cascade := func(k *kindSpec, deps ...dependent) { k.dependents = append(k.dependents, deps...) }
	on := func(index string, k *kindSpec) dependent { return dependent{index: index, kind: k} }
	refuse := func(index string, k *kindSpec, why string) dependent {
		return dependent{index: index, kind: k, refuse: why}
	}

	cascade(scopeTypeKind,
		refuse(ixScopeType, scopeKind, "has scopes of this type: delete them first"),
		on(ixScopeTypeEdgePar, scopeTypeEdgeKind),
		on(ixScopeTypeEdgeChild, scopeTypeEdgeKind))
	cascade(scopeKind,
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
		on(ixTagAssignScope, tagAssignKind))
	cascade(subjectKind,
		on(ixMembershipSubject, membershipKind),
		on(ixTagAssignTarget, tagAssignKind),
		on(ixTagBindingModel, tagBindingKind))
	cascade(membershipKind,
		on(ixRoleAssignMember, roleAssignKind))
	cascade(roleKind,
		on(ixRoleAssignRole, roleAssignKind),
		on(ixRolePermRole, rolePermKind),
		on(ixOverrideRole, overrideKind),
		on(ixTagAssignTarget, tagAssignKind),
		on(ixTagBindingModel, tagBindingKind))
	cascade(permKind,
		on(ixRolePermPerm, rolePermKind),
		on(ixOverridePerm, overrideKind),
		on(ixTagAssignTarget, tagAssignKind),
		on(ixTagBindingModel, tagBindingKind))
	cascade(resourceTypeKind,
		refuse(ixResourceType, resourceKind, "has resources of this type: delete them first"),
		on(ixCollType, collKind),
		on(ixTagBindingModel, tagBindingKind))
	cascade(resourceKind,
		on(ixResourceEdgeParent, resourceEdgeKind),
		on(ixResourceEdgeChild, resourceEdgeKind),
		on(ixLinkResource, linkKind),
		on(ixPolicyResource, policyKind),
		on(ixTagAssignTarget, tagAssignKind),
		on(ixTagBindingModel, tagBindingKind))
	cascade(collKind,
		on(ixPolicyCollection, policyKind))
	cascade(tagGroupKind,
		on(ixTagGroup, tagKind),
		on(ixTagBindingGroup, tagBindingKind))
	cascade(tagKind,
		on(ixTagAssignTag, tagAssignKind))
}
