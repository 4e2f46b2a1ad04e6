package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopegate/authz/storage"
)

// testVersioner checks the storage.Versioner contract, for backends that
// implement it.
func (h *harness) testVersioner(t *testing.T) {
	s := h.open(t)
	v, ok := s.(storage.Versioner)
	if !ok {
		t.Skip("the backend does not implement storage.Versioner")
	}
	t.Run("a commit changes the version before Update returns", func(t *testing.T) {
		before := v.Version()
		put(t, s, "t", "k", "v")
		if got := v.Version(); got == before {
			t.Errorf("Version after a committed Update: got %d; want a value other than %d", got, before)
		}
	})
	t.Run("an empty commit changes the version too", func(t *testing.T) {
		before := v.Version()
		update(t, s, func(storage.Tx) error { return nil })
		if got := v.Version(); got == before {
			t.Errorf("Version after an Update with no writes: got %d; want a value other than %d", got, before)
		}
	})
	t.Run("Views and failed Updates leave it unchanged", func(t *testing.T) {
		before := v.Version()
		if err := s.View(context.Background(), func(storage.Tx) error { return nil }); err != nil {
			t.Fatalf("View: got %v; want nil", err)
		}
		boom := errors.New("boom")
		err := s.Update(context.Background(), func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update: got %v; want %v", err, boom)
		}
		if got := v.Version(); got != before {
			t.Errorf("Version: got %d; want %d (unchanged)", got, before)
		}
	})
}

// watchWait bounds how long the suite waits for a Watcher to learn of a
// commit.
const watchWait = 10 * time.Second

// testWatcher checks the storage.Watcher contract, for backends that
// implement it: a commit closes the channel Watch returned before it and
// raises the version, within watchWait; a View and a failed Update change
// neither; and once Watch reports a version, a new View sees the commits
// it counts.
func (h *harness) testWatcher(t *testing.T) {
	s := h.open(t)
	w, ok := s.(storage.Watcher)
	if !ok {
		t.Skip("the backend does not implement storage.Watcher")
	}
	t.Run("a commit wakes the watchers and raises the version", func(t *testing.T) {
		before, changed := w.Watch()
		put(t, s, "t", "watch", "1")
		select {
		case <-changed:
		case <-time.After(watchWait):
			t.Fatalf("the channel Watch returned was not closed within %v of a commit", watchWait)
		}
		after, _ := w.Watch()
		if after <= before {
			t.Fatalf("version after a commit: got %d; want more than %d", after, before)
		}
		view(t, s, func(tx storage.Tx) error {
			wantValue(t, tx, "t", "watch", "1") // a View begun after Watch reported the commit
			return nil
		})
	})
	t.Run("Views and failed Updates leave the version unchanged", func(t *testing.T) {
		put(t, s, "t", "settle", "x")
		deadline := time.Now().Add(watchWait)
		before, _ := w.Watch()
		for ; time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			// A Watcher that learns late may still be catching up with the
			// commit just made: wait until the version is steady.
			v, _ := w.Watch()
			if v == before {
				break
			}
			before = v
		}
		if err := s.View(context.Background(), func(storage.Tx) error { return nil }); err != nil {
			t.Fatalf("View: got %v; want nil", err)
		}
		boom := errors.New("boom")
		if err := s.Update(context.Background(), func(tx storage.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("Update: got %v; want %v", err, boom)
		}
		if got, _ := w.Watch(); got != before {
			t.Errorf("version after a View and a failed Update: got %d; want %d", got, before)
		}
	})
}
