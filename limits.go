package authz

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Size limits of stored objects. Ids are limited by MaxIDLength, conditions
// and match definitions by their own node and depth limits. Writes that
// break a limit fail with ErrInvalid, naming the field, and store nothing.
const (
	// MaxTextLength is the longest string field (names, descriptions,
	// display names, external ids, keys, labels, patterns), in bytes.
	MaxTextLength = 4096
	// MaxListLength is the most elements of a list field (a policy's
	// actions, a membership's role ids).
	MaxListLength = 1000
	// MaxMetaBytes is the largest meta or metadata object, JSON-encoded.
	MaxMetaBytes = 64 << 10
	// MaxMetaDepth is the deepest nesting of objects and arrays in meta.
	MaxMetaDepth = 16
	// MaxRawJSONBytes is the largest condition or match definition, as
	// written.
	MaxRawJSONBytes = 256 << 10
	// MaxConditionCost is the most operations a condition may cost whatever
	// the data it is evaluated on: its static cost, in which every
	// operator counts one plus one per argument, a var one per path
	// segment, in over a literal array one per element, and some, all and
	// none over a literal array their predicate's cost once per element,
	// so that nested quantifiers multiply (the units are those of an
	// evaluation's operation budget).
	// A condition above it is refused with ErrInvalid, naming the
	// quantifier that costs most; stored conditions above it never hold.
	MaxConditionCost = 10000
)

// checkLimits checks every field of the record r (a pointer to a struct of
// this package) against the limits above. It returns the JSON name of the
// first field that breaks one, with the error.
func checkLimits(r any) (string, error) {
	v := reflect.ValueOf(r).Elem()
	for _, f := range limitFields(v.Type()) {
		fv := v.Field(f.index)
		switch fv.Kind() {
		case reflect.String:
			if n := fv.Len(); n > MaxTextLength {
				return f.name, invalidf("is %d bytes long; at most %d are allowed", n, MaxTextLength)
			}
		case reflect.Slice:
			if f.raw {
				if n := fv.Len(); n > MaxRawJSONBytes {
					return f.name, invalidf("is %d bytes long; at most %d are allowed", n, MaxRawJSONBytes)
				}
				continue
			}
			if n := fv.Len(); n > MaxListLength {
				return f.name, invalidf("has %d elements; at most %d are allowed", n, MaxListLength)
			}
			if fv.Type().Elem().Kind() == reflect.String {
				for i := range fv.Len() {
					if n := fv.Index(i).Len(); n > MaxTextLength {
						return fmt.Sprintf("%s[%d]", f.name, i), invalidf("is %d bytes long; at most %d are allowed", n, MaxTextLength)
					}
				}
			}
		case reflect.Map:
			if fv.IsNil() {
				continue
			}
			if err := checkMeta(fv.Interface()); err != nil {
				return f.name, err
			}
		}
	}
	return "", nil
}

// checkMeta checks the size and depth of a meta object.
func checkMeta(m any) error {
	if d := jsonDepth(m, 0); d > MaxMetaDepth {
		return invalidf("nests %d levels deep; at most %d are allowed", d, MaxMetaDepth)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return invalidf("is not valid JSON: %v", err)
	}
	if len(b) > MaxMetaBytes {
		return invalidf("is %d bytes as JSON; at most %d are allowed", len(b), MaxMetaBytes)
	}
	return nil
}

// jsonDepth returns the nesting depth of v, stopping early past the limit.
func jsonDepth(v any, d int) int {
	if d > MaxMetaDepth {
		return d
	}
	max := d
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			max = deeper(max, jsonDepth(e, d+1))
		}
		return deeper(max, d+1)
	case []any:
		for _, e := range x {
			max = deeper(max, jsonDepth(e, d+1))
		}
		return deeper(max, d+1)
	}
	return max
}

func deeper(a, b int) int {
	if b > a {
		return b
	}
	return a
}

// limitField is a field checkLimits looks at.
type limitField struct {
	index int
	name  string // JSON name
	raw   bool   // json.RawMessage
}

var limitFieldsCache sync.Map // reflect.Type → []limitField

// limitFields lists the string, slice and map fields of struct type t, with
// their JSON names.
func limitFields(t reflect.Type) []limitField {
	if fs, ok := limitFieldsCache.Load(t); ok {
		return fs.([]limitField)
	}
	var fs []limitField
	rawType := reflect.TypeFor[json.RawMessage]()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = sf.Name
		}
		switch sf.Type.Kind() {
		case reflect.String, reflect.Map:
			fs = append(fs, limitField{index: i, name: name})
		case reflect.Slice:
			fs = append(fs, limitField{index: i, name: name, raw: sf.Type == rawType})
		}
	}
	limitFieldsCache.Store(t, fs)
	return fs
}
