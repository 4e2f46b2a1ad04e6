package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/scopegate/authz"
)

// maxBodyDepth is the deepest nesting of objects and arrays accepted in a
// request body. The library refuses conditions nested deeper than 64 levels
// and meta deeper than 16, so 128 leaves room for the body around them.
const maxBodyDepth = 128

// bodyError is a request body refused by checkJSON: Path names the value
// (the JSON path, as formatPath writes it), Status and Code are the HTTP
// status and the error code of the answer.
type bodyError struct {
	Path   []pathElem
	Status int
	Code   string
	Msg    string
}

func (e *bodyError) Error() string { return formatPath(e.Path) + ": " + e.Msg }

// pathElem is one step of a JSON path: an object key or an array index.
type pathElem struct {
	key   string
	index int
	isKey bool
}

// formatPath writes a JSON path as the error messages give it:
// [2].memberships[0].roleIds. A key that is not a plain name (letters,
// digits, '_', '-', '$') is written quoted in brackets, with Go escapes for
// bytes that are not UTF-8: meta["a b"], meta["\xff"]. The empty path (the
// whole body) is "body".
func formatPath(p []pathElem) string {
	if len(p) == 0 {
		return "body"
	}
	var b strings.Builder
	for i, e := range p {
		switch {
		case !e.isKey:
			fmt.Fprintf(&b, "[%d]", e.index)
		case plainKey(e.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(e.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '$') {
			return false
		}
	}
	return true
}

// checkJSON checks body, which json.Valid accepts, before it is decoded
// into a value of type t. encoding/json alone would accept what this
// refuses, each with a 400 naming the value by its JSON path:
//
//   - a key given twice in one object, at any depth (encoding/json keeps the
//     last); keys are compared after unescaping, so "id" and "\u0069d" are
//     the same key;
//   - a string or key that is not valid UTF-8: a byte sequence that is not
//     UTF-8, or a \u escape of a lone surrogate (encoding/json turns both
//     into U+FFFD, so different ids would become the same);
//   - a key of an object decoded into a struct that is not exactly the JSON
//     name of one of its fields (encoding/json matches names without regard
//     to case, and its DisallowUnknownFields too), checked through nested
//     structs, slices and maps;
//   - nesting deeper than maxBodyDepth;
//   - an array where an object is wanted, or an object where an array is
//     (encoding/json refuses them too, without naming where).
//
// Values decoded into maps, interfaces and json.RawMessage (meta, metadata,
// context, conditions, match definitions) may hold any keys, but still no
// key twice and only valid UTF-8.
//
// maxTop bounds the size, in bytes as written, of top-level fields of an
// object body (the evaluate context): a larger one is refused with 413
// too_large.
//
// checkJSON depends on nothing of this server but encoding/json's rules, so
// it can move to the library as is (for instance to check model files).
func checkJSON(body []byte, t reflect.Type, maxTop map[string]int) *bodyError {
	c := checker{b: body, maxTop: maxTop}
	if err := c.value(shapeOf(t), 0); err != nil {
		return err
	}
	return nil
}

type checker struct {
	b      []byte
	i      int
	path   []pathElem
	maxTop map[string]int
}

func (c *checker) fail(status int, code, format string, args ...any) *bodyError {
	return &bodyError{Path: append([]pathElem(nil), c.path...), Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) invalid(format string, args ...any) *bodyError {
	return c.fail(400, "invalid_argument", format, args...)
}

func (c *checker) space() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// value checks the value at c.i, which s describes, and moves past it.
func (c *checker) value(s *shape, depth int) *bodyError {
	c.space()
	if c.i >= len(c.b) {
		return c.invalid("unexpected end of JSON input")
	}
	switch c.b[c.i] {
	case '{':
		if depth >= maxBodyDepth {
			return c.invalid("nests deeper than %d levels", maxBodyDepth)
		}
		if s.kind == shapeList {
			return c.invalid("is an object; want an array")
		}
		return c.object(s, depth)
	case '[':
		if depth >= maxBodyDepth {
			return c.invalid("nests deeper than %d levels", maxBodyDepth)
		}
		if s.kind == shapeStruct || s.kind == shapeMap {
			return c.invalid("is an array; want an object")
		}
		return c.array(s, depth)
	case '"':
		end, bad := scanString(c.b, c.i)
		if bad != "" {
			return c.invalid("string is not valid UTF-8 (%s)", bad)
		}
		c.i = end
		return nil
	}
	for c.i < len(c.b) { // a number, true, false or null
		switch c.b[c.i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return nil
		}
		c.i++
	}
	return nil
}

func (c *checker) object(s *shape, depth int) *bodyError {
	c.i++ // {
	var seen map[string]bool
	for {
		c.space()
		if c.b[c.i] == '}' {
			c.i++
			return nil
		}
		if c.b[c.i] == ',' {
			c.i++
			c.space()
		}
		start := c.i
		end, bad := scanString(c.b, start)
		if bad != "" {
			c.path = append(c.path, pathElem{key: string(c.b[start+1 : end-1]), isKey: true})
			return c.invalid("key is not valid UTF-8 (%s)", bad)
		}
		key := decodeKey(c.b[start:end])
		c.path = append(c.path, pathElem{key: key, isKey: true})
		if seen[key] {
			return c.invalid("duplicate key (the object has it more than once)")
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[key] = true
		var vs *shape
		switch s.kind {
		case shapeStruct:
			vs = s.fields[key]
			if vs == nil {
				if name := s.fold(key); name != "" {
					return c.invalid("unknown field; field names are case-sensitive: did you mean %q?", name)
				}
				return c.invalid("unknown field")
			}
		case shapeMap:
			vs = s.elem
		default:
			vs = freeShape
		}
		c.i = end
		c.space()
		c.i++ // :
		c.space()
		vstart := c.i
		if err := c.value(vs, depth+1); err != nil {
			return err
		}
		if max, ok := c.maxTop[key]; ok && depth == 0 && c.i-vstart > max {
			return c.fail(413, "too_large", "is %d bytes as written; at most %d are allowed", c.i-vstart, max)
		}
		c.path = c.path[:len(c.path)-1]
	}
}

func (c *checker) array(s *shape, depth int) *bodyError {
	c.i++ // [
	elem := freeShape
	if s.kind == shapeList {
		elem = s.elem
	}
	for n := 0; ; n++ {
		c.space()
		if c.b[c.i] == ']' {
			c.i++
			return nil
		}
		if c.b[c.i] == ',' {
			c.i++
		}
		c.path = append(c.path, pathElem{index: n})
		if err := c.value(elem, depth+1); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
	}
}

// scanString scans the JSON string that starts at b[i] (a quote; the
// string is well formed) and returns the index just past its closing quote
// and, when it is not valid UTF-8, why.
func scanString(b []byte, i int) (end int, bad string) {
	for j := i + 1; j < len(b); {
		switch c := b[j]; {
		case c == '"':
			return j + 1, bad
		case c == '\\':
			if b[j+1] != 'u' {
				j += 2
				continue
			}
			r := hex4(b[j+2 : j+6])
			j += 6
			switch {
			case 0xD800 <= r && r < 0xDC00:
				if j+6 <= len(b) && b[j] == '\\' && b[j+1] == 'u' {
					if r2 := hex4(b[j+2 : j+6]); 0xDC00 <= r2 && r2 < 0xE000 {
						j += 6
						continue
					}
				}
				if bad == "" {
					bad = fmt.Sprintf(`\u%04x is a lone surrogate`, r)
				}
			case 0xDC00 <= r && r < 0xE000:
				if bad == "" {
					bad = fmt.Sprintf(`\u%04x is a lone surrogate`, r)
				}
			}
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 && bad == "" {
				bad = fmt.Sprintf("byte 0x%02x at offset %d", c, j-i-1)
			}
			j += size
		}
	}
	return len(b), bad
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// decodeKey returns the key the quoted JSON string q, valid UTF-8, stands
// for.
func decodeKey(q []byte) string {
	raw := q[1 : len(q)-1]
	if !strings.ContainsRune(string(raw), '\\') {
		return string(raw)
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(raw)
	}
	return s
}

// shapeKind says how checkJSON looks into a value.
type shapeKind int

const (
	shapeFree   shapeKind = iota // any JSON: keys are not checked
	shapeStruct                  // an object whose keys are fields
	shapeMap                     // an object with any keys, values of elem
	shapeList                    // an array of elem
)

// shape is what checkJSON knows of the Go type a value decodes into.
type shape struct {
	kind   shapeKind
	fields map[string]*shape // shapeStruct: by exact JSON name
	elem   *shape            // shapeMap, shapeList
}

var freeShape = &shape{kind: shapeFree}

// fold returns the field whose name equals key but for case, or "".
func (s *shape) fold(key string) string {
	var names []string
	for name := range s.fields {
		if strings.EqualFold(name, key) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

var (
	shapes          sync.Map // reflect.Type → *shape
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	timeType        = reflect.TypeFor[authz.Time]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// shapeOf returns the shape of t, as encoding/json decodes into it.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s := buildShape(t, map[reflect.Type]*shape{})
	shapes.Store(t, s)
	return s
}

// buildShape builds the shape of t; building holds the structs under
// construction, so a recursive type refers to itself.
func buildShape(t reflect.Type, building map[reflect.Type]*shape) *shape {
	if s := building[t]; s != nil {
		return s
	}
	if t.Kind() == reflect.Pointer {
		return buildShape(t.Elem(), building)
	}
	if t == rawMessageType {
		return freeShape
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if inner, ok := unmarshalerInner(t); ok {
			return buildShape(inner, building)
		}
		return freeShape
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return freeShape // []byte is a base64 string
		}
		return &shape{kind: shapeList, elem: buildShape(t.Elem(), building)}
	case reflect.Map:
		return &shape{kind: shapeMap, elem: buildShape(t.Elem(), building)}
	case reflect.Struct:
		s := &shape{kind: shapeStruct, fields: map[string]*shape{}}
		building[t] = s
		addFields(s, t, building, 0, map[string]int{})
		return s
	}
	return freeShape
}

// addFields adds the JSON fields of struct t to s as encoding/json sees
// them: the tag's name or the field's, none for "-" or unexported fields,
// the fields of an untagged embedded struct promoted unless a shallower
// field has the name. depths records the depth each name was added at.
func addFields(s *shape, t reflect.Type, building map[reflect.Type]*shape, depth int, depths map[string]int) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if d, ok := depths[name]; ok && d <= depth {
			continue
		}
		depths[name] = depth
		s.fields[name] = buildShape(ft, building)
	}
	for _, et := range embedded {
		addFields(s, et, building, depth+1, depths)
	}
}

// unmarshalerInner returns the type a JSON unmarshaler of the library
// decodes its value as: a string for Time, T for Nullable[T]. The second
// result is false for any other type (its value is then not looked into;
// TestShapesKnowEveryUnmarshaler keeps the list complete).
func unmarshalerInner(t reflect.Type) (reflect.Type, bool) {
	if t == timeType {
		return reflect.TypeFor[string](), true
	}
	if t.PkgPath() == timeType.PkgPath() && strings.HasPrefix(t.Name(), "Nullable[") {
		if f, ok := t.FieldByName("Value"); ok && f.Type.Kind() == reflect.Pointer {
			return f.Type.Elem(), true
		}
	}
	return nil, false
}
