// Package modelfile reads authz models from files, so that a model can live
// under version control and be checked before it is applied.
//
// A model file is an authz.Batch: a JSON object whose keys are the Batch's
// fields ("scopeTypes", "scopes", "memberships", …), each a list of inputs
// of that kind, written as the library's JSON shapes. A file named *.yaml
// or *.yml holds the same in YAML (converted to JSON by sigs.k8s.io/yaml, so
// one set of field names serves both). YAML 1.1 reads an unquoted y, yes,
// n, no, on and off as booleans: quote such strings.
//
// Parse and Load refuse unknown kinds and unknown fields (a field name in
// another case than the library's too), a key twice in one object, and
// text that is not valid UTF-8; a byte order mark at the start is ignored.
// They report every problem of the file at once as Errors, each naming the file, the item
// (kind and index, and its id when it has one), the field and the line:
// of the field where the parser knows it, else of the item. (In a YAML
// file, a field inside a list is found in the list's first item that has
// it; problems are listed in the file's order.) Apply adds the problems
// Client.Apply finds (references to missing objects, duplicates, rules of
// the model), named the same way.
//
// A test file checks a model: it names a model file (or holds the model)
// and lists questions with the answers they must get (see ParseTests).
// TestFile.Run runs them on an in-memory store and reports each failing
// test with what it got and the decision's explanation.
package modelfile

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/jsonscan"
)

// Error is a problem of a model file.
type Error struct {
	// File is the file's name, as given to Parse or Load.
	File string
	// Line is the line (from 1) of the field at fault or, when unknown, of
	// the item or the problem; 0 when the file gives none.
	Line int
	// Kind and Index name the item: its list in the file ("scopes") and
	// its position there, from 0. Kind is empty for a problem of the file
	// as a whole; Index is -1 for a problem of a whole list.
	Kind  string
	Index int
	// ID is the item's id, when it has one.
	ID string
	// Field is the JSON name of the field at fault, with a path for nested
	// fields ("memberships[1].roleIds"); empty when the item as a whole is.
	Field string
	// Err is the cause. For the problems Client.Apply finds, it wraps the
	// authz sentinel (authz.ErrNotFound, authz.ErrInvalid, …).
	Err error
}

// Error formats the problem as `model.json:12: scopes[3] (id "eng"):
// parentScopeId: cause`, leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Kind != "" {
		b.WriteString(": " + e.Kind)
		if e.Index >= 0 {
			fmt.Fprintf(&b, "[%d]", e.Index)
		}
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %q)", e.ID)
		}
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in a model file, in the file's order.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Model is a parsed model file: the batch, and where its items are.
type Model struct {
	// File is the file's name.
	File string
	// Batch is the model.
	Batch authz.Batch
	// lines holds the line of each item, by kind.
	lines map[string][]int
	// yaml, for a YAML file, is where its keys and items are (lines then
	// comes from it); nil for JSON, whose lines come from offsets.
	yaml *yamlPos
	// isYAML is set for a model read from YAML.
	isYAML bool
	// lineBase is the line of the model's first byte, minus one: not zero
	// for a model inline in a test file.
	lineBase int
}

// setYAML records that the model was read from YAML, with the positions p
// (nil when unknown).
func (m *Model) setYAML(p *yamlPos) {
	m.isYAML, m.yaml, m.lines = true, p, p.lines()
}

// Load reads and parses the model file at path (see Parse).
func Load(path string) (*Model, error) { return load(path, Parse) }

// load reads the file at path and parses it with parse; a file that cannot
// be read is Errors too.
func load[T any](path string, parse func(string, []byte) (T, error)) (T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, Errors{{File: path, Index: -1, Err: err}}
	}
	return parse(path, data)
}

