package authz

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scopegate/authz/storage"
)

// The audit feed records every object each committed write created,
// updated or deleted, with who, when and the object before and after:
//
//	audit  seq (8 bytes big endian) → Change (JSON)
//	meta   "auditSeq" → the last seq written; "auditFirst" → the oldest kept
//
// It is written in the write's transaction, so it holds exactly the
// committed writes, and trimmed there too (AuditRetention). It is separate
// from the change log the graph catches up with (write.go): trimming one
// never affects the other.
const (
	tableAudit     = "audit"
	metaAuditSeq   = "auditSeq"
	metaAuditFirst = "auditFirst"
)

// DefaultAuditMaxEntries and DefaultAuditMaxAge are the defaults of
// AuditRetention.
const (
	DefaultAuditMaxEntries = 100_000
	DefaultAuditMaxAge     = 90 * 24 * time.Hour
)

// AuditRetention bounds the audit feed. Each write trims, in its own
// transaction, the oldest entries beyond MaxEntries and those older than
// MaxAge (a bounded number per write: a feed whose entries all aged at
// once shrinks over the next writes). The feed costs one more stored entry
// per object a write creates, updates or deletes, and its removal once
// trimmed: a bulk load into memstore loads about a third fewer objects per
// second with it (BENCHMARKS.md).
type AuditRetention struct {
	// MaxEntries is the most entries kept: 0 means
	// DefaultAuditMaxEntries; a negative value turns the feed off (no
	// entry is written, and the feed reads empty).
	MaxEntries int
	// MaxAge is how long an entry is kept: 0 means DefaultAuditMaxAge; a
	// negative value keeps entries whatever their age.
	MaxAge time.Duration
}

// ChangeAction says what a change did to its object.
type ChangeAction string

// The actions of a Change.
const (
	ChangeCreate ChangeAction = "create"
	ChangeUpdate ChangeAction = "update"
	ChangeDelete ChangeAction = "delete"
)

