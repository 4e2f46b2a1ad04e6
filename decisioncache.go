package authz

// decisionCache remembers the decisions made on one graph. A graph is one
// revision of the store and never changes, so a remembered decision is
// exactly the one Evaluate would make again: the cache can never answer
// with a stale decision. Each new revision starts with an empty cache.
//
// Only requests whose decision depends on nothing but the graph and the
// request are remembered: no context, no explanation, no delegation (whose
// Decision holds pointers a caller could change), and no evaluation that
// read the clock (collections with time sections).
type decisionCache = memo[decisionKey, Decision]

// decisionKey is a cacheable request.
type decisionKey struct {
	actor, actorType, scope, action string
	resID, extID, resType, pattern  string
	noResourceTags, noResource      bool
}

// DefaultDecisionCacheSize is the default of Options.DecisionCacheSize.
const DefaultDecisionCacheSize = 1 << 16

func newDecisionCache(limit int) *decisionCache {
	if limit <= 0 {
		return nil
	}
	return newMemo[decisionKey, Decision](limit)
}

// cacheKey returns the key of in, or false when in is not cacheable.
func cacheKey(in *EvaluateInput) (decisionKey, bool) {
	if in.Context != nil || in.Explain || in.OnBehalfOf != nil {
		return decisionKey{}, false
	}
	k := decisionKey{actor: in.Actor.SubjectID, actorType: string(in.Actor.SubjectType), scope: in.ScopeID, action: in.Action,
		noResourceTags: in.IncludeResourceTags != nil && !*in.IncludeResourceTags, noResource: in.Resource == nil}
	if r := in.Resource; r != nil {
		k.resID, k.extID, k.resType, k.pattern = r.ResourceID, r.ExternalResourceID, r.ResourceType, r.ResourcePattern
	}
	return k, true
}
