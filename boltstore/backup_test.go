package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/modelgen"
	"github.com/scopegate/authz/storage"
)

// answers are the answers of a Client to every request of a model, errors
// included, as text.
func answers(t *testing.T, c *authz.Client, m *modelgen.Model) []string {
	t.Helper()
	out := make([]string, len(m.Requests))
	for i, r := range m.Requests {
		d, err := c.Evaluate(context.Background(), r.Input)
		out[i] = fmt.Sprintf("%v %s %s %v", d.Allowed, d.DecidedBy, d.PolicyID, err)
	}
	return out
}

// TestBackupWhileWriting loads the small generated model batch by batch
// while backups are taken in a loop. Each copy must open as a store, pass
// Client.Check, and answer every request of the model exactly as the store
// did at the copy's revision (recorded by the writer after each batch): a
// copy is one commit's state, never a mix of two.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	m := modelgen.Generate(modelgen.Small())
	s := open(t, &boltstore.Options{NoSync: true})
	c := authztest.NewClient(t, s, nil)
	var (
		mu      sync.Mutex
		byRev   = map[uint64][]string{}
		written = make(chan struct{})
	)
	record := func() {
		rev, err := c.Revision(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		a := answers(t, c, m)
		mu.Lock()
		byRev[rev] = a
		mu.Unlock()
	}
	record()
	go func() {
		defer close(written)
		for i, bt := range m.Batches {
			if _, err := c.Apply(ctx, bt); err != nil {
				t.Errorf("batch %d: %v", i, err)
				return
			}
			record()
		}
	}()
	type copied struct {
		rev uint64
		got []string
	}
	var copies []copied
	dir := t.TempDir()
	for done := false; !done; {
		select {
		case <-written:
			done = true // one more copy, of the whole model
		default:
		}
		path := filepath.Join(dir, fmt.Sprintf("copy%d.bolt", len(copies)))
		n, err := s.BackupFile(ctx, path)
		if err != nil {
			t.Fatalf("backup %d: %v", len(copies), err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != n {
			t.Fatalf("backup %d: the file: %v, %v; want %d bytes as Backup said", len(copies), fi, err, n)
		}
		cs := authztest.OpenBolt(t, path, nil)
		cc, err := authz.New(cs, nil)
		if err != nil {
			t.Fatalf("backup %d: New: %v", len(copies), err)
		}
		rev, err := cc.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := cc.Check(ctx); err != nil {
			t.Fatalf("backup %d at revision %d: Check: %v", len(copies), rev, err)
		}
		copies = append(copies, copied{rev, answers(t, cc, m)})
		cs.Close()
	}
	// The writer records a revision's answers after its commit: compare
	// once it is done.
	for k, cp := range copies {
		want, ok := byRev[cp.rev]
		if !ok {
			t.Fatalf("backup %d: revision %d is none the store committed", k, cp.rev)
		}
		for i := range want {
			if cp.got[i] != want[i] {
				t.Fatalf("backup %d at revision %d: request %d: got %s; want %s (the store's at that revision)", k, cp.rev, i, cp.got[i], want[i])
			}
		}
	}
	if len(copies) < 3 {
		t.Errorf("copies taken while writing: got %d; want several", len(copies))
	}
	t.Logf("%d copies checked against the store at their revisions", len(copies))
}

func TestBackupRefusals(t *testing.T) {
	ctx := context.Background()
	s := open(t, nil)
	if err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	t.Run("own file", func(t *testing.T) {
		if _, err := s.BackupFile(ctx, s.Path()); err == nil {
			t.Fatal("BackupFile onto the store's own file: got nil; want an error")
		}
		checkValue(t, s, "v")
	})
	t.Run("cancelled", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "backup.bolt")
		if err := os.WriteFile(path, []byte("an earlier backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.BackupFile(cctx, path); !errors.Is(err, context.Canceled) {
			t.Errorf("BackupFile with a cancelled ctx: got %v; want context.Canceled", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "an earlier backup" {
			t.Errorf("the earlier backup: got %q; want it untouched", b)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("files left in the directory: got %d; want 1 (no temporary file)", len(entries))
		}
	})
	t.Run("cancelled while writing", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		w := &cancelAfter{n: 2, cancel: cancel}
		if _, err := s.Backup(cctx, w); !errors.Is(err, context.Canceled) {
			t.Errorf("Backup cancelled after two writes: got %v; want context.Canceled", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := open(t, nil)
		s.Close()
		if _, err := s.Backup(ctx, &bytes.Buffer{}); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Backup after Close: got %v; want storage.ErrClosed", err)
		}
	})
	t.Run("copy replaces an earlier one", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "backup.bolt")
		if err := os.WriteFile(path, []byte("an earlier backup"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BackupFile(ctx, path); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != boltstore.DefaultFileMode {
			t.Errorf("backup file mode: got %v (%v); want %v", fi.Mode().Perm(), err, boltstore.DefaultFileMode)
		}
		checkValue(t, authztest.OpenBolt(t, path, nil), "v")
	})
}

func checkValue(t *testing.T, s storage.Storage, want string) {
	t.Helper()
	err := s.View(context.Background(), func(tx storage.Tx) error {
		v, err := tx.Get("t", "k")
		if err != nil || string(v) != want {
			t.Errorf("Get(t, k): got %q, %v; want %q", v, err, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cancelAfter accepts n writes, then cancels its context.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
	return len(p), nil
}
