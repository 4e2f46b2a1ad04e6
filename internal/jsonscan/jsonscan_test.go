package jsonscan

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		in   string
		top  []string
		fail string
	}{
		{`{"a":1,"b":{"a":2,"c":[{"a":1},{"a":2}]}}`, []string{"a", "b"}, ""},
		{`[{"a":1},{"a":1}]`, nil, ""},
		{`{"a":1,"a":2}`, nil, `key "a" appears twice`},
		{`{"a":{"x":1,"y":{"z":[],"z":1}}}`, nil, `key "z" appears twice`},
		{`{"a":[{"k":1,"k":1}]}`, nil, `key "k" appears twice`},
		{"{\"a\":\"\xff\"}", nil, "not valid UTF-8"},
		{`{"a":}`, nil, "invalid character"},
		{`"s"`, nil, ""},
		{`{}`, nil, ""},
	} {
		top, err := Check([]byte(c.in))
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("Check(%s): got %v; want an error with %q", c.in, err, c.fail)
			}
			continue
		}
		if err != nil || !slices.Equal(top, c.top) {
			t.Errorf("Check(%s): got %v, %v; want %v, nil", c.in, top, err, c.top)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	type inner struct {
		C string `json:"c"`
	}
	type s struct {
		inner
		A string `json:"a,omitempty"`
		B int
		D int `json:"-"`
		e int
	}
	_ = s{e: 1} // an unexported field, never a key
	typ := reflect.TypeFor[s]()
	if got, ok := UnknownKey([]string{"a", "B", "c", "x"}, typ, "x"); ok {
		t.Errorf("known keys: got %q; want none unknown", got)
	}
	for _, k := range []string{"A", "b", "D", "e", "-", ""} {
		if got, ok := UnknownKey([]string{"a", k}, typ); !ok || got != k {
			t.Errorf("UnknownKey with %q: got %q, %v; want %q, true", k, got, ok, k)
		}
	}
}
