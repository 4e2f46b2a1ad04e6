package flatjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stamp decodes itself from a string, as authz.Time does.
type stamp struct{ s string }

func (t *stamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "bad") {
		return errors.New("bad stamp")
	}
	t.s = "stamp:" + s
	return nil
}

type kind string

// upper decodes a string through UnmarshalText, which encoding/json uses.
type upper string

func (u *upper) UnmarshalText(b []byte) error {
	*u = upper(strings.ToUpper(string(b)))
	return nil
}

type record struct {
	ID     string         `json:"id"`
	Kind   kind           `json:"kind,omitempty"`
	Name   string         `json:"name,omitempty"`
	Plain  string         // no tag: its Go name
	Skip   string         `json:"-"`
	At     stamp          `json:"at"`
	Meta   map[string]any `json:"meta,omitempty"`
	Count  int            `json:"count,omitempty"`
	Loud   upper          `json:"loud,omitempty"`
	hidden string
}

// selfDecoding decodes itself: the plan must leave it to encoding/json.
type selfDecoding struct {
	ID string `json:"id"`
}

func (s *selfDecoding) UnmarshalJSON(b []byte) error {
	s.ID = "custom"
	return nil
}

// decodeBoth decodes data with the plan and with encoding/json. When the
// plan decodes, encoding/json must succeed with the same value.
func decodeBoth[T any](t *testing.T, p *Plan[T], data string) bool {
	t.Helper()
	var fast T
	ok := p.Decode([]byte(data), &fast)
	if !ok {
		return false
	}
	var slow T
	if err := json.Unmarshal([]byte(data), &slow); err != nil {
		t.Fatalf("%q: the plan decoded it, encoding/json refused it: %v", data, err)
	}
	if diff := cmp.Diff(slow, fast, cmp.AllowUnexported(record{}, stamp{})); diff != "" {
		t.Fatalf("%q: decoded values differ (-encoding/json +plan):\n%s", data, diff)
	}
	return true
}

func TestDecode(t *testing.T) {
	p := For[record]()
	for _, c := range []struct {
		data string
		fast bool
	}{
		{`{"id":"r1","kind":"user","name":"N","Plain":"p","at":"2026-01-02"}`, true},
		{` { "id" : "r1" ,	"at":"x" }` + "\n", true},
		{`{}`, true},
		{`{"id":"a","id":"b"}`, true}, // the last wins, as in encoding/json
		{`{"id":"r1","meta":{"a":1,"b":[1,"x\"}",{"c":null}]}}`, true},
		{`{"meta":{"a":1},"meta":{"b":2}}`, true}, // merged, as by encoding/json
		{`{"id":"r1","count":3}`, true},
		{`{"count":3.5}`, false}, // refused by encoding/json
		{`{"meta":{"n":-0.5e+3,"z":0}}`, true},
		{`{"meta":{"big":1e400}}`, false}, // refused by encoding/json
		{`{"meta":{"n":01}}`, false},
		{`{"meta":{"n":1.}}`, false},
		{`{"meta":{"n":[true,false,null,{},[]]}}`, true},
		{`{"meta":{"d":[[[[[[[[[[[[1]]]]]]]]]]]]}}`, true},
		{`{"meta":{"s":"\u00e9","t":"é"}}`, true},
		{`{"meta":{"a":1}`, false},
		{`{"meta":[}]}`, false},
		{`{"meta":}`, false},
		{`{"count":tru}`, false},
		{`{"loud":"x"}`, true},       // decoded through UnmarshalText
		{`{"ID":"r1"}`, false},       // matched case-insensitively by encoding/json
		{`{"Skip":"x"}`, false},      // ignored by encoding/json
		{`{"hidden":"x"}`, false},    // ignored by encoding/json
		{`{"id":"a\"b"}`, true},      // an escape
		{`{"id":"é"}`, true},         // not ASCII
		{"{\"id\":\"\xff\"}", true},  // not UTF-8: replaced, as by encoding/json
		{`{"id":"a\u0000"}`, true},   // an escape
		{`{"id":null}`, true},        // left alone
		{"{\"id\":\"a\nb\"}", false}, // a control character
		{`{"at":"bad"}`, false},      // the field refuses it: so does encoding/json
		{`{"at":1}`, false},          // refused by the field
		{`{"id":"r1"} x`, false},     // trailing data
		{`{"id":"r1",}`, false},      // a trailing comma
		{`{"id":"r1"`, false},        // truncated
		{`["id"]`, false},            // not an object
		{``, false},                  // empty
		{`{"id" "r1"}`, false},       // no colon
		{`{"id":"r1" "name":"n"}`, false},
	} {
		if got := decodeBoth(t, p, c.data); got != c.fast {
			t.Errorf("%q: decoded by the plan: got %v; want %v", c.data, got, c.fast)
		}
	}
	var r record
	if !p.Decode([]byte(`{"id":"x","Plain":"y"}`), &r) || r.hidden != "" {
		t.Errorf("decoding leaves the unexported field alone: got hidden %q; want empty", r.hidden)
	}
	var s selfDecoding
	if For[selfDecoding]().Decode([]byte(`{"id":"x"}`), &s) {
		t.Errorf("a type with its own UnmarshalJSON: decoded by the plan; want left to encoding/json")
	}
}

