package authz

import (
	"fmt"
	"time"
)

// Time is a timestamp that marshals to JSON as RFC 3339 in UTC with second
// precision ("2024-01-15T10:30:00Z"), the form of the original API.
type Time struct{ time.Time }

// MarshalJSON formats t as an RFC 3339 UTC string.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(time.RFC3339) + `"`), nil
}

// UnmarshalJSON parses an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("authz: time %s: want an RFC 3339 string", b)
	}
	v, err := time.Parse(time.RFC3339, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("authz: time: %w", err)
	}
	t.Time = v.UTC()
	return nil
}
