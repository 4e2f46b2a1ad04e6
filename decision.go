package authz

// SubjectRef names the subject of an evaluation. SubjectType is optional;
// when set it must be the subject's type.
type SubjectRef struct {
	SubjectID   string      `json:"subjectId"`
	SubjectType SubjectType `json:"subjectType,omitempty"`
}

// ResourceRef names the resource of an evaluation in one of three ways: by
// ResourceID; by ExternalResourceID and ResourceType; or, for a type-level
// question ("may X read documents here?"), by ResourceType alone, optionally
// with a ResourcePattern.
//
// ResourceType is resolved as the request scope sees it: it is the key of
// the resource types visible from the request scope (defined at the scope
// or above it, up to and including the nearest define scope), or else the
// id of such a type. A type of another tenant is never found by its id or
// its key. A type-level request naming no visible type is answered as a key
// no permission of the request scope can match unless it names it.
type ResourceRef struct {
	ResourceID         string `json:"resourceId,omitempty"`
	ExternalResourceID string `json:"externalResourceId,omitempty"`
	ResourceType       string `json:"resourceType,omitempty"`
	ResourcePattern    string `json:"resourcePattern,omitempty"`
}

// EvaluateInput is one authorization question: may Actor (acting on behalf
// of OnBehalfOf, when set) do Action on Resource, asked in scope ScopeID?
type EvaluateInput struct {
	Actor      SubjectRef   `json:"actor"`
	OnBehalfOf *SubjectRef  `json:"onBehalfOf,omitempty"`
	ScopeID    string       `json:"scopeId"`
	Action     string       `json:"action"`
	Resource   *ResourceRef `json:"resource,omitempty"`
	// Context is visible to conditions as "context". Values are converted
	// to JSON shapes (numbers become float64).
	Context map[string]any `json:"context,omitempty"`
	// IncludeResourceTags, when false, leaves resource.tags out of the
	// condition data. Nil means true.
	IncludeResourceTags *bool `json:"includeResourceTags,omitempty"`
	// Explain fills Decision.Trace with every step considered.
	Explain bool `json:"explain,omitempty"`
	// Consistency says how fresh the model the request is answered from
	// must be; nil answers from the newest revision the Client knows.
	Consistency *Consistency `json:"consistency,omitempty"`
}

// DecidedBy says which step of the algorithm decided.
type DecidedBy string

// The steps of a decision (docs/decisions.md#the-order-of-the-steps).
const (
	DecidedByPolicy    DecidedBy = "policy"
	DecidedByHierarchy DecidedBy = "hierarchy"
	DecidedByRole      DecidedBy = "role"
	DecidedByDefault   DecidedBy = "default"
)

// Match is a permission that granted the request, with every role through
// which it was granted. Permission is the whole permission (its label,
// description and condition included); the fields before it repeat its
// identifying fields, as earlier versions answered them.
type Match struct {
	PermissionID    string `json:"permissionId"`
	Key             string `json:"key"`
	Action          string `json:"action"`
	ResourceType    string `json:"resourceType"`
	ResourcePattern string `json:"resourcePattern"`
	ScopeID         string `json:"scopeId"`
	// Permission is a copy made when the model was loaded, so an allowed
	// decision costs no allocation for it; its Logic is shared, read only.
	Permission    Permission `json:"permission"`
	SourceRoleIDs []string   `json:"sourceRoleIds"`
}

// Decision is the answer to an EvaluateInput. A denial is a Decision with
// Allowed false, not an error.
type Decision struct {
	Allowed   bool      `json:"allowed"`
	DecidedBy DecidedBy `json:"decidedBy"`
	// PolicyID is the deciding policy when DecidedBy is policy.
	PolicyID string `json:"policyId,omitempty"`
	// Matches lists the granting permissions when DecidedBy is role. The
	// slice may be shared with other decisions: treat it as read only.
	Matches []Match `json:"matches,omitempty"`
	// InheritedFrom is the parent resource that allowed, when DecidedBy is
	// hierarchy.
	InheritedFrom string `json:"inheritedFrom,omitempty"`
	// Explanation is one sentence saying why.
	Explanation         string      `json:"explanation"`
	UsedDelegation      bool        `json:"usedDelegation"`
	EvaluatedActor      SubjectRef  `json:"evaluatedActor"`
	EvaluatedOnBehalfOf *SubjectRef `json:"evaluatedOnBehalfOf,omitempty"`
	// Delegation holds both sub-decisions when OnBehalfOf was given.
	Delegation *Delegation `json:"delegation,omitempty"`
	// Trace lists every step considered, when EvaluateInput.Explain is set.
	Trace []string `json:"trace,omitempty"`
}

// Delegation holds the decisions for the actor and for the principal it
// acts for; a delegated request is allowed only when both are.
type Delegation struct {
	Actor      Decision `json:"actor"`
	OnBehalfOf Decision `json:"onBehalfOf"`
}

func denied(in *EvaluateInput, why string) Decision {
	d := Decision{DecidedBy: DecidedByDefault, Explanation: "Denied: " + why + ".", EvaluatedActor: in.Actor}
	if in.OnBehalfOf != nil {
		p := *in.OnBehalfOf
		d.EvaluatedOnBehalfOf = &p
		d.UsedDelegation = true
	}
	return d
}
