package authz

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/scopegate/authz/storage"
)

// The change log lets a Client bring its in-memory graph up to date with a
// write by reloading only the graph nodes the write touched, whichever Client
// made the write. Every commit through a Client stores, next to the new
// revision, the list of nodes whose content the commit changed:
//
//	changes  revision (8 bytes big endian) → kind name \x00 id \x00 kind name \x00 id …
//
// Only the last changeLogSize revisions are kept; a Client further behind
// rebuilds its graph from the whole store. Stores written before the log
// existed simply have no entries, which has the same effect.
const (
	tableChanges  = "changes"
	changeLogSize = 256
)

// nodeKey names a node of the graph: the kind of its record and its id.
type nodeKey struct {
	kind *kindSpec
	id   string
}

// writeTx is the transaction of a write made through the Client. putRecord
// and deleteEntries take it, so no write can forget to log what it touched,
// nor to bring the scope levels (levels.go) up to date.
type writeTx struct {
	storage.Tx
	touched map[nodeKey]struct{}
	// relevels holds the scopes whose levels syncLevels must recompute.
	relevels map[string]bool
	// rev is the revision commit wrote.
	rev uint64
	// audit collects the entries of the audit feed (audit.go); nil when
	// the feed is off.
	audit *auditLog
}

// write runs fn in a storage Update and, when fn succeeds, increments the
// revision and logs the graph nodes fn touched, in the same transaction. It
// returns the revision committed, and records it in ctx's WriteRevision.
// op names the write in the audit feed.
func (c *Client) write(ctx context.Context, op string, fn func(tx *writeTx) error) (uint64, error) {
	var rev uint64
	touched := 0
	err := c.store.Update(ctx, func(tx storage.Tx) error {
		w := &writeTx{Tx: tx, touched: map[nodeKey]struct{}{}}
		if c.audit.MaxEntries >= 0 {
			w.audit = &auditLog{op: op, actor: ActorFrom(ctx), now: c.timestamp(), retention: c.audit, byID: map[string]*auditChange{}}
		}
		if err := fn(w); err != nil {
			return err
		}
		if err := w.commit(); err != nil {
			return err
		}
		rev, touched = w.rev, len(w.touched)
		return nil
	})
	if err != nil {
		return 0, err
	}
	recordRevision(ctx, rev)
	if !c.deferGraph && touched <= maxCatchUp && c.graph.Load() != nil {
		// Bring the graph up to date now, so that the next Evaluate does
		// not pay for it. The write is committed whatever happens here: a
		// failure is left to the next call that needs the graph.
		if _, err := c.snapshot(context.WithoutCancel(ctx)); err != nil {
			c.log.Debug("authz: graph not brought up to date after a write", "op", op, "revision", rev, "err", err)
		}
	}
	return rev, nil
}

// maxCatchUp is the most graph nodes a write may touch for the writing
// Client to bring its graph up to date before the write returns
// (Options.DeferGraph). A larger write, a batch of a bulk load, leaves it
// to the next call that needs the graph, which then catches up with every
// write since in one update.
const maxCatchUp = 256

// touch records the graph nodes whose content depends on r (the touches
// of r's row in kindTable).
func (w *writeTx) touch(r record) {
	r.kind().touches(r, func(k *kindSpec, id string) {
		if id != "" {
			w.touched[nodeKey{k, id}] = struct{}{}
		}
	})
}

// commit brings the scope levels up to date, increments the revision and
// logs the touched nodes under it, dropping the entry that falls out of the
// log.
func (w *writeTx) commit() error {
	if len(w.relevels) > 0 {
		if err := syncLevels(newView(w, nil)); err != nil {
			return err
		}
	}
	rev, err := readRevision(w)
	if err != nil {
		return err
	}
	rev++
	var b strings.Builder
	for k := range w.touched {
		b.WriteString(k.kind.name)
		b.WriteByte(0)
		b.WriteString(k.id)
		b.WriteByte(0)
	}
	if err := w.Put(tableChanges, revisionKey(rev), []byte(b.String())); err != nil {
		return err
	}
	if err := w.commitAudit(rev); err != nil {
		return err
	}
	if rev > changeLogSize {
		if err := w.Delete(tableChanges, revisionKey(rev-changeLogSize)); err != nil {
			return err
		}
	}
	w.rev = rev
	return w.Put(tableMeta, metaRevision, binary.BigEndian.AppendUint64(nil, rev))
}

func revisionKey(rev uint64) string {
	return string(binary.BigEndian.AppendUint64(nil, rev))
}

// readChanges returns the nodes touched by the revisions after from, up to
// and including to. ok is false when the log no longer (or never did) cover
// them all.
func readChanges(tx storage.Tx, from, to uint64) (keys []nodeKey, ok bool, err error) {
	seen := map[nodeKey]bool{}
	for rev := from + 1; rev <= to; rev++ {
		v, err := tx.Get(tableChanges, revisionKey(rev))
		if errors.Is(err, storage.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		parts := strings.Split(string(v), "\x00")
		for i := 0; i+1 < len(parts); i += 2 {
			k := kindsByName[parts[i]]
			if k == nil {
				return nil, false, nil // written by a newer version: rebuild
			}
			key := nodeKey{k, parts[i+1]}
			if !seen[key] {
				seen[key] = true
				keys = append(keys, key)
			}
		}
	}
	return keys, true, nil
}
