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
	"slices"
	"strconv"
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
	// anyMap says the field is a map[string]any, decoded by decodeObject
	// when its value is simple enough.
	anyMap bool
}

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// For returns the plan of T. When *T is a json.Unmarshaler, or a field
// has the ",string" option, or two fields have one name (encoding/json
// then decodes neither, or the one its rules prefer), the plan decodes
// nothing. For panics when T is not a struct.
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
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := p.fields[name]; dup || slices.Contains(strings.Split(opts, ","), "string") {
			p.fields = nil // every key is unknown
			return p
		}
		pt := reflect.PointerTo(f.Type)
		p.fields[name] = field{offset: f.Offset, typ: f.Type,
			plain:  f.Type.Kind() == reflect.String && !pt.Implements(unmarshaler) && !pt.Implements(textUnmarshaler),
			anyMap: f.Type == reflect.TypeFor[map[string]any]()}
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
		} else if next, ok := decodeObject(data, i, (*map[string]any)(ptr), f.anyMap); ok {
			i = next
		} else {
			next := skipValue(data, i)
			if next < 0 || json.Unmarshal(data[i:next], reflect.NewAt(f.typ, ptr).Interface()) != nil {
				return false
			}
			i = next
		}
		var more bool
		if i, more, ok = nextElement(data, i, '}'); !ok {
			return false
		} else if !more {
			return skipSpace(data, i) == len(data)
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

// maxSkipDepth bounds the nesting of a value that skipValue takes on.
// encoding/json refuses a document nested more than 10000 deep; decoding a
// field's value alone would allow it one level more than the record does,
// so a deeply nested value is left to encoding/json, which decodes the
// whole record.
const maxSkipDepth = 1000

// skipValue returns the index after the JSON value starting at data[i], or
// -1 when it does not end or is nested more than maxSkipDepth deep. It
// checks only what it needs to find the end: encoding/json checks the value.
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
			if depth > maxSkipDepth {
				return -1
			}
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

// maxDepth bounds the nesting decodeObject takes on; deeper values go to
// encoding/json.
const maxDepth = 8

// decodeObject decodes the object at data[i] into *m, when on is set and
// the object holds only plain strings, numbers, true, false, null, arrays
// and objects of them, as encoding/json decodes it into a map[string]any
// (numbers as float64, a nil *m made, a non-nil one added to), and returns
// the index after it. It decodes nothing and reports false otherwise.
func decodeObject(data []byte, i int, m *map[string]any, on bool) (int, bool) {
	if !on || i >= len(data) || data[i] != '{' {
		return 0, false
	}
	v, next, ok := decodeAny(data, i, 0)
	if !ok {
		return 0, false
	}
	if *m == nil {
		*m = v.(map[string]any)
	} else {
		for k, x := range v.(map[string]any) {
			(*m)[k] = x
		}
	}
	return next, true
}

// decodeAny decodes the value at data[i] as encoding/json does into an
// any, when it is simple enough (see decodeObject).
func decodeAny(data []byte, i, depth int) (any, int, bool) {
	if i >= len(data) || depth > maxDepth {
		return nil, 0, false
	}
	switch c := data[i]; {
	case c == '"':
		return plainString(data, i)
	case c == '{':
		m := map[string]any{}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return m, i + 1, true
		}
		for {
			k, next, ok := plainString(data, i)
			if !ok {
				return nil, 0, false
			}
			i = skipSpace(data, next)
			if i >= len(data) || data[i] != ':' {
				return nil, 0, false
			}
			v, next, ok := decodeAny(data, skipSpace(data, i+1), depth+1)
			if !ok {
				return nil, 0, false
			}
			m[k] = v
			var more bool
			if i, more, ok = nextElement(data, next, '}'); !ok {
				return nil, 0, false
			} else if !more {
				return m, i, true
			}
		}
	case c == '[':
		a := []any{}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return a, i + 1, true
		}
		for {
			v, next, ok := decodeAny(data, i, depth+1)
			if !ok {
				return nil, 0, false
			}
			a = append(a, v)
			var more bool
			if i, more, ok = nextElement(data, next, ']'); !ok {
				return nil, 0, false
			} else if !more {
				return a, i, true
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		end := numberEnd(data, i)
		if end < 0 {
			return nil, 0, false
		}
		f, err := strconv.ParseFloat(string(data[i:end]), 64)
		if err != nil {
			return nil, 0, false
		}
		return f, end, true
	}
	for _, lit := range [...]struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(data)-i >= len(lit.text) && string(data[i:i+len(lit.text)]) == lit.text {
			return lit.v, i + len(lit.text), true
		}
	}
	return nil, 0, false
}

// nextElement reads what follows an element of an object or an array, from
// data[i]: a comma, and more reports that an element follows at next; or
// the closing byte end, and next is after it.
func nextElement(data []byte, i int, end byte) (next int, more, ok bool) {
	i = skipSpace(data, i)
	switch {
	case i >= len(data):
		return 0, false, false
	case data[i] == ',':
		return skipSpace(data, i+1), true, true
	case data[i] == end:
		return i + 1, false, true
	}
	return 0, false, false
}

// numberEnd returns the index after the JSON number at data[i], or -1 when
// it is not one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(data []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		return j
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}
