package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/scopegate/authz/internal/match"
	"github.com/scopegate/authz/storage"
)

// Collection is a named, rule-defined set of resources of one type, the
// target of resource policies. MatchDefinition is described in docs/collections.md.
type Collection struct {
	ID              string          `json:"id"`
	ScopeID         string          `json:"scopeId"`
	ResourceTypeID  string          `json:"resourceTypeId"`
	Name            string          `json:"name"`
	Description     string          `json:"description,omitempty"`
	MatchDefinition json.RawMessage `json:"matchDefinition"`
	CreatedAt       Time            `json:"createdAt"`
	CreatedBy       string          `json:"createdBy,omitempty"`
}

// CollectionInput creates a Collection. ScopeID, ResourceTypeID, Name and
// MatchDefinition (a JSON object; {} matches every resource of the type) are
// required; the definition is validated when written.
type CollectionInput struct {
	ID              string          `json:"id,omitempty"`
	ScopeID         string          `json:"scopeId"`
	ResourceTypeID  string          `json:"resourceTypeId"`
	Name            string          `json:"name"`
	Description     string          `json:"description,omitempty"`
	MatchDefinition json.RawMessage `json:"matchDefinition"`
}

// CollectionPatch changes a Collection; nil fields are left unchanged.
// MatchDefinition replaces the whole definition.
type CollectionPatch struct {
	Name            *string          `json:"name,omitempty"`
	Description     *string          `json:"description,omitempty"`
	MatchDefinition *json.RawMessage `json:"matchDefinition,omitempty"`
}

// CollectionFilter selects the collections defined at a scope (required),
// narrowed by resource type.
type CollectionFilter struct {
	ScopeID        string `json:"scopeId,omitempty"`
	ResourceTypeID string `json:"resourceTypeId,omitempty"`
	Page
}

func (c *Collection) kind() *kindSpec        { return collKind }
func (c *Collection) recordID() string       { return c.ID }
func (c *Collection) uniques() []uniqueEntry { return nil }
func (c *Collection) indexes() []indexEntry {
	return []indexEntry{idx(ixCollScope, c.ScopeID), idx(ixCollType, c.ResourceTypeID)}
}

func buildCollection(b *builder, it *item, in *CollectionInput) {
	c := &Collection{ScopeID: in.ScopeID, ResourceTypeID: in.ResourceTypeID, Name: in.Name, Description: in.Description,
		MatchDefinition: bytes.Clone(in.MatchDefinition), CreatedAt: Time{b.now}, CreatedBy: b.actor}
	c.ID = b.newID(it, collKind, in.ID)
	it.rec = c
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.requiredRef(it, "resourceTypeId", in.ResourceTypeID, resourceTypeKind)
	b.required(it, "name", in.Name)
	check := checkMatchDefinition
	if b.restoring {
		check = checkMatchSyntax // see buildCondition
	}
	if err := check(in.MatchDefinition); err != nil {
		b.fail(it, "matchDefinition", err)
	}
}

// checkMatchDefinition validates a collection's matchDefinition (docs/collections.md).
func checkMatchDefinition(raw json.RawMessage) error {
	if err := checkMatchSyntax(raw); err != nil {
		return err
	}
	return checkMatchConditionPaths(raw)
}

// checkMatchSyntax is checkMatchDefinition without the refusal of
// condition paths that read nothing.
func checkMatchSyntax(raw json.RawMessage) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return invalidf("is required: use {} to match every resource of the collection's type")
	}
	if _, err := match.Parse(raw); err != nil {
		return invalidf("%s", err)
	}
	return nil
}

// CreateCollections creates collections in one atomic batch. Each
// matchDefinition is validated (docs/collections.md; ErrInvalid naming the rule at
// fault). The resource type may be defined at any scope: a collection
// matches resources of its type wherever they live, including resources of
// another scope linked into the subtree where its policies apply.
func (c *Client) CreateCollections(ctx context.Context, in []CollectionInput) ([]Collection, error) {
	return createMany(ctx, c, "create collections", &Batch{Collections: in}, func(r *BatchResult) []Collection { return r.Collections })
}

// CreateCollection creates one collection.
func (c *Client) CreateCollection(ctx context.Context, in CollectionInput) (Collection, error) {
	return createOne(ctx, "create collection", in, c.CreateCollections)
}

// GetCollection returns the collection id, or an error wrapping ErrNotFound.
func (c *Client) GetCollection(ctx context.Context, id string) (Collection, error) {
	return getOne[Collection](ctx, c, collKind, id)
}

