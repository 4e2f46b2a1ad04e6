// Package txguard holds the state and argument checks that every storage
// backend's Tx makes before touching its data, so that all backends answer
// misuse with the same storage sentinels.
package txguard

import (
	"sync/atomic"

	"github.com/scopegate/authz/storage"
)

// Guard is embedded in a backend's Tx. Writable is fixed when the
// transaction starts; End marks it finished.
type Guard struct {
	Writable bool
	ended    atomic.Bool // atomic so that use after the end is not a data race
}

// End marks the transaction finished: every later check returns
// storage.ErrTxClosed.
func (g *Guard) End() { g.ended.Store(true) }

// Read checks a Get: storage.ErrTxClosed after End, storage.ErrKeyRequired
// for an empty table or key.
func (g *Guard) Read(table, key string) error {
	switch {
	case g.ended.Load():
		return storage.ErrTxClosed
	case table == "" || key == "":
		return storage.ErrKeyRequired
	}
	return nil
}

// Write checks a Put or Delete: as Read, plus storage.ErrReadOnly in a
// read-only transaction.
func (g *Guard) Write(table, key string) error {
	switch {
	case g.ended.Load():
		return storage.ErrTxClosed
	case !g.Writable:
		return storage.ErrReadOnly
	case table == "" || key == "":
		return storage.ErrKeyRequired
	}
	return nil
}

// Scan checks a Scan: storage.ErrTxClosed after End,
// storage.ErrKeyRequired for an empty table.
func (g *Guard) Scan(table string) error {
	switch {
	case g.ended.Load():
		return storage.ErrTxClosed
	case table == "":
		return storage.ErrKeyRequired
	}
	return nil
}
