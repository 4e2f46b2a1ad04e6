package authz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
)

// Attack tests of Client.Export and Client.Import: hostile export files,
// imports into stores that are not empty, cancelled imports, exports taken
// while writers write, and the round trip of the kinds the random models
// leave out (tags).

// tagModel is tinyModel with every tag kind: a tag group with an inline
// tag, a tag of its own, bindings and assignments (whose appliedAt and
// appliedBy an import must keep).
func tagModel() authz.Batch {
	bt := tinyModel()
	bt.TagGroups = []authz.TagGroupInput{{ID: "tg_dept", ScopeID: "acme", Key: "dept", Name: "Department",
		Tags: []authz.InlineTagInput{{ID: "tag_eng", Identifier: "eng", Label: "Engineering"}}}}
	bt.Tags = []authz.TagInput{{ID: "tag_ops", TagGroupID: "tg_dept", Identifier: "ops", Label: "Ops"}}
	bt.TagBindings = []authz.TagBindingInput{
		{ID: "tb_subject", TagGroupID: "tg_dept", ModelType: authz.ModelSubject},
		{ID: "tb_resource", TagGroupID: "tg_dept", ModelType: authz.ModelResource},
	}
	bt.TagAssignments = []authz.TagAssignmentInput{
		{ID: "ta_alice", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "alice", ScopeID: "acme"},
		{ID: "ta_doc", TagID: "tag_ops", TargetType: authz.ModelResource, TargetID: "doc_1", ScopeID: "acme"},
	}
	return bt
}

// exportLines exports c and returns its lines, each with its newline.
func exportLines(t *testing.T, c *authz.Client) []string {
	t.Helper()
	var b bytes.Buffer
	must(c.Export(ctx, &b, nil))(t)
	return strings.SplitAfter(strings.TrimSuffix(b.String(), "\n")+"\n", "\n")[:strings.Count(b.String(), "\n")]
}

// tagSource is a memstore Client holding tagModel, written by actor "alice".
func tagSource(t *testing.T) *authz.Client {
	t.Helper()
	c := authztest.NewClient(t, authztest.Memstore(t), testOptions())
	must(c.Apply(authz.WithActor(ctx, "alice"), tagModel()))(t)
	return c
}

// lineOf returns the index of the first line holding every one of subs.
func lineOf(t *testing.T, lines []string, subs ...string) int {
	t.Helper()
next:
	for i, l := range lines {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		return i
	}
	t.Fatalf("no line holds %q", subs)
	return -1
}

// TestAttackExportImportTagsAllBackends: the round trip of a model with
// every tag kind (the random models of TestExportImportRoundTrip have none)
// in batches of one, on every backend, keeps ids, times and actors: the
// second export is the first but for the header.
func TestAttackExportImportTagsAllBackends(t *testing.T) {
	t.Parallel()
	for _, be := range authztest.AllBackends {
		t.Run(be.Name, func(t *testing.T) {
			src := authztest.NewClient(t, be.Open(t), testOptions())
			must(src.Apply(authz.WithActor(ctx, "alice"), tagModel()))(t)
			var first bytes.Buffer
			sum := must(src.Export(ctx, &first, nil))(t)
			if !strings.Contains(first.String(), `"appliedBy":"alice"`) {
				t.Fatalf("export holds no appliedBy of alice:\n%s", first.String())
			}
			opts := testOptions()
			opts.Now = func() time.Time { return authztest.Now.Add(72 * time.Hour) }
			dst := authztest.NewClient(t, be.Open(t), opts)
			imp, err := dst.Import(authz.WithActor(ctx, "importer"), bytes.NewReader(first.Bytes()), &authz.ImportOptions{BatchSize: 1})
			if err != nil {
				t.Fatalf("import: got %v; want nil", err)
			}
			if imp.Objects != sum.Objects || imp.Batches != sum.Objects {
				t.Errorf("import: got %d objects in %d batches; want %d in %d", imp.Objects, imp.Batches, sum.Objects, sum.Objects)
			}
			var second bytes.Buffer
			must(dst.Export(ctx, &second, nil))(t)
			if diff := cmp.Diff(withoutHeader(first.Bytes()), withoutHeader(second.Bytes())); diff != "" {
				t.Errorf("export after import (-first +second):\n%s", diff)
			}
		})
	}
}

