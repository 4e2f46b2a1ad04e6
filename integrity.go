package authz

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/scopegate/authz/storage"
)

// CheckError lists the inconsistencies Check found in a store.
type CheckError struct {
	// Problems describes each inconsistency, in the order found. At most
	// MaxCheckProblems are listed.
	Problems []string
	// Truncated is set when there were more.
	Truncated bool
}

// MaxCheckProblems bounds the problems a CheckError lists.
const MaxCheckProblems = 1000

func (e *CheckError) Error() string {
	more := ""
	if e.Truncated {
		more = " (list truncated)"
	}
	return fmt.Sprintf("authz: check: %d problems%s: %s", len(e.Problems), more, strings.Join(e.Problems, "; "))
}

// Check verifies the consistency of the whole store in one read
// transaction, like bbolt's Tx.Check: the schema version and revision;
// every record decodes and is stored under its own id; the ids table and
// the records agree both ways; every index and unique entry a record needs
// is present, and no entry exists that no record needs; every reference
// from one object to another (the ones Delete cascades along) names an
// object of an accepted kind; the level of every scope (its depth, root,
// nearest define scope and jump pointer, kept for the writes) agrees with
// the scope tree; the audit feed holds every entry between its bounds, in
// order, each decoding to an entry of its own seq. It returns nil for a consistent store, a
// *CheckError listing the problems, or the storage error that stopped it.
//
// Check reads everything and holds the data of the index tables in memory:
// it is meant for tests, tools and occasional audits, not for every request.
func (c *Client) Check(ctx context.Context) error {
	ck := &checker{}
	err := c.store.View(ctx, func(tx storage.Tx) error { return ck.run(tx) })
	if err != nil {
		return err
	}
	if len(ck.problems) > 0 {
		return &CheckError{Problems: ck.problems, Truncated: ck.truncated}
	}
	return nil
}

type checker struct {
	problems  []string
	truncated bool
}

func (ck *checker) problemf(format string, args ...any) {
	if len(ck.problems) >= MaxCheckProblems {
		ck.truncated = true
		return
	}
	ck.problems = append(ck.problems, fmt.Sprintf(format, args...))
}

// refKinds lists, per (dependent kind, index), the kinds an index value may
// name: the dependents of kindTable (kinds.go), seen from the referring side.
func refKinds() map[*kindSpec]map[string][]*kindSpec {
	out := map[*kindSpec]map[string][]*kindSpec{}
	for _, gk := range allKinds() {
		for _, d := range gk.dependents {
			if out[d.kind] == nil {
				out[d.kind] = map[string][]*kindSpec{}
			}
			out[d.kind][d.index] = append(out[d.kind][d.index], gk)
		}
	}
	return out
}

// allKinds returns every kind, sorted by name.
func allKinds() []*kindSpec {
	var ks []*kindSpec
	for _, k := range kindsByName {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].name < ks[j].name })
	return ks
}

