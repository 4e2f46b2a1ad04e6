package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Effect is the effect of a resource policy.
type Effect string

// Policy effects.
const (
	EffectAllow Effect = "allow"
	EffectDeny  Effect = "deny"
)

// TargetKind says what a resource policy targets.
type TargetKind string

// Policy target kinds.
const (
	TargetResource   TargetKind = "resource"
	TargetCollection TargetKind = "collection"
)

// PolicyTarget is the target of a resource policy: one resource or one
// collection.
type PolicyTarget struct {
	Kind         TargetKind `json:"kind"`
	ResourceID   string     `json:"resourceId,omitempty"`
	CollectionID string     `json:"collectionId,omitempty"`
}

// ResourcePolicy allows or denies actions on a resource or a collection,
// before roles are considered (docs/decisions.md#step-1-resource-policies).
type ResourcePolicy struct {
	ID          string       `json:"id"`
	ScopeID     string       `json:"scopeId"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Target      PolicyTarget `json:"target"`
	// Actions lists the actions the policy applies to; "*" means all.
	Actions []string `json:"actions"`
	Effect  Effect   `json:"effect"`
	// Priority orders policies: higher first; at equal priority deny comes
	// before allow.
	Priority         int             `json:"priority,omitempty"`
	SubjectCondition json.RawMessage `json:"subjectCondition,omitempty"`
	ContextCondition json.RawMessage `json:"contextCondition,omitempty"`
	CreatedAt        Time            `json:"createdAt"`
	CreatedBy        string          `json:"createdBy,omitempty"`
}

// ResourcePolicyInput creates a ResourcePolicy. ScopeID, Name, Target,
// Actions (non-empty) and Effect are required. The target must be visible at
// the policy's scope.
type ResourcePolicyInput struct {
	ID               string          `json:"id,omitempty"`
	ScopeID          string          `json:"scopeId"`
	Name             string          `json:"name"`
	Description      string          `json:"description,omitempty"`
	Target           PolicyTarget    `json:"target"`
	Actions          []string        `json:"actions"`
	Effect           Effect          `json:"effect"`
	Priority         int             `json:"priority,omitempty"`
	SubjectCondition json.RawMessage `json:"subjectCondition,omitempty"`
	ContextCondition json.RawMessage `json:"contextCondition,omitempty"`
}

// ResourcePolicyPatch changes a ResourcePolicy; nil fields are left
// unchanged. The target never changes. An empty condition removes it.
type ResourcePolicyPatch struct {
	Name             *string          `json:"name,omitempty"`
	Description      *string          `json:"description,omitempty"`
	Actions          *[]string        `json:"actions,omitempty"`
	Effect           *Effect          `json:"effect,omitempty"`
	Priority         *int             `json:"priority,omitempty"`
	SubjectCondition *json.RawMessage `json:"subjectCondition,omitempty"`
	ContextCondition *json.RawMessage `json:"contextCondition,omitempty"`
}

// ResourcePolicyFilter selects policies by the scope they are defined at,
// their target resource, their target collection and effect; one of
// ScopeID, ResourceID and CollectionID is required. Without ScopeID, the
// policies targeting the resource (or collection) are listed whatever
// scope defines them.
type ResourcePolicyFilter struct {
	ScopeID      string `json:"scopeId,omitempty"`
	ResourceID   string `json:"resourceId,omitempty"`
	CollectionID string `json:"collectionId,omitempty"`
	Effect       Effect `json:"effect,omitempty"`
	Page
}

func (p *ResourcePolicy) kind() *kindSpec        { return policyKind }
func (p *ResourcePolicy) recordID() string       { return p.ID }
func (p *ResourcePolicy) uniques() []uniqueEntry { return nil }
func (p *ResourcePolicy) indexes() []indexEntry {
	ix := []indexEntry{idx(ixPolicyScope, p.ScopeID)}
	switch {
	case p.Target.ResourceID != "":
		ix = append(ix, idx(ixPolicyResource, p.Target.ResourceID))
	case p.Target.CollectionID != "":
		ix = append(ix, idx(ixPolicyCollection, p.Target.CollectionID))
	}
	return ix
}

var (
	effects     = []Effect{EffectAllow, EffectDeny}
	targetKinds = []TargetKind{TargetResource, TargetCollection}
)

// checkActions validates the actions of a policy; field is the offending
// element ("actions[1]") or "actions".
func checkActions(actions []string) (field string, err error) {
	if len(actions) == 0 {
		return "actions", invalidf(`must list at least one action ("*" means all)`)
	}
	for i, a := range actions {
		if a == "" {
			return "actions[" + strconv.Itoa(i) + "]", invalidf(`must not be empty (use "*" for all actions)`)
		}
	}
	return "", nil
}

func buildResourcePolicy(b *builder, it *item, in *ResourcePolicyInput) {
	p := &ResourcePolicy{ScopeID: in.ScopeID, Name: in.Name, Description: in.Description, Target: PolicyTarget{Kind: in.Target.Kind},
		Actions: slices.Clone(in.Actions), Effect: in.Effect, Priority: in.Priority, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	p.ID = b.newID(it, policyKind, in.ID)
	it.rec = p
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.required(it, "name", in.Name)
	switch in.Target.Kind {
	case TargetResource:
		p.Target.ResourceID = in.Target.ResourceID
		b.requiredRef(it, "target.resourceId", in.Target.ResourceID, resourceKind)
		if in.Target.CollectionID != "" {
			b.fail(it, "target.collectionId", invalidf("must be empty for a resource target; a policy targets one resource or one collection"))
		}
	case TargetCollection:
		p.Target.CollectionID = in.Target.CollectionID
		b.requiredRef(it, "target.collectionId", in.Target.CollectionID, collKind)
		if in.Target.ResourceID != "" {
			b.fail(it, "target.resourceId", invalidf("must be empty for a collection target; a policy targets one resource or one collection"))
		}
	default:
		enum(b, it, "target.kind", in.Target.Kind, false, targetKinds...)
	}
	if field, err := checkActions(in.Actions); err != nil {
		b.fail(it, field, err)
	}
	enum(b, it, "effect", in.Effect, false, effects...)
	p.SubjectCondition = buildCondition(b, it, "subjectCondition", in.SubjectCondition)
	p.ContextCondition = buildCondition(b, it, "contextCondition", in.ContextCondition)
	it.check = func(v *view) {
		switch p.Target.Kind {
		case TargetResource:
			checkPolicyResource(v, it, p)
		case TargetCollection:
			col := get[Collection](v, collKind, p.Target.CollectionID)
			if col != nil && !v.inChain(p.ScopeID, col.ScopeID) {
				v.fail(it, "target.collectionId", notAllowedf("collection %q is defined at scope %q, which is not in the chain of the policy's scope %q: define the policy at scope %q or below it (down to the next define scope), or use a collection defined in the chain of %q",
					col.ID, col.ScopeID, p.ScopeID, col.ScopeID, p.ScopeID))
			}
		}
	}
}

// checkPolicyResource enforces that a policy's target resource has a home
// (its owning scope or a scope it is linked to) in the subtree of the
// policy's scope.
func checkPolicyResource(v *view, it *item, p *ResourcePolicy) {
	r := get[Resource](v, resourceKind, p.Target.ResourceID)
	if r == nil {
		return
	}
	homes := []string{r.ScopeID}
	for _, lid := range v.indexed(ixLinkResource, r.ID) {
		if l := get[ResourceScopeLink](v, linkKind, lid); l != nil {
			homes = append(homes, l.ScopeID)
		}
	}
	for _, h := range homes {
		if v.isAncestor(p.ScopeID, h) {
			if err := policyTenancy(v, p, r); err != nil {
				v.fail(it, "target.resourceId", err)
			}
			return
		}
	}
	where := fmt.Sprintf("lives in scope %q, which is not", r.ScopeID)
	if len(homes) > 1 {
		where = fmt.Sprintf("lives in scopes %s (its owner and its links), none of which is", strings.Join(quoteAll(homes), ", "))
	}
	v.fail(it, "target.resourceId", notAllowedf("resource %q %s scope %q or below it, so the policy's scope cannot see it: define the policy where the resource lives or above it, or link the resource into scope %q or below it first",
		r.ID, where, p.ScopeID, p.ScopeID))
}

// policyTenancy enforces who may attach a direct policy to resource r: the
// owner's side, that is a scope in ancestors(O) (O being r's owning scope,
// platform scopes above the owner's tenant included), or a scope inside the
// owner's tenant (at or below the nearest define scope at or above O). A
// tenant a resource is shared with cannot attach a policy to it: its
// policies would otherwise decide for the owner's resource. (Policies of
// the borrower's collections may still match a shared resource; they are
// considered only when no policy of the owner applies.)
func policyTenancy(v *view, p *ResourcePolicy, r *Resource) error {
	if v.isAncestor(p.ScopeID, r.ScopeID) {
		return nil
	}
	lo := v.level(r.ScopeID)
	if lo == nil {
		return nil // the owner is gone: the resource is checked elsewhere
	}
	tenant := lo.Define
	if tenant == "" {
		tenant = lo.Root
	}
	if v.isAncestor(tenant, p.ScopeID) {
		return nil
	}
	return notAllowedf("resource %q belongs to scope %q (tenant scope %q); a policy defined at scope %q, outside that tenant and not above it, cannot target it: only the owner's side decides its policies (use a collection of your own, or ask the owner)",
		r.ID, r.ScopeID, tenant, p.ScopeID)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// CreateResourcePolicies creates resource policies in one atomic batch.
// Target.Kind decides which of ResourceID and CollectionID is required; the
// other must be empty (ErrInvalid). Actions must be non-empty, with no empty
// action. The target must be visible at the policy's scope (ErrNotAllowed):
// a resource needs a home — its owning scope or a scope it is linked to —
// at the policy's scope or below it, and the policy's scope must be on the
// owner's side: above the resource's owning scope, or inside its tenant
// (at or below the nearest define scope above the owner), so that a tenant
// a resource is shared with cannot attach policies to it. A collection must
// be defined in the chain of the policy's scope. Conditions are validated
// as described in the package documentation.
func (c *Client) CreateResourcePolicies(ctx context.Context, in []ResourcePolicyInput) ([]ResourcePolicy, error) {
	return createMany(ctx, c, "create resource policies", &Batch{ResourcePolicies: in}, func(r *BatchResult) []ResourcePolicy { return r.ResourcePolicies })
}

// CreateResourcePolicy creates one resource policy.
func (c *Client) CreateResourcePolicy(ctx context.Context, in ResourcePolicyInput) (ResourcePolicy, error) {
	return createOne(ctx, "create resource policy", in, c.CreateResourcePolicies)
}

// GetResourcePolicy returns the resource policy id, or an error wrapping
// ErrNotFound.
func (c *Client) GetResourcePolicy(ctx context.Context, id string) (ResourcePolicy, error) {
	return getOne[ResourcePolicy](ctx, c, policyKind, id)
}

// ListResourcePolicies lists the resource policies defined at a scope, in
// id order, narrowed by target resource, target collection and effect.
// ScopeID is required, and an unknown Effect is ErrInvalid.
func (c *Client) ListResourcePolicies(ctx context.Context, f ResourcePolicyFilter) ([]ResourcePolicy, error) {
	if f.ScopeID == "" && f.ResourceID == "" && f.CollectionID == "" {
		return nil, invalidf("list resource policies: scopeId, resourceId or collectionId is required")
	}
	if f.Effect != "" {
		if err := checkEnum("list resource policies: effect", f.Effect, effects...); err != nil {
			return nil, err
		}
	}
	keep := func(p *ResourcePolicy) bool {
		return (f.ScopeID == "" || p.ScopeID == f.ScopeID) && (f.ResourceID == "" || p.Target.ResourceID == f.ResourceID) &&
			(f.CollectionID == "" || p.Target.CollectionID == f.CollectionID) && (f.Effect == "" || p.Effect == f.Effect)
	}
	plan := byIndex(ixPolicyScope, f.ScopeID)
	switch {
	case f.ResourceID != "":
		plan = byIndex(ixPolicyResource, f.ResourceID)
	case f.CollectionID != "":
		plan = byIndex(ixPolicyCollection, f.CollectionID)
	}
	return list(ctx, c, policyKind, plan, keep, f.Page)
}

// UpdateResourcePolicy changes the name, description, actions, effect,
// priority or conditions of a resource policy; its target never changes. A
// direct policy whose scope is not on its resource's owner's side (see
// CreateResourcePolicies; such a policy can only have been stored by an
// earlier version) cannot be updated: ErrNotAllowed; delete it instead.
// The name must not be empty, actions follow the rules of
// CreateResourcePolicies, and a condition pointing to an empty or null
// value removes that condition.
func (c *Client) UpdateResourcePolicy(ctx context.Context, id string, p ResourcePolicyPatch) (ResourcePolicy, error) {
	return update(ctx, c, policyKind, id, func(v *view, rp *ResourcePolicy) error {
		if rp.Target.Kind == TargetResource {
			// A policy stored before the tenancy rule existed is not
			// changed until it follows it.
			if r := get[Resource](v, resourceKind, rp.Target.ResourceID); r != nil {
				if err := policyTenancy(v, rp, r); err != nil {
					return fmt.Errorf("target.resourceId: %w", err)
				}
			}
		}
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			rp.Name = *p.Name
		}
		if p.Description != nil {
			rp.Description = *p.Description
		}
		if p.Actions != nil {
			if field, err := checkActions(*p.Actions); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			rp.Actions = slices.Clone(*p.Actions)
		}
		if p.Effect != nil {
			if err := checkEnum("effect", *p.Effect, effects...); err != nil {
				return err
			}
			rp.Effect = *p.Effect
		}
		if p.Priority != nil {
			rp.Priority = *p.Priority
		}
		if p.SubjectCondition != nil {
			cond, err := patchCondition("subjectCondition", *p.SubjectCondition)
			if err != nil {
				return err
			}
			rp.SubjectCondition = cond
		}
		if p.ContextCondition != nil {
			cond, err := patchCondition("contextCondition", *p.ContextCondition)
			if err != nil {
				return err
			}
			rp.ContextCondition = cond
		}
		return nil
	})
}

// DeleteResourcePolicy deletes a resource policy.
func (c *Client) DeleteResourcePolicy(ctx context.Context, id string) error {
	return c.deleteOne(ctx, policyKind, id)
}