// Parse decodes the content of a model file. name names the file in
// errors, and its extension selects the format: YAML for .yaml and .yml,
// JSON otherwise. The error, if any, is Errors.
func Parse(name string, data []byte) (*Model, error) {
	m := &Model{File: name, lines: map[string][]int{}}
	j, isYAML, err := toJSON(name, data)
	if err != nil {
		return nil, err
	}
	if isYAML {
		m.setYAML(parseYAMLPos(bytes.TrimPrefix(data, utf8BOM)))
	}
	errs := m.decode(j)
	if len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

// toJSON returns the content of file name as JSON: YAML (for .yaml and
// .yml) converted, strictly; JSON as it is; a byte order mark dropped.
func toJSON(name string, data []byte) (_ []byte, isYAML bool, _ error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		j, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			// The parser may name the line after the last at the end.
			line := min(yamlLine(err), 1+bytes.Count(data, []byte("\n"))+bytes.Count(data, []byte("\r"))-bytes.Count(data, []byte("\r\n")))
			return nil, true, Errors{{File: name, Line: line, Index: -1, Err: err}}
		}
		return j, true, nil
	}
	return data, false, nil
}

// utf8BOM is the byte order mark some editors write first: it changes
// nothing of what a file means.
var utf8BOM = []byte("\ufeff")

// yamlLine returns the line a YAML error names, or 0.
func yamlLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// kinds maps the JSON name of each list of authz.Batch to its field index.
var kinds = func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeFor[authz.Batch]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = i
	}
	return out
}()

// decode decodes data (JSON) into m.Batch, item by item, recording the
// line of each item when m.lines is set.
func (m *Model) decode(data []byte) Errors {
	var errs Errors
	fail := func(line int, kind string, index int, id, field string, err error) {
		errs = append(errs, &Error{File: m.File, Line: line, Kind: kind, Index: index, ID: id, Field: field, Err: err})
	}
	lineAt := func(offset int64) int {
		if m.isYAML {
			return 0
		}
		return m.lineBase + 1 + bytes.Count(data[:offset], []byte("\n"))
	}
	// itemLine is the line of item i of kind at offset start, or of its
	// field at offset at.
	itemLine := func(kind string, i int, at int64, field string) int {
		if m.isYAML {
			return m.yaml.itemLine(kind, i, field)
		}
		return lineAt(at)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		if err == nil {
			err = errors.New("a model file is a JSON object of lists (scopeTypes, scopes, …)")
		}
		fail(syntaxLine(data, err, lineAt), "", -1, "", "", err)
		return errs
	}
	batch := reflect.ValueOf(&m.Batch).Elem()
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			fail(syntaxLine(data, err, lineAt), "", -1, "", "", err)
			return errs
		}
		keyAt := dec.InputOffset() // the end of the key, on its line
		kind := tok.(string)
		field, known := kinds[kind]
		var items []json.RawMessage
		var starts []int64
		if err := decodeList(data, dec, &items, &starts); err != nil {
			fail(syntaxLine(data, err, lineAt), kind, -1, "", "", err)
			return errs
		}
		keyLine := lineAt(keyAt)
		if m.yaml != nil {
			keyLine = m.yaml.keys[kind]
		}
		switch {
		case !known:
			fail(keyLine, kind, -1, "", "", fmt.Errorf("unknown kind %q", kind))
			continue
		case seen[kind]:
			fail(keyLine, kind, -1, "", "", errors.New("the list appears twice"))
			continue
		}
		seen[kind] = true
		list := batch.Field(field)
		list.Set(reflect.MakeSlice(list.Type(), len(items), len(items)))
		for i, raw := range items {
			start := starts[i]
			if !m.isYAML {
				m.lines[kind] = append(m.lines[kind], lineAt(start))
			}
			var named struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(raw, &named)
			// encoding/json would take the last of two equal keys, a key
			// in another case than the field's, and invalid UTF-8.
			keys, err := jsonscan.Check(raw)
			if err == nil && keys == nil {
				err = errors.New("an item is a JSON object")
			}
			if err != nil {
				fail(itemLine(kind, i, start, ""), kind, i, named.ID, "", err)
				continue
			}
			if k, ok := jsonscan.UnknownKey(keys, list.Type().Elem()); ok {
				fail(itemLine(kind, i, start, k), kind, i, named.ID, k, errors.New("unknown field"))
				continue
			}
			d := json.NewDecoder(bytes.NewReader(raw))
			d.DisallowUnknownFields()
			if err := d.Decode(list.Index(i).Addr().Interface()); err != nil {
				field, at := "", start
				var te *json.UnmarshalTypeError
				switch {
				case errors.As(err, &te):
					field, at = te.Field, start+te.Offset
					if te.Value == "bool" && m.isYAML {
						err = fmt.Errorf("%w (YAML reads an unquoted y, yes, n, no, on or off as a boolean: quote it)", err)
					}
				case strings.HasPrefix(err.Error(), "json: unknown field "):
					field, err = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), errors.New("unknown field")
				}
				fail(itemLine(kind, i, at, field), kind, i, named.ID, field, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // }
		fail(syntaxLine(data, err, lineAt), "", -1, "", "", err)
	} else if _, err := dec.Token(); err != io.EOF {
		fail(lineAt(dec.InputOffset()), "", -1, "", "", errors.New("content after the model's object"))
	}
	if m.isYAML {
		// The JSON that YAML converts to has its keys sorted: put the
		// problems back in the file's order.
		slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	}
	return errs
}

