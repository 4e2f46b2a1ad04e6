package authz

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/internal/match"
)

// TestParseConditionWrapsErrInvalid checks the Client's view of an invalid
// condition, for each kind of fault (the JSON text, the limits, the
// operators and their arguments, the static cost): the error wraps
// ErrInvalid and its message is logic.Parse's, unchanged.
func TestParseConditionWrapsErrInvalid(t *testing.T) {
	for _, src := range []string{
		`{"==":[1,1]`, `{"==":[1,1],"==":[1,2]}`, `{"<":[{"var":"a"},1e400]}`, `[1]`, `{}`,
		strings.Repeat(`{"!":[`, 40) + "true" + strings.Repeat("]}", 40),
		`{"and":[` + strings.Repeat(`true,`, 10000) + `true]}`,
		`{"and":[{"==":[1,1]},{"regex":["a","b"]}]}`, `{"==":[1]}`, `{"var":1}`, `{"some":[[1],true]}`,
		`{"some":[[` + strings.Repeat("0,", 200) + `0],{"all":[[` + strings.Repeat("0,", 200) + `0],{"==":[{"var":""},1]}]}]}`,
	} {
		_, err := parseCondition(json.RawMessage(src))
		_, want := logic.Parse([]byte(src))
		var le *logic.Error
		if !errors.As(want, &le) {
			t.Fatalf("logic.Parse(%.60s) = %v; want a *logic.Error", src, want)
		}
		if !errors.Is(err, ErrInvalid) || err.Error() != want.Error() {
			t.Errorf("parseCondition(%.60s) = %v; want ErrInvalid with the message %q", src, err, want)
		}
	}
	c, err := parseCondition(json.RawMessage(` {"==":[{"var":"context.a"},1]} `))
	if err != nil || c.String() != `{"==":[{"var":"context.a"},1]}` {
		t.Errorf("parseCondition of a valid condition = %v, %v; want it parsed", c, err)
	}
	if c, err := parseCondition(json.RawMessage(" null ")); c != nil || err != nil {
		t.Errorf("parseCondition(null) = %v, %v; want nil, nil", c, err)
	}
}

// TestConditionDataConvertsTime checks that a Time in the data conditions
// see (meta, context) becomes the RFC 3339 UTC string with second precision
// that createdAt has, as a time.Time does.
func TestConditionDataConvertsTime(t *testing.T) {
	when := time.Date(2024, 1, 15, 10, 30, 0, 500, time.FixedZone("X", 3600))
	var none *Time
	got := logic.Value(map[string]any{"t": Time{when}, "p": &Time{when}, "nil": none, "std": when})
	want := map[string]any{"t": "2024-01-15T09:30:00Z", "p": "2024-01-15T09:30:00Z", "nil": nil, "std": "2024-01-15T09:30:00Z"}
	if diff := cmp.Diff(any(want), got); diff != "" {
		t.Errorf("logic.Value of times (-want +got):\n%s", diff)
	}
}

// TestCheckMatchDefinitionWrapsErrInvalid checks the Client's view of an
// invalid match definition, for each kind of fault (the JSON text, a
// section, a rule, an embedded condition, nesting): the error wraps
// ErrInvalid and its message is match.Parse's, unchanged.
func TestCheckMatchDefinitionWrapsErrInvalid(t *testing.T) {
	for _, src := range []string{
		`{"fields":`, `{"a":1,"a":2}`, `[]`, `{"filter":{}}`, `{"fields":{"a":[1]}}`,
		`{"time":{"createdAt":{"gt":{"relative":"now_minus_x"}}}}`, `{"tags":{"Bad":"x"}}`,
		`{"condition":{"regex":["a"]}}`, `{"any":[{"all":[{"condition":{"==":[1]}}]}]}`,
		strings.Repeat(`{"any":[`, 17) + `{}` + strings.Repeat(`]}`, 17),
	} {
		err := checkMatchDefinition(json.RawMessage(src))
		_, want := match.Parse([]byte(src))
		var me *match.Error
		var le *logic.Error
		if !errors.As(want, &me) && !errors.As(want, &le) {
			t.Fatalf("match.Parse(%.60s) = %v; want a *match.Error or a *logic.Error", src, want)
		}
		if !errors.Is(err, ErrInvalid) || err.Error() != want.Error() {
			t.Errorf("checkMatchDefinition(%.60s) = %v; want ErrInvalid with the message %q", src, err, want)
		}
	}
	if err := checkMatchDefinition(json.RawMessage(`{"fields":{"a":1}}`)); err != nil {
		t.Errorf("checkMatchDefinition of a valid definition = %v; want nil", err)
	}
}
