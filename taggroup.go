package authz

import (
	"context"
	"fmt"
	"strconv"
)

// TagOrigin says who manages a tag group.
type TagOrigin string

// Tag group origins.
const (
	OriginSystem TagOrigin = "system"
	OriginUser   TagOrigin = "user"
)

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

// checkTagGroupKey validates the syntax of a tag group key.
func checkTagGroupKey(b *builder, it *item, key string) {
	if b.required(it, "key", key) && !keyPattern.MatchString(key) {
		b.fail(it, "key", invalidf("key %q must be a lower-case letter followed by lower-case letters, digits or underscores (^[a-z][a-z0-9_]*$)", key))
	}
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