// decodeList reads a JSON list of items of data, recording where each
// starts. A syntax error in an item is returned with its offset in data.
func decodeList(data []byte, dec *json.Decoder, items *[]json.RawMessage, starts *[]int64) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null: no items
	}
	if tok != json.Delim('[') {
		return errors.New("a list of items is expected")
	}
	for dec.More() {
		var raw json.RawMessage
		at := dec.InputOffset()
		if err := dec.Decode(&raw); err != nil {
			// The decoder's offsets count from its buffer: find the error
			// again by scanning the item alone, from its first byte.
			start := valueStart(data, at)
			var se *json.SyntaxError
			if err2 := json.Unmarshal(data[start:], new(json.RawMessage)); errors.As(err2, &se) && se.Offset > 0 {
				return &offsetError{err: err, offset: start + se.Offset - 1}
			}
			return err
		}
		*items = append(*items, raw)
		// The decoder stands right after the item, whose bytes raw holds.
		*starts = append(*starts, dec.InputOffset()-int64(len(raw)))
	}
	_, err = dec.Token() // ]
	return err
}

// offsetError is a syntax error with its offset in the whole file.
type offsetError struct {
	err    error
	offset int64
}

func (e *offsetError) Error() string { return e.err.Error() }
func (e *offsetError) Unwrap() error { return e.err }

// valueStart returns the offset of the value that follows offset at in
// data: past spaces, one comma and spaces.
func valueStart(data []byte, at int64) int64 {
	skip := func() {
		for at < int64(len(data)) && strings.IndexByte(" \t\r\n", data[at]) >= 0 {
			at++
		}
	}
	skip()
	if at < int64(len(data)) && data[at] == ',' {
		at++
	}
	skip()
	return at
}

// syntaxLine returns the line of a JSON syntax error, or 0.
func syntaxLine(data []byte, err error, lineAt func(int64) int) int {
	var oe *offsetError
	if errors.As(err, &oe) && oe.offset <= int64(len(data)) {
		return lineAt(oe.offset)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(data)) {
		return lineAt(se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return lineAt(int64(len(data)))
	}
	return 0
}

// Apply applies the model with c.Apply. When the batch is refused, the
// error is Errors, one per problem, each naming the file, the item and the
// line of the item as Parse's do; other errors are returned as they are.
func (m *Model) Apply(ctx context.Context, c *authz.Client) (authz.BatchResult, error) {
	res, err := c.Apply(ctx, m.Batch)
	var be *authz.BatchError
	if !errors.As(err, &be) {
		return res, err
	}
	errs := make(Errors, 0, len(be.Items))
	for _, it := range be.Items {
		e := &Error{File: m.File, Kind: it.Kind, Index: it.Index, ID: m.itemID(it.Kind, it.Index), Field: it.Field, Err: it.Err}
		if lines := m.lines[it.Kind]; it.Index >= 0 && it.Index < len(lines) {
			e.Line = lines[it.Index]
		}
		errs = append(errs, e)
	}
	return res, errs
}

// itemID returns the id the file gives item index of kind, or "" (Apply
// reports the id it generated for an item without one, which names nothing
// in the file).
func (m *Model) itemID(kind string, index int) string {
	field, ok := kinds[kind]
	if !ok || index < 0 {
		return ""
	}
	list := reflect.ValueOf(m.Batch).Field(field)
	if index >= list.Len() {
		return ""
	}
	if id := list.Index(index).FieldByName("ID"); id.IsValid() && id.Kind() == reflect.String {
		return id.String()
	}
	return ""
}
