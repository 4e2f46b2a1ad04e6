package authz

import "encoding/json"

// matchDef is a collection's matchDefinition decoded and validated once
// (SPEC §4.4).
type matchDef struct {
	raw json.RawMessage
}

// parseMatchDefinition validates raw and decodes it. Errors wrap ErrInvalid
// and name the offending section and rule.
//
// TODO(issue 5): being written; validates nothing yet.
func parseMatchDefinition(raw json.RawMessage) (*matchDef, error) {
	return &matchDef{raw: raw}, nil
}
