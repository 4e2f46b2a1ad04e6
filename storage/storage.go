// Package storage defines the interface between the authz core and the
// backends that persist its data: the service-provider interface (SPI), in the
// manner of database/sql/driver.
//
// A backend stores ordered bytes atomically and nothing more. The authz core
// owns everything above that: the tables, the key encoding, the secondary
// indexes and the schema version. A backend must pass the conformance suite in
// package storage/storagetest.
//
// # Transactions
//
// All access goes through managed transactions, as in bbolt: View runs a
// function in a read-only snapshot, Update runs a function in a read-write
// transaction that commits when the function returns nil and is discarded when
// it returns an error or panics. A Tx is valid only while its function runs;
// using it afterwards returns ErrTxClosed.
package storage

import (
	"context"
	"errors"
)

// Sentinel errors returned by backends. Backends return exactly these values
// (or errors wrapping them) so that callers can match them with errors.Is.
var (
	// ErrNotFound is returned by Tx.Get when the key is not in the table.
	ErrNotFound = errors.New("storage: key not found")

	// ErrReadOnly is returned by Tx.Put and Tx.Delete inside View.
	ErrReadOnly = errors.New("storage: transaction is read-only")

	// ErrClosed is returned by View and Update after Close.
	ErrClosed = errors.New("storage: store is closed")

	// ErrTxClosed is returned by every Tx method called after the function
	// that received the Tx has returned.
	ErrTxClosed = errors.New("storage: transaction is closed")

	// ErrKeyRequired is returned by Tx.Put, Tx.Get and Tx.Delete when the
	// table name or the key is empty, and by Tx.Scan when the table name is
	// empty.
	ErrKeyRequired = errors.New("storage: table and key are required")
)

// Storage is a transactional, ordered key-value store made of named tables.
//
// Implementations are safe for concurrent use by multiple goroutines. Many
// View calls may run at the same time; Update calls are serialized. A View
// does not wait for a running Update and sees none of its writes: it sees one
// consistent snapshot for its whole duration, whatever Updates commit
// meanwhile.
type Storage interface {
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot of the store. Tx.Put and Tx.Delete return ErrReadOnly. The
	// error returned by fn is returned unchanged. If fn panics, the
	// transaction is released and the panic continues.
	//
	// View returns ctx.Err() without calling fn if ctx is already done, and
	// ErrClosed after Close.
	View(ctx context.Context, fn func(Tx) error) error

	// Update runs fn in a read-write transaction. If fn returns nil the
	// transaction commits atomically: either every write of fn becomes
	// visible (and, for durable backends, survives a crash) or none does.
	// If fn returns an error, that error is returned unchanged and nothing
	// is written. If fn panics, nothing is written, the store stays usable
	// and the panic continues in the caller.
	//
	// Update returns ctx.Err() and writes nothing if ctx is done before fn
	// is called or before the commit.
	Update(ctx context.Context, fn func(Tx) error) error

	// Close releases the store. It is idempotent: calls after the first
	// return nil. View and Update after Close return ErrClosed. Close does
	// not wait for transactions that are still running to be abandoned; it
	// must not be called while one is in progress.
	Close() error
}

// Tx is a transaction: a read-only snapshot inside Storage.View, a read-write
// transaction inside Storage.Update. A Tx must not be used after the function
// that received it returns (methods then return ErrTxClosed) nor from several
// goroutines at once.
//
// Byte slices passed to Put are copied by the backend before Put returns; byte
// slices returned by Get and passed to Scan callbacks belong to the caller and
// stay valid after the transaction ends.
type Tx interface {
	// Get returns the value stored under key in table, or ErrNotFound.
	// A table that was never written behaves as an empty table.
	Get(table, key string) ([]byte, error)

	// Put stores value under key in table, creating the table if needed.
	// An empty (or nil) value is stored as an empty value, distinct from a
	// missing key.
	Put(table, key string, value []byte) error

	// Delete removes key from table. Deleting a missing key is not an error.
	Delete(table, key string) error

	// Scan calls fn for every key in table that starts with prefix, in
	// ascending byte order of the keys. Inside Update it sees the writes made
	// earlier in the same transaction. If fn returns an error, Scan stops and
	// returns that error unchanged. fn may read any table and write to other
	// tables, but must not write to the table being scanned. An empty prefix
	// scans the whole table; a table that was never written has no keys.
	Scan(table, prefix string, fn func(key string, value []byte) error) error
}

// Versioner is an optional interface of a Storage. Version returns a number
// that changes after every Update that commits, once the commit is visible to
// new transactions, and that nothing else changes. Failed Updates and Views
// leave it unchanged.
//
// A backend implements Versioner only when every commit to its data goes
// through this one Storage value: an in-memory store, or a file the backend
// holds locked. A store that other processes may write must not implement
// it. Users of a Storage (the authz Client) call Version on every request to
// learn, without opening a transaction, that nothing has changed; without
// Versioner they open a View each time to read the data's own revision.
type Versioner interface {
	Version() uint64
}

// Prefetcher is an optional interface of a Tx: Prefetch tells it that the
// keys of table are about to be read with Get, so that a backend for which
// each read costs a round trip to a server can read them all in one. It
// changes nothing of what Get returns, in the same transaction, for these
// keys or any other; writes of the transaction still win. Users call it
// when they know what they will read (the authz core, before validating a
// batch) and ignore a Tx that does not implement it.
type Prefetcher interface {
	Prefetch(table string, keys []string) error
}

// Watcher is an optional interface of a Storage that tells its users of
// commits, also those of other processes when they share the data: Watch
// returns the newest version the Storage knows of, and a channel closed
// when it learns of a newer one.
//
// The version grows each time the Storage learns that commits happened
// (once for several it learns of together); it is the backend's own,
// unrelated to anything its users store. When Watch returns version v,
// every commit the Storage had learned of by v is visible to transactions
// that begin afterwards. A Storage may learn of a commit late (a notification that
// arrives after the commit, a poll), never early; its documentation says
// how late at most. Unlike a Versioner, a Watcher may therefore report an
// unchanged version while a newer commit exists: its users answer from
// what they know by default, and read the store to be sure when they must
// (the authz Client's Consistency). A Storage whose every commit goes
// through it (memstore, boltstore) implements both, and learns at once.
type Watcher interface {
	Watch() (version uint64, changed <-chan struct{})
}
