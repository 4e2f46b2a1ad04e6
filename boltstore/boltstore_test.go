package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
	"github.com/scopegate/authz/storage/storagetest"
)

// open opens a store in a new file of the test's temporary directory, with
// fsync on, and closes it when the test ends.
func open(tb testing.TB, opts *boltstore.Options) *boltstore.Store {
	tb.Helper()
	return authztest.OpenBolt(tb, filepath.Join(tb.TempDir(), "store.bolt"), opts)
}

func TestStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage { return open(t, nil) }, &storagetest.Options{
		Reopen: func(t *testing.T, s storage.Storage) storage.Storage {
			path := s.(*boltstore.Store).Path()
			if err := s.Close(); err != nil {
				t.Fatalf("Close: got %v; want nil", err)
			}
			s2, err := boltstore.Open(path, nil)
			if err != nil {
				t.Fatalf("Open after Close: got %v; want nil", err)
			}
			return s2
		},
	})
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Bench(b, func(b *testing.B) storage.Storage { return open(b, nil) })
}

func TestPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.bolt")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Path(); got != path {
		t.Errorf("Path: got %q; want %q", got, path)
	}
}

func TestOpenFileMode(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		opts *boltstore.Options
		want os.FileMode
	}{
		{"default.bolt", nil, 0o600},
		{"custom.bolt", &boltstore.Options{FileMode: 0o640}, 0o640},
	} {
		path := filepath.Join(dir, tt.name)
		s, err := boltstore.Open(path, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != tt.want {
			t.Errorf("%s: mode: got %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestOpenNotABoltFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"text.bolt":  []byte("this is not a bolt database\n"),
		"zeros.bolt": make([]byte, 64<<10),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := boltstore.Open(path, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open of %s: got nil error; want an error", name)
			continue
		}
		if want := "boltstore: open " + path + ": "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Open of %s: got error %q; want it to start with %q", name, err, want)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, content) {
			t.Errorf("%s after the failed Open: got %d changed bytes; want the file untouched", name, len(got))
		}
	}

	path := filepath.Join(dir, "missing", "dir.bolt")
	if _, err := boltstore.Open(path, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open in a missing directory: got %v; want an error naming %s", err, path)
	}
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.bolt")
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for _, tt := range []struct {
		name     string
		timeout  time.Duration
		min, max time.Duration
	}{
		{"negative: no wait", -1, 0, 500 * time.Millisecond},
		{"200ms", 200 * time.Millisecond, 100 * time.Millisecond, 2 * time.Second},
		{"zero: default 1s", 0, 900 * time.Millisecond, 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s2, err := boltstore.Open(path, &boltstore.Options{Timeout: tt.timeout})
			took := time.Since(start)
			if err == nil {
				s2.Close()
				t.Fatal("second Open of a locked file: got nil error; want a timeout")
			}
			if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), path) {
				t.Errorf("second Open: got %q; want bbolt's ErrTimeout with the path", err)
			}
			if took < tt.min || took > tt.max {
				t.Errorf("second Open gave up after %v; want %v to %v", took, tt.min, tt.max)
			}
		})
	}

	// Once the first store is closed, the file opens again.
	s.Close()
	s2, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatalf("Open after Close: got %v; want nil", err)
	}
	s2.Close()
}

// TestPutTooLargeKey checks that a write bbolt refuses (a key above
// its size limit) is reported with its table and rolls the Update back.
func TestPutTooLargeKey(t *testing.T) {
	s := open(t, &boltstore.Options{NoSync: true})
	ctx := context.Background()
	err := s.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Put("t", "ok", []byte("v")); err != nil {
			return err
		}
		return tx.Put("t", strings.Repeat("k", bolt.MaxKeySize+1), []byte("v"))
	})
	if !errors.Is(err, bolterrors.ErrKeyTooLarge) || !strings.Contains(err.Error(), `table "t"`) {
		t.Fatalf("Put of a too large key: got %v; want bbolt's ErrKeyTooLarge naming the table", err)
	}
	err = s.View(ctx, func(tx storage.Tx) error {
		_, err := tx.Get("t", "ok")
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after the failed Update: got %v; want ErrNotFound", err)
	}
}

// TestOpenTruncatedFile cuts a file short of the pages its meta page
// declares: bbolt would read past the end of its memory map and die with
// SIGBUS; Open must refuse the file instead.
func TestOpenTruncatedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.bolt")
	s := authztest.OpenBolt(t, path, &boltstore.Options{NoSync: true})
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		for i := range 2000 {
			if err := tx.Put("t", fmt.Sprintf("k%05d", i), bytes.Repeat([]byte("v"), 200)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	used := len(data)
	for used > 0 && data[used-1] == 0 {
		used--
	}
	if err := os.WriteFile(path, data[:used/2], 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = boltstore.Open(path, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open of a truncated file: got nil error; want an error")
	}
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("got %q; want it to say the file is truncated", err)
	}
}

// BenchmarkOpen opens and closes a file of 10,000 keys: the cost a process
// pays at start.
func BenchmarkOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "open.bolt")
	s := authztest.OpenBolt(b, path, &boltstore.Options{NoSync: true})
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		for i := range 10000 {
			if err := tx.Put("t", fmt.Sprintf("k%05d", i), []byte("value")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s, err := boltstore.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
