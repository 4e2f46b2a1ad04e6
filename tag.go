package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/scopegate/authz/storage"
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

// Nullable is a patch field for a value that may be set to null: the zero
// value leaves the field unchanged, NullableOf(v) sets it to v and Null()
// clears it (sets it to null).
//
// In JSON, an absent field is the zero value (with the omitzero option it is
// also left out of the output), null is Null() and any other value is
// NullableOf(value):
//
//	{}                           unchanged
//	{"maxAppliedPerTarget": null} cleared
//	{"maxAppliedPerTarget": 3}    set to 3
type Nullable[T any] struct {
	// Set says whether the field changes. When it is false, Value is
	// ignored.
	Set bool
	// Value is the new value; nil sets the field to null.
	Value *T
}

// NullableOf returns a Nullable that sets the field to v.
func NullableOf[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: &v} }

// Null returns a Nullable that sets the field to null.
func Null[T any]() Nullable[T] { return Nullable[T]{Set: true} }

// IsZero reports whether n leaves the field unchanged; it makes the JSON
// option omitzero leave such a field out.
func (n Nullable[T]) IsZero() bool { return !n.Set }

// MarshalJSON encodes the value, or null when the field is cleared (or left
// unchanged: use omitzero to leave it out instead).
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.Set || n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*n.Value)
}

// UnmarshalJSON sets the field: to null for a JSON null, else to the decoded
// value.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = Nullable[T]{Set: true}
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	*n = Nullable[T]{Set: true, Value: v}
	return nil
}