func (ck *checker) run(tx storage.Tx) error {
	if err := ck.meta(tx); err != nil {
		return err
	}
	// Every id in the ids table, with its kind.
	ids := map[string]string{}
	err := tx.Scan(tableIDs, "", func(id string, v []byte) error {
		ids[id] = string(v)
		if kindsByName[string(v)] == nil {
			ck.problemf("id %q has unknown kind %q", id, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Every record, with the index and unique entries it needs.
	wantIndex := map[string]bool{}
	wantUnique := map[string]string{}
	refs := refKinds()
	records := map[string]string{} // id → kind name, from the records
	type ref struct {
		from, to string
		index    string
		kinds    []*kindSpec
	}
	var allRefs []ref
	for _, k := range allKinds() {
		err := tx.Scan(k.table, "", func(id string, v []byte) error {
			r, err := k.decode(v)
			if err != nil {
				ck.problemf("%s %q: record does not decode: %v", k.name, id, err)
				return nil
			}
			records[id] = k.name
			if r.recordID() != id {
				ck.problemf("%s %q: stored under the id of another object (its id is %q)", k.name, id, r.recordID())
			}
			switch kind, ok := ids[id]; {
			case !ok:
				ck.problemf("%s %q: missing from the ids table", k.name, id)
			case kind != k.name:
				ck.problemf("%s %q: the ids table says it is a %s", k.name, id, kind)
			}
			for _, e := range r.indexes() {
				wantIndex[indexKey(e, id)] = true
				if kinds := refs[k][e.name]; kinds != nil && len(e.values) == 1 && e.values[0] != "" {
					allRefs = append(allRefs, ref{from: k.name + " " + strconv.Quote(id), to: e.values[0], index: e.name, kinds: kinds})
				}
			}
			for _, u := range r.uniques() {
				key := keyOf(u.name, u.values)
				if other, dup := wantUnique[key]; dup {
					ck.problemf("%s %q: breaks the rule that %s is unique (also %q)", k.name, id, u.describe(), other)
				}
				wantUnique[key] = id
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for id, kind := range ids {
		if _, ok := records[id]; !ok {
			ck.problemf("id %q: the ids table says it is a %s, but there is no such record", id, kind)
		}
	}
	for _, r := range allRefs {
		kind, ok := records[r.to]
		if !ok {
			ck.problemf("%s: refers to %q (index %s), which does not exist", r.from, r.to, r.index)
			continue
		}
		accepted := false
		var names []string
		for _, k := range r.kinds {
			accepted = accepted || k.name == kind
			names = append(names, k.name)
		}
		if !accepted {
			ck.problemf("%s: refers to %q (index %s), a %s; want a %s", r.from, r.to, r.index, kind, strings.Join(names, " or "))
		}
	}
	// The index tables hold exactly what the records need.
	err = tx.Scan(tableIndex, "", func(k string, _ []byte) error {
		if !wantIndex[k] {
			ck.problemf("index entry %q belongs to no record", printable(k))
		}
		delete(wantIndex, k)
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(wantIndex) {
		ck.problemf("index entry %q is missing", printable(k))
	}
	err = tx.Scan(tableUnique, "", func(k string, v []byte) error {
		want, ok := wantUnique[k]
		switch {
		case !ok:
			ck.problemf("unique entry %q (→ %q) belongs to no record", printable(k), v)
		case want != string(v):
			ck.problemf("unique entry %q names %q; want %q", printable(k), v, want)
		}
		delete(wantUnique, k)
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(wantUnique) {
		ck.problemf("unique entry %q (→ %q) is missing", printable(k), wantUnique[k])
	}
	if err := ck.levels(tx); err != nil {
		return err
	}
	return ck.audit(tx)
}

// audit checks the audit feed: its counters decode, and it holds exactly
// the entries from the oldest kept to the last written, each decoding to
// an entry of its own seq, of a known kind and action, at a revision no
// later than the store's and no earlier than the entry before it.
func (ck *checker) audit(tx storage.Tx) error {
	first, last, err := auditBounds(tx)
	if errors.Is(err, errCorrupt) {
		ck.problemf("%v", err)
		return nil
	}
	if err != nil {
		return err
	}
	rev, err := readRevision(tx)
	if err != nil {
		return nil // reported by meta
	}
	groups := map[string]bool{}
	for _, row := range kindTable {
		groups[row.group.name] = true
	}
	want, prevRev := first, uint64(0)
	err = tx.Scan(tableAudit, "", func(k string, v []byte) error {
		if len(k) != 8 {
			ck.problemf("audit entry key %q is not a sequence number", printable(k))
			return nil
		}
		seq := binary.BigEndian.Uint64([]byte(k))
		switch {
		case seq < first || seq > last:
			ck.problemf("audit entry %d lies outside the feed's bounds %d..%d", seq, first, last)
		case seq != want:
			ck.problemf("audit entries %d..%d are missing", want, seq-1)
		}
		want = seq + 1
		var ch Change
		if err := json.Unmarshal(v, &ch); err != nil {
			ck.problemf("audit entry %d does not decode: %v", seq, err)
			return nil
		}
		switch {
		case ch.Seq != seq:
			ck.problemf("audit entry %d says it is entry %d", seq, ch.Seq)
		case !groups[ch.Kind]:
			ck.problemf("audit entry %d: unknown kind %q", seq, ch.Kind)
		case ch.Action != ChangeCreate && ch.Action != ChangeUpdate && ch.Action != ChangeDelete:
			ck.problemf("audit entry %d: unknown action %q", seq, ch.Action)
		case ch.Revision > rev || ch.Revision < prevRev:
			ck.problemf("audit entry %d: revision %d out of order (store at %d, entry before at %d)", seq, ch.Revision, rev, prevRev)
		case (ch.Before == nil) != (ch.Action == ChangeCreate) || (ch.After == nil) != (ch.Action == ChangeDelete):
			ck.problemf("audit entry %d: a %s with before %t and after %t", seq, ch.Action, ch.Before != nil, ch.After != nil)
		}
		prevRev = max(prevRev, ch.Revision)
		return nil
	})
	if err == nil && want <= last {
		ck.problemf("audit entries %d..%d are missing", want, last)
	}
	return err
}

// levels compares the stored scope levels with levels computed from the
// scope tree.
func (ck *checker) levels(tx storage.Tx) error {
	want, cyclic, err := computeLevels(tx)
	if err != nil {
		return err
	}
	for _, id := range cyclic {
		ck.problemf("scope %q lies on a cycle of scope edges", id)
	}
	err = tx.Scan(tableLevels, "", func(id string, v []byte) error {
		w, ok := want[id]
		delete(want, id)
		if !ok {
			if !slices.Contains(cyclic, id) {
				ck.problemf("level record %q belongs to no scope", id)
			}
			return nil
		}
		got, err := decodeLevel(id, v)
		if err != nil {
			ck.problemf("%v", err)
			return nil
		}
		if !got.equal(w) {
			ck.problemf("scope %q: level record says %v; want %v", id, got, w)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(want) {
		ck.problemf("scope %q: level record is missing", id)
	}
	return nil
}

// meta checks the schema version and the revision.
func (ck *checker) meta(tx storage.Tx) error {
	v, err := tx.Get(tableMeta, metaSchema)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		ck.problemf("the schema version is missing")
	case err != nil:
		return err
	case string(v) != strconv.Itoa(schemaVersion):
		ck.problemf("schema version %q; want %d", v, schemaVersion)
	}
	if _, err := readRevision(tx); err != nil {
		if errors.Is(err, errCorrupt) {
			ck.problemf("%v", err)
			return nil
		}
		return err
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printable shows the separators of a key as "/".
func printable(k string) string {
	return strings.NewReplacer("\x00", "/", "\x01", "\\x01").Replace(k)
}
