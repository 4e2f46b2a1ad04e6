package boltstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
)

// Attack tests of Backup and BackupFile: targets that are the store's own
// file under another name, directories, missing directories, concurrent
// backups, and Close during a backup.

func putValue(t *testing.T, s storage.Storage, v string) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "k", []byte(v)) }); err != nil {
		t.Fatal(err)
	}
}

// noTemporaries fails when dir holds a file BackupFile's temporary names.
func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// TestAttackBackupOntoOwnFile: every other name of the store's file — a
// symlink, a symlink to a symlink, a hard link, a path with .. in it — is
// refused, and the store's file is untouched.
func TestAttackBackupOntoOwnFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "authz.bolt")
	s := authztest.OpenBolt(t, path, nil)
	putValue(t, s, "v")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	names := map[string]func(string) error{
		"symlink":            func(p string) error { return os.Symlink(path, p) },
		"relative symlink":   func(p string) error { return os.Symlink("authz.bolt", p) },
		"symlink to symlink": func(p string) error { os.Symlink(path, p+".1"); return os.Symlink(p+".1", p) },
		"hard link":          func(p string) error { return os.Link(path, p) },
	}
	i := 0
	for name, make := range names {
		i++
		p := filepath.Join(dir, fmt.Sprintf("alias%d.bolt", i))
		if err := make(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := s.BackupFile(ctx, p); err == nil {
			t.Errorf("BackupFile onto a %s of the store's file: got nil; want an error", name)
		}
	}
	if _, err := s.BackupFile(ctx, filepath.Join(sub, "..", "authz.bolt")); err == nil {
		t.Error("BackupFile onto sub/../authz.bolt: got nil; want an error")
	}
	after, err := os.Stat(path)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the store's file was replaced (%v)", err)
	}
	putValue(t, s, "w")
	noTemporaries(t, dir)
}

// TestAttackBackupOwnFileAfterChdir: a store opened by a relative path
// keeps that path; after the process changes directory, BackupFile
// compares the target with a file of the same relative name elsewhere.
// With such a file there, a backup onto the store's own file (by its
// absolute path) must still be refused.
func TestAttackBackupOwnFileAfterChdir(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	t.Chdir(a)
	s := authztest.OpenBolt(t, "authz.bolt", nil)
	putValue(t, s, "v")
	own := filepath.Join(a, "authz.bolt")
	before, _ := os.Stat(own)
	if err := os.WriteFile(filepath.Join(b, "authz.bolt"), []byte("another file"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(b)
	_, err := s.BackupFile(ctx, own)
	after, _ := os.Stat(own)
	if err == nil || !os.SameFile(before, after) {
		// Show the loss: a commit after the backup is not in the file.
		putValue(t, s, "after the backup")
		s.Close()
		var got []byte
		_ = authztest.OpenBolt(t, own, nil).View(ctx, func(tx storage.Tx) error {
			got, _ = tx.Get("t", "k")
			return nil
		})
		t.Logf("value after reopening: %q; want %q", got, "after the backup")
		t.Fatalf("after a chdir, BackupFile(%q) replaced the store's own file (err %v)", own, err)
	}
}

// TestAttackBackupTargets: a target in a missing directory, a directory,
// and a path ending in a slash fail, leave no temporary file, and leave
// what was there.
func TestAttackBackupTargets(t *testing.T) {
	ctx := context.Background()
	s := open(t, nil)
	putValue(t, s, "v")
	dir := t.TempDir()
	existing := filepath.Join(dir, "adir")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		filepath.Join(dir, "missing", "b.bolt"),
		existing,
		existing + "/",
		dir,
		"",
	} {
		if _, err := s.BackupFile(ctx, p); err == nil {
			t.Errorf("BackupFile(%q): got nil; want an error", p)
		}
	}
	if fi, err := os.Stat(existing); err != nil || !fi.IsDir() {
		t.Errorf("the directory target: %v", err)
	}
	noTemporaries(t, dir)
	noTemporaries(t, existing)
}

// TestAttackConcurrentBackups: backups to one path and to several, taken
// at once while a writer commits, all succeed; every copy opens and holds
// one of the values written; no temporary file is left.
func TestAttackConcurrentBackups(t *testing.T) {
	ctx := context.Background()
	s := open(t, &boltstore.Options{NoSync: true})
	putValue(t, s, "v0")
	dir := t.TempDir()
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	written := map[string]bool{"v0": true}
	var mu sync.Mutex
	go func() {
		defer writer.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := fmt.Sprintf("v%d", i)
			mu.Lock()
			written[v] = true
			mu.Unlock()
			if err := s.Update(ctx, func(tx storage.Tx) error {
				return tx.Put("t", "k", append([]byte(v), bytes.Repeat([]byte{'x'}, 0)...))
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := filepath.Join(dir, fmt.Sprintf("b%d.bolt", i%3))
			if _, err := s.BackupFile(ctx, p); err != nil {
				errs <- fmt.Errorf("backup %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	writer.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 3 {
		c := authztest.OpenBolt(t, filepath.Join(dir, fmt.Sprintf("b%d.bolt", i)), nil)
		err := c.View(ctx, func(tx storage.Tx) error {
			v, err := tx.Get("t", "k")
			mu.Lock()
			defer mu.Unlock()
			if err != nil || !written[string(v)] {
				t.Errorf("copy %d: got %q, %v; want a written value", i, v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	noTemporaries(t, dir)
}

// blockingWriter blocks its first Write until release is closed.
type blockingWriter struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	buf     bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() {
		close(w.started)
		<-w.release
	})
	return w.buf.Write(p)
}

// TestAttackCloseDuringBackup: Close while a backup is under way neither
// crashes nor spoils the copy: the backup completes (Close waits for it)
// or fails with an error, and a completed copy opens with the data.
func TestAttackCloseDuringBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := authztest.OpenBolt(t, filepath.Join(dir, "a.bolt"), nil)
	for i := range 200 {
		if err := s.Update(ctx, func(tx storage.Tx) error {
			return tx.Put("t", fmt.Sprintf("k%03d", i), bytes.Repeat([]byte{'x'}, 1000))
		}); err != nil {
			t.Fatal(err)
		}
	}
	putValue(t, s, "v")
	w := &blockingWriter{started: make(chan struct{}), release: make(chan struct{})}
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.Backup(ctx, w)
		done <- result{n, err}
	}()
	<-w.started
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	close(w.release)
	r := <-done
	if err := <-closed; err != nil {
		t.Errorf("Close during a backup: %v", err)
	}
	if r.err != nil {
		return // refused: acceptable
	}
	if r.n != int64(w.buf.Len()) {
		t.Fatalf("Backup says %d bytes; wrote %d", r.n, w.buf.Len())
	}
	p := filepath.Join(dir, "copy.bolt")
	if err := os.WriteFile(p, w.buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	checkValue(t, authztest.OpenBolt(t, p, nil), "v")
}
