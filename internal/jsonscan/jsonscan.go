// Package jsonscan checks JSON text for what encoding/json accepts
// silently: text that is not valid UTF-8, keys that appear twice in one
// object (the last would win), and keys that name a Go struct's field only
// case-insensitively. Import and model files use it to refuse ambiguous
// input.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Check returns an error when data is not valid UTF-8 or an object in it
// holds a key twice, and the keys of the top-level object, in order (nil
// when data is not an object). data must be one JSON value.
func Check(data []byte) ([]string, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		keys     map[string]bool
		object   bool
		expectKy bool
	}
	var (
		stack []frame
		top   []string
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return top, nil
		}
		if err != nil {
			return nil, err
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			f := &stack[n-1]
			if f.expectKy {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:n-1]
					continue
				}
				key := tok.(string)
				if f.keys[key] {
					return nil, fmt.Errorf("key %q appears twice in one object", key)
				}
				f.keys[key] = true
				if n == 1 {
					top = append(top, key)
				}
				f.expectKy = false
				continue
			}
			f.expectKy = true // the value follows; the next token is a key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, object: true, expectKy: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

var fieldsCache sync.Map // reflect.Type → map[string]bool

// FieldNames returns the JSON names of the fields of struct type t
// (those of embedded structs included), as encoding/json matches them.
func FieldNames(t reflect.Type) map[string]bool {
	if m, ok := fieldsCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for k := range FieldNames(f.Type) {
				m[k] = true
			}
		case !f.IsExported() || name == "-":
		case name == "":
			m[f.Name] = true
		default:
			m[name] = true
		}
	}
	fieldsCache.Store(t, m)
	return m
}

// UnknownKey returns the first of keys that is not a field of t nor one of
// extra, and whether there is one. encoding/json would match a key that
// differs from a field only in case; this does not.
func UnknownKey(keys []string, t reflect.Type, extra ...string) (string, bool) {
	known := FieldNames(t)
	for _, k := range keys {
		if !known[k] && !contains(extra, k) {
			return k, true
		}
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
