package authz

import (
	"bytes"
	"encoding/json"
)

// Nullable is a patch field for a value that may be set to null: the zero
// value leaves the field unchanged, NullableOf(v) sets it to v and Null()
// clears it (sets it to null).
//
// In JSON, an absent field is the zero value (with the omitzero option it is
// also left out of the output), null is Null() and any other value is
// NullableOf(value):
//
//	{}                           unchanged
//	{"maxAppliedPerTarget": null} cleared
//	{"maxAppliedPerTarget": 3}    set to 3
type Nullable[T any] struct {
	// Set says whether the field changes. When it is false, Value is
	// ignored.
	Set bool
	// Value is the new value; nil sets the field to null.
	Value *T
}

// NullableOf returns a Nullable that sets the field to v.
func NullableOf[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: &v} }

// Null returns a Nullable that sets the field to null.
func Null[T any]() Nullable[T] { return Nullable[T]{Set: true} }

// IsZero reports whether n leaves the field unchanged; it makes the JSON
// option omitzero leave such a field out.
func (n Nullable[T]) IsZero() bool { return !n.Set }

// MarshalJSON encodes the value, or null when the field is cleared (or left
// unchanged: use omitzero to leave it out instead).
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.Set || n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*n.Value)
}

// UnmarshalJSON sets the field: to null for a JSON null, else to the decoded
// value.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = Nullable[T]{Set: true}
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	*n = Nullable[T]{Set: true, Value: v}
	return nil
}