// Change is an entry of the audit feed: one object that a committed write
// created, updated or deleted.
type Change struct {
	// Seq is the entry's position in the feed, from 1, in commit order.
	Seq uint64 `json:"seq"`
	// Revision is the revision the write committed.
	Revision uint64 `json:"revision"`
	// Time is when the write was made (Options.Now), and Actor who made it
	// (WithActor; SystemActor without one).
	Time  Time   `json:"time"`
	Actor string `json:"actor"`
	// Op names the write: the batch ("apply", "create scopes", "import")
	// or the call ("update role", "delete scope": a delete's cascade is
	// part of it).
	Op string `json:"op"`
	// Action is what the write did to the object.
	Action ChangeAction `json:"action"`
	// Kind is the object's kind, as the list of Batch that creates it
	// names it ("scopes", "memberships"), and ID its id.
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// ScopeID is the scope the object hangs on after the write (before it,
	// for a deletion): a scope's own id; the child scope of a scope edge
	// or of a scope override; the scope of a role permission's role, a
	// role assignment's membership, a resource edge's child resource, a
	// resource type edge's child type and a tag binding's tag group;
	// otherwise the object's scopeId. Scope
	// types, scope type edges and subjects hang on none. PreviousScopeID
	// is set when an update moved the object from another scope.
	ScopeID         string `json:"scopeId,omitempty"`
	PreviousScopeID string `json:"previousScopeId,omitempty"`
	// Before and After are the object as the library's JSON shape shows
	// it, before and after the write; Before is absent for a creation and
	// After for a deletion.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// ChangesInput selects entries of the audit feed.
type ChangesInput struct {
	// After is the Seq of the last entry already seen: entries after it
	// are returned. Zero starts at the oldest entry kept.
	After uint64 `json:"after,omitempty"`
	// Limit bounds the entries returned: 0 means 100, and at most 1,000.
	Limit int `json:"limit,omitempty"`
	// Kind, when set, keeps the changes of that kind ("scopes").
	Kind string `json:"kind,omitempty"`
	// ID, when set, keeps the changes of that object.
	ID string `json:"id,omitempty"`
	// ScopeID, when set, keeps the changes of objects that hang on that
	// scope (Change.ScopeID or PreviousScopeID) or, with Subtree, on a
	// scope of its subtree. The subtree is the scope tree as the store
	// holds it when the page is read: a change in a scope since deleted
	// or moved out is kept only by its own id. The scope must exist
	// (ErrNotFound) unless Subtree is false.
	ScopeID string `json:"scopeId,omitempty"`
	Subtree bool   `json:"subtree,omitempty"`
}

// ChangePage is a page of the audit feed.
type ChangePage struct {
	// Changes are the entries, in Seq order.
	Changes []Change `json:"changes"`
	// Next is the After of the next page: the Seq of the last entry this
	// page examined, which with filters may be past the last returned.
	Next uint64 `json:"next"`
	// More reports that entries after Next existed when the page was read.
	More bool `json:"more"`
}

// maxChangesScanned bounds the entries one Changes call examines, so that a
// filter that matches little costs a bounded read; More then says to go on.
const maxChangesScanned = 10_000

// Changes returns a page of the audit feed. Entries trimmed by the
// retention are gone: a page that starts before the oldest kept entry
// starts at it.
func (c *Client) Changes(ctx context.Context, in ChangesInput) (ChangePage, error) {
	limit := in.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	page := ChangePage{Changes: []Change{}, Next: in.After}
	err := c.store.View(ctx, func(tx storage.Tx) error {
		first, last, err := auditBounds(tx)
		if err != nil {
			return err
		}
		scopes := map[string]bool{in.ScopeID: true}
		if in.ScopeID != "" && in.Subtree {
			sub, err := newSubtree(tx, in.ScopeID)
			if err != nil {
				return err
			}
			scopes = sub.scopes
		}
		seq := max(in.After+1, first)
		scanned := 0
		for seq <= last && len(page.Changes) < limit && scanned < maxChangesScanned {
			if err := ctx.Err(); err != nil {
				return err
			}
			end := min(last, seq+255)
			if p, ok := tx.(storage.Prefetcher); ok {
				keys := make([]string, 0, end-seq+1)
				for s := seq; s <= end; s++ {
					keys = append(keys, auditKey(s))
				}
				if err := p.Prefetch(tableAudit, keys); err != nil {
					return err
				}
			}
			for ; seq <= end && len(page.Changes) < limit; seq++ {
				scanned++
				page.Next = seq
				raw, err := tx.Get(tableAudit, auditKey(seq))
				if errors.Is(err, storage.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				var ch Change
				if err := json.Unmarshal(raw, &ch); err != nil {
					return corruptf("audit entry %d does not decode: %v", seq, err)
				}
				if (in.Kind == "" || ch.Kind == in.Kind) && (in.ID == "" || ch.ID == in.ID) &&
					(in.ScopeID == "" || scopes[ch.ScopeID] || scopes[ch.PreviousScopeID]) {
					page.Changes = append(page.Changes, ch)
				}
			}
		}
		page.More = page.Next < last
		return nil
	})
	if err != nil {
		return ChangePage{}, fmt.Errorf("authz: changes: %w", err)
	}
	return page, nil
}

// WatchChanges returns the entries of the audit feed after after, and then
// each new one as writes commit — with pgstore, writes of every process,
// as soon as this process learns of them — until ctx ends or the caller
// stops the loop. An error ends the sequence; so does ctx, with ctx.Err().
// With filters in, only matching entries are yielded.
func (c *Client) WatchChanges(ctx context.Context, in ChangesInput) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		w, _ := c.store.(storage.Watcher)
		for {
			var changed <-chan struct{}
			if w != nil {
				_, changed = w.Watch()
			}
			page, err := c.Changes(ctx, in)
			if err != nil {
				yield(Change{}, err)
				return
			}
			for _, ch := range page.Changes {
				if !yield(ch, nil) {
					return
				}
			}
			in.After = page.Next
			if page.More {
				continue
			}
			timer := time.NewTimer(time.Second) // a store that does not tell of commits is polled
			select {
			case <-ctx.Done():
				timer.Stop()
				yield(Change{}, ctx.Err())
				return
			case <-changed:
			case <-timer.C:
			}
			timer.Stop()
		}
	}
}

func auditKey(seq uint64) string { return string(binary.BigEndian.AppendUint64(nil, seq)) }

// auditBounds returns the oldest kept and the last written seq of the
// feed (first > last when it is empty).
func auditBounds(tx storage.Tx) (first, last uint64, err error) {
	if last, err = readCounter(tx, metaAuditSeq); err != nil {
		return 0, 0, err
	}
	if first, err = readCounter(tx, metaAuditFirst); err != nil {
		return 0, 0, err
	}
	return max(first, 1), last, nil
}