// FuzzDecode checks that whatever the plan decodes, encoding/json decodes
// to the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"id":"r1","kind":"user","at":"t"}`, `{"meta":{}}`, `{"id":"\u00e9"}`, ` {"Plain":"x" , "name":""} `,
		`{"meta":{"a":[1,-2.5e3,"x",true,null,{"b":{}}]},"meta":{"c":0}}`} {
		f.Add(s)
	}
	p := For[record]()
	f.Fuzz(func(t *testing.T, data string) {
		decodeBoth(t, p, data)
	})
}

// deep has a field of each kind a deeply nested value may reach: a map
// decoded by the plan itself, a raw message, a slice and an interface.
type deep struct {
	Meta map[string]any  `json:"meta"`
	Raw  json.RawMessage `json:"raw"`
	List []any           `json:"list"`
	Any  any             `json:"any"`
}

// TestDecodeDeepValues: encoding/json refuses a document nested more than
// 10000 deep. A value nested just below or above that limit, in any field,
// array or object nesting, must be refused by the plan whenever
// encoding/json refuses the record (decoding the value alone would accept
// one level more), and decoded the same otherwise.
func TestDecodeDeepValues(t *testing.T) {
	p := For[deep]()
	nest := map[string]func(n int) string{
		"arrays":  func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) },
		"objects": func(n int) string { return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1) },
		"mixed":   func(n int) string { return strings.Repeat(`[{"a":`, n/2) + "1" + strings.Repeat("}]", n/2) },
	}
	for name, value := range nest {
		for _, n := range []int{2, 9, 10, 100, 1001, 9998, 9999, 10000, 10001} {
			for _, field := range []string{"meta", "raw", "list", "any"} {
				v := value(n)
				if field == "meta" {
					v = `{"x":` + v + `}`
				}
				data := []byte(`{"` + field + `":` + v + `}`)
				var fast, slow deep
				if !p.Decode(data, &fast) {
					continue
				}
				// reflect.DeepEqual: cmp.Diff takes minutes on such depths.
				if err := json.Unmarshal(data, &slow); err != nil {
					t.Fatalf("%s %d deep in %s: the plan decoded it, encoding/json refused it: %v", name, n, field, err)
				}
				if !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%s %d deep in %s: decoded values differ", name, n, field)
				}
			}
		}
	}
}

// quoted has fields with the ",string" option, which makes encoding/json
// read the value from inside a JSON string.
type quoted struct {
	S string `json:"s,string"`
	N int    `json:"n,string"`
}

// clash has two fields of one JSON name: encoding/json decodes the tagged
// one, whatever their order.
type clash struct {
	X string `json:"A"`
	A string
	C string `json:"c"`
}

// TestDecodeTagRules: the plan must follow the tag rules of encoding/json
// that change how a key is decoded, or leave the type to encoding/json. Each
// value of each key is tried: whatever the plan decodes, encoding/json must
// decode alike (decodeBoth).
func TestDecodeTagRules(t *testing.T) {
	values := []string{`"x"`, `"\"x\""`, `"5"`, `5`, `null`, `""`}
	for _, key := range []string{"s", "n"} {
		for _, v := range values {
			decodeBoth(t, For[quoted](), `{"`+key+`":`+v+`}`)
		}
	}
	for _, key := range []string{"A", "c"} {
		for _, v := range values {
			decodeBoth(t, For[clash](), `{"`+key+`":`+v+`}`)
		}
	}
}
