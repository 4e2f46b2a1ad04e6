package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/scopegate/authz"
)

// indexAnswer is the answer of GET /: every route the server serves, in
// the order registered.
type indexAnswer struct {
	Routes  []route `json:"routes"`
	OpenAPI string  `json:"openapi"`
}

// index registers GET / (the route table) and GET /openapi.json (an
// OpenAPI 3.1 document of it). Both are made, once, from the routes the
// router holds when first asked, so they list exactly the routes served;
// index must be registered last.
func index(mux *router) {
	var once sync.Once
	var idx, doc []byte
	build := func() {
		once.Do(func() {
			idx, _ = json.MarshalIndent(indexAnswer{Routes: mux.table, OpenAPI: "/openapi.json"}, "", "  ")
			doc, _ = json.MarshalIndent(openAPI(mux.table), "", "  ")
		})
	}
	serve := func(b *[]byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			build()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(append(*b, '\n'))
		}
	}
	mux.handle(route{Method: "GET", Path: "/{$}", Summary: "this index: every route of the API", response: reflect.TypeFor[indexAnswer]()}, serve(&idx))
	mux.handle(route{Method: "GET", Path: "/openapi.json", Summary: "the OpenAPI 3.1 document of every route", response: reflect.TypeFor[map[string]any]()}, serve(&doc))
}

// apiPath is the path of a route as OpenAPI writes it: "/{$}" is "/".
func apiPath(p string) string {
	if p == "/{$}" {
		return "/"
	}
	return p
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// openAPI returns the OpenAPI 3.1 document of routes: per route its
// parameters, request body and answers, with schemas derived from the Go
// types by reflection as encoding/json writes them.
func openAPI(routes []route) map[string]any {
	s := &schemas{defs: map[string]any{}, names: map[reflect.Type]string{}}
	errRef := s.of(reflect.TypeFor[errorBody]())
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		p := apiPath(rt.Path)
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if rt.query != nil {
			for _, name := range sortedKeys(queryFields(rt.query)) {
				ft := queryFields(rt.query)[name]
				params = append(params, map[string]any{"name": name, "in": "query", "required": false, "schema": s.of(ft),
					"style": "form", "explode": false})
			}
		}
		op := map[string]any{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"responses": map[string]any{
				strconv.Itoa(rt.status): map[string]any{"description": http.StatusText(rt.status),
					"content": map[string]any{"application/json": map[string]any{"schema": s.of(rt.response)}}},
				"default": map[string]any{"description": "an error (the code says which)",
					"content": map[string]any{"application/json": map[string]any{"schema": errRef}}},
			},
		}
		if rt.upsert {
			op["responses"].(map[string]any)["201"] = map[string]any{"description": "Created",
				"content": map[string]any{"application/json": map[string]any{"schema": s.of(rt.response)}}}
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != nil {
			op["requestBody"] = map[string]any{"required": true,
				"content": map[string]any{"application/json": map[string]any{"schema": s.of(rt.body)}}}
		}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "authz HTTP API", "version": "1",
			"description": "The routes of the authz HTTP wrapper. Every route needs Authorization: Bearer <token>."},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"schemas":         s.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

// operationID names a route: "GET /scopes/{id}/children" is
// getScopesIdChildren.
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(apiPath(rt.Path), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// schemas builds JSON Schemas of Go types: named structs become
// components, referenced by $ref.
type schemas struct {
	defs  map[string]any
	names map[reflect.Type]string
}

var (
	rawType     = reflect.TypeFor[json.RawMessage]()
	anyType     = reflect.TypeFor[any]()
	authzTime   = reflect.TypeFor[authz.Time]()
	nullablePfx = reflect.TypeFor[authz.Time]().PkgPath()
)

// of returns the schema of values of type t as encoding/json writes and
// reads them.
func (s *schemas) of(t reflect.Type) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawType || t == anyType:
		return map[string]any{} // any JSON value
	case t == authzTime:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.PkgPath() == nullablePfx && strings.HasPrefix(t.Name(), "Nullable["):
		f, _ := t.FieldByName("Value")
		return map[string]any{"anyOf": []any{s.of(f.Type.Elem()), map[string]any{"type": "null"}}}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t)
		}
		name, ok := s.names[t]
		if !ok {
			name = s.componentName(t)
			s.names[t] = name
			s.defs[name] = map[string]any{} // a recursive type refers to itself
			s.defs[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// componentName names the component of named struct t: its Go name
// capitalized, a page of T's "TPage"; a second type of the same name gets
// a number.
func (s *schemas) componentName(t reflect.Type) string {
	name := t.Name()
	if strings.HasPrefix(name, "listPage[") {
		f, _ := t.FieldByName("Items")
		name = s.componentName(f.Type.Elem()) + "Page"
	}
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	name = strings.ToUpper(name[:1]) + name[1:]
	base := name
	for n := 2; ; n++ {
		if _, taken := s.defs[name]; !taken {
			return name
		}
		name = base + strconv.Itoa(n)
	}
}

// object returns the schema of struct t: its JSON fields (those of untagged
// embedded structs promoted), required unless omitempty.
func (s *schemas) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	s.fields(t, props, &required, map[string]bool{})
	obj := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		obj["required"] = required
	}
	return obj
}

func (s *schemas) fields(t reflect.Type, props map[string]any, required *[]string, seen map[string]bool) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
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
		if seen[name] {
			continue
		}
		seen[name] = true
		props[name] = s.of(ft)
		if ft.Kind() == reflect.Pointer && !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			props[name] = map[string]any{"anyOf": []any{props[name], map[string]any{"type": "null"}}} // nil is written null
		}
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		s.fields(et, props, required, seen)
	}
}