// TestAttackImportHostileStamps: the stamps of an export (createdAt,
// createdBy, appliedAt, appliedBy) are not fields of the inputs, so Import
// alone reads them. A value that is not a time or not a string, or is too
// long, must make Import fail at its line with nothing committed; Import
// must never store something other than what the file says (the importing
// Client's clock or actor instead, silently).
func TestAttackImportHostileStamps(t *testing.T) {
	t.Parallel()
	src := tagSource(t)
	lines := exportLines(t, src)
	targets := []struct {
		what     string
		at, by   string
		line     int
		stampsOf func(c *authz.Client) (at time.Time, by string)
	}{
		{what: "resource", at: "createdAt", by: "createdBy", line: lineOf(t, lines, `"kind":"resources"`),
			stampsOf: func(c *authz.Client) (time.Time, string) {
				r := must(c.GetResource(ctx, "doc_1"))(t)
				return r.CreatedAt.Time, r.CreatedBy
			}},
		{what: "tag assignment", at: "appliedAt", by: "appliedBy", line: lineOf(t, lines, `"id":"ta_alice"`),
			stampsOf: func(c *authz.Client) (time.Time, string) {
				for _, a := range must(c.ListTagAssignments(ctx, authz.TagAssignmentFilter{TagID: "tag_eng"}))(t) {
					if a.ID == "ta_alice" {
						return a.AppliedAt.Time, a.AppliedBy
					}
				}
				t.Fatal("ta_alice is not there")
				return time.Time{}, ""
			}},
	}
	hostile := []struct {
		name, at, by string
	}{
		{name: "time not a time", at: `"not a time"`, by: `"mallory"`},
		{name: "time a number", at: `12`, by: `"mallory"`},
		{name: "time null", at: `null`, by: `"mallory"`},
		{name: "time an object", at: `{"t":1}`, by: `"mallory"`},
		{name: "time out of range", at: `"2024-13-45T25:61:00Z"`, by: `"mallory"`},
		{name: "actor a number", at: `"2001-02-03T04:05:06Z"`, by: `7`},
		{name: "actor an object", at: `"2001-02-03T04:05:06Z"`, by: `{"id":"x"}`},
		{name: "actor null", at: `"2001-02-03T04:05:06Z"`, by: `null`},
		{name: "actor 1 MB", at: `"2001-02-03T04:05:06Z"`, by: `"` + strings.Repeat("m", 1<<20) + `"`},
	}
	for _, tg := range targets {
		for _, h := range hostile {
			t.Run(tg.what+"/"+h.name, func(t *testing.T) {
				var item map[string]json.RawMessage
				var l struct {
					Kind string          `json:"kind"`
					Item json.RawMessage `json:"item"`
				}
				must(0, json.Unmarshal([]byte(lines[tg.line]), &l))(t)
				must(0, json.Unmarshal(l.Item, &item))(t)
				item[tg.at], item[tg.by] = json.RawMessage(h.at), json.RawMessage(h.by)
				edited := append([]string(nil), lines...)
				edited[tg.line] = string(must(json.Marshal(map[string]any{"kind": l.Kind, "item": item}))(t)) + "\n"
				opts := testOptions()
				opts.Now = func() time.Time { return authztest.Now.Add(999 * time.Hour) }
				dst := authztest.NewClient(t, authztest.Memstore(t), opts)
				_, err := dst.Import(authz.WithActor(ctx, "importer"), strings.NewReader(strings.Join(edited, "")), nil)
				var ie *authz.ImportError
				if errors.As(err, &ie) {
					if ie.Committed.Objects != 0 || must(dst.Revision(ctx))(t) != 0 {
						t.Errorf("a refused one-batch import committed %d objects", ie.Committed.Objects)
					}
					return
				}
				if err != nil {
					t.Fatalf("import: got %v; want nil or an *ImportError", err)
				}
				// Accepted: then what is stored must be what the file says.
				at, by := tg.stampsOf(dst)
				var wantAt authz.Time
				if json.Unmarshal([]byte(h.at), &wantAt) != nil {
					t.Errorf("%s %s accepted and stored as %v", tg.at, h.at, at)
				} else if !at.Equal(wantAt.Time) {
					t.Errorf("%s: got %v; want %v", tg.at, at, wantAt.Time)
				}
				var wantBy string
				if json.Unmarshal([]byte(h.by), &wantBy) != nil || h.by == "null" {
					t.Errorf("%s %.40s accepted and stored as %q", tg.by, h.by, by)
				} else if by != wantBy {
					t.Errorf("%s: got %.40q; want %.40q", tg.by, by, wantBy)
				}
			})
		}
	}
}

