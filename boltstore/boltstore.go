// Package boltstore is a storage.Storage in a single file, on bbolt
// (go.etcd.io/bbolt).
//
// Each table is a bucket, created by its first write; a View of a table that
// has no bucket sees an empty table. Views are bbolt read transactions and
// run in parallel; Updates are bbolt read-write transactions, serialized by
// bbolt. A committed Update is on disk (fsync) before Update returns, unless
// Options.NoSync is set.
//
// On 64-bit Unix the first memory map of the file is 256 MiB. When the file
// outgrows its map, the commit that grows it waits for the running Views to
// end, so never wait inside a View for an Update to finish. The file itself
// grows in steps of 16 MiB: even a small store has an apparent size of 16 MiB,
// though file systems with sparse files store only the pages written.
//
// A file is used by one process at a time: Open takes an exclusive lock on
// it, waiting at most Options.Timeout for another process to release it.
//
// # Backups
//
// Store.Backup writes a consistent copy of the file while the Store serves
// (one read transaction), and Store.BackupFile writes it to a new file that
// replaces path only once complete. The copy opens like the original.
//
// # Files of other programs
//
// Open refuses a bbolt file of another program, and writes nothing to it. A
// file that Open creates, or finds without any bucket, gets a marker: a
// bucket of this package, whose name no table can use. A file that holds
// buckets opens only when it has the marker, or the authz schema version (a
// positive decimal number under key "schema" of bucket "meta") that files
// written before the marker existed carry; a file of another program that
// happens to hold such a key is taken for an authz file, whose version
// authz.New then checks. Any other file holding buckets, whatever their
// names, is refused with an error wrapping ErrForeignFile. Open looks at an
// existing file read-only before it opens it for writing, so not even
// bbolt's own bookkeeping on open changes a refused file; it adds nothing to
// a file that holds buckets.
package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/scopegate/authz/internal/commitwatch"
	"github.com/scopegate/authz/internal/txguard"
	"github.com/scopegate/authz/storage"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// DefaultFileMode is the permission of a file created by Open when
// Options.FileMode is zero.
const DefaultFileMode os.FileMode = 0o600

// initialMmapSize is the size of the first memory map of the file. bbolt
// remaps the file when it outgrows the map, and a remap waits for the running
// read transactions to end: with room to spare, an Update does not wait for
// Views until the file outgrows it. Mapping more than the file takes address
// space, not memory, except on Windows, where the file is grown to the size
// of the map; there bbolt's default (32 KiB, doubled as needed) stays, as on
// 32-bit systems with little address space.
var initialMmapSize = func() int {
	if runtime.GOOS == "windows" || strconv.IntSize < 64 {
		return 0
	}
	return 256 << 20
}()

// Options configures Open. The zero value (and a nil *Options) gives the
// defaults.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process (or another Store of this process) before it fails. Zero
	// means DefaultTimeout; a negative value means do not wait: fail at
	// once if the file is locked. Open never waits forever.
	Timeout time.Duration

	// FileMode is the permission of the file when Open creates it. Zero
	// means DefaultFileMode.
	FileMode os.FileMode

	// NoSync skips the fsync of each commit. This is unsafe: a crash of the
	// machine (not only of the process) may lose committed transactions or
	// corrupt the file. Use it for tests and data you can rebuild.
	NoSync bool
}

// Store is a storage.Storage in a bbolt file. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	path   string
	closed atomic.Bool
	// file identifies the file opened (device and inode), whatever the
	// working directory becomes or the file is renamed to: BackupFile
	// refuses to write over it.
	file os.FileInfo

	commits commitwatch.Counter // commits so far (storage.Versioner, storage.Watcher)
}

var (
	_ storage.Storage   = (*Store)(nil)
	_ storage.Versioner = (*Store)(nil)
	_ storage.Watcher   = (*Store)(nil)
)

// Open opens the bbolt file at path, creating it if it does not exist. opts
// may be nil. Opening a file that is not a bbolt database, or a bbolt file of
// another program (see the package documentation; the error wraps
// ErrForeignFile), fails without changing the file.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FileMode == 0 {
		o.FileMode = DefaultFileMode
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := inspect(path, o); err != nil {
		return nil, err
	}
	db, err := openBolt(path, remaining(o, start), false)
	if err != nil {
		return nil, openError(path, o, err)
	}
	if err := adopt(db, path); err != nil {
		_ = db.Close()
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	return &Store{db: db, path: path, file: fi}, nil
}

// openBolt opens the file with bbolt, turning a panic of bbolt on a
// damaged file into an error. A read-only open only looks at the file.
func openBolt(path string, o Options, readOnly bool) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("the file is corrupted: %v", r)
		}
	}()
	mmapSize := initialMmapSize
	if readOnly {
		mmapSize = 0 // map what the file holds
	}
	return bolt.Open(path, o.FileMode, &bolt.Options{
		// bbolt waits forever for a zero Timeout and fails after the first
		// attempt for a negative one.
		Timeout:         o.Timeout,
		NoSync:          o.NoSync,
		ReadOnly:        readOnly,
		InitialMmapSize: mmapSize,
		// Freelist type and everything else: bbolt's defaults.
	})
}

// Path returns the path of the file, as given to Open.
func (s *Store) Path() string { return s.path }

