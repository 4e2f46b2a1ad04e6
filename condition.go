package authz

import "encoding/json"

// condition is a JSON Logic condition decoded and validated once, when it is
// written or loaded (SPEC §4.3).
type condition struct {
	raw json.RawMessage
}

// parseCondition validates raw and decodes it. An empty raw (or JSON null)
// means "no condition" and returns nil, nil. Errors wrap ErrInvalid and name
// the operator at fault.
//
// TODO(issue 5): being written; validates nothing yet.
func parseCondition(raw json.RawMessage) (*condition, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	return &condition{raw: raw}, nil
}