// TestAttackImportFieldsOutsideInputs: only the input fields and the four
// stamps may be set by an import. Every other name is refused at its line,
// including names that differ from a known field only by case (which
// encoding/json would match) and fields a record has but its input does
// not.
func TestAttackImportFieldsOutsideInputs(t *testing.T) {
	t.Parallel()
	src := tagSource(t)
	lines := exportLines(t, src)
	extra := []string{"revision", "level", "depth", "updatedAt", "updatedBy", "tenantId", "homeScopeId", "deletedAt", "__proto__", ""}
	for i := 1; i < len(lines)-1; i++ {
		var l struct {
			Kind string                     `json:"kind"`
			Item map[string]json.RawMessage `json:"item"`
		}
		must(0, json.Unmarshal([]byte(lines[i]), &l))(t)
		var names []string
		for k := range l.Item {
			names = append(names, strings.ToUpper(k), strings.ToUpper(k[:1])+k[1:])
		}
		names = append(names, extra...)
		if _, ok := l.Item["createdAt"]; !ok {
			// Stamps of kinds that have none must not be accepted as
			// something else either: they are dropped or refused.
			names = append(names, "CREATEDBY", "AppliedAt")
		}
		for _, name := range names {
			if _, ok := l.Item[name]; ok {
				continue
			}
			item := map[string]json.RawMessage{}
			for k, v := range l.Item {
				item[k] = v
			}
			item[name] = json.RawMessage(`"x"`)
			edited := append([]string(nil), lines...)
			edited[i] = string(must(json.Marshal(map[string]any{"kind": l.Kind, "item": item}))(t)) + "\n"
			dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
			_, err := dst.Import(ctx, strings.NewReader(strings.Join(edited, "")), nil)
			var ie *authz.ImportError
			if !errors.As(err, &ie) || ie.Line != i+1 || !strings.Contains(err.Error(), "unknown field") {
				t.Errorf("line %d (%s) with field %q: got %v; want an ImportError at line %d naming the unknown field", i+1, l.Kind, name, err, i+1)
			}
		}
	}
}

// TestAttackImportDuplicateKeys: an item that names a field twice
// ({"id":"a",…,"id":"b"}) is ambiguous, as are ids in invalid UTF-8 (which
// encoding/json turns into U+FFFD, so two ids collide). The HTTP wrapper
// refuses both; Import should too, at the line.
func TestAttackImportDuplicateKeys(t *testing.T) {
	t.Parallel()
	src := tagSource(t)
	lines := exportLines(t, src)
	i := lineOf(t, lines, `"kind":"subjects"`, `"id":"bot"`)
	for name, line := range map[string]string{
		"duplicate id":       strings.Replace(lines[i], `"id":"bot"`, `"id":"bot","id":"bot2"`, 1),
		"duplicate kind":     strings.Replace(lines[i], `"kind":"subjects"`, `"kind":"subjects","kind":"subjects"`, 1),
		"invalid UTF-8 id":   strings.Replace(lines[i], `"id":"bot"`, "\"id\":\"bot\xff\"", 1),
		"invalid UTF-8 name": strings.Replace(lines[i], `"externalId":"bot"`, "\"externalId\":\"b\xc3\x28t\"", 1),
	} {
		t.Run(name, func(t *testing.T) {
			edited := append([]string(nil), lines...)
			edited[i] = line
			dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
			_, err := dst.Import(ctx, strings.NewReader(strings.Join(edited, "")), &authz.ImportOptions{BatchSize: 1})
			var ie *authz.ImportError
			if !errors.As(err, &ie) || ie.Line != i+1 {
				t.Errorf("got %v; want an ImportError at line %d", err, i+1)
			}
		})
	}
}

// TestAttackImportLongLine: a line longer than Import's 64 MiB line limit
// fails the import with the number of that line.
func TestAttackImportLongLine(t *testing.T) {
	src := tagSource(t)
	lines := exportLines(t, src)
	// Line 2 (the first object) gets a 65 MiB name; nothing is allocated
	// for it but the Scanner's buffer.
	head := strings.Replace(lines[1], `"name":"`, `"name":"`+"\x00", 1)
	cut := strings.Index(head, "\x00")
	r := io.MultiReader(strings.NewReader(lines[0]+head[:cut]), io.LimitReader(repeatByte('a'), 65<<20),
		strings.NewReader(head[cut+1:]+strings.Join(lines[2:], "")))
	dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
	_, err := dst.Import(ctx, r, nil)
	var ie *authz.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v; want an *ImportError", err)
	}
	if ie.Line != 2 {
		t.Errorf("a line over 64 MiB: got line %d; want 2 (%v)", ie.Line, err)
	}
}

