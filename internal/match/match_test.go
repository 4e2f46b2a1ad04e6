package match

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/scopegate/authz/internal/logic"
)

// matchNow is the injected evaluation time of the match tests.
var matchNow = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// mustMatchDef parses src and fails the test on error.
func mustMatchDef(t testing.TB, src string) *Def {
	t.Helper()
	m, err := Parse(json.RawMessage(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", src, err)
	}
	return m
}

// condData builds JSON-shaped condition data from a Go map.
func condData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return logic.Value(m).(map[string]any)
}

// jsonValueDept is a named string type, which converts as a string.
type jsonValueDept string

// embeddedTime stands for the root package's Time: a struct embedding
// time.Time.
type embeddedTime struct{ time.Time }

// match is Eval without a budget, reduced to whether it matched.
func (m *Def) match(in *Input, now time.Time) bool {
	ok, err := m.eval(in, now)
	return ok && err == nil
}

// eval is Eval without a budget (unlimited).
func (m *Def) eval(in *Input, now time.Time) (ok bool, err error) {
	return m.Eval(in, now, nil)
}

// isInvalid reports whether err is an invalid definition: an *Error, or a
// *logic.Error for JSON that does not decode.
func isInvalid(err error) bool {
	var e *Error
	var le *logic.Error
	return errors.As(err, &e) || errors.As(err, &le)
}

// matchTestResource is the resource most match tests run against.
func matchTestResource() *Input {
	return &Input{
		Props: map[string]any{
			"id":                 "resource_doc_123",
			"type":               "document",
			"resourceTypeId":     "resource_type_doc",
			"scopeId":            "scope_eng",
			"externalResourceId": "docs/2024/q1-report.pdf",
			"ownerId":            "subject_jane",
			"createdBy":          "subject_jane",
			"createdAt":          "2024-01-10T08:00:00Z",
			"displayName":        nil,
		},
		Meta: condData(map[string]any{
			"department":  "finance",
			"pages":       12,
			"confidental": true,
			"labels":      []string{"q1", "draft"},
			"title":       "Quarterly report",
			"owner":       map[string]any{"team": "ledger", "ids": []any{"a", "b"}},
			"reviewedAt":  "2024-01-14T10:30:00Z",
			"archivedAt":  nil,
			"id":          "meta-id",
			"displayName": "from meta",
			"meta":        map[string]any{"nested": "yes"},
		}),
		Tags: map[string][]string{"classification": {"internal"}, "region": {"eu", "us"}},
		Data: condData(map[string]any{
			"subject":  map[string]any{"id": "subject_jane", "meta": map[string]any{"clearance": 3}},
			"resource": map[string]any{"id": "resource_doc_123", "meta": map[string]any{"level": 2}},
		}),
	}
}

func TestParseMatchDefinitionAccepts(t *testing.T) {
	for _, src := range []string{
		`{}`,
		` {} `,
		`{"fields":{"department":"finance","pages":12,"confidental":true}}`,
		`{"fields":{"pages":{"gte":1,"lt":100},"createdAt":{"gt":"2024-01-01T00:00:00Z"}}}`,
		`{"fields":{"status":{"in":["a",1,true]},"x":{"notIn":[]},"labels":{"contains":"q1"},"archivedAt":{"exists":false},"n":{"equals":1}}}`,
		`{"tags":{"classification":"internal","region":["eu","us"]}}`,
		`{"patterns":{"externalResourceId":"docs/*/q?-*.pdf"}}`,
		`{"time":{"createdAt":{"gte":{"relative":"now_minus_30d"},"lt":{"relative":"now"}},"reviewedAt":{"eq":"2024-01-14T10:30:00Z"}}}`,
		`{"time":{"t":{"gt":{"relative":"now_plus_15m"}}}}`,
		`{"condition":{"<":[{"var":"resource.meta.level"},{"var":"subject.meta.clearance"}]}}`,
		`{"any":[],"all":[],"none":[]}`,
		`{"any":[{"fields":{"a":1}},{}],"all":[{"none":[{"tags":{"g":"x"}}]}]}`,
		`{"fields":null,"tags":null,"patterns":null,"time":null,"condition":null,"any":null,"all":null,"none":null}`,
	} {
		if _, err := Parse(json.RawMessage(src)); err != nil {
			t.Errorf("Parse(%s): %v; want it accepted", src, err)
		}
	}
}

