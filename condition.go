package authz

import (
	"encoding/json"

	"github.com/scopegate/authz/internal/logic"
)

// Conditions are parsed, validated and evaluated by internal/logic; what
// stays here is how the Client reports an invalid one.

// MaxConditionCost and logic.MaxCost are one limit: this does not compile
// when they differ.
const _ = uint(MaxConditionCost-logic.MaxCost) + uint(logic.MaxCost-MaxConditionCost)

// parseCondition is logic.Parse with its errors wrapping ErrInvalid, their
// message unchanged ("unknown operator "regex" at and[1]"). An empty raw
// (or JSON null) means "no condition" and returns nil, nil.
func parseCondition(raw json.RawMessage) (*logic.Cond, error) {
	c, err := logic.Parse(raw)
	if err != nil {
		return nil, invalidf("%s", err)
	}
	return c, nil
}
