package authz

import "context"

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
// type: all of them (ModelID nil) or one (docs/model.md#tags-tag-groups-and-bindings). A binding of model type
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

// bindingSet holds the bindings of one tag group as (model type, model id)
// pairs; the id is "" for a binding of every object of the type.
type bindingSet map[[2]string]bool

// bindingCovers reports whether a binding of group groupID allows the
// assignment a (docs/model.md#tags-tag-groups-and-bindings). The group's bindings are read once per write.
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
