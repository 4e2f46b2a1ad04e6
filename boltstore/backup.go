package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/scopegate/authz/storage"
)

// Backup writes a copy of the store's file to w while the Store goes on
// serving: the file as of the last commit before Backup began, read in one
// bbolt read transaction (bbolt's Tx.WriteTo), whatever commits meanwhile.
// The copy is a bolt file that Open opens like the original (give it
// another name: a copy is a whole store, with the same revision). It
// returns the number of bytes written.
//
// Views and Updates run while Backup does, but a commit that must grow the
// file's memory map waits until Backup ends, as it waits for every running
// View (see the package documentation). When ctx ends, Backup stops at its
// next write to w and returns ctx.Err(); what it wrote is then not a
// usable file. After Close it returns storage.ErrClosed.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if s.closed.Load() {
		return 0, storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	btx, err := s.begin(false)
	if err != nil {
		return 0, s.beginError(err)
	}
	defer func() { _ = btx.Rollback() }()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	cw := &ctxWriter{ctx: ctx, w: w}
	var n int64
	if err := protect(func() { n, err = btx.WriteTo(cw) }); err != nil {
		return n, err
	}
	if cw.err != nil {
		return n, cw.err
	}
	if err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	return n, nil
}

// BackupFile writes the copy that Backup makes to a new file at path and
// syncs it: it writes a temporary file in path's directory and renames it
// to path, so that path holds a whole copy or what it held before (an
// earlier backup is replaced only by a complete one). The file gets
// DefaultFileMode. BackupFile refuses to write over the store's own file.
// It returns the size of the copy.
func (s *Store) BackupFile(ctx context.Context, path string) (int64, error) {
	if same, err := s.isOwnFile(path); err != nil {
		return 0, fmt.Errorf("boltstore: backup to %s: %w", path, err)
	} else if same {
		return 0, fmt.Errorf("boltstore: backup to %s: that is the store's own file", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("boltstore: backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := s.Backup(ctx, f)
	if err != nil {
		return n, err
	}
	if err := f.Chmod(DefaultFileMode); err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	done = true
	// The rename is durable once the directory is synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}

// isOwnFile reports whether path names the store's own file (through any
// link, from any working directory).
func (s *Store) isOwnFile(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, s.file), nil
}

// ctxWriter is a writer that fails once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	err error
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	return c.w.Write(p)
}
