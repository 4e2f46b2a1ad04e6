package authz

import (
	"fmt"
	"slices"
	"strconv"
)

func notFoundErr(what, id string) error {
	return &ruleError{msg: fmt.Sprintf("%s %q: not found", what, id), kind: ErrNotFound}
}

func (g *graph) subjectFor(ref SubjectRef, field string) (*gSubject, error) {
	s := g.subjectByID(ref.SubjectID)
	if s == nil {
		return nil, notFoundErr("evaluate: "+field+": subject", ref.SubjectID)
	}
	if ref.SubjectType != "" && ref.SubjectType != s.s.SubjectType {
		return nil, invalidf("evaluate: %s: subject %q is a %s, not a %s", field, ref.SubjectID, s.s.SubjectType, ref.SubjectType)
	}
	return s, nil
}

// resourceOf returns the resource of h when it is usable: its type exists.
func (g *graph) resourceOf(h handle) (*gResource, *gResType) {
	r := g.resource(h)
	if r == nil {
		return nil, nil
	}
	t := nodeAt[gResType](g, r.typ)
	if t == nil {
		return nil, nil
	}
	return r, t
}

// resolveResource finds the named resource, or sets up a type-level request.
//
// A resource type named by the request (ResourceRef.ResourceType) is
// resolved as the request scope S sees it, never globally: it is a type key
// when a resource type with that key is visible from S (defined at a scope
// of chain(S)), else a type id when that type is visible from S. So nothing
// of another tenant, neither its type ids nor its keys nor its external
// ids, can change the answer of a request made in S.
func (e *evaluation) resolveResource() error {
	ref := e.in.Resource
	switch {
	case ref == nil:
		return invalidf("evaluate: resource: is required (a resourceId, an externalResourceId with its resourceType, or a resourceType)")
	case ref.ResourceID != "":
		if ref.ExternalResourceID != "" || ref.ResourcePattern != "" {
			return invalidf("evaluate: resource: give either resourceId, or externalResourceId with resourceType, or resourceType with an optional resourcePattern")
		}
		r, t := e.g.resourceOf(e.g.lookup(ref.ResourceID))
		if r == nil {
			return notFoundErr("evaluate: resource", ref.ResourceID)
		}
		if ref.ResourceType != "" && ref.ResourceType != t.rt.Key && ref.ResourceType != t.rt.ID {
			return invalidf("evaluate: resource: resource %q is of type %q, not %q", ref.ResourceID, t.rt.Key, ref.ResourceType)
		}
		e.res = r
		return nil
	case ref.ExternalResourceID != "":
		if ref.ResourceType == "" {
			return invalidf("evaluate: resource.resourceType: is required with externalResourceId")
		}
		if ref.ResourcePattern != "" {
			return invalidf("evaluate: resource.resourcePattern: only type-level requests take a pattern")
		}
		return e.resolveExternal(ref.ExternalResourceID, ref.ResourceType)
	case ref.ResourceType != "":
		// A name that no visible type has stays a key: only permissions
		// of chain(S), which name keys, can match it.
		e.typeKey, e.pattern = ref.ResourceType, ref.ResourcePattern
		if types, byKey := e.visibleTypes(ref.ResourceType, nil); len(types) > 0 && !byKey {
			e.typeKey = types[0].rt.Key
		}
		return nil
	}
	return invalidf("evaluate: resource: is empty; give a resourceId, an externalResourceId with its resourceType, or a resourceType")
}

// visibleTypes appends to buf the resource types that name designates for
// a request in the evaluation's scope S: the types visible from S (defined
// at a scope of chain(S)) whose key is name, or, when there is none, the
// type visible from S whose id is name. byKey says which.
func (e *evaluation) visibleTypes(name string, buf []*gResType) (types []*gResType, byKey bool) {
	g := e.g
	list, _ := g.typesByKey.Get(name)
	for _, th := range list {
		if t := nodeAt[gResType](g, th); t != nil && slices.Contains(e.chain, g.lookup(t.rt.ScopeID)) {
			buf = append(buf, t)
		}
	}
	if len(buf) > 0 {
		return buf, true
	}
	if t := nodeAt[gResType](g, g.lookup(name)); t != nil && slices.Contains(e.chain, g.lookup(t.rt.ScopeID)) {
		return append(buf, t), false
	}
	return buf, false
}

// byExternalID returns the resource of type typeID with external id ext.
func (g *graph) byExternalID(typeID, ext string) *gResource {
	h, ok := g.resByExt.Get(extKey(typeID, ext))
	if !ok {
		return nil
	}
	r, _ := g.resourceOf(h)
	return r
}

// resolveExternal finds a resource by external id and a type key or id,
// resolved among the types visible from the request scope (see
// resolveResource). Several visible types may share a key (keys are unique
// per scope, and chain(S) holds several scopes): the resource reachable
// from the request scope is chosen, and more than one is ambiguous.
func (e *evaluation) resolveExternal(ext, typ string) error {
	var tbuf [4]*gResType
	types, _ := e.visibleTypes(typ, tbuf[:0])
	if len(types) == 0 {
		return notFoundErr("evaluate: resource type "+strconv.Quote(typ)+" visible from scope", e.scope.s.ID)
	}
	var fbuf [4]*gResource
	found := fbuf[:0]
	for _, t := range types {
		if r := e.g.byExternalID(t.rt.ID, ext); r != nil {
			found = append(found, r)
		}
	}
	if len(found) > 1 {
		reachable := found[len(found):]
		for _, r := range found {
			if len(e.lines(r, nil)) > 0 {
				reachable = append(reachable, r)
			}
		}
		if len(reachable) > 0 {
			found = reachable
		}
	}
	switch len(found) {
	case 0:
		return notFoundErr("evaluate: resource of type "+typ+" with external id", ext)
	case 1:
		e.res = found[0]
		return nil
	}
	return invalidf("evaluate: resource: external id %q of type key %q names %d resources reachable from scope %q; name it by resourceId or by resource type id", ext, typ, len(found), e.scope.s.ID)
}