func readCounter(tx storage.Tx, key string) (uint64, error) {
	v, err := tx.Get(tableMeta, key)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, corruptf("meta %q is %d bytes; want 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// auditChange is what a write did to one object so far: the object before
// the write (nil: it did not exist) and after it (nil: deleted).
type auditChange struct {
	kind          *kindSpec
	id            string
	before, after []byte
	// scopeBefore and scopeAfter are the scopes the object hung on
	// (Change.ScopeID). When the object after the write hangs on the
	// scope of the object it names, afterRef and afterRefID name that
	// object, read when the write commits.
	scopeBefore, scopeAfter string
	afterRef                *kindSpec
	afterRefID              string
}

// recordChange notes that the write stored r (JSON v) over old (nil for a
// creation), or deleted old (r and v nil).
func (w *writeTx) recordChange(k *kindSpec, id string, old, r record, v []byte) error {
	if w.audit == nil {
		return nil
	}
	ch, ok := w.audit.byID[id]
	if !ok {
		ch = &auditChange{kind: k, id: id}
		if old != nil {
			b, err := json.Marshal(old)
			if err != nil {
				return err
			}
			ch.before = b
			// Read now: a delete's cascade may delete the object named.
			scope, ref, refID := scopeOf(old)
			if ref != nil {
				if scope, err = scopeThrough(w, ref, refID); err != nil {
					return err
				}
			}
			ch.scopeBefore = scope
		}
		w.audit.byID[id] = ch
		w.audit.order = append(w.audit.order, id)
	}
	ch.after = v
	ch.scopeAfter, ch.afterRef, ch.afterRefID = "", nil, ""
	if r != nil {
		ch.scopeAfter, ch.afterRef, ch.afterRefID = scopeOf(r)
	}
	return nil
}

// scopeOf returns the scope r hangs on (Change.ScopeID) or, when r hangs
// on the scope of an object it names, that object's kind and id.
func scopeOf(r record) (scope string, ref *kindSpec, refID string) {
	switch r := r.(type) {
	case *Scope:
		return r.ID, nil, ""
	case *ScopeEdge:
		return r.ChildScopeID, nil, ""
	case *ScopeOverride:
		return r.ChildScopeID, nil, ""
	case *RolePermission:
		return "", roleKind, r.RoleID
	case *RoleAssignment:
		return "", membershipKind, r.MembershipID
	case *ResourceEdge:
		return "", resourceKind, r.ChildResourceID
	case *TagBinding:
		return "", tagGroupKind, r.TagGroupID
	case *ResourceTypeEdge:
		return "", resourceTypeKind, r.ChildTypeID
	case *Membership:
		return r.ScopeID, nil, ""
	case *Role:
		return r.ScopeID, nil, ""
	case *Permission:
		return r.ScopeID, nil, ""
	case *ResourceType:
		return r.ScopeID, nil, ""
	case *Resource:
		return r.ScopeID, nil, ""
	case *ResourceScopeLink:
		return r.ScopeID, nil, ""
	case *Collection:
		return r.ScopeID, nil, ""
	case *ResourcePolicy:
		return r.ScopeID, nil, ""
	case *TagGroup:
		return r.ScopeID, nil, ""
	case *Tag:
		return r.ScopeID, nil, ""
	case *TagAssignment:
		return r.ScopeID, nil, ""
	}
	return "", nil, ""
}

// scopeThrough returns the scopeId of the object id of kind ref, or ""
// when there is none: the write's own checks decide whether it may be
// missing.
func scopeThrough(tx storage.Tx, ref *kindSpec, id string) (string, error) {
	v, err := tx.Get(ref.table, id)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var f struct{ ScopeID string }
	if err := json.Unmarshal(v, &f); err != nil {
		return "", corruptf("%s %q does not decode: %v", ref.name, id, err)
	}
	return f.ScopeID, nil
}

// resolveScopes reads the objects whose scopes the changes' objects hang
// on, with one Prefetch per kind on a store that has it.
func (w *writeTx) resolveScopes() error {
	a := w.audit
	if p, ok := w.Tx.(storage.Prefetcher); ok {
		keys := map[*kindSpec][]string{}
		for _, id := range a.order {
			if ch := a.byID[id]; ch.afterRef != nil {
				keys[ch.afterRef] = append(keys[ch.afterRef], ch.afterRefID)
			}
		}
		for k, ids := range keys {
			slices.Sort(ids)
			if err := p.Prefetch(k.table, slices.Compact(ids)); err != nil {
				return err
			}
		}
	}
	// Objects of one write often hang on the same one (the role
	// assignments of a membership): each is read once.
	type ref struct {
		kind *kindSpec
		id   string
	}
	scopes := map[ref]string{}
	for _, id := range a.order {
		ch := a.byID[id]
		if ch.afterRef == nil {
			continue
		}
		r := ref{ch.afterRef, ch.afterRefID}
		s, ok := scopes[r]
		if !ok {
			var err error
			if s, err = scopeThrough(w, ch.afterRef, ch.afterRefID); err != nil {
				return err
			}
			scopes[r] = s
		}
		ch.scopeAfter, ch.afterRef = s, nil
	}
	return nil
}

// auditLog is the audit state of one write.
type auditLog struct {
	op, actor string
	now       time.Time
	retention AuditRetention
	byID      map[string]*auditChange
	order     []string
}

// commitAudit writes the write's entries under revision rev and trims the
// feed.
func (w *writeTx) commitAudit(rev uint64) error {
	a := w.audit
	if a == nil {
		return nil
	}
	first, last, err := auditBounds(w)
	if err != nil {
		return err
	}
	if err := w.resolveScopes(); err != nil {
		return err
	}
	// The entries are encoded by hand: their parts are JSON already (the
	// records' encodings), and a bulk load writes one per object.
	var common []byte
	common = strconv.AppendUint(append(common, `,"revision":`...), rev, 10)
	common = append(append(common, `,"time":"`...), a.now.Format(time.RFC3339)...)
	common = appendJSONString(append(common, `","actor":`...), a.actor)
	common = appendJSONString(append(common, `,"op":`...), a.op)
	added := 0
	var v []byte
	for _, id := range a.order {
		ch := a.byID[id]
		var action ChangeAction
		switch {
		case ch.before == nil && ch.after == nil:
			continue // created and deleted by the same write
		case ch.before == nil:
			action = ChangeCreate
		case ch.after == nil:
			action = ChangeDelete
		case bytes.Equal(ch.before, ch.after):
			continue
		default:
			action = ChangeUpdate
		}
		last++
		v = strconv.AppendUint(append(v[:0], `{"seq":`...), last, 10)
		v = append(v, common...)
		v = append(append(append(v, `,"action":"`...), action...), '"')
		v = appendJSONString(append(v, `,"kind":`...), groupOf(ch.kind))
		v = appendJSONString(append(v, `,"id":`...), id)
		scope, prev := ch.scopeAfter, ""
		if ch.after == nil {
			scope = ch.scopeBefore
		} else if ch.before != nil && ch.scopeBefore != scope {
			prev = ch.scopeBefore
		}
		if scope != "" {
			v = appendJSONString(append(v, `,"scopeId":`...), scope)
		}
		if prev != "" {
			v = appendJSONString(append(v, `,"previousScopeId":`...), prev)
		}
		if ch.before != nil {
			v = append(append(v, `,"before":`...), ch.before...)
		}
		if ch.after != nil {
			v = append(append(v, `,"after":`...), ch.after...)
		}
		v = append(v, '}')
		if err := w.Put(tableAudit, auditKey(last), v); err != nil {
			return err
		}
		added++
	}
	if added > 0 {
		if err := w.Put(tableMeta, metaAuditSeq, binary.BigEndian.AppendUint64(nil, last)); err != nil {
			return err
		}
	}
	// Trim by count, then by age: at most twice what this write added
	// (and 64) by age, so that a write's cost stays bounded.
	newFirst := first
	if n := uint64(a.retention.MaxEntries); last >= newFirst && last-newFirst+1 > n {
		newFirst = last - n + 1
	}
	for s := first; s < newFirst; s++ {
		if err := w.Delete(tableAudit, auditKey(s)); err != nil {
			return err
		}
	}
	if a.retention.MaxAge > 0 {
		cutoff := a.now.Add(-a.retention.MaxAge)
		for budget := 2*added + 64; budget > 0 && newFirst <= last; budget-- {
			raw, err := w.Get(tableAudit, auditKey(newFirst))
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err == nil {
				var t struct {
					Time Time `json:"time"`
				}
				if json.Unmarshal(raw, &t) == nil && !t.Time.Before(cutoff) {
					break
				}
				if err := w.Delete(tableAudit, auditKey(newFirst)); err != nil {
					return err
				}
			}
			newFirst++
		}
	}
	if newFirst != first {
		return w.Put(tableMeta, metaAuditFirst, binary.BigEndian.AppendUint64(nil, newFirst))
	}
	return nil
}

// groupOf returns the name of the list of Batch that creates objects of
// kind k ("scopes").
func groupOf(k *kindSpec) string { return kindGroups()[k] }

var kindGroups = sync.OnceValue(func() map[*kindSpec]string {
	out := make(map[*kindSpec]string, len(kindTable))
	for _, row := range kindTable {
		out[row.kind] = row.group.name
	}
	return out
})

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
