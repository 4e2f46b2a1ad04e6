package authz

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/authz/internal/flatjson"
)

// recordDecoders checks, for every record kind of the store, that what the
// fast path of a graph build (internal/flatjson) decodes, encoding/json
// decodes to the same value: each returns a mismatch in words, or "".
var recordDecoders = map[string]func(data []byte) string{
	"scope type":          sameDecode[ScopeType],
	"scope type edge":     sameDecode[ScopeTypeEdge],
	"scope":               sameDecode[Scope],
	"scope edge":          sameDecode[ScopeEdge],
	"subject":             sameDecode[Subject],
	"membership":          sameDecode[Membership],
	"role assignment":     sameDecode[RoleAssignment],
	"role":                sameDecode[Role],
	"permission":          sameDecode[Permission],
	"role permission":     sameDecode[RolePermission],
	"scope override":      sameDecode[ScopeOverride],
	"resource type":       sameDecode[ResourceType],
	"resource type edge":  sameDecode[ResourceTypeEdge],
	"resource":            sameDecode[Resource],
	"resource edge":       sameDecode[ResourceEdge],
	"resource scope link": sameDecode[ResourceScopeLink],
	"collection":          sameDecode[Collection],
	"policy":              sameDecode[ResourcePolicy],
	"tag group":           sameDecode[TagGroup],
	"tag":                 sameDecode[Tag],
	"tag binding":         sameDecode[TagBinding],
	"tag assignment":      sameDecode[TagAssignment],
}

func sameDecode[T any](data []byte) string {
	var fast T
	if !flatjson.For[T]().Decode(data, &fast) {
		return ""
	}
	var slow T
	if err := json.Unmarshal(data, &slow); err != nil {
		return "the fast path decoded it, encoding/json refused it: " + err.Error()
	}
	if !reflect.DeepEqual(fast, slow) {
		return "decoded values differ"
	}
	return ""
}

// TestRecordDecodersCoverEveryKind keeps recordDecoders in step with the
// kinds of the store.
func TestRecordDecodersCoverEveryKind(t *testing.T) {
	for _, row := range kindTable {
		if recordDecoders[row.kind.name] == nil {
			t.Errorf("kind %q: no entry in recordDecoders", row.kind.name)
		}
	}
}

// FuzzDecodeRecords decodes any text as every record kind: whatever the
// fast path decodes, encoding/json decodes to the same value. The seeds are
// records as the store writes them, and variants with duplicated keys,
// nulls, escapes, case-folded and unknown keys, numbers and nesting.
func FuzzDecodeRecords(f *testing.F) {
	at := Time{time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	n := 3
	id := "m1"
	for _, r := range []any{
		&ScopeType{ID: "st", Name: "tenant", Config: ScopeTypeConfig{}},
		&Scope{ID: "s1", TypeID: "tenant", Meta: map[string]any{"a": 1.0, "b": []any{"x", nil, true}}},
		&Subject{ID: "u1", SubjectType: "user", ExternalID: "u1", Meta: map[string]any{"dept": "ops"}},
		&Membership{ID: "m1", SubjectID: "u1", ScopeID: "s1"},
		&Permission{ID: "p1", ScopeID: "s1", Action: "read", ResourceType: "doc", ResourcePattern: "*", Key: "doc:read", Logic: json.RawMessage(`{"==":[1,1]}`)},
		&RolePermission{ID: "rp", RoleID: "r", PermissionID: "p", Condition: json.RawMessage(`{"var":"x"}`)},
		&ScopeOverride{ID: "o", Kind: "role", ChildScopeID: "s", RoleID: "r", State: "disabled"},
		&Resource{ID: "o1", ResourceTypeID: "t1", ScopeID: "s1", ExternalResourceID: "x1", CreatedAt: at, Meta: map[string]any{"n": math.Copysign(0, -1), "big": 1e308}},
		&ResourceEdge{ID: "e", ParentResourceID: "a", ChildResourceID: "b", RelationshipType: "contains", Cascade: "none"},
		&ResourceScopeLink{ID: "l", ResourceID: "o", ScopeID: "s", LinkType: "shared", Metadata: map[string]any{"k": "v"}, CreatedAt: at},
		&Collection{ID: "c", ScopeID: "s", Name: "c", MatchDefinition: json.RawMessage(`{"all":[]}`), CreatedAt: at},
		&ResourcePolicy{ID: "pol", ScopeID: "s", Name: "p", Actions: []string{"read", "write"}, Effect: "deny", Priority: 3, CreatedAt: at},
		&TagGroup{ID: "tg", ScopeID: "s", Key: "k", Name: "n", MaxAppliedPerTarget: &n, Origin: "user", IsLocked: true, CreatedAt: at},
		&TagBinding{ID: "tb", TagGroupID: "tg", ModelType: "role", ModelID: &id},
		&TagAssignment{ID: "ta", TagID: "t", TargetType: "subject", TargetID: "u", ScopeID: "s", AppliedBy: "u", AppliedAt: at},
	} {
		raw, err := json.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		s := string(raw)
		f.Add(s)
		body := strings.TrimSuffix(s, "}")
		f.Add(body + `,"id":"twice"}`)
		f.Add(body + `,"meta":null}`)
		f.Add(body + `,"meta":{"z":1E+2,"w":0.0},"meta":{"z":"\u00e9"}}`)
		f.Add(body + `,"ID":"x"}`)
		f.Add(body + `,"ſcopeId":"x"}`)
		f.Add(body + `,"createdAt":null}`)
		f.Add(body + `,"createdAt":"2026-12-03T08:00:00+01:00"}`)
		f.Add(body + `,"priority":1e2,"priority":"3"}`)
		f.Add(body + `,"maxAppliedPerTarget":null,"modelId":null}`)
		f.Add(body + `,"logic":null,"condition":[[[]]]}`)
		f.Add(body + `,"config":{"a":1},"config":null}`)
		f.Add(strings.Replace(s, `"id"`, `"i\u0064"`, 1))
	}
	f.Fuzz(func(t *testing.T, data string) {
		for name, check := range recordDecoders {
			if msg := check([]byte(data)); msg != "" {
				t.Fatalf("%s %q: %s", name, data, msg)
			}
		}
	})
}
