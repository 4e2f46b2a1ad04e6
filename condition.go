package authz

import (
	"bytes"
	"encoding/json"
	"fmt"

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

// buildCondition validates the JSON Logic condition raw of field (docs/conditions.md)
// and returns what to store: nil when raw is empty or JSON null.
func buildCondition(b *builder, it *item, field string, raw json.RawMessage) json.RawMessage {
	c, err := parseCondition(raw)
	if err != nil {
		b.fail(it, field, err)
		return raw
	}
	if c == nil {
		return nil
	}
	return bytes.Clone(raw)
}

// patchCondition validates a condition given to an Update method and
// returns what to store: nil (no condition) when raw is empty or JSON null.
func patchCondition(field string, raw json.RawMessage) (json.RawMessage, error) {
	c, err := parseCondition(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if c == nil {
		return nil, nil
	}
	return bytes.Clone(raw), nil
}
