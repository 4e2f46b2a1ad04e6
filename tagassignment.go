package authz

import (
	"context"
	"fmt"

	"github.com/scopegate/authz/storage"
)

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
// target, scope), a binding of the tag's group must cover the target
// (docs/model.md#tags-tag-groups-and-bindings) and the group's MaxAppliedPerTarget must not be exceeded.
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

// checkTagAssignment enforces the binding rule (docs/model.md#tags-tag-groups-and-bindings) and the group's
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
