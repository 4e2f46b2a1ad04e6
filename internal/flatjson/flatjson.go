// Package flatjson decodes a stored record quickly: one JSON object of
// known keys. A plain string value (no escapes, printable ASCII) of a field
// of a string kind is assigned directly; any other value is decoded into
// its field alone by encoding/json (json.Unmarshal of the value's bytes),
// which is what encoding/json does for that field when it decodes the whole
// object. Decode decodes exactly as encoding/json would, or not at all: for
// a key that names no field exactly (encoding/json also matches keys
// case-insensitively), a value encoding/json refuses, malformed text or
// trailing data, it reports false and the caller decodes with
// encoding/json. A graph build decodes every record of the store, so this
// is most of the cost of opening a large store.
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
	typ    reflect.Type
	// plain says a plain string value may be assigned directly: the field
	// is of a string kind and decodes itself neither from JSON nor from
	// text.
	plain bool
}

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// For returns the plan of T. When *T is a json.Unmarshaler the plan
// decodes nothing. For panics when T is not a struct.
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
		pt := reflect.PointerTo(f.Type)
		p.fields[name] = field{offset: f.Offset, typ: f.Type,
			plain: f.Type.Kind() == reflect.String && !pt.Implements(unmarshaler) && !pt.Implements(textUnmarshaler)}
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
		ptr := unsafe.Add(base, f.offset)
		if s, next, ok := plainString(data, i); ok && f.plain {
			*(*string)(ptr) = s
			i = next
		} else {
			next := skipValue(data, i)
			if next < 0 || json.Unmarshal(data[i:next], reflect.NewAt(f.typ, ptr).Interface()) != nil {
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

// skipValue returns the index after the JSON value starting at data[i], or
// -1 when it does not end. It checks only what it needs to find the end:
// encoding/json checks the value.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		c := data[i]
		switch c {
		case '"':
			i++
			for i < len(data) && data[i] != '"' {
				if data[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(data) {
				return -1
			}
			i++ // the closing quote
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i // a scalar ended at the end of its object
			}
			depth--
			i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
			i++
		default:
			i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return i
		}
	}
	if depth == 0 {
		return i
	}
	return -1
}
