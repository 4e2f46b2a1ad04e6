package authz

import (
	"context"
	"fmt"
	"regexp"
)

// identifierPattern is the syntax of tag identifiers.
var identifierPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

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
// group's scope is in chain(ScopeID), docs/model.md#chains-and-tenants), otherwise ErrNotAllowed.
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

// checkTagGroupOfTagUnlocked refuses the deletion of a tag of a locked
// group.
func checkTagGroupOfTagUnlocked(v *view, r record) error {
	t := r.(*Tag)
	if g := get[TagGroup](v, tagGroupKind, t.TagGroupID); g != nil && g.IsLocked {
		return notAllowedf("its tag group %q is locked: unlock the group first (UpdateTagGroup with isLocked false)", g.ID)
	}
	return v.err
}

// checkTagFields validates the identifier and label of a new tag.
func checkTagFields(b *builder, it *item, identifier, label string) {
	if b.required(it, "identifier", identifier) && !identifierPattern.MatchString(identifier) {
		b.fail(it, "identifier", invalidf("identifier %q must be a lower-case letter or digit followed by lower-case letters, digits, underscores or hyphens (^[a-z0-9][a-z0-9_-]*$)", identifier))
	}
	b.required(it, "label", label)
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
