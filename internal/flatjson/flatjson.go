// Package flatjson decodes the common shape of a stored record quickly: one
// JSON object whose values are plain strings (no escapes, printable ASCII)
// for string fields, or values handed to a field's json.Unmarshaler. It
// decodes exactly as encoding/json would, or not at all: for anything else
// (an unknown or differently cased key, a value of another kind, an
// escape, a byte outside printable ASCII, trailing data) Decode reports
// false and the caller decodes with encoding/json. A graph build decodes
// every record of the store, so this is most of the cost of opening a
// large store.
package flatjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"unsafe"
)

// Plan decodes objects into a T, a struct.
type Plan[T any] struct {
	fields map[string]field
}

type field struct {
	offset uintptr
	// typ is set for a field decoded by its json.Unmarshaler; otherwise
	// the field is of a string kind.
	typ reflect.Type
}

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// For returns the plan of T. A field that is neither of a string kind nor
// has a json.Unmarshaler (on its pointer) is left to encoding/json: an
// object holding its key is not decoded by the plan; nor is any object when
// *T is a json.Unmarshaler itself. For panics when T is not a struct.
func For[T any]() *Plan[T] {
	t := reflect.TypeFor[T]()
	p := &Plan[T]{fields: map[string]field{}}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		p.fields = nil // every key is unknown
		return p
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		switch pt := reflect.PointerTo(f.Type); {
		case pt.Implements(unmarshaler):
			p.fields[name] = field{offset: f.Offset, typ: f.Type}
		case pt.Implements(textUnmarshaler):
			// encoding/json decodes a string through UnmarshalText.
		case f.Type.Kind() == reflect.String:
			p.fields[name] = field{offset: f.Offset}
		}
	}
	return p
}

// Decode decodes data into *v, which must be the zero T, and reports
// whether it did. When it reports false, *v may have been partly written:
// reset it before decoding otherwise.
func (p *Plan[T]) Decode(data []byte, v *T) bool {
	base := unsafe.Pointer(v)
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		key, next, ok := plainString(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		f, known := p.fields[key]
		if !known {
			return false
		}
		if f.typ == nil {
			s, next, ok := plainString(data, i)
			if !ok {
				return false
			}
			*(*string)(unsafe.Add(base, f.offset)) = s
			i = next
		} else {
			// Only a string value, as the types this serves encode
			// themselves (Time): anything else goes to encoding/json.
			_, next, ok := plainString(data, i)
			if !ok {
				return false
			}
			u := reflect.NewAt(f.typ, unsafe.Add(base, f.offset)).Interface().(json.Unmarshaler)
			if u.UnmarshalJSON(data[i:next]) != nil {
				return false
			}
			i = next
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// plainString returns the string starting at data[i] when it is quoted,
// holds only printable ASCII and no escape, and the index after it.
func plainString(data []byte, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return string(data[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", 0, false
		}
	}
	return "", 0, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