// repeatByte is an endless reader of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// TestAttackImportLyingEnvelope: headers and trailers that lie.
func TestAttackImportLyingEnvelope(t *testing.T) {
	t.Parallel()
	src := tagSource(t)
	lines := exportLines(t, src)
	n := len(lines) - 2
	for _, c := range []struct {
		name string
		edit func(l []string) []string
		want string // "" when the import must succeed
	}{
		{name: "trailer counts more", edit: func(l []string) []string {
			l[len(l)-1] = fmt.Sprintf(`{"end":{"objects":%d}}`, n+1)
			return l
		}, want: "the trailer counts"},
		{name: "trailer counts less", edit: func(l []string) []string {
			l[len(l)-1] = fmt.Sprintf(`{"end":{"objects":%d}}`, n-1)
			return l
		}, want: "the trailer counts"},
		{name: "trailer negative", edit: func(l []string) []string {
			l[len(l)-1] = `{"end":{"objects":-1}}`
			return l
		}, want: "the trailer counts"},
		{name: "trailer not a number", edit: func(l []string) []string {
			l[len(l)-1] = `{"end":{"objects":"15"}}`
			return l
		}, want: "line"},
		{name: "two trailers", edit: func(l []string) []string { return append(l, l[len(l)-1]) }, want: "a line after the trailer"},
		{name: "header twice", edit: func(l []string) []string { return append(l[:1:1], l...) }, want: "line 2"},
		{name: "header only", edit: func(l []string) []string { return l[:1] }, want: "truncated"},
		{name: "header not an object", edit: func(l []string) []string {
			l[0] = `["scopegate-authz-export",1]` + "\n"
			return l
		}, want: "not an export"},
		{name: "format with another case", edit: func(l []string) []string {
			l[0] = strings.Replace(l[0], "scopegate-authz-export", "Scopegate-Authz-Export", 1)
			return l
		}, want: "not an export"},
		{name: "item of another kind", edit: func(l []string) []string {
			i := lineOf(t, l, `"kind":"subjects"`)
			l[i] = strings.Replace(l[i], `"kind":"subjects"`, `"kind":"scopes"`, 1)
			return l
		}, want: "unknown field"},
		{name: "item not an object", edit: func(l []string) []string {
			l[1] = `{"kind":"scopeTypes","item":"org"}` + "\n"
			return l
		}, want: "line 2"},
		{name: "item an array", edit: func(l []string) []string {
			l[1] = `{"kind":"scopeTypes","item":[{"id":"org"}]}` + "\n"
			return l
		}, want: "line 2"},
		{name: "kind without item", edit: func(l []string) []string {
			l[1] = `{"kind":"scopeTypes"}` + "\n"
			return l
		}, want: "line 2"},
		{name: "blank line", edit: func(l []string) []string {
			return append(l[:2:2], append([]string{"\n"}, l[2:]...)...)
		}, want: "line 3"},
		{name: "CRLF lines", edit: func(l []string) []string {
			for i := range l {
				l[i] = strings.TrimSuffix(l[i], "\n") + "\r\n"
			}
			return l
		}},
		{name: "objects out of dependency order in one batch", edit: func(l []string) []string {
			body := append([]string(nil), l[1:len(l)-1]...)
			for i, j := 0, len(body)-1; i < j; i, j = i+1, j-1 {
				body[i], body[j] = body[j], body[i]
			}
			return append(append(l[:1:1], body...), l[len(l)-1])
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := strings.Join(c.edit(append([]string(nil), lines...)), "")
			dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
			got, err := dst.Import(ctx, strings.NewReader(data), nil)
			if c.want == "" {
				if err != nil {
					t.Fatalf("got %v; want nil", err)
				}
				if got.Objects != n {
					t.Errorf("got %d objects; want %d", got.Objects, n)
				}
				return
			}
			var ie *authz.ImportError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want an *ImportError with %q", err, c.want)
			}
			if rev := must(dst.Revision(ctx))(t); rev != 0 || ie.Committed.Objects != 0 {
				t.Errorf("refused one-batch import: revision %d, %d committed; want nothing", rev, ie.Committed.Objects)
			}
		})
	}
}

// countObjects returns the number of objects an export of c holds.
func countObjects(t *testing.T, c *authz.Client) int {
	t.Helper()
	return must(c.Export(ctx, io.Discard, nil))(t).Objects
}

