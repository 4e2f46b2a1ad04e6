package authz

import (
	"fmt"
	"regexp"
)

// Kinds of the tag model.
var (
	tagGroupKind   = newKind[TagGroup]("tag group", "tag_groups", "tag_group")
	tagKind        = newKind[Tag]("tag", "tags", "tag")
	tagBindingKind = newKind[TagBinding]("tag binding", "tag_bindings", "tag_binding")
	tagAssignKind  = newKind[TagAssignment]("tag assignment", "tag_assignments", "tag_assignment")
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

// identifierPattern is the syntax of tag identifiers.
var identifierPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// TagOrigin says who manages a tag group.
type TagOrigin string

// Tag group origins.
const (
	OriginSystem TagOrigin = "system"
	OriginUser   TagOrigin = "user"
)

// TagGroup is a named set of tags (department: engineering, finance …)
// defined at a scope. A locked group refuses changes to itself and to its
// tags.
type TagGroup struct {
	ID          string `json:"id"`
	ScopeID     string `json:"scopeId"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// MaxAppliedPerTarget bounds how many tags of the group one target may
	// carry; nil (JSON null) means unlimited.
	MaxAppliedPerTarget *int      `json:"maxAppliedPerTarget"`
	Origin              TagOrigin `json:"origin"`
	IsLocked            bool      `json:"isLocked"`
	CreatedAt           Time      `json:"createdAt"`
	CreatedBy           string    `json:"createdBy,omitempty"`
}

// TagGroupInput creates a TagGroup with its inline tags. ScopeID, Key
// (^[a-z][a-z0-9_]*$, unique per scope) and Name are required; Origin
// defaults to user.
type TagGroupInput struct {
	ID                  string           `json:"id,omitempty"`
	ScopeID             string           `json:"scopeId"`
	Key                 string           `json:"key"`
	Name                string           `json:"name"`
	Description         string           `json:"description,omitempty"`
	MaxAppliedPerTarget *int             `json:"maxAppliedPerTarget,omitempty"`
	Origin              TagOrigin        `json:"origin,omitempty"`
	IsLocked            bool             `json:"isLocked,omitempty"`
	Tags                []InlineTagInput `json:"tags,omitempty"`
}

// InlineTagInput is a tag created inline with its group.
type InlineTagInput struct {
	ID         string `json:"id,omitempty"`
	Identifier string `json:"identifier"`
	Label      string `json:"label"`
}

// TagGroupFilter selects the tag groups defined at a scope (required).
type TagGroupFilter struct {
	ScopeID string `json:"scopeId,omitempty"`
	Page
}

func (g *TagGroup) kind() *kindSpec  { return tagGroupKind }
func (g *TagGroup) recordID() string { return g.ID }
func (g *TagGroup) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueTagGroupKey, values: []string{g.ScopeID, g.Key}, field: "key",
		what: fmt.Sprintf("tag group with key %q in scope %q", g.Key, g.ScopeID)}}
}
func (g *TagGroup) indexes() []indexEntry { return []indexEntry{idx(ixTagGroupScope, g.ScopeID)} }

// Tag is a value of a tag group.
type Tag struct {
	ID         string `json:"id"`
	ScopeID    string `json:"scopeId"`
	TagGroupID string `json:"tagGroupId"`
	Identifier string `json:"identifier"`
	Label      string `json:"label"`
	CreatedAt  Time   `json:"createdAt"`
	CreatedBy  string `json:"createdBy,omitempty"`
}

// TagInput creates a Tag. TagGroupID, Identifier (^[a-z0-9][a-z0-9_-]*$,
// unique per group) and Label are required; ScopeID defaults to the group's.
type TagInput struct {
	ID         string `json:"id,omitempty"`
	ScopeID    string `json:"scopeId,omitempty"`
	TagGroupID string `json:"tagGroupId"`
	Identifier string `json:"identifier"`
	Label      string `json:"label"`
}

// TagPatch changes a Tag; nil fields are left unchanged.
type TagPatch struct {
	Label *string `json:"label,omitempty"`
}

// TagFilter selects the tags of a group (required).
type TagFilter struct {
	TagGroupID string `json:"tagGroupId,omitempty"`
	Page
}

func (t *Tag) kind() *kindSpec  { return tagKind }
func (t *Tag) recordID() string { return t.ID }
func (t *Tag) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueTagIdentifier, values: []string{t.TagGroupID, t.Identifier}, field: "identifier",
		what: fmt.Sprintf("tag %q in group %q", t.Identifier, t.TagGroupID)}}
}
func (t *Tag) indexes() []indexEntry {
	return []indexEntry{idx(ixTagGroup, t.TagGroupID), idx(ixTagScope, t.ScopeID)}
}

// ModelType is the kind of object a tag binding or assignment is about.
type ModelType string

// Model types of tag bindings and tag assignment targets
// (ModelResourceType only in bindings).
const (
	ModelResource     ModelType = "resource"
	ModelResourceType ModelType = "resource_type"
	ModelSubject      ModelType = "subject"
	ModelRole         ModelType = "role"
	ModelPermission   ModelType = "permission"
)

// TagBinding allows the tags of a group to be assigned to objects of a model
// type: all of them (ModelID nil) or one (SPEC §2.1).
type TagBinding struct {
	ID         string    `json:"id"`
	TagGroupID string    `json:"tagGroupId"`
	ModelType  ModelType `json:"modelType"`
	ModelID    *string   `json:"modelId"`
}

// TagBindingInput creates a TagBinding. TagGroupID and ModelType are
// required; ModelID, when set, must name an object of that type.
type TagBindingInput struct {
	ID         string    `json:"id,omitempty"`
	TagGroupID string    `json:"tagGroupId"`
	ModelType  ModelType `json:"modelType"`
	ModelID    *string   `json:"modelId,omitempty"`
}

// TagBindingFilter selects tag bindings by group, narrowed by model type and
// model id.
type TagBindingFilter struct {
	TagGroupID string    `json:"tagGroupId,omitempty"`
	ModelType  ModelType `json:"modelType,omitempty"`
	ModelID    string    `json:"modelId,omitempty"`
	Page
}

func (t *TagBinding) kind() *kindSpec        { return tagBindingKind }
func (t *TagBinding) recordID() string       { return t.ID }
func (t *TagBinding) uniques() []uniqueEntry { return nil }
func (t *TagBinding) indexes() []indexEntry {
	ix := []indexEntry{idx(ixTagBindingGroup, t.TagGroupID)}
	if t.ModelID != nil {
		ix = append(ix, idx(ixTagBindingModel, *t.ModelID))
	}
	return ix
}

// TagAssignment puts a tag on a resource, subject, role or permission, in a
// scope.
type TagAssignment struct {
	ID         string    `json:"id"`
	TagID      string    `json:"tagId"`
	TargetType ModelType `json:"targetType"`
	TargetID   string    `json:"targetId"`
	ScopeID    string    `json:"scopeId"`
	AppliedBy  string    `json:"appliedBy"`
	AppliedAt  Time      `json:"appliedAt"`
}

// TagAssignmentInput creates a TagAssignment. Every field but ID is
// required; the target must exist, a binding of the tag's group must cover
// it, and the group's MaxAppliedPerTarget must not be exceeded.
type TagAssignmentInput struct {
	ID         string    `json:"id,omitempty"`
	TagID      string    `json:"tagId"`
	TargetType ModelType `json:"targetType"`
	TargetID   string    `json:"targetId"`
	ScopeID    string    `json:"scopeId"`
}

// TagAssignmentFilter selects tag assignments; every set field narrows the
// list, and at least one is required.
type TagAssignmentFilter struct {
	TagID      string    `json:"tagId,omitempty"`
	TargetType ModelType `json:"targetType,omitempty"`
	TargetID   string    `json:"targetId,omitempty"`
	ScopeID    string    `json:"scopeId,omitempty"`
	TagGroupID string    `json:"tagGroupId,omitempty"`
	Page
}

func (t *TagAssignment) kind() *kindSpec  { return tagAssignKind }
func (t *TagAssignment) recordID() string { return t.ID }
func (t *TagAssignment) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueTagAssignment, values: []string{t.TagID, string(t.TargetType), t.TargetID, t.ScopeID}, field: "tagId",
		what: fmt.Sprintf("assignment of tag %q to %s %q in scope %q", t.TagID, t.TargetType, t.TargetID, t.ScopeID)}}
}
func (t *TagAssignment) indexes() []indexEntry {
	return []indexEntry{idx(ixTagAssignTag, t.TagID), idx(ixTagAssignTarget, t.TargetID), idx(ixTagAssignScope, t.ScopeID)}
}

func buildTagGroup(b *builder, it *item, in *TagGroupInput) {
	g := &TagGroup{ScopeID: in.ScopeID, Key: in.Key, Name: in.Name, Description: in.Description, MaxAppliedPerTarget: in.MaxAppliedPerTarget,
		Origin: in.Origin, IsLocked: in.IsLocked, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	g.ID = b.newID(it, tagGroupKind, in.ID)
	it.rec = g
}

func sizeTagGroup(in *TagGroupInput) int { return 1 + len(in.Tags) }

func buildTag(b *builder, it *item, in *TagInput) {
	t := &Tag{ScopeID: in.ScopeID, TagGroupID: in.TagGroupID, Identifier: in.Identifier, Label: in.Label, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	t.ID = b.newID(it, tagKind, in.ID)
	it.rec = t
}

func buildTagBinding(b *builder, it *item, in *TagBindingInput) {
	t := &TagBinding{TagGroupID: in.TagGroupID, ModelType: in.ModelType, ModelID: in.ModelID}
	t.ID = b.newID(it, tagBindingKind, in.ID)
	it.rec = t
}

func buildTagAssignment(b *builder, it *item, in *TagAssignmentInput) {
	t := &TagAssignment{TagID: in.TagID, TargetType: in.TargetType, TargetID: in.TargetID, ScopeID: in.ScopeID, AppliedBy: b.actor, AppliedAt: Time{b.now}}
	t.ID = b.newID(it, tagAssignKind, in.ID)
	it.rec = t
}