func TestParseMatchDefinitionRejects(t *testing.T) {
	nest := func(n int) string { // n levels of definitions
		return strings.Repeat(`{"any":[`, n-1) + `{}` + strings.Repeat(`]}`, n-1)
	}
	tests := []struct {
		name, src, want string
	}{
		{"empty", ``, "matchDefinition is required: use {}"},
		{"null", `null`, "matchDefinition is required"},
		{"array", `[]`, "a match definition must be a JSON object, got an array"},
		{"string", `"x"`, "a match definition must be a JSON object, got a string"},
		{"malformed", `{"fields":`, "malformed JSON"},
		{"duplicate key", `{"fields":{},"fields":{}}`, `duplicate key "fields"`},
		{"unknown section", `{"filter":{}}`, `unknown section "filter" (use fields, tags, patterns, time, condition, any, all or none)`},
		{"unknown section nested", `{"all":[{},{"match":1}]}`, `all[1]: unknown section "match"`},
		{"fields not an object", `{"fields":[1]}`, "fields: must be a JSON object, got an array"},
		{"field bare array", `{"fields":{"status":["a","b"]}}`, `fields.status: a bare array is ambiguous: use {"in": […]}`},
		{"field null", `{"fields":{"status":null}}`, `fields.status: null is not a value to match: use {"exists": false}`},
		{"field empty rule", `{"fields":{"status":{}}}`, "fields.status: empty rule"},
		{"field unknown operator", `{"fields":{"status":{"eq":"a"}}}`, `fields.status: unknown operator "eq" (use equals, in, notIn, gt, gte, lt, lte, contains, exists)`},
		{"field object value", `{"fields":{"status":{"equals":"a","kind":"b"}}}`, `fields.status: unknown operator "kind"`},
		{"field empty name", `{"fields":{"":1}}`, "fields: a field name must not be empty"},
		{"field empty segment", `{"fields":{"meta..x":1}}`, `bad field name "meta..x": empty path segment`},
		{"field trailing dot", `{"fields":{"x.":1}}`, `bad field name "x.": empty path segment`},
		{"equals object", `{"fields":{"a":{"equals":{"x":1}}}}`, "fields.a.equals: takes a string, number or boolean, got an object"},
		{"equals null", `{"fields":{"a":{"equals":null}}}`, "fields.a.equals: takes a string, number or boolean, got null"},
		{"in not an array", `{"fields":{"a":{"in":"x"}}}`, "fields.a.in: takes an array of strings, numbers or booleans, got a string"},
		{"notIn element object", `{"fields":{"a":{"notIn":["x",{}]}}}`, "fields.a.notIn: element 1 must be a string, number or boolean, got an object"},
		{"gt boolean", `{"fields":{"a":{"gt":true}}}`, "fields.a.gt: takes a number or an RFC 3339 time, got a boolean"},
		{"gte bad time", `{"fields":{"a":{"gte":"yesterday"}}}`, `fields.a.gte: "yesterday" is not an RFC 3339 time`},
		{"contains array", `{"fields":{"a":{"contains":["x"]}}}`, "fields.a.contains: takes a string, number or boolean, got an array"},
		{"exists string", `{"fields":{"a":{"exists":"yes"}}}`, "fields.a.exists: takes true or false, got a string"},
		{"tags not an object", `{"tags":"x"}`, "tags: must be a JSON object, got a string"},
		{"tags bad group key", `{"tags":{"Region":"eu"}}`, `tags.Region: bad tag group key "Region"`},
		{"tags bad identifier", `{"tags":{"region":["eu","EU"]}}`, `tags.region: bad tag identifier "EU"`},
		{"tags empty list", `{"tags":{"region":[]}}`, "tags.region: empty list of tag identifiers"},
		{"tags number", `{"tags":{"region":1}}`, "tags.region: takes a tag identifier or an array of them, got a number"},
		{"tags element number", `{"tags":{"region":["eu",1]}}`, "tags.region: element 1 must be a tag identifier string, got a number"},
		{"patterns not a string", `{"patterns":{"externalResourceId":1}}`, "patterns.externalResourceId: takes a glob string"},
		{"patterns bad name", `{"patterns":{".x":"*"}}`, `bad field name ".x"`},
		{"time not an object", `{"time":{"createdAt":"2024-01-01T00:00:00Z"}}`, "time.createdAt: takes an object of comparisons"},
		{"time empty", `{"time":{"createdAt":{}}}`, "time.createdAt: takes an object of comparisons"},
		{"time unknown operator", `{"time":{"createdAt":{"before":"2024-01-01T00:00:00Z"}}}`, `time.createdAt: unknown operator "before" (use eq, gt, gte, lt, lte)`},
		{"time bad string", `{"time":{"createdAt":{"gt":"2024-01-01"}}}`, `time.createdAt.gt: "2024-01-01" is not an RFC 3339 time`},
		{"time number", `{"time":{"createdAt":{"gt":5}}}`, "time.createdAt.gt: takes an RFC 3339 time or {\"relative\": \"now_minus_30d\"}, got a number"},
		{"relative bad count", `{"time":{"createdAt":{"gt":{"relative":"now_minus_x"}}}}`, `time.createdAt.gt: bad relative time "now_minus_x"`},
		{"relative bad unit", `{"time":{"createdAt":{"gt":{"relative":"now_minus_3y"}}}}`, `time.createdAt.gt: bad relative time "now_minus_3y"`},
		{"relative no count", `{"time":{"createdAt":{"gt":{"relative":"now_plus_d"}}}}`, `bad relative time "now_plus_d"`},
		{"relative sign", `{"time":{"createdAt":{"gt":{"relative":"now_minus_-3d"}}}}`, `bad relative time "now_minus_-3d"`},
		{"relative bad prefix", `{"time":{"createdAt":{"gt":{"relative":"today"}}}}`, `bad relative time "today"`},
		{"relative out of range", `{"time":{"createdAt":{"gt":{"relative":"now_minus_20000w"}}}}`, `relative time "now_minus_20000w" is out of range`},
		{"relative huge", `{"time":{"createdAt":{"gt":{"relative":"now_minus_99999999999999999999s"}}}}`, `is out of range`},
		{"relative not a string", `{"time":{"createdAt":{"gt":{"relative":30}}}}`, `time.createdAt.gt: a relative time is {"relative": "now_minus_30d"}`},
		{"relative extra key", `{"time":{"createdAt":{"gt":{"relative":"now","tz":"UTC"}}}}`, `time.createdAt.gt: a relative time is`},
		{"condition invalid", `{"condition":{"and":[true,{"regex":[1]}]}}`, `condition: unknown operator "regex" at and[1]`},
		{"condition not an object", `{"condition":true}`, "condition: a condition must be a JSON Logic operator object"},
		{"condition nested", `{"none":[{"condition":{"var":1}}]}`, `none[0].condition: operator "var" at the top level: the path must be a string`},
		{"any not an array", `{"any":{}}`, "any: must be an array of match definitions, got an object"},
		{"all element not an object", `{"all":[{},1]}`, "all[1]: a match definition must be a JSON object, got a number"},
		{"nested error path", `{"any":[{"all":[{"time":{"createdAt":{"gt":{"relative":"now_minus_x"}}}}]}]}`, `any[0].all[0].time.createdAt.gt: bad relative time "now_minus_x"`},
		{"too deep", nest(17), "match definitions nest deeper than 16 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(json.RawMessage(tt.src))
			if err == nil {
				t.Fatalf("Parse(%.80s) = %v, nil; want an error containing %q", tt.src, m, tt.want)
			}
			if !isInvalid(err) {
				t.Errorf("error %q is not an *Error or a *logic.Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMatchDefinitionDepthLimitIsInclusive(t *testing.T) {
	src := strings.Repeat(`{"any":[`, 15) + `{"fields":{"id":"resource_doc_123"}}` + strings.Repeat(`]}`, 15)
	m := mustMatchDef(t, src)
	if !m.match(matchTestResource(), matchNow) {
		t.Errorf("16 levels of any: no match; want a match")
	}
}

func TestMatchEmptyDefinitionMatchesEverything(t *testing.T) {
	m := mustMatchDef(t, `{}`)
	for _, in := range []*Input{matchTestResource(), {}, nil} {
		if !m.match(in, matchNow) {
			t.Errorf("{} does not match %+v; want a match", in)
		}
	}
}

func TestMatchNilDefinitionMatchesNothing(t *testing.T) {
	var m *Def
	if m.match(matchTestResource(), matchNow) {
		t.Errorf("nil definition matches; want no match")
	}
}

func TestMatchFields(t *testing.T) {
	tests := []struct {
		name, fields string
		want         bool
	}{
		{"bare string", `{"department":"finance"}`, true},
		{"bare string differs", `{"department":"legal"}`, false},
		{"bare number", `{"pages":12}`, true},
		{"bare number differs", `{"pages":13}`, false},
		{"bare boolean", `{"confidental":true}`, true},
		{"no coercion number to string", `{"pages":"12"}`, false},
		{"no coercion string to boolean", `{"department":true}`, false},
		{"equals", `{"type":{"equals":"document"}}`, true},
		{"equals on an array value", `{"labels":{"equals":"q1"}}`, false},
		{"in", `{"department":{"in":["legal","finance"]}}`, true},
		{"in misses", `{"department":{"in":["legal"]}}`, false},
		{"in empty", `{"department":{"in":[]}}`, false},
		{"in numbers", `{"pages":{"in":[1,12]}}`, true},
		{"notIn", `{"department":{"notIn":["legal"]}}`, true},
		{"notIn hit", `{"department":{"notIn":["legal","finance"]}}`, false},
		{"notIn missing value", `{"status":{"notIn":["archived"]}}`, false},
		{"notIn null value", `{"archivedAt":{"notIn":["x"]}}`, false},
		{"notIn on an array value", `{"labels":{"notIn":["x"]}}`, false},
		{"gt", `{"pages":{"gt":11}}`, true},
		{"gt equal", `{"pages":{"gt":12}}`, false},
		{"gte", `{"pages":{"gte":12}}`, true},
		{"lt", `{"pages":{"lt":13}}`, true},
		{"lte", `{"pages":{"lte":11}}`, false},
		{"range", `{"pages":{"gte":10,"lt":20}}`, true},
		{"range misses", `{"pages":{"gte":13,"lt":20}}`, false},
		{"gt on a string value", `{"department":{"gt":1}}`, false},
		{"gt on a missing value", `{"status":{"lt":100}}`, false},
		{"gt time", `{"createdAt":{"gt":"2024-01-01T00:00:00Z"}}`, true},
		{"lt time", `{"createdAt":{"lt":"2024-01-01T00:00:00Z"}}`, false},
		{"gte time with offset", `{"createdAt":{"gte":"2024-01-10T09:00:00+01:00"}}`, true},
		{"time order on a non-time", `{"department":{"gt":"2024-01-01T00:00:00Z"}}`, false},
		{"contains in string", `{"title":{"contains":"report"}}`, true},
		{"contains in string misses", `{"title":{"contains":"Report"}}`, false},
		{"contains in array", `{"labels":{"contains":"draft"}}`, true},
		{"contains in array misses", `{"labels":{"contains":"final"}}`, false},
		{"contains number in string", `{"title":{"contains":1}}`, false},
		{"contains on a number", `{"pages":{"contains":1}}`, false},
		{"exists", `{"department":{"exists":true}}`, true},
		{"exists missing", `{"status":{"exists":true}}`, false},
		{"exists null", `{"archivedAt":{"exists":true}}`, false},
		{"not exists missing", `{"status":{"exists":false}}`, true},
		{"not exists null", `{"archivedAt":{"exists":false}}`, true},
		{"not exists present", `{"department":{"exists":false}}`, false},
		{"missing value equals nothing", `{"status":"x"}`, false},
		{"several fields all hold", `{"department":"finance","pages":{"gt":1},"type":"document"}`, true},
		{"several fields one fails", `{"department":"finance","pages":{"gt":100}}`, false},
		{"property", `{"ownerId":"subject_jane"}`, true},
		{"property beats meta", `{"id":"resource_doc_123"}`, true},
		{"shadowed meta key through meta.", `{"meta.id":"meta-id"}`, true},
		{"null property falls back to meta", `{"displayName":"from meta"}`, true},
		{"dot path into meta", `{"owner.team":"ledger"}`, true},
		{"explicit meta path", `{"meta.owner.team":"ledger"}`, true},
		{"meta key named meta", `{"meta.meta.nested":"yes"}`, true},
		{"array index", `{"owner.ids.1":"b"}`, true},
		{"array index out of range", `{"owner.ids.2":{"exists":false}}`, true},
		{"path through a scalar", `{"department.x":{"exists":false}}`, true},
		{"path into a property", `{"type.x":{"exists":true}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMatchDef(t, `{"fields":`+tt.fields+`}`)
			if got := m.match(matchTestResource(), matchNow); got != tt.want {
				t.Errorf("fields %s: match = %v; want %v", tt.fields, got, tt.want)
			}
		})
	}
}

func TestMatchFieldsOnGoTypedValues(t *testing.T) {
	in := &Input{
		Props: map[string]any{"createdAt": time.Date(2024, 1, 10, 8, 0, 0, 0, time.UTC)},
		Meta:  map[string]any{"pages": int64(12), "kind": jsonValueDept("memo"), "labels": []string{"a"}, "when": embeddedTime{matchNow}, "whenPtr": &embeddedTime{matchNow}},
	}
	for _, src := range []string{
		`{"fields":{"pages":12}}`,
		`{"fields":{"pages":{"gt":11.5}}}`,
		`{"fields":{"kind":"memo"}}`,
		`{"fields":{"labels":{"contains":"a"}}}`,
		`{"fields":{"createdAt":{"lt":"2024-01-11T00:00:00Z"}}}`,
		`{"fields":{"createdAt":"2024-01-10T08:00:00Z"}}`,
		`{"time":{"createdAt":{"lt":{"relative":"now_minus_5d"}}}}`,
		`{"time":{"when":{"eq":{"relative":"now"}}}}`,
		`{"time":{"whenPtr":{"eq":{"relative":"now"}}}}`,
	} {
		if !mustMatchDef(t, src).match(in, matchNow) {
			t.Errorf("%s: no match on Go-typed values; want a match", src)
		}
	}
	var none *embeddedTime
	in.Meta["when"] = none
	if src := `{"time":{"when":{"lte":{"relative":"now"}}}}`; mustMatchDef(t, src).match(in, matchNow) {
		t.Errorf("%s on a nil time: a match; want none", src)
	}
}

func TestMatchTags(t *testing.T) {
	tests := []struct {
		tags string
		want bool
	}{
		{`{"classification":"internal"}`, true},
		{`{"classification":"secret"}`, false},
		{`{"classification":["secret","internal"]}`, true},
		{`{"region":["apac"]}`, false},
		{`{"classification":"internal","region":"us"}`, true},
		{`{"classification":"internal","region":"apac"}`, false},
		{`{"owner":"x"}`, false},
	}
	for _, tt := range tests {
		m := mustMatchDef(t, `{"tags":`+tt.tags+`}`)
		if got := m.match(matchTestResource(), matchNow); got != tt.want {
			t.Errorf("tags %s: match = %v; want %v", tt.tags, got, tt.want)
		}
	}
}

func TestMatchPatterns(t *testing.T) {
	tests := []struct {
		patterns string
		want     bool
	}{
		{`{"externalResourceId":"docs/*"}`, true},
		{`{"externalResourceId":"docs/*/q?-*.pdf"}`, true},
		{`{"externalResourceId":"*.doc"}`, false},
		{`{"department":"fin*"}`, true},
		{`{"department":"fin*","title":"*report"}`, true},
		{`{"department":"fin*","title":"*Report"}`, false},
		{`{"pages":"*"}`, false},  // not a string
		{`{"status":"*"}`, false}, // missing
	}
	for _, tt := range tests {
		m := mustMatchDef(t, `{"patterns":`+tt.patterns+`}`)
		if got := m.match(matchTestResource(), matchNow); got != tt.want {
			t.Errorf("patterns %s: match = %v; want %v", tt.patterns, got, tt.want)
		}
	}
}

func TestMatchTime(t *testing.T) {
	// createdAt is 2024-01-10T08:00:00Z, reviewedAt 2024-01-14T10:30:00Z,
	// now is 2024-01-15T10:30:00Z.
	tests := []struct {
		time string
		want bool
	}{
		{`{"createdAt":{"gte":{"relative":"now_minus_30d"}}}`, true},
		{`{"createdAt":{"gte":{"relative":"now_minus_5d"}}}`, false},
		{`{"createdAt":{"gte":{"relative":"now_minus_6d"}}}`, true},
		{`{"createdAt":{"lt":{"relative":"now_minus_1w"}}}`, false},
		{`{"createdAt":{"lt":{"relative":"now"}}}`, true},
		{`{"createdAt":{"gt":{"relative":"now_plus_0s"}}}`, false},
		{`{"reviewedAt":{"eq":{"relative":"now_minus_24h"}}}`, true},
		{`{"reviewedAt":{"eq":{"relative":"now_minus_1440m"}}}`, true},
		{`{"reviewedAt":{"eq":{"relative":"now_minus_86400s"}}}`, true},
		{`{"reviewedAt":{"gte":{"relative":"now_minus_1d"},"lte":{"relative":"now_minus_1d"}}}`, true},
		{`{"reviewedAt":{"gt":{"relative":"now_minus_1d"}}}`, false},
		{`{"reviewedAt":{"lt":{"relative":"now_plus_1h"}}}`, true},
		{`{"reviewedAt":{"eq":"2024-01-14T11:30:00+01:00"}}`, true},
		{`{"createdAt":{"gt":"2024-01-01T00:00:00Z","lt":"2024-02-01T00:00:00Z"}}`, true},
		{`{"department":{"lt":{"relative":"now"}}}`, false}, // not a time
		{`{"archivedAt":{"lt":{"relative":"now"}}}`, false}, // null
		{`{"nothing":{"lt":{"relative":"now"}}}`, false},    // missing
	}
	for _, tt := range tests {
		m := mustMatchDef(t, `{"time":`+tt.time+`}`)
		if got := m.match(matchTestResource(), matchNow); got != tt.want {
			t.Errorf("time %s: match = %v; want %v", tt.time, got, tt.want)
		}
	}
}

func TestMatchRelativeTimeFollowsNow(t *testing.T) {
	m := mustMatchDef(t, `{"time":{"createdAt":{"gte":{"relative":"now_minus_7d"}}}}`)
	if !m.match(matchTestResource(), matchNow) {
		t.Errorf("at %v: no match; want a match", matchNow)
	}
	later := matchNow.Add(48 * time.Hour)
	if m.match(matchTestResource(), later) {
		t.Errorf("at %v: match; want none (created more than 7 days before)", later)
	}
}

func TestMatchCondition(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{`{"<":[{"var":"resource.meta.level"},{"var":"subject.meta.clearance"}]}`, true},
		{`{">":[{"var":"resource.meta.level"},{"var":"subject.meta.clearance"}]}`, false},
		{`{"<":[{"var":"resource.meta.missing"},5]}`, false},
	}
	for _, tt := range tests {
		m := mustMatchDef(t, `{"condition":`+tt.cond+`}`)
		if got := m.match(matchTestResource(), matchNow); got != tt.want {
			t.Errorf("condition %s: match = %v; want %v", tt.cond, got, tt.want)
		}
	}
}

func TestMatchConditionErrorFailsClosed(t *testing.T) {
	// A non-boolean result is an evaluation error; even inside none it
	// makes the whole definition not match.
	for _, src := range []string{
		`{"condition":{"var":"resource.id"}}`,
		`{"none":[{"condition":{"var":"resource.id"}}]}`,
		`{"any":[{"condition":{"+":[1]}},{}]}`,
		`{"all":[{},{"condition":{"cat":["x"]}}]}`,
	} {
		m := mustMatchDef(t, src)
		ok, err := m.eval(matchTestResource(), matchNow)
		if ok || err == nil {
			t.Errorf("%s: eval = %v, %v; want false and an error", src, ok, err)
		}
		if m.match(matchTestResource(), matchNow) {
			t.Errorf("%s: match = true; want false", src)
		}
	}
}

func TestMatchCombinators(t *testing.T) {
	const (
		yes = `{"fields":{"department":"finance"}}`
		no  = `{"fields":{"department":"legal"}}`
	)
	tests := []struct {
		def  string
		want bool
	}{
		{`{"any":[` + no + `,` + yes + `]}`, true},
		{`{"any":[` + no + `,` + no + `]}`, false},
		{`{"all":[` + yes + `,` + yes + `]}`, true},
		{`{"all":[` + yes + `,` + no + `]}`, false},
		{`{"none":[` + no + `,` + no + `]}`, true},
		{`{"none":[` + no + `,` + yes + `]}`, false},
		{`{"any":[],"all":[],"none":[]}`, true},
		{`{"any":[` + yes + `],"none":[` + yes + `]}`, false},
		{`{"fields":{"type":"document"},"any":[` + no + `,{"none":[` + no + `]}]}`, true},
		{`{"fields":{"type":"folder"},"any":[` + yes + `]}`, false},
		{`{"all":[{"any":[` + no + `,{"all":[` + yes + `,{"none":[` + no + `]}]}]}]}`, true},
		{`{"all":[{"any":[` + no + `,{"all":[` + yes + `,{"none":[` + yes + `]}]}]}]}`, false},
		{`{"any":[{}]}`, true},
		{`{"none":[{}]}`, false},
	}
	for _, tt := range tests {
		m := mustMatchDef(t, tt.def)
		if got := m.match(matchTestResource(), matchNow); got != tt.want {
			t.Errorf("%s: match = %v; want %v", tt.def, got, tt.want)
		}
	}
}

func TestMatchAllSectionsMustHold(t *testing.T) {
	base := map[string]string{
		"fields":    `{"department":"finance"}`,
		"tags":      `{"region":"eu"}`,
		"patterns":  `{"externalResourceId":"docs/*"}`,
		"time":      `{"createdAt":{"gt":{"relative":"now_minus_30d"}}}`,
		"condition": `{"==":[{"var":"subject.id"},"subject_jane"]}`,
		"any":       `[{"fields":{"pages":12}}]`,
		"all":       `[{"fields":{"type":"document"}}]`,
		"none":      `[{"fields":{"type":"folder"}}]`,
	}
	failing := map[string]string{
		"fields":    `{"department":"legal"}`,
		"tags":      `{"region":"apac"}`,
		"patterns":  `{"externalResourceId":"img/*"}`,
		"time":      `{"createdAt":{"gt":{"relative":"now_minus_1d"}}}`,
		"condition": `{"==":[{"var":"subject.id"},"subject_bob"]}`,
		"any":       `[{"fields":{"pages":13}}]`,
		"all":       `[{"fields":{"type":"folder"}}]`,
		"none":      `[{"fields":{"type":"document"}}]`,
	}
	build := func(swap string) string {
		var parts []string
		for k, v := range base {
			if k == swap {
				v = failing[k]
			}
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	if !mustMatchDef(t, build("")).match(matchTestResource(), matchNow) {
		t.Fatalf("definition with every section holding: no match; want a match")
	}
	for section := range base {
		if mustMatchDef(t, build(section)).match(matchTestResource(), matchNow) {
			t.Errorf("section %s fails: match; want no match", section)
		}
	}
}

func TestParseRelativeTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"now", 0},
		{"now_minus_30d", -30 * 24 * time.Hour},
		{"now_plus_2w", 14 * 24 * time.Hour},
		{"now_minus_90s", -90 * time.Second},
		{"now_plus_15m", 15 * time.Minute},
		{"now_minus_0h", 0},
		{"now_minus_007h", -7 * time.Hour},
	}
	for _, tt := range tests {
		got, err := parseRelativeTime(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseRelativeTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "Now", "now_", "now_minus_", "now_minus_d", "now_minus_1", "now_minus_1x", "now_minus_1.5h", "now_minus_ 1h", "now_plus_+1h", "now_minus_1h ", "now_minus_15251w"} {
		if got, err := parseRelativeTime(in); err == nil {
			t.Errorf("parseRelativeTime(%q) = %v, nil; want an error", in, got)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"**", "", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"?", "é", true},
		{"??", "é", false},
		{"?", "日", true},
		{"a?c", "a日c", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "abcd", false},
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*c", "ac", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbcd", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"*ab*", "xaby", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*?", "", false},
		{"*?", "x", true},
		{"?*?", "x", false},
		{"?*?", "xy", true},
		{"*a?b*", "xxa-b", true},
		{"*a?b*", "xxab", false},
		{"docs/*/q?-*.pdf", "docs/2024/q1-report.pdf", true},
		{"docs/*/q?-*.pdf", "docs/2024/q10-report.pdf", false},
		{"*.pdf", "a.pdf.txt", false},
		{"[abc]", "a", false}, // no character classes
		{"[abc]", "[abc]", true},
		{`a\*`, `a\bc`, true}, // no escaping: \ is literal, * a star
		{"a*b?c*d", "a__b_c__d", true},
		{"a*b?c*d", "a__bc__d", false},
		{"*x*x*", "xx", true},
		{"*x*x*", "x", false},
		{"ab*ba", "aba", false},
		{"ab*ba", "abba", true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestGlobMatchPathologicalPatternsAreFast(t *testing.T) {
	long := strings.Repeat("a", 100000)
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"a*a*a*a*a*a*a*a*a*a*b", long, false},
		{"a*a*a*a*a*a*a*a*a*a*a", long, true},
		{strings.Repeat("*a", 50) + "*b", long, false},
		{strings.Repeat("*?", 50) + "*b", long, false},
		{strings.Repeat("a*", 50) + "?", long, true},
		{"*" + strings.Repeat("a", 1000) + "b*", long, false},
	}
	for _, tt := range tests {
		start := time.Now()
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%.30q…) = %v; want %v", tt.pattern, got, tt.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Glob(%.30q…) took %v; want well under a second", tt.pattern, d)
		}
	}
}

// globRegexp is a reference implementation of Glob.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func TestGlobMatchAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab日*?")
	gen := func(n int, stars bool) string {
		var b strings.Builder
		for range rng.IntN(n) {
			r := alphabet[rng.IntN(len(alphabet))]
			if !stars && (r == '*' || r == '?') {
				r = 'a'
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	for range 20000 {
		p, s := gen(8, true), gen(10, false)
		if got, want := Glob(p, s), globRegexp(p).MatchString(s); got != want {
			t.Fatalf("Glob(%q, %q) = %v; want %v", p, s, got, want)
		}
	}
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("docs/*/q?-*.pdf", "docs/2024/q1-report.pdf")
	f.Add("a*a*a*b", "aaaaaaaaaaaaaaaa")
	f.Add("*?*", "日本")
	f.Add("", "")
	f.Add("*\xc3?*", "\xc3\xa9\xc3")
	f.Add("*"+strings.Repeat("a?", 40)+"b*", strings.Repeat("a", 100)+"b")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := Glob(pattern, s)
		if want := globReference(pattern, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v; the reference says %v", pattern, s, got, want)
		}
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		if want := globRegexp(pattern).MatchString(s); got != want {
			t.Fatalf("Glob(%q, %q) = %v; want %v", pattern, s, got, want)
		}
	})
}

// globChars decodes s into Glob's characters.
func globChars(s string) []rune {
	var out []rune
	for i := 0; i < len(s); {
		c, w := globChar(s, i)
		out = append(out, c)
		i += w
	}
	return out
}

// globReference is a reference implementation of Glob on any bytes:
// dynamic programming over the characters of both (invalid bytes are
// characters of their own), O(len(pattern)·len(s)).
func globReference(pattern, s string) bool {
	p, t := globChars(pattern), globChars(s)
	// row[j]: pattern[:i] matches t[:j].
	row := make([]bool, len(t)+1)
	row[0] = true
	for _, pc := range p {
		next := make([]bool, len(t)+1)
		if pc == '*' {
			next[0] = row[0]
		}
		for j := 1; j <= len(t); j++ {
			switch pc {
			case '*':
				next[j] = row[j] || next[j-1]
			case '?':
				next[j] = row[j-1]
			default:
				next[j] = row[j-1] && t[j-1] == pc
			}
		}
		row = next
	}
	return row[len(t)]
}

// globGen generates hostile glob patterns and strings to match: many stars
// and ?, unicode, bytes that are not UTF-8 (a lone lead byte, a lone
// continuation byte, 0xff), long parts (past 64 characters, where the
// matcher changes method), and strings built from the pattern so that
// matches are common.
type globGen struct{ r *rand.Rand }

var globAlphabet = []string{"a", "b", "a", "b", "日", "é", "\xc3", "\xa9", "\xff", "/", ".", "\xef\xbf\xbd"}

func (g globGen) char() string { return globAlphabet[g.r.IntN(len(globAlphabet))] }

func (g globGen) pattern() string {
	var b strings.Builder
	n := g.r.IntN(12)
	if g.r.IntN(6) == 0 {
		n = 60 + g.r.IntN(150) // long parts
	}
	starPct := []int{0, 5, 20, 50}[g.r.IntN(4)]
	qPct := []int{0, 10, 40, 80}[g.r.IntN(4)]
	for range n {
		switch x := g.r.IntN(100); {
		case x < starPct:
			b.WriteByte('*')
		case x < starPct+qPct*(100-starPct)/100:
			b.WriteByte('?')
		default:
			b.WriteString(g.char())
		}
	}
	return b.String()
}

// instance returns a string the pattern matches (stars replaced by random
// runs, ? by random characters), then mutated now and then.
func (g globGen) instance(pattern string) string {
	var b strings.Builder
	for _, c := range globChars(pattern) {
		switch c {
		case '*':
			for range g.r.IntN(4) {
				b.WriteString(g.char())
			}
		case '?':
			b.WriteString(g.char())
		default:
			if c < 0 {
				b.WriteByte(byte(-1 - c))
			} else {
				b.WriteRune(c)
			}
		}
	}
	s := b.String()
	if g.r.IntN(3) == 0 && len(s) > 0 {
		i := g.r.IntN(len(s))
		switch g.r.IntN(3) {
		case 0:
			s = s[:i] + s[i+1:]
		case 1:
			s = s[:i] + g.char() + s[i:]
		default:
			s = s[:i] + g.char() + s[i+1:]
		}
	}
	return s
}

// TestGlobMatchAgreesWithReference compares Glob with the reference
// on generated hostile patterns and strings, long ones included, and
// requires both outcomes to be common.
func TestGlobMatchAgreesWithReference(t *testing.T) {
	g := globGen{rand.New(rand.NewPCG(14, 5))}
	runs := 20000
	if testing.Short() {
		runs = 3000
	}
	matched := 0
	for range runs {
		p := g.pattern()
		s := g.instance(p)
		if g.r.IntN(4) == 0 {
			s = g.instance(g.pattern())
		}
		got, want := Glob(p, s), globReference(p, s)
		if got != want {
			t.Fatalf("Glob(%q, %q) = %v; the reference says %v", p, s, got, want)
		}
		if got {
			matched++
		}
	}
	if matched < runs/5 || matched > runs*4/5 {
		t.Errorf("%d of %d generated strings matched; want both outcomes common", matched, runs)
	}
}

// TestGlobMatchCharacters pins down the characters of Glob on bytes
// that are not UTF-8: each such byte is one character that matches only
// itself.
func TestGlobMatchCharacters(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"?", "\xff", true},
		{"??", "\xc3\xa9", false}, // é is one character
		{"?", "\xc3\xa9", true},
		{"\xc3?", "\xc3\xa9", false}, // a lone lead byte is not the start of é
		{"*\xa9", "\xc3\xa9", false}, // nor a continuation byte its end
		{"*\xa9", "\xff\xa9", true},
		{"*\xc3*", "a\xc3b", true},
		{"\xff", "\ufffd", false}, // an invalid byte is not U+FFFD
		{"?\xa9?", "a\xa9b", true},
		{"*?\xa9*", "é\xa9", true},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
		if got := globReference(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globReference(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// TestGlobMatchDoesNotAllocate checks the common cases: parts up to 64
// characters, with or without ?.
func TestGlobMatchDoesNotAllocate(t *testing.T) {
	long := strings.Repeat("x", 5000) + "q1-report.pdf"
	for _, tt := range [][2]string{
		{"docs/*/q?-*.pdf", "docs/2024/q1-report.pdf"},
		{"*" + strings.Repeat("a?", 32) + "*", long},
		{"*q1-*", long},
		{"??*日?*", "日本日本日本"},
	} {
		if n := testing.AllocsPerRun(10, func() { Glob(tt[0], tt[1]) }); n != 0 {
			t.Errorf("Glob(%.20q…) allocates %v times; want 0", tt[0], n)
		}
	}
}

// TestGlobCostBoundsTheWork checks GlobCost: the worst case (a 4 KB part
// of ? against 4 KB) costs more than a whole default budget, a plain
// pattern a couple of operations, and GlobBudget charges it before
// matching.
func TestGlobCostBoundsTheWork(t *testing.T) {
	pattern := "*" + strings.Repeat("a?", 2047) + "b*"
	s := strings.Repeat("a", 4096)
	// 1, the pattern (4098 bytes) and s per 64 bytes, s per 16 characters
	// for each of the 64 words of the 4095-character part.
	if got, want := GlobCost(pattern, s), int64(1+4098/64+4096/64+4096*64/16); got != want {
		t.Errorf("GlobCost of the 4 KB worst case = %d; want %d", got, want)
	}
	if got := GlobCost("docs/*/q?-*.pdf", "docs/2024/q1-report.pdf"); got != 2 {
		t.Errorf("GlobCost of a plain pattern = %d; want 2", got)
	}
	if got := GlobCost("*.pdf", strings.Repeat("x", 640)); got != 11 {
		t.Errorf("GlobCost of a pattern without ? = %d; want 11 (1 and 640 bytes of s)", got)
	}
	b := logic.NewBudget(context.Background(), 10000)
	ok, err := GlobBudget(pattern, s, b, logic.Label("pattern"))
	if ok || !errors.Is(err, logic.ErrBudgetExceeded) || !strings.Contains(err.Error(), "ran out at pattern") || b.Used() != 0 {
		t.Errorf("GlobBudget of the worst case on the default budget = %v, %v after %d operations; want ErrBudgetExceeded naming the pattern, before any work", ok, err, b.Used())
	}
	b = logic.NewBudget(context.Background(), 10000)
	if ok, err := GlobBudget("*"+strings.Repeat("a?", 40)+"*", strings.Repeat("ab", 100), b, logic.Label("pattern")); !ok || err != nil || b.Used() != 1+1+3+200*2/16 {
		t.Errorf("GlobBudget = %v, %v after %d operations; want true, nil after 30 (1, the 82-byte pattern, 200 bytes of s, and 200 characters of s for each of the 2 words of the 80-character part)", ok, err, b.Used())
	}
}

// BenchmarkGlobMatchWorstCase is the worst case of the issue: a 4 KB
// pattern *a?a?…b* against a 4 KB external id of a's (no match).
func BenchmarkGlobMatchWorstCase(b *testing.B) {
	pattern := "*" + strings.Repeat("a?", 2047) + "b*"
	s := strings.Repeat("a", 4096)
	b.ReportAllocs()
	for b.Loop() {
		if Glob(pattern, s) {
			b.Fatal("match")
		}
	}
}

// BenchmarkGlobMatchShortParts is a 64-character part of ? (one word)
// against a 4 KB string.
func BenchmarkGlobMatchShortParts(b *testing.B) {
	pattern := "*" + strings.Repeat("a?", 31) + "b*"
	s := strings.Repeat("a", 4096)
	b.ReportAllocs()
	for b.Loop() {
		if Glob(pattern, s) {
			b.Fatal("match")
		}
	}
}

func FuzzMatchDefinition(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"fields":{"department":"finance","pages":{"gte":1,"lt":100},"labels":{"contains":"q1"},"archivedAt":{"exists":false}}}`,
		`{"fields":{"status":{"in":["a",1,true]},"x":{"notIn":["b"]},"createdAt":{"gt":"2024-01-01T00:00:00Z"}}}`,
		`{"fields":{"owner.ids.1":"b","meta.meta.nested":"yes","department.x":{"exists":false}}}`,
		`{"tags":{"classification":"internal","region":["eu","us"]}}`,
		`{"patterns":{"externalResourceId":"docs/*/q?-*.pdf","title":"*"}}`,
		`{"time":{"createdAt":{"gte":{"relative":"now_minus_30d"},"lt":{"relative":"now"}},"reviewedAt":{"eq":"2024-01-14T10:30:00Z"}}}`,
		`{"condition":{"<":[{"var":"resource.meta.level"},{"var":"subject.meta.clearance"}]}}`,
		`{"any":[{"fields":{"a":1}},{}],"all":[{"none":[{"tags":{"g":"x"}}]}],"none":[{"condition":{"var":"x"}}]}`,
		`{"time":{"createdAt":{"gt":{"relative":"now_minus_x"}}}}`,
		`{"filter":{}}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	inputs := []*Input{matchTestResource(), {}, nil, {
		Props: map[string]any{"createdAt": "not a time", "id": 5},
		Meta:  map[string]any{"x": []any{nil, map[string]any{}}, "a": map[string]any{"==": []any{1.0, 1.0}}},
		Tags:  map[string][]string{"g": nil},
	}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			if !isInvalid(err) {
				t.Fatalf("Parse error %q is not an *Error or a *logic.Error", err)
			}
			return
		}
		for _, in := range inputs {
			ok, err := m.eval(in, matchNow)
			if ok && err != nil {
				t.Fatalf("eval = true with error %v", err)
			}
			// A budget changes nothing but the cost: an ample one gives
			// the same answer, a tight one the same answer or its error.
			b := logic.NewBudget(context.Background(), 1<<40)
			if okB, errB := m.Eval(in, matchNow, b); okB != ok || (errB == nil) != (err == nil) {
				t.Fatalf("Eval = %v, %v; eval = %v, %v", okB, errB, ok, err)
			}
			used := b.Used()
			for _, limit := range []int64{0, used / 2, used - 1} {
				okB, errB := m.Eval(in, matchNow, logic.NewBudget(context.Background(), limit))
				if errors.Is(errB, logic.ErrBudgetExceeded) {
					if okB {
						t.Fatalf("Eval = true with error %v", errB)
					}
					continue
				}
				if okB != ok || (errB == nil) != (err == nil) {
					t.Fatalf("Eval with %d of %d operations = %v, %v; eval = %v, %v", limit, used, okB, errB, ok, err)
				}
			}
		}
	})
}

// TestMatchBudgetRunsOutWithAnError checks that a definition that needs more
// operations than its budget fails with ErrBudgetExceeded wherever the work
// is (fields, tags, a pattern, time, a condition) and however it is nested
// (any, all, none, where a silent failure would turn into a match), and
// that a done context stops it with the context's error; with an ample
// budget each matches, and the operations counted grow with the work.
func TestMatchBudgetRunsOutWithAnError(t *testing.T) {
	long := strings.Repeat("q", 4000)
	in := matchTestResource()
	in.Meta["long"] = long
	in.Meta["list"] = func() []any {
		l := make([]any, 3000)
		for i := range l {
			l[i] = float64(i)
		}
		return l
	}()
	in.Tags["many"] = strings.Fields(strings.Repeat("x ", 200))
	heavy := `{"some":[[` + strings.TrimSuffix(strings.Repeat(`1,`, 500), ",") + `],{"==":[{"var":""},2]}]}`
	sections := map[string]string{
		"fields":    `{"fields":{"long":{"contains":"z"},"list":{"contains":-1}}}`,
		"tags":      `{"tags":{"many":["` + strings.TrimSuffix(strings.Repeat(`y","`, 200), `","`) + `"]}}`,
		"pattern":   `{"patterns":{"long":"*` + strings.Repeat("q?", 100) + `z*"}}`,
		"condition": `{"condition":` + heavy + `}`,
	}
	for name, src := range sections {
		for _, wrap := range []string{"%s", `{"all":[%s]}`, `{"any":[%s]}`, `{"none":[%s]}`, `{"none":[{"none":[%s]}]}`} {
			def := fmt.Sprintf(wrap, src)
			m := mustMatchDef(t, def)
			ample := logic.NewBudget(context.Background(), 1<<40)
			want, err := m.Eval(in, matchNow, ample)
			if err != nil {
				t.Fatalf("%s %s: %v", name, wrap, err)
			}
			if ample.Used() < 100 {
				t.Errorf("%s %s: counted %d operations; want the work counted (100 at least)", name, wrap, ample.Used())
			}
			tight := logic.NewBudget(context.Background(), ample.Used()-1)
			ok, err := m.Eval(in, matchNow, tight)
			if ok || !errors.Is(err, logic.ErrBudgetExceeded) {
				t.Errorf("%s %s with %d of %d operations: got %v, %v; want ErrBudgetExceeded (unbudgeted: %v)", name, wrap, tight.Limit(), ample.Used(), ok, err, want)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			ok, err = m.Eval(in, matchNow, logic.NewBudget(ctx, 1<<40))
			if ok || !errors.Is(err, context.Canceled) {
				t.Errorf("%s %s with a cancelled context: got %v, %v; want context.Canceled", name, wrap, ok, err)
			}
		}
	}
}

func BenchmarkMatchDefinition(b *testing.B) {
	m := mustMatchDef(b, `{
		"fields": {"department": "finance", "pages": {"gte": 1, "lt": 100}},
		"tags": {"region": ["eu", "us"]},
		"patterns": {"externalResourceId": "docs/*/q?-*.pdf"},
		"time": {"createdAt": {"gte": {"relative": "now_minus_30d"}}},
		"none": [{"fields": {"archivedAt": {"exists": true}}}]
	}`)
	in := matchTestResource()
	b.ReportAllocs()
	for b.Loop() {
		if !m.match(in, matchNow) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkGlobMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !Glob("docs/*/q?-*.pdf", "docs/2024/q1-report.pdf") {
			b.Fatal("no match")
		}
	}
}

// TestConditionsOfADefinitionAreLimitedTogether: conditions each within
// logic.MaxCost are refused together when their sum exceeds it (the
// outside review's twelve conditions of 28 × 28 predicate runs), wherever
// they are nested; a definition of one such condition is accepted.
func TestConditionsOfADefinitionAreLimitedTogether(t *testing.T) {
	var l strings.Builder
	l.WriteByte('[')
	for i := range 28 {
		if i > 0 {
			l.WriteByte(',')
		}
		fmt.Fprint(&l, i)
	}
	l.WriteByte(']')
	cond := `{"all":[` + l.String() + `,{"all":[` + l.String() + `,{"<=":[0,{"var":""}]}]}]}`
	one := `{"condition":` + cond + `}`
	if _, err := Parse([]byte(one)); err != nil {
		t.Fatalf("one condition: %v", err)
	}
	for _, src := range []string{
		`{"all":[` + strings.Repeat(one+",", 11) + one + `]}`,
		`{"condition":` + cond + `,"any":[{"none":[` + one + `]}]}`,
	} {
		_, err := Parse([]byte(src))
		var me *Error
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "together") {
			t.Errorf("%.60s…: got %v; want an *Error saying the conditions cost too much together", src, err)
		}
	}
}