// TagGroup is a named set of tags (department: engineering, finance …)
// defined at a scope. A locked group refuses changes to itself and to its
// tags: it cannot be updated (except to unlock it) or deleted, and its tags
// cannot be created, updated or deleted. Locking protects the vocabulary, not
// its use: bindings of a locked group and assignments of its tags can still
// be created and deleted.
type TagGroup struct {
	ID          string `json:"id"`
	ScopeID     string `json:"scopeId"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// MaxAppliedPerTarget bounds how many tags of the group one target may
	// carry, counting its assignments in every scope (the same tag in two
	// scopes counts twice); nil (JSON null) means unlimited.
	MaxAppliedPerTarget *int      `json:"maxAppliedPerTarget"`
	Origin              TagOrigin `json:"origin"`
	IsLocked            bool      `json:"isLocked"`
	CreatedAt           Time      `json:"createdAt"`
	CreatedBy           string    `json:"createdBy,omitempty"`
}

// TagGroupInput creates a TagGroup with its inline tags. ScopeID, Key
// (^[a-z][a-z0-9_]*$, unique per scope) and Name are required;
// MaxAppliedPerTarget, when set, is at least 1 (nil means unlimited); Origin
// defaults to user. Tags are created with the group, in its scope; they count
// against Options.MaxBatchSize. A group created locked still gets the tags
// of its own batch.
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

// InlineTagInput is a tag created inline with its group. Identifier
// (^[a-z0-9][a-z0-9_-]*$, unique per group) and Label are required.
type InlineTagInput struct {
	ID         string `json:"id,omitempty"`
	Identifier string `json:"identifier"`
	Label      string `json:"label"`
}

// TagGroupPatch changes a TagGroup; unset fields are left unchanged. The key,
// scope and origin of a group cannot change.
//
// MaxAppliedPerTarget is a Nullable: NullableOf(n) sets the limit (n ≥ 1),
// Null[int]() removes it (unlimited); in JSON, null removes it. Lowering the
// limit below the number of tags of the group a target already carries is
// refused (ErrNotAllowed, naming the target).
//
// A locked group accepts only a patch that sets nothing but IsLocked:
// unlock it first, then change it.
type TagGroupPatch struct {
	Name                *string       `json:"name,omitempty"`
	Description         *string       `json:"description,omitempty"`
	MaxAppliedPerTarget Nullable[int] `json:"maxAppliedPerTarget,omitzero"`
	IsLocked            *bool         `json:"isLocked,omitempty"`
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
		what: func() string { return fmt.Sprintf("tag group with key %q in scope %q", g.Key, g.ScopeID) }}}
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
// unique per group) and Label are required. ScopeID defaults to the group's
// scope; when set, it must be a scope where the group is visible: the
// group's scope or a scope below it, down to the next define scope (the
// group's scope is in chain(ScopeID), SPEC §4.1), otherwise ErrNotAllowed.
// The group must not be locked, unless the same batch creates it.
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
		what: func() string { return fmt.Sprintf("tag %q in group %q", t.Identifier, t.TagGroupID) }}}
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

var (
	bindingModelTypes = []ModelType{ModelResource, ModelResourceType, ModelSubject, ModelRole, ModelPermission}
	targetModelTypes  = []ModelType{ModelResource, ModelSubject, ModelRole, ModelPermission}
)

// modelKind returns the kind of the objects of model type t, or nil.
func modelKind(t ModelType) *kindSpec {
	switch t {
	case ModelResource:
		return resourceKind
	case ModelResourceType:
		return resourceTypeKind
	case ModelSubject:
		return subjectKind
	case ModelRole:
		return roleKind
	case ModelPermission:
		return permKind
	}
	return nil
}

// TagBinding allows the tags of a group to be assigned to objects of a model
// type: all of them (ModelID nil) or one (SPEC §2.1). A binding of model type
// resource_type allows them on resources: on every resource (ModelID nil) or
// on the resources of one type.
type TagBinding struct {
	ID         string    `json:"id"`
	TagGroupID string    `json:"tagGroupId"`
	ModelType  ModelType `json:"modelType"`
	ModelID    *string   `json:"modelId"`
}

// TagBindingInput creates a TagBinding. TagGroupID and ModelType are
// required; ModelID, when set, must name an object of that type (a resource,
// a resource type, a subject, a role or a permission). Bindings need not be
// unique: a duplicate is harmless. A binding may be added to a locked group.
type TagBindingInput struct {
	ID         string    `json:"id,omitempty"`
	TagGroupID string    `json:"tagGroupId"`
	ModelType  ModelType `json:"modelType"`
	ModelID    *string   `json:"modelId,omitempty"`
}

// TagBindingFilter selects tag bindings by group or by model id (one of them
// is required), narrowed by the other and by model type.
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
// required; TargetType is resource, subject, role or permission and TargetID
// must name an object of that type. The assignment is unique per (tag,
// target, scope), a binding of the tag's group must cover the target (SPEC
// §2.1) and the group's MaxAppliedPerTarget must not be exceeded.
type TagAssignmentInput struct {
	ID         string    `json:"id,omitempty"`
	TagID      string    `json:"tagId"`
	TargetType ModelType `json:"targetType"`
	TargetID   string    `json:"targetId"`
	ScopeID    string    `json:"scopeId"`
}

// TagAssignmentFilter selects tag assignments; every set field narrows the
// list, and at least one is required. TagGroupID selects the assignments of
// every tag of the group.
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
		what: func() string {
			return fmt.Sprintf("assignment of tag %q to %s %q in scope %q", t.TagID, t.TargetType, t.TargetID, t.ScopeID)
		}}}
}
func (t *TagAssignment) indexes() []indexEntry {
	return []indexEntry{idx(ixTagAssignTag, t.TagID), idx(ixTagAssignTarget, t.TargetID), idx(ixTagAssignScope, t.ScopeID)}
}

// The lock rules hold also when a cascade reaches the object: a locked
// group cannot be deleted, nor can its tags (so a scope holding a locked
// group cannot be deleted either).

// checkTagGroupUnlocked refuses the deletion of a locked tag group.
func checkTagGroupUnlocked(_ *view, r record) error {
	if g := r.(*TagGroup); g.IsLocked {
		return notAllowedf("the tag group is locked: unlock it first (UpdateTagGroup with isLocked false), then delete it")
	}
	return nil
}

// checkTagGroupOfTagUnlocked refuses the deletion of a tag of a locked
// group.
func checkTagGroupOfTagUnlocked(v *view, r record) error {
	t := r.(*Tag)
	if g := get[TagGroup](v, tagGroupKind, t.TagGroupID); g != nil && g.IsLocked {
		return notAllowedf("its tag group %q is locked: unlock the group first (UpdateTagGroup with isLocked false)", g.ID)
	}
	return v.err
}

// checkTagGroupKey validates the syntax of a tag group key.
func checkTagGroupKey(b *builder, it *item, key string) {
	if b.required(it, "key", key) && !keyPattern.MatchString(key) {
		b.fail(it, "key", invalidf("key %q must be a lower-case letter followed by lower-case letters, digits or underscores (^[a-z][a-z0-9_]*$)", key))
	}
}

// checkTagFields validates the identifier and label of a new tag.
func checkTagFields(b *builder, it *item, identifier, label string) {
	if b.required(it, "identifier", identifier) && !identifierPattern.MatchString(identifier) {
		b.fail(it, "identifier", invalidf("identifier %q must be a lower-case letter or digit followed by lower-case letters, digits, underscores or hyphens (^[a-z0-9][a-z0-9_-]*$)", identifier))
	}
	b.required(it, "label", label)
}

func checkMaxApplied(n int) error {
	if n < 1 {
		return invalidf("is %d; it must be at least 1 (leave it null for no limit)", n)
	}
	return nil
}

func buildTagGroup(b *builder, it *item, in *TagGroupInput) {
	g := &TagGroup{ScopeID: in.ScopeID, Key: in.Key, Name: in.Name, Description: in.Description,
		Origin: in.Origin, IsLocked: in.IsLocked, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	if g.Origin == "" {
		g.Origin = OriginUser
	}
	g.ID = b.newID(it, tagGroupKind, in.ID)
	it.rec = g
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	checkTagGroupKey(b, it, in.Key)
	b.required(it, "name", in.Name)
	if in.MaxAppliedPerTarget != nil {
		n := *in.MaxAppliedPerTarget
		g.MaxAppliedPerTarget = &n
		if err := checkMaxApplied(n); err != nil {
			b.fail(it, "maxAppliedPerTarget", err)
		}
	}
	enum(b, it, "origin", in.Origin, true, OriginSystem, OriginUser)
	for i := range in.Tags {
		tin := &in.Tags[i]
		tit := b.child(it, "tags["+strconv.Itoa(i)+"]")
		t := &Tag{ScopeID: g.ScopeID, TagGroupID: g.ID, Identifier: tin.Identifier, Label: tin.Label, CreatedAt: Time{b.now}, CreatedBy: b.actor}
		t.ID = b.newID(tit, tagKind, tin.ID)
		tit.rec = t
		checkTagFields(b, tit, tin.Identifier, tin.Label)
	}
}

func sizeTagGroup(in *TagGroupInput) int { return 1 + len(in.Tags) }

// CreateTagGroups creates tag groups, with their inline tags, in one atomic
// batch. A key is unique per scope and an identifier per group, whether the
// clash is inside the batch or with stored data (ErrAlreadyExists).
func (c *Client) CreateTagGroups(ctx context.Context, in []TagGroupInput) ([]TagGroup, error) {
	return createMany(ctx, c, "create tag groups", &Batch{TagGroups: in}, func(r *BatchResult) []TagGroup { return r.TagGroups })
}

// CreateTagGroup creates one tag group with its inline tags.
func (c *Client) CreateTagGroup(ctx context.Context, in TagGroupInput) (TagGroup, error) {
	return createOne(ctx, "create tag group", in, c.CreateTagGroups)
}

// GetTagGroup returns the tag group id, or an error wrapping ErrNotFound.
func (c *Client) GetTagGroup(ctx context.Context, id string) (TagGroup, error) {
	return getOne[TagGroup](ctx, c, tagGroupKind, id)
}

// ListTagGroups lists the tag groups defined at f.ScopeID (required; groups
// defined above it are not included), in id order.
func (c *Client) ListTagGroups(ctx context.Context, f TagGroupFilter) ([]TagGroup, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list tag groups: scopeId is required")
	}
	return list[TagGroup](ctx, c, tagGroupKind, byIndex(ixTagGroupScope, f.ScopeID), nil, f.Page)
}

// UpdateTagGroup changes the name, description, maxAppliedPerTarget or lock
// of a tag group (see TagGroupPatch). A locked group is refused
// (ErrNotAllowed) any patch but one that sets only IsLocked.
func (c *Client) UpdateTagGroup(ctx context.Context, id string, p TagGroupPatch) (TagGroup, error) {
	return update(ctx, c, tagGroupKind, id, func(v *view, g *TagGroup) error {
		if g.IsLocked && (p.Name != nil || p.Description != nil || p.MaxAppliedPerTarget.Set) {
			return notAllowedf("the tag group is locked: unlock it first with a patch that sets only isLocked to false, then change it")
		}
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			g.Name = *p.Name
		}
		if p.Description != nil {
			g.Description = *p.Description
		}
		if p.MaxAppliedPerTarget.Set {
			if p.MaxAppliedPerTarget.Value == nil {
				g.MaxAppliedPerTarget = nil
			} else {
				n := *p.MaxAppliedPerTarget.Value
				if err := checkMaxApplied(n); err != nil {
					return fmt.Errorf("maxAppliedPerTarget: %w", err)
				}
				if err := checkGroupWithinLimit(v, g.ID, n); err != nil {
					return err
				}
				g.MaxAppliedPerTarget = &n
			}
		}
		if p.IsLocked != nil {
			g.IsLocked = *p.IsLocked
		}
		return nil
	})
}

// checkGroupWithinLimit returns an ErrNotAllowed error when a target
// carries more than limit tags of group groupID (counted across scopes),
// naming the target that carries the most, or nil.
func checkGroupWithinLimit(v *view, groupID string, limit int) error {
	counts := map[string]int{}
	worst, worstKey := 0, ""
	for _, tid := range v.indexed(ixTagGroup, groupID) {
		for _, aid := range v.indexed(ixTagAssignTag, tid) {
			a := get[TagAssignment](v, tagAssignKind, aid)
			if a == nil {
				continue
			}
			key := fmt.Sprintf("%s %q", a.TargetType, a.TargetID)
			counts[key]++
			if counts[key] > worst {
				worst, worstKey = counts[key], key
			}
		}
	}
	if v.err != nil {
		return v.err
	}
	if worst > limit {
		return notAllowedf("maxAppliedPerTarget: %s already carries %d tags of the group (counted across scopes): remove some of them first, or choose a limit of at least %d",
			worstKey, worst, worst)
	}
	return nil
}

// DeleteTagGroup deletes a tag group and, in the same transaction, its tags,
// its bindings and the assignments of its tags. It is refused
// (ErrNotAllowed) while the group is locked.
func (c *Client) DeleteTagGroup(ctx context.Context, id string) error {
	return c.deleteOne(ctx, tagGroupKind, id)
}

func buildTag(b *builder, it *item, in *TagInput) {
	t := &Tag{ScopeID: in.ScopeID, TagGroupID: in.TagGroupID, Identifier: in.Identifier, Label: in.Label, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	t.ID = b.newID(it, tagKind, in.ID)
	it.rec = t
	b.requiredRef(it, "tagGroupId", in.TagGroupID, tagGroupKind)
	b.ref(it, "scopeId", in.ScopeID, scopeKind)
	checkTagFields(b, it, in.Identifier, in.Label)
	it.check = func(v *view) {
		g := get[TagGroup](v, tagGroupKind, t.TagGroupID)
		if g == nil {
			return // reported elsewhere
		}
		if _, sameBatch := v.b.byID[g.ID]; g.IsLocked && !sameBatch {
			v.fail(it, "tagGroupId", notAllowedf("tag group %q is locked: unlock it first (UpdateTagGroup with isLocked false) to add tags to it", g.ID))
			return
		}
		if t.ScopeID == "" {
			// The default scope is known only now: store the tag again so
			// that its scope index entry is right.
			old := *t
			t.ScopeID = g.ScopeID
			if err := putRecord(v.w, t, &old); err != nil {
				v.err = err
			}
			return
		}
		if !v.inChain(t.ScopeID, g.ScopeID) {
			v.fail(it, "scopeId", notAllowedf("tag group %q is defined at scope %q, which is not in the chain of scope %q: put the tag at %q or a scope below it, up to the next define scope (or omit scopeId)",
				g.ID, g.ScopeID, t.ScopeID, g.ScopeID))
		}
	}
}

// CreateTags creates tags in one atomic batch. An identifier is unique per
// group, whether the clash is inside the batch or with a stored tag
// (ErrAlreadyExists). Adding a tag to a stored locked group is refused
// (ErrNotAllowed).
func (c *Client) CreateTags(ctx context.Context, in []TagInput) ([]Tag, error) {
	return createMany(ctx, c, "create tags", &Batch{Tags: in}, func(r *BatchResult) []Tag { return r.Tags })
}

// CreateTag creates one tag.
func (c *Client) CreateTag(ctx context.Context, in TagInput) (Tag, error) {
	return createOne(ctx, "create tag", in, c.CreateTags)
}

// GetTag returns the tag id, or an error wrapping ErrNotFound.
func (c *Client) GetTag(ctx context.Context, id string) (Tag, error) {
	return getOne[Tag](ctx, c, tagKind, id)
}

// ListTags lists the tags of group f.TagGroupID (required), in id order.
func (c *Client) ListTags(ctx context.Context, f TagFilter) ([]Tag, error) {
	if f.TagGroupID == "" {
		return nil, invalidf("list tags: tagGroupId is required")
	}
	return list[Tag](ctx, c, tagKind, byIndex(ixTagGroup, f.TagGroupID), nil, f.Page)
}

// UpdateTag changes the label of a tag; it must not be empty. Its identifier,
// group and scope cannot change. A tag of a locked group is refused
// (ErrNotAllowed).
func (c *Client) UpdateTag(ctx context.Context, id string, p TagPatch) (Tag, error) {
	return update(ctx, c, tagKind, id, func(v *view, t *Tag) error {
		if g := get[TagGroup](v, tagGroupKind, t.TagGroupID); g != nil && g.IsLocked {
			return notAllowedf("its tag group %q is locked: unlock the group first (UpdateTagGroup with isLocked false)", g.ID)
		}
		if p.Label != nil {
			if *p.Label == "" {
				return invalidf("label: must not be empty")
			}
			t.Label = *p.Label
		}
		return nil
	})
}

// DeleteTag deletes a tag and, in the same transaction, its assignments. A
// tag of a locked group is refused (ErrNotAllowed).
func (c *Client) DeleteTag(ctx context.Context, id string) error {
	return c.deleteOne(ctx, tagKind, id)
}

func buildTagBinding(b *builder, it *item, in *TagBindingInput) {
	t := &TagBinding{TagGroupID: in.TagGroupID, ModelType: in.ModelType}
	t.ID = b.newID(it, tagBindingKind, in.ID)
	it.rec = t
	b.requiredRef(it, "tagGroupId", in.TagGroupID, tagGroupKind)
	typeOK := enum(b, it, "modelType", in.ModelType, false, bindingModelTypes...)
	if in.ModelID != nil {
		id := *in.ModelID
		t.ModelID = &id
		switch {
		case id == "":
			b.fail(it, "modelId", invalidf("must not be empty: leave it null to bind every %s", in.ModelType))
		case typeOK:
			b.ref(it, "modelId", id, modelKind(in.ModelType))
		}
	}
}

// CreateTagBindings creates tag bindings in one atomic batch.
func (c *Client) CreateTagBindings(ctx context.Context, in []TagBindingInput) ([]TagBinding, error) {
	return createMany(ctx, c, "create tag bindings", &Batch{TagBindings: in}, func(r *BatchResult) []TagBinding { return r.TagBindings })
}

// CreateTagBinding creates one tag binding.
func (c *Client) CreateTagBinding(ctx context.Context, in TagBindingInput) (TagBinding, error) {
	return createOne(ctx, "create tag binding", in, c.CreateTagBindings)
}

// GetTagBinding returns the tag binding id, or an error wrapping ErrNotFound.
func (c *Client) GetTagBinding(ctx context.Context, id string) (TagBinding, error) {
	return getOne[TagBinding](ctx, c, tagBindingKind, id)
}

// ListTagBindings lists tag bindings in id order. One of f.TagGroupID and
// f.ModelID is required (ErrInvalid); f.ModelID selects the bindings naming
// that object (not those with a null modelId).
func (c *Client) ListTagBindings(ctx context.Context, f TagBindingFilter) ([]TagBinding, error) {
	if f.ModelType != "" {
		if err := checkEnum("list tag bindings: modelType", f.ModelType, bindingModelTypes...); err != nil {
			return nil, err
		}
	}
	keep := func(t *TagBinding) bool {
		return (f.TagGroupID == "" || t.TagGroupID == f.TagGroupID) && (f.ModelType == "" || t.ModelType == f.ModelType) &&
			(f.ModelID == "" || (t.ModelID != nil && *t.ModelID == f.ModelID))
	}
	switch {
	case f.ModelID != "":
		return list(ctx, c, tagBindingKind, byIndex(ixTagBindingModel, f.ModelID), keep, f.Page)
	case f.TagGroupID != "":
		return list(ctx, c, tagBindingKind, byIndex(ixTagBindingGroup, f.TagGroupID), keep, f.Page)
	}
	return nil, invalidf("list tag bindings: tagGroupId or modelId is required")
}

// DeleteTagBinding deletes a tag binding. Assignments it allowed stay: the
// binding rule is checked when an assignment is created.
func (c *Client) DeleteTagBinding(ctx context.Context, id string) error {
	return c.deleteOne(ctx, tagBindingKind, id)
}

func buildTagAssignment(b *builder, it *item, in *TagAssignmentInput) {
	a := &TagAssignment{TagID: in.TagID, TargetType: in.TargetType, TargetID: in.TargetID, ScopeID: in.ScopeID, AppliedBy: b.actor, AppliedAt: Time{b.now}}
	a.ID = b.newID(it, tagAssignKind, in.ID)
	it.rec = a
	b.requiredRef(it, "tagId", in.TagID, tagKind)
	if enum(b, it, "targetType", in.TargetType, false, targetModelTypes...) {
		b.requiredRef(it, "targetId", in.TargetID, modelKind(in.TargetType))
	} else {
		b.required(it, "targetId", in.TargetID)
	}
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	it.check = func(v *view) { checkTagAssignment(v, it, a) }
}

// checkTagAssignment enforces the binding rule (SPEC §2.1) and the group's
// maxAppliedPerTarget on a new assignment.
func checkTagAssignment(v *view, it *item, a *TagAssignment) {
	t := get[Tag](v, tagKind, a.TagID)
	if t == nil {
		return // reported elsewhere
	}
	g := get[TagGroup](v, tagGroupKind, t.TagGroupID)
	if g == nil {
		return
	}
	if !bindingCovers(v, g.ID, a) {
		alt := ""
		if a.TargetType == ModelResource {
			if r := get[Resource](v, resourceKind, a.TargetID); r != nil {
				alt = fmt.Sprintf(", or {tagGroupId: %q, modelType: %q, modelId: %q} to allow the resources of its type", g.ID, ModelResourceType, r.ResourceTypeID)
			}
		}
		v.fail(it, "targetId", notAllowedf("no binding of tag group %q (of tag %q) covers %s %q: create a tag binding {tagGroupId: %q, modelType: %q} (add modelId: %q to allow this %s only)%s",
			g.ID, t.ID, a.TargetType, a.TargetID, g.ID, a.TargetType, a.TargetID, a.TargetType, alt))
		return
	}
	if g.MaxAppliedPerTarget == nil {
		return
	}
	// Count the assignments of the group's tags on the target, in every
	// scope: the stored ones and those of this batch up to this item that
	// passed, so that the first items of a batch within the limit pass and
	// the ones beyond it are reported. The stored ones are counted once per
	// group and target, and the count is kept for the next items.
	key := tagTarget{group: g.ID, targetType: a.TargetType, target: a.TargetID}
	n, counted := v.tagCounts[key]
	if !counted {
		for _, aid := range v.indexed(ixTagAssignTarget, a.TargetID) {
			if _, inBatch := v.b.byID[aid]; inBatch {
				continue
			}
			o := get[TagAssignment](v, tagAssignKind, aid)
			if o == nil || o.TargetType != a.TargetType {
				continue
			}
			if ot := get[Tag](v, tagKind, o.TagID); ot != nil && ot.TagGroupID == g.ID {
				n++
			}
		}
	}
	n++ // this one
	if limit := *g.MaxAppliedPerTarget; n > limit {
		v.fail(it, "tagId", notAllowedf("tag group %q allows at most %d of its tags on one target (maxAppliedPerTarget, counted across scopes), and %s %q would carry %d: remove one of its tags of that group first, or raise the limit",
			g.ID, limit, a.TargetType, a.TargetID, n))
		n--
	}
	if v.tagCounts == nil {
		v.tagCounts = map[tagTarget]int{}
	}
	v.tagCounts[key] = n
}

// tagTarget names the tags of one group on one target.
type tagTarget struct {
	group      string
	targetType ModelType
	target     string
}

// bindingSet holds the bindings of one tag group as (model type, model id)
// pairs; the id is "" for a binding of every object of the type.
type bindingSet map[[2]string]bool

// bindingCovers reports whether a binding of group groupID allows the
// assignment a (SPEC §2.1). The group's bindings are read once per write.
func bindingCovers(v *view, groupID string, a *TagAssignment) bool {
	set, ok := v.bindings[groupID]
	if !ok {
		set = bindingSet{}
		for _, bid := range v.indexed(ixTagBindingGroup, groupID) {
			if bd := get[TagBinding](v, tagBindingKind, bid); bd != nil {
				id := ""
				if bd.ModelID != nil {
					id = *bd.ModelID
				}
				set[[2]string{string(bd.ModelType), id}] = true
			}
		}
		if v.bindings == nil {
			v.bindings = map[string]bindingSet{}
		}
		v.bindings[groupID] = set
	}
	if set[[2]string{string(a.TargetType), ""}] || set[[2]string{string(a.TargetType), a.TargetID}] {
		return true
	}
	if a.TargetType != ModelResource {
		return false
	}
	if set[[2]string{string(ModelResourceType), ""}] {
		return true
	}
	res := get[Resource](v, resourceKind, a.TargetID)
	return res != nil && set[[2]string{string(ModelResourceType), res.ResourceTypeID}]
}

// CreateTagAssignments puts tags on targets in one atomic batch. Each
// assignment is unique per (tag, targetType, targetId, scopeId)
// (ErrAlreadyExists); a binding of the tag's group must cover the target and
// the group's maxAppliedPerTarget must hold (ErrNotAllowed). The limit counts
// the tags of the group on the target in every scope, stored ones and those
// of the batch; the items beyond it are reported. AppliedBy is the actor of
// the context (WithActor, else "system").
func (c *Client) CreateTagAssignments(ctx context.Context, in []TagAssignmentInput) ([]TagAssignment, error) {
	return createMany(ctx, c, "create tag assignments", &Batch{TagAssignments: in}, func(r *BatchResult) []TagAssignment { return r.TagAssignments })
}

// CreateTagAssignment creates one tag assignment.
func (c *Client) CreateTagAssignment(ctx context.Context, in TagAssignmentInput) (TagAssignment, error) {
	return createOne(ctx, "create tag assignment", in, c.CreateTagAssignments)
}

// GetTagAssignment returns the tag assignment id, or an error wrapping
// ErrNotFound.
func (c *Client) GetTagAssignment(ctx context.Context, id string) (TagAssignment, error) {
	return getOne[TagAssignment](ctx, c, tagAssignKind, id)
}

// ListTagAssignments lists tag assignments in id order. At least one field
// of f is required (ErrInvalid); every set field narrows the list.
func (c *Client) ListTagAssignments(ctx context.Context, f TagAssignmentFilter) ([]TagAssignment, error) {
	if f.TargetType != "" {
		if err := checkEnum("list tag assignments: targetType", f.TargetType, targetModelTypes...); err != nil {
			return nil, err
		}
	}
	// With f.TagGroupID: the tags of the group and, when no more selective
	// field is set, their assignments.
	var groupTags map[string]bool
	var groupAssignments []string
	if f.TagGroupID != "" {
		err := c.store.View(ctx, func(tx storage.Tx) error {
			groupTags = map[string]bool{}
			return scanIndex(tx, ixTagGroup, []string{f.TagGroupID}, func(tid string) error {
				groupTags[tid] = true
				if f.TargetID != "" || f.TagID != "" {
					return nil
				}
				return scanIndex(tx, ixTagAssignTag, []string{tid}, func(aid string) error {
					groupAssignments = append(groupAssignments, aid)
					return nil
				})
			})
		})
		if err != nil {
			return nil, err
		}
	}
	keep := func(a *TagAssignment) bool {
		return (f.TagID == "" || a.TagID == f.TagID) && (f.TargetType == "" || a.TargetType == f.TargetType) &&
			(f.TargetID == "" || a.TargetID == f.TargetID) && (f.ScopeID == "" || a.ScopeID == f.ScopeID) &&
			(groupTags == nil || groupTags[a.TagID])
	}
	switch {
	case f.TargetID != "":
		return list(ctx, c, tagAssignKind, byIndex(ixTagAssignTarget, f.TargetID), keep, f.Page)
	case f.TagID != "":
		return list(ctx, c, tagAssignKind, byIndex(ixTagAssignTag, f.TagID), keep, f.Page)
	case f.TagGroupID != "":
		return listIDs(ctx, c, tagAssignKind, groupAssignments, keep, f.Page)
	case f.ScopeID != "":
		return list(ctx, c, tagAssignKind, byIndex(ixTagAssignScope, f.ScopeID), keep, f.Page)
	case f.TargetType != "":
		return list(ctx, c, tagAssignKind, listPlan{}, keep, f.Page)
	}
	return nil, invalidf("list tag assignments: set at least one of tagId, targetType, targetId, scopeId and tagGroupId")
}

// DeleteTagAssignment deletes a tag assignment.
func (c *Client) DeleteTagAssignment(ctx context.Context, id string) error {
	return c.deleteOne(ctx, tagAssignKind, id)
}