// TestAttackImportCommittedMatchesStore: an import into a store that
// already holds one of the export's objects fails at that object's batch;
// what the ImportError says was committed is what the store holds, for
// every position of the clash and every batch size.
func TestAttackImportCommittedMatchesStore(t *testing.T) {
	t.Parallel()
	src := tagSource(t)
	lines := exportLines(t, src)
	n := len(lines) - 2
	for _, size := range []int{1, 2, 5, 0} {
		for clash := 1; clash <= n; clash += 3 {
			dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
			// The store holds the objects up to the clash (imported in one
			// batch of a shortened export) and so the clash object too.
			pre := append(append([]string(nil), lines[:clash+1]...), fmt.Sprintf(`{"end":{"objects":%d}}`+"\n", clash))
			must(dst.Import(ctx, strings.NewReader(strings.Join(pre, "")), nil))(t)
			// Drop the objects before the clash: the clash is the first
			// object the second import writes.
			rest := append(append(lines[:1:1], lines[clash:len(lines)-1]...), fmt.Sprintf(`{"end":{"objects":%d}}`+"\n", n-clash+1))
			before := countObjects(t, dst)
			got, err := dst.Import(ctx, strings.NewReader(strings.Join(rest, "")), &authz.ImportOptions{BatchSize: size})
			var ie *authz.ImportError
			if !errors.As(err, &ie) || !errors.Is(err, authz.ErrAlreadyExists) {
				t.Fatalf("size %d clash %d: got %v; want an ImportError wrapping ErrAlreadyExists", size, clash, err)
			}
			if ie.Line != 2 || ie.Committed.Objects != 0 || got.Objects != 0 {
				t.Errorf("size %d clash %d: line %d, %d committed; want line 2, none", size, clash, ie.Line, ie.Committed.Objects)
			}
			if after := countObjects(t, dst); after != before {
				t.Errorf("size %d clash %d: store went from %d to %d objects; the import says it committed none", size, clash, before, after)
			}
		}
	}
}

// TestAttackImportResumeAfterFailure: the documentation of Import says a
// failed import can be finished by importing the rest of the export (the
// lines before ImportError.Line skipped) into the same store. Doing so,
// with the header kept, must work.
func TestAttackImportResumeAfterFailure(t *testing.T) {
	t.Parallel()
	src := tagSource(t)
	lines := exportLines(t, src)
	// The import fails at a refused object in the middle.
	bad := lineOf(t, lines, `"kind":"roles"`)
	edited := append([]string(nil), lines...)
	edited[bad] = strings.Replace(lines[bad], `"scopeId":"acme"`, `"scopeId":"nowhere"`, 1)
	dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
	_, err := dst.Import(ctx, strings.NewReader(strings.Join(edited, "")), &authz.ImportOptions{BatchSize: 2})
	var ie *authz.ImportError
	if !errors.As(err, &ie) || ie.Line < 2 {
		t.Fatalf("got %v; want an ImportError at a line", err)
	}
	if got := countObjects(t, dst); got != ie.Committed.Objects {
		t.Fatalf("store holds %d objects; ImportError says %d were committed", got, ie.Committed.Objects)
	}
	// Resume as documented: the corrected export again, skipping what the
	// failed import committed.
	_, err = dst.Import(ctx, strings.NewReader(strings.Join(lines, "")), &authz.ImportOptions{BatchSize: 2, Skip: ie.Committed.Objects})
	if err != nil {
		t.Fatalf("resuming the failed import with Skip %d: %v", ie.Committed.Objects, err)
	}
	var a, b bytes.Buffer
	must(src.Export(ctx, &a, nil))(t)
	must(dst.Export(ctx, &b, nil))(t)
	if diff := cmp.Diff(withoutHeader(a.Bytes()), withoutHeader(b.Bytes())); diff != "" {
		t.Errorf("resumed import (-source +resumed):\n%s", diff)
	}
}

