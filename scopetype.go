package authz

import "context"

// PermissionMode says whether scopes of a type inherit from the scopes above
// them.
type PermissionMode string

// Permission modes. PermissionModeMerge is accepted on input as an alias of
// PermissionModeInherit and stored as inherit.
const (
	PermissionModeInherit PermissionMode = "inherit"
	PermissionModeDefine  PermissionMode = "define"
	PermissionModeMerge   PermissionMode = "merge"
)

// ScopeTypeConfig is the configuration of a scope type.
type ScopeTypeConfig struct {
	// PermissionMode is inherit (the default) or define. A scope whose type
	// is define inherits nothing from above it: it ends every chain
	// (docs/model.md#chains-and-tenants), which is what isolates tenants.
	PermissionMode PermissionMode `json:"permissionMode"`
}

// ScopeType is a kind of scope: organization, team, project.
type ScopeType struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Config      ScopeTypeConfig `json:"config"`
}

// ScopeTypeInput creates a ScopeType. Name is required; an empty
// Config.PermissionMode means inherit.
type ScopeTypeInput struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Config      ScopeTypeConfig `json:"config"`
}

// ScopeTypePatch changes a ScopeType; nil fields are left unchanged.
type ScopeTypePatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// ScopeTypeFilter selects scope types: all of them, paged.
type ScopeTypeFilter struct {
	Page
}

func (s *ScopeType) kind() *kindSpec        { return scopeTypeKind }
func (s *ScopeType) recordID() string       { return s.ID }
func (s *ScopeType) indexes() []indexEntry  { return nil }
func (s *ScopeType) uniques() []uniqueEntry { return nil }

func buildScopeType(b *builder, it *item, in *ScopeTypeInput) {
	st := &ScopeType{Name: in.Name, Description: in.Description, Config: in.Config}
	st.ID = b.newID(it, scopeTypeKind, in.ID)
	it.rec = st
	b.required(it, "name", in.Name)
	switch st.Config.PermissionMode {
	case "", PermissionModeMerge:
		st.Config.PermissionMode = PermissionModeInherit
	default:
		enum(b, it, "config.permissionMode", st.Config.PermissionMode, false, PermissionModeInherit, PermissionModeDefine, PermissionModeMerge)
	}
}

// CreateScopeTypes creates scope types in one atomic batch.
func (c *Client) CreateScopeTypes(ctx context.Context, in []ScopeTypeInput) ([]ScopeType, error) {
	return createMany(ctx, c, "create scope types", &Batch{ScopeTypes: in}, func(r *BatchResult) []ScopeType { return r.ScopeTypes })
}

// CreateScopeType creates one scope type.
func (c *Client) CreateScopeType(ctx context.Context, in ScopeTypeInput) (ScopeType, error) {
	return createOne(ctx, "create scope type", in, c.CreateScopeTypes)
}

// GetScopeType returns the scope type id, or an error wrapping ErrNotFound.
func (c *Client) GetScopeType(ctx context.Context, id string) (ScopeType, error) {
	return getOne[ScopeType](ctx, c, scopeTypeKind, id)
}

// ListScopeTypes lists scope types in id order.
func (c *Client) ListScopeTypes(ctx context.Context, f ScopeTypeFilter) ([]ScopeType, error) {
	return list[ScopeType](ctx, c, scopeTypeKind, listPlan{}, nil, f.Page)
}

// UpdateScopeType changes the name or description of a scope type.
func (c *Client) UpdateScopeType(ctx context.Context, id string, p ScopeTypePatch) (ScopeType, error) {
	return update(ctx, c, scopeTypeKind, id, func(_ *view, st *ScopeType) error {
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			st.Name = *p.Name
		}
		if p.Description != nil {
			st.Description = *p.Description
		}
		return nil
	})
}

// DeleteScopeType deletes a scope type and its scope type edges. It is
// refused (ErrNotAllowed) while scopes of the type exist.
func (c *Client) DeleteScopeType(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeTypeKind, id)
}
