package authz

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz/internal/flatjson"
)

// TestCommonRecordsDecodeFast: the records a large store holds most of
// (memberships, role assignments, resources and subjects, with their meta,
// scopes, role permissions), encoded as the store encodes them, take the
// fast path of a graph build (internal/flatjson) and decode to the record.
func TestCommonRecordsDecodeFast(t *testing.T) {
	at := Time{time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	decodesFast(t, &Membership{ID: "m1", SubjectID: "u1", ScopeID: "s1"})
	decodesFast(t, &RoleAssignment{ID: "ra1", MembershipID: "m1", RoleID: "r1"})
	decodesFast(t, &Resource{ID: "o1", ResourceTypeID: "t1", ScopeID: "s1", ExternalResourceID: "x1", OwnerID: "u1", CreatedAt: at, CreatedBy: "system"})
	decodesFast(t, &Resource{ID: "o1", ResourceTypeID: "t1", ScopeID: "s1", ExternalResourceID: "x1", OwnerID: "u1", CreatedAt: at,
		Meta: map[string]any{"level": 3.0, "labels": []any{"a", "é"}, "nested": map[string]any{"ok": true, "none": nil}}})
	decodesFast(t, &Subject{ID: "u1", SubjectType: "user", ExternalID: "u1"})
	decodesFast(t, &Subject{ID: "u1", SubjectType: "user", ExternalID: "u1", DisplayName: "Zoë \"Z\"", Meta: map[string]any{"dept": "ops"}})
	decodesFast(t, &Scope{ID: "s1", TypeID: "tenant"})
	decodesFast(t, &RolePermission{ID: "rp1", RoleID: "r1", PermissionID: "p1"})
}

func decodesFast[T any](t *testing.T, rec *T) {
	t.Helper()
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got T
	if !flatjson.For[T]().Decode(raw, &got) {
		t.Errorf("%s: not decoded by the fast path", raw)
		return
	}
	if diff := cmp.Diff(rec, &got); diff != "" {
		t.Errorf("%s: decoded value differs (-want +got):\n%s", raw, diff)
	}
}