// TestAttackImportCancelled: a ctx cancelled between batches stops the
// import with ctx's error; what it says it committed is what the store
// holds, and nothing is written after the cancel.
func TestAttackImportCancelled(t *testing.T) {
	t.Parallel()
	for _, be := range authztest.AllBackends {
		t.Run(be.Name, func(t *testing.T) {
			src := tagSource(t)
			var exp bytes.Buffer
			sum := must(src.Export(ctx, &exp, nil))(t)
			for stop := 1; stop < sum.Objects; stop += 4 {
				dst := authztest.NewClient(t, be.Open(t), testOptions())
				cctx, cancel := context.WithCancel(ctx)
				calls := 0
				got, err := dst.Import(cctx, bytes.NewReader(exp.Bytes()), &authz.ImportOptions{BatchSize: 1, Progress: func(n int) {
					calls++
					if n == stop {
						cancel()
					}
				}})
				cancel()
				var ie *authz.ImportError
				if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
					t.Fatalf("stop %d: got %v; want an ImportError wrapping context.Canceled", stop, err)
				}
				if ie.Committed.Objects != stop || got.Objects != stop || calls != stop {
					t.Errorf("stop %d: committed %d (summary %d, %d progress calls); want %d", stop, ie.Committed.Objects, got.Objects, calls, stop)
				}
				if n := countObjects(t, dst); n != stop {
					t.Errorf("stop %d: store holds %d objects after the cancel; want %d", stop, n, stop)
				}
				if rev := must(dst.Revision(ctx))(t); rev != ie.Committed.Revision {
					t.Errorf("stop %d: store revision %d; ImportError says %d", stop, rev, ie.Committed.Revision)
				}
			}
		})
	}
}

// TestAttackExportSnapshotUnderWrites: an export taken while a writer adds
// scopes holds exactly the scopes committed at or before the revision it
// reports, and its trailer counts its objects; it imports into an empty
// store whose export is the same.
func TestAttackExportSnapshotUnderWrites(t *testing.T) {
	t.Parallel()
	for _, be := range authztest.AllBackends {
		t.Run(be.Name, func(t *testing.T) {
			c := authztest.NewClient(t, be.Open(t), testOptions())
			base := must(c.Apply(ctx, tinyModel()))(t).Revision
			var mu sync.Mutex
			atRev := map[uint64][]string{} // revision → scopes it added
			done := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					ids := []string{fmt.Sprintf("w%04d_a", i), fmt.Sprintf("w%04d_b", i)}
					r, err := c.Apply(ctx, authz.Batch{Scopes: []authz.ScopeInput{{ID: ids[0], TypeID: "org"}, {ID: ids[1], TypeID: "team", ParentScopeID: ids[0]}}})
					if err != nil {
						t.Errorf("writer: %v", err)
						return
					}
					mu.Lock()
					atRev[r.Revision] = ids
					mu.Unlock()
				}
			}()
			written := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(atRev)
			}
			var exports [][]byte
			var sums []authz.ExportSummary
			// Export until the writer has committed 30 batches, at least 8
			// times, each export racing the writer.
			for len(exports) < 8 || written() < 30 {
				var b bytes.Buffer
				sums = append(sums, must(c.Export(ctx, &b, nil))(t))
				exports = append(exports, b.Bytes())
			}
			// One more, begun after 30 writes committed: on a busy machine
			// all of them may have come during the export before.
			var final bytes.Buffer
			sums = append(sums, must(c.Export(ctx, &final, nil))(t))
			exports = append(exports, final.Bytes())
			close(done)
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			for k, exp := range exports {
				var want []string
				for rev, ids := range atRev {
					if rev <= sums[k].Revision {
						want = append(want, ids...)
					}
				}
				var got []string
				for l := range strings.SplitSeq(string(exp), "\n") {
					var item struct {
						Kind string `json:"kind"`
						Item struct {
							ID string `json:"id"`
						} `json:"item"`
					}
					if json.Unmarshal([]byte(l), &item) == nil && item.Kind == "scopes" && strings.HasPrefix(item.Item.ID, "w") {
						got = append(got, item.Item.ID)
					}
				}
				if k == len(exports)-1 && len(got) == 0 {
					t.Errorf("the last export holds none of the writer's scopes: no export raced the writer")
				}
				if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
					t.Errorf("export %d at revision %d (base %d): writer scopes (-committed by then +exported):\n%s", k, sums[k].Revision, base, diff)
				}
				if !strings.HasSuffix(string(exp), fmt.Sprintf(`{"end":{"objects":%d}}`+"\n", sums[k].Objects)) {
					t.Errorf("export %d: trailer does not count its %d objects", k, sums[k].Objects)
				}
			}
			last := exports[len(exports)-1]
			dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
			must(dst.Import(ctx, bytes.NewReader(last), nil))(t)
			var again bytes.Buffer
			must(dst.Export(ctx, &again, nil))(t)
			if diff := cmp.Diff(withoutHeader(last), withoutHeader(again.Bytes())); diff != "" {
				t.Errorf("import of the last export (-exported +imported):\n%s", diff)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
