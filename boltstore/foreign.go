package boltstore

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrForeignFile reports a bbolt file that Open refuses because it belongs
// to another program: it holds buckets but neither the marker of this
// package nor an authz schema version. Open writes nothing to such a file.
var ErrForeignFile = errors.New("file of another program")

// The marker: a bucket that Open creates in a file without buckets, which
// tells the files of this package from those of other programs. Its name
// starts with a zero byte so that it sorts first and never equals the name of
// a table a program would choose; the tables of a Store cannot use it.
const (
	markerBucket = "\x00boltstore"
	markerKey    = "format"
	markerFormat = "1"
)

// Files written before Open marked its files carry only the authz core's
// schema version: key "schema" of bucket "meta", a positive decimal number.
const (
	authzMetaBucket = "meta"
	authzSchemaKey  = "schema"
)

// fileState is what inspect finds in a file.
type fileState int

const (
	fileEmpty fileState = iota // no bucket: a new file, or one nobody wrote to
	fileOurs                   // marked, or written by authz before the marker
)

// classify tells a file of this package from a foreign one. A foreign file
// gives an error wrapping ErrForeignFile that says what was found.
func classify(tx *bolt.Tx) (fileState, error) {
	var names []string
	n := 0
	c := tx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if n < 3 {
			names = append(names, quoteName(k))
		}
		n++
	}
	if n == 0 {
		return fileEmpty, nil
	}
	if m := tx.Bucket([]byte(markerBucket)); m != nil {
		// Get returns nil for a nested bucket as for a missing key.
		if v := m.Get([]byte(markerKey)); string(v) != markerFormat {
			return 0, fmt.Errorf("%w: its bucket %s does not hold format %s", ErrForeignFile, quoteName([]byte(markerBucket)), markerFormat)
		}
		return fileOurs, nil
	}
	if m := tx.Bucket([]byte(authzMetaBucket)); m != nil {
		if v := m.Get([]byte(authzSchemaKey)); v != nil {
			if isSchemaVersion(v) {
				return fileOurs, nil
			}
			return 0, fmt.Errorf("%w: its bucket %q holds %s = %s, which is not an authz schema version, and it has no boltstore marker",
				ErrForeignFile, authzMetaBucket, authzSchemaKey, quoteName(v))
		}
	}
	list := strings.Join(names, ", ")
	if n > len(names) {
		list += fmt.Sprintf(" and %d more", n-len(names))
	}
	return 0, fmt.Errorf("%w: it holds buckets (%s) but neither a boltstore marker nor an authz schema version", ErrForeignFile, list)
}

// quoteName quotes a bucket name or value read from a file, cut to 40 bytes:
// a foreign file's names can be any bytes and up to 32 KiB long.
func quoteName(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q…", b[:40])
	}
	return fmt.Sprintf("%q", b)
}

// isSchemaVersion reports whether v is a version number as the authz core
// writes it: a positive decimal number without leading zeros.
func isSchemaVersion(v []byte) bool {
	if len(v) == 0 || len(v) > 9 || v[0] < '1' || v[0] > '9' {
		return false
	}
	for _, c := range v[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// inspect classifies an existing file before Open opens it for writing:
// bbolt writes to some files as it opens them read-write (a file written
// with its NoFreelistSync option), so a foreign file is read read-only and
// refused before that. A missing or empty file needs no look.
func inspect(path string, o Options) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 {
		return nil // a missing file is created; other errors are bbolt's to report
	}
	db, err := openBolt(path, o, true)
	if err != nil {
		return openError(path, o, err)
	}
	defer db.Close()
	_, err = classifyDB(db)
	if err != nil {
		return fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	return nil
}

// adopt classifies the file opened for writing again (another process may
// have written it between inspect and the open) and marks a file without
// buckets. It writes nothing to any other file.
func adopt(db *bolt.DB, path string) error {
	state, err := classifyDB(db)
	if err != nil {
		return fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if state != fileEmpty {
		return nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte(markerBucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(markerKey), []byte(markerFormat))
	})
	if err != nil {
		return fmt.Errorf("boltstore: open %s: write the file marker: %w", path, err)
	}
	return nil
}

// classifyDB runs classify in a read transaction, turning a panic of bbolt
// on a damaged file into an error.
func classifyDB(db *bolt.DB) (state fileState, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			state, err = 0, fmt.Errorf("the file is corrupted: %v", r)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		state, err = classify(tx)
		return err
	})
	return state, err
}

// openError maps an error of bbolt's Open.
func openError(path string, o Options, err error) error {
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("boltstore: open %s: file is in use, lock not acquired within %v: %w", path, max(o.Timeout, 0), err)
	}
	return fmt.Errorf("boltstore: open %s: %w", path, err)
}

// remaining returns the lock timeout left for a second open of the file
// after a first one started at start: Open as a whole waits at most
// Options.Timeout.
func remaining(o Options, start time.Time) Options {
	if o.Timeout > 0 {
		o.Timeout -= time.Since(start)
		if o.Timeout <= 0 {
			o.Timeout = -1 // one attempt
		}
	}
	return o
}
