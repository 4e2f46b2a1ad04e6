package authz_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/storage"
)

func TestCheckConsistentStore(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			store := be.open(t)
			c := must(authz.New(store, testOptions()))(t)
			if err := c.Check(ctx); err != nil {
				t.Fatalf("empty store: got %v; want nil", err)
			}
			benchModel(t, c)
			must(c.Apply(ctx, authz.Batch{
				TagGroups:          []authz.TagGroupInput{{ID: "tg_env", ScopeID: "acme", Key: "env", Name: "Env"}},
				Tags:               []authz.TagInput{{ID: "tag_prod", TagGroupID: "tg_env", Identifier: "prod", Label: "Prod"}},
				TagBindings:        []authz.TagBindingInput{{TagGroupID: "tg_env", ModelType: authz.ModelResource}},
				TagAssignments:     []authz.TagAssignmentInput{{TagID: "tag_prod", TargetType: authz.ModelResource, TargetID: "doc_sales", ScopeID: "acme"}},
				ScopeOverrides:     []authz.ScopeOverrideInput{{ChildScopeID: "api", Kind: authz.OverrideRole, RoleID: "editor", State: authz.OverrideDisabled}},
				ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ResourceID: "doc_api", ScopeID: "sales", LinkType: authz.LinkMirror}},
			}))(t)
			if err := c.Check(ctx); err != nil {
				t.Fatalf("after loading a model: got %v; want nil", err)
			}
		})
	}
}

// TestCheckFindsCorruption damages a consistent store in one way per case,
// behind the Client's back, and requires Check to name the damage.
func TestCheckFindsCorruption(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		damage func(tx storage.Tx) error
		want   string
	}{
		{"index entry deleted", func(tx storage.Tx) error {
			return tx.Delete("index", "resource.scope\x00api\x00doc_api")
		}, `index entry "resource.scope/api/doc_api" is missing`},
		{"stray index entry", func(tx storage.Tx) error {
			return tx.Put("index", "membership.subject\x00alice\x00ghost", nil)
		}, `index entry "membership.subject/alice/ghost" belongs to no record`},
		{"ids entry deleted", func(tx storage.Tx) error { return tx.Delete("ids", "doc_api") }, `resource "doc_api": missing from the ids table`},
		{"record deleted, references dangle", func(tx storage.Tx) error { return tx.Delete("roles", "viewer") }, `refers to "viewer" (index role_assign.role), which does not exist`},
		{"record that does not decode", func(tx storage.Tx) error { return tx.Put("scopes", "eng", []byte("{")) }, `scope "eng": record does not decode`},
		{"unique entry pointing elsewhere", func(tx storage.Tx) error {
			return tx.Put("unique", "resource.external\x00rt_doc\x00api-spec", []byte("doc_acme"))
		}, `names "doc_acme"; want "doc_api"`},
		{"revision of the wrong size", func(tx storage.Tx) error { return tx.Put("meta", "revision", []byte{1}) }, "revision has 1 bytes"},
		{"unknown schema", func(tx storage.Tx) error { return tx.Put("meta", "schema", []byte("9")) }, `schema version "9"; want 2`},
		{"level record deleted", func(tx storage.Tx) error { return tx.Delete("scope_levels", "eng") }, `scope "eng": level record is missing`},
		{"level record of another tree", func(tx storage.Tx) error {
			return tx.Put("scope_levels", "eng", []byte(`{"d":1,"p":"acme","r":"globex","j":"acme","jd":0}`))
		}, `scope "eng": level record says depth 1, parent "acme", root "globex"`},
		{"stray level record", func(tx storage.Tx) error {
			return tx.Put("scope_levels", "ghost", []byte(`{"d":0,"r":"ghost","j":"ghost"}`))
		}, `level record "ghost" belongs to no scope`},
		{"level record that does not decode", func(tx storage.Tx) error { return tx.Put("scope_levels", "eng", []byte("[")) }, `scope "eng": level record does not decode`},
		{"audit entry deleted", func(tx storage.Tx) error { return tx.Delete("audit", auditKey(3)) }, "audit entries 3..3 are missing"},
		{"last audit entry deleted", func(tx storage.Tx) error { return tx.Delete("audit", auditKey(lastAudit(tx))) }, "are missing"},
		{"audit entry past the end", func(tx storage.Tx) error {
			v, _ := tx.Get("audit", auditKey(1))
			return tx.Put("audit", auditKey(lastAudit(tx)+1), v)
		}, "lies outside the feed's bounds"},
		{"audit entry that does not decode", func(tx storage.Tx) error { return tx.Put("audit", auditKey(2), []byte("{")) }, "audit entry 2 does not decode"},
		{"audit entry of another seq", func(tx storage.Tx) error {
			v, _ := tx.Get("audit", auditKey(1))
			return tx.Put("audit", auditKey(2), v)
		}, "audit entry 2 says it is entry 1"},
		{"audit entry from the future", func(tx storage.Tx) error {
			v, _ := tx.Get("audit", auditKey(2))
			return tx.Put("audit", auditKey(2), []byte(strings.Replace(string(v), `"revision":`, `"revision":9999`, 1)))
		}, "audit entry 2: revision 9999"},
		{"audit counter of the wrong size", func(tx storage.Tx) error { return tx.Put("meta", "auditSeq", []byte{1}) }, `meta "auditSeq" is 1 bytes; want 8`},
	}
	for _, be := range backends {
		for _, tc := range cases {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				benchModel(t, c)
				if err := store.Update(ctx, tc.damage); err != nil {
					t.Fatal(err)
				}
				err := c.Check(ctx)
				var ce *authz.CheckError
				if !errors.As(err, &ce) {
					t.Fatalf("got %v; want a *CheckError", err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v; want a problem containing %q", err, tc.want)
				}
			})
		}
	}
}

func auditKey(seq uint64) string { return string(binary.BigEndian.AppendUint64(nil, seq)) }

// lastAudit returns the seq of the last entry of the audit feed.
func lastAudit(tx storage.Tx) uint64 {
	v, _ := tx.Get("meta", "auditSeq")
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