// View runs fn in a bbolt read transaction. It implements storage.Storage.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	btx, err := s.begin(false)
	if err != nil {
		return s.beginError(err)
	}
	// A damaged page can make bbolt read outside the map: turn the fault
	// into a panic that the tx methods turn into an error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	t := &tx{btx: btx}
	defer func() {
		t.End()
		_ = btx.Rollback() // a read transaction has nothing to roll back
	}()
	return fn(t)
}

// Update runs fn in a bbolt read-write transaction and commits it if fn
// returns nil. It implements storage.Storage.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	btx, err := s.begin(true)
	if err != nil {
		return s.beginError(err)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	t := &tx{btx: btx, Guard: txguard.Guard{Writable: true}}
	defer func() {
		t.End()
		// Discards the transaction unless Commit ended it (then this
		// returns bbolt's ErrTxClosed). Its error says nothing fn's does not.
		_ = btx.Rollback()
	}()
	// Check again: the cancellation may have come while waiting for the
	// writer lock.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t.End()
	var cerr error
	if err := protect(func() { cerr = btx.Commit() }); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("boltstore: commit: %w", cerr)
	}
	s.commits.Commit()
	return nil
}

// Version returns the number of Updates this Store committed since Open. It
// implements storage.Versioner: Open locks the file, so no other process
// writes it while the Store is open.
func (s *Store) Version() uint64 { return s.commits.Version() }

// Watch returns Version and a channel closed at the next commit. It
// implements storage.Watcher, telling of every commit as it happens.
func (s *Store) Watch() (uint64, <-chan struct{}) { return s.commits.Watch() }

// begin starts a bbolt transaction, turning a panic of bbolt into an error.
func (s *Store) begin(writable bool) (btx *bolt.Tx, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer corrupted(&err)
	return s.db.Begin(writable)
}

// beginError maps an error of bbolt's Begin.
func (s *Store) beginError(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return storage.ErrClosed
	}
	return fmt.Errorf("boltstore: begin transaction: %w", err)
}

// Close closes the file. It waits for the transactions in progress, though
// the storage contract says not to rely on it. Calls after the first return
// nil; View and Update then return storage.ErrClosed. It implements
// storage.Storage.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.path, err)
	}
	return nil
}

// tx is a storage.Tx over a bbolt transaction.
type tx struct {
	btx *bolt.Tx
	txguard.Guard
}

// corrupted turns a panic of bbolt on a damaged page into an error. The
// tx methods defer it around bbolt's calls only, never around a Scan
// callback, whose panics are the caller's.
func corrupted(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("boltstore: the file is corrupted: %v", r)
	}
}

func (t *tx) Get(table, key string) (_ []byte, err error) {
	defer corrupted(&err)
	if err := t.Read(table, key); err != nil {
		return nil, err
	}
	if err := reserved(table); err != nil {
		return nil, err
	}
	b := t.btx.Bucket([]byte(table))
	if b == nil {
		return nil, storage.ErrNotFound
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, storage.ErrNotFound
	}
	// v points into the memory map, valid only during the transaction.
	return bytes.Clone(v), nil
}

func (t *tx) Put(table, key string, value []byte) (err error) {
	defer corrupted(&err)
	if err := t.Write(table, key); err != nil {
		return err
	}
	if err := reserved(table); err != nil {
		return err
	}
	b, err := t.btx.CreateBucketIfNotExists([]byte(table))
	if err != nil {
		return fmt.Errorf("boltstore: create table %q: %w", table, err)
	}
	// bbolt keeps value until the commit, and takes nil for missing: store
	// a private, non-nil copy.
	v := make([]byte, len(value))
	copy(v, value)
	if err := b.Put([]byte(key), v); err != nil {
		return fmt.Errorf("boltstore: put in table %q: %w", table, err)
	}
	return nil
}

func (t *tx) Delete(table, key string) (err error) {
	defer corrupted(&err)
	if err := t.Write(table, key); err != nil {
		return err
	}
	if err := reserved(table); err != nil {
		return err
	}
	b := t.btx.Bucket([]byte(table))
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("boltstore: delete in table %q: %w", table, err)
	}
	return nil
}

func (t *tx) Scan(table, prefix string, fn func(key string, value []byte) error) error {
	if err := t.Guard.Scan(table); err != nil {
		return err
	}
	if err := reserved(table); err != nil {
		return err
	}
	var c *bolt.Cursor
	if err := protect(func() {
		if b := t.btx.Bucket([]byte(table)); b != nil {
			c = b.Cursor()
		}
	}); err != nil || c == nil {
		return err
	}
	p := []byte(prefix)
	k, v, ok, err := cursorStep(func() ([]byte, []byte) { return c.Seek(p) }, p)
	for ; err == nil && ok; k, v, ok, err = cursorStep(c.Next, p) {
		if v == nil {
			continue // a nested bucket: never created by this package
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return err
}

// reserved refuses the name of the bucket of the file marker as a table.
func reserved(table string) error {
	if table == markerBucket {
		return fmt.Errorf("boltstore: table %q is reserved for the file marker", table)
	}
	return nil
}

// protect runs fn, turning a panic of bbolt into an error.
func protect(fn func()) (err error) {
	defer corrupted(&err)
	fn()
	return nil
}

// cursorStep moves a cursor and copies out the entry it reaches, if it has
// the prefix, turning a panic of bbolt (or a fault reading the map) into an
// error.
func cursorStep(move func() ([]byte, []byte), prefix []byte) (key string, value []byte, ok bool, err error) {
	defer corrupted(&err)
	k, v := move()
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return "", nil, false, nil
	}
	if v != nil {
		value = bytes.Clone(v)
	}
	return string(k), value, true, nil
}