// ListCollections lists the collections defined at a scope, in id order,
// narrowed by resource type. ScopeID is required (ErrInvalid).
func (c *Client) ListCollections(ctx context.Context, f CollectionFilter) ([]Collection, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list collections: scopeId is required")
	}
	keep := func(col *Collection) bool {
		return col.ScopeID == f.ScopeID && (f.ResourceTypeID == "" || col.ResourceTypeID == f.ResourceTypeID)
	}
	return list(ctx, c, collKind, byIndex(ixCollScope, f.ScopeID), keep, f.Page)
}

// UpdateCollection changes the name, description or matchDefinition of a
// collection. MatchDefinition replaces the whole definition and is
// validated (ErrInvalid); the name must not be empty.
func (c *Client) UpdateCollection(ctx context.Context, id string, p CollectionPatch) (Collection, error) {
	return update(ctx, c, collKind, id, func(_ *view, col *Collection) error {
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			col.Name = *p.Name
		}
		if p.Description != nil {
			col.Description = *p.Description
		}
		if p.MatchDefinition != nil {
			if err := checkMatchDefinition(*p.MatchDefinition); err != nil {
				return fmt.Errorf("matchDefinition: %w", err)
			}
			col.MatchDefinition = bytes.Clone(*p.MatchDefinition)
		}
		return nil
	})
}

// DeleteCollection deletes a collection and, in the same transaction, the
// resource policies that target it.
func (c *Client) DeleteCollection(ctx context.Context, id string) error {
	return c.deleteOne(ctx, collKind, id)
}

// MatchesCollection reports whether resource resourceID is in collection
// collectionID: the resource is of the collection's type and its
// matchDefinition holds (docs/collections.md). Outside a request, tags are those
// assigned in the chain of the resource's owning scope, and a condition
// section sees no subject and an empty context. The match's work is
// bounded by Options.MaxEvaluationCost as in a request: a definition that
// runs out of it does not match (failing closed, as Evaluate does), and a
// done ctx returns ctx's error.
func (c *Client) MatchesCollection(ctx context.Context, collectionID, resourceID string) (bool, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return false, err
	}
	coll := nodeAt[gColl](g, g.lookup(collectionID))
	if coll == nil {
		return false, notFound(collKind.name, collectionID)
	}
	r, _ := g.resourceOf(g.lookup(resourceID))
	if r == nil {
		return false, notFound(resourceKind.name, resourceID)
	}
	return c.inCollection(ctx, g, coll, r)
}

// ListCollectionResources lists the resources in a collection, in id order,
// paged. Each resource is matched as by MatchesCollection, with its own
// operation budget; a done ctx stops the listing with ctx's error.
func (c *Client) ListCollectionResources(ctx context.Context, collectionID string, p Page) ([]Resource, error) {
	if p.Limit < 0 {
		return nil, invalidf("list collection resources: limit is %d; it must not be negative", p.Limit)
	}
	out := []Resource{}
	err := c.viewGraph(ctx, func(tx storage.Tx, g *graph) error {
		coll := nodeAt[gColl](g, g.lookup(collectionID))
		if coll == nil {
			return notFound(collKind.name, collectionID)
		}
		return scanIndex(tx, ixResourceType, []string{coll.c.ResourceTypeID}, func(id string) error {
			if id <= p.After {
				return nil
			}
			r, _ := g.resourceOf(g.lookup(id))
			if r == nil {
				return nil
			}
			if in, err := c.inCollection(ctx, g, coll, r); err != nil || !in {
				return err
			}
			out = append(out, *r.r)
			if p.Limit > 0 && len(out) >= p.Limit {
				return errStopScan
			}
			return nil
		})
	})
	if err == errStopScan {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inCollection matches r against coll outside a request, failing closed
// when the match runs out of its budget; the error is ctx's.
func (c *Client) inCollection(ctx context.Context, g *graph, coll *gColl, r *gResource) (bool, error) {
	if r.r.ResourceTypeID != coll.c.ResourceTypeID || g.scope(r.owner) == nil {
		return false, nil
	}
	e := &evaluation{ctx: ctx, c: c, g: g, in: &EvaluateInput{}, scope: g.scope(r.owner), resTags: true}
	s := &subjectEval{evaluation: e, x: &gSubject{s: &Subject{}}}
	s.budget.Reset(ctx, c.maxEvalCost)
	l := line{home: r.owner, e: r.owner}
	ok, err := coll.def.Eval(s.matchInput(r, l), e.nowTime(), &s.budget)
	if cerr := ctx.Err(); cerr != nil {
		return false, cerr
	}
	return ok && err == nil, nil
}
