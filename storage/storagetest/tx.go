package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/scopegate/authz/storage"
)

// waitLimit bounds every wait on another goroutine, so that a backend that
// deadlocks fails the test instead of hanging it.
const waitLimit = 10 * time.Second

func (h *harness) testUpdate(t *testing.T) {
	t.Run("reads its own writes", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k1", "old", "k2", "old", "k3", "old")
		want := []kv{{"k1", "new"}, {"k3", "old"}, {"k4", "new"}}
		update(t, s, func(tx storage.Tx) error {
			if err := tx.Put("t", "k1", []byte("new")); err != nil {
				return err
			}
			if err := tx.Delete("t", "k2"); err != nil {
				return err
			}
			if err := tx.Put("t", "k4", []byte("new")); err != nil {
				return err
			}
			wantValue(t, tx, "t", "k1", "new")
			wantMissing(t, tx, "t", "k2")
			wantValue(t, tx, "t", "k4", "new")
			wantScan(t, "Scan inside the Update", scanTx(t, tx, "t", ""), want)
			wantScan(t, `Scan prefix "k4" inside the Update`, scanTx(t, tx, "t", "k4"), want[2:])
			wantScan(t, `Scan prefix "k2" inside the Update`, scanTx(t, tx, "t", "k2"), nil)
			return nil
		})
		wantScan(t, "Scan after commit", scan(t, s, "t", ""), want)
	})

	t.Run("uncommitted writes are invisible to Views", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "committed")
		update(t, s, func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("pending")); err != nil {
				return err
			}
			if err := tx.Put("t", "new", []byte("pending")); err != nil {
				return err
			}
			seen := make(chan []kv, 1)
			go func() {
				var got []kv
				_ = s.View(context.Background(), func(tx storage.Tx) error {
					return tx.Scan("t", "", func(k string, v []byte) error {
						got = append(got, kv{k, string(v)})
						return nil
					})
				})
				seen <- got
			}()
			select {
			case got := <-seen:
				wantScan(t, "Scan in a View during an Update", got, []kv{{"k", "committed"}})
			case <-time.After(waitLimit):
				t.Errorf("View during an Update: got no result within %v; want Views not to wait for Updates", waitLimit)
			}
			return nil
		})
		committedValue(t, s, "t", "k", "pending")
	})

	t.Run("error rolls back and is returned unchanged", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "b", "1")
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			if err := writeMany(tx); err != nil {
				return err
			}
			return errStop
		})
		if err != errStop {
			t.Fatalf("Update: got %v; want %v itself", err, errStop)
		}
		wantScan(t, "Scan after rollback", scan(t, s, "t", ""), []kv{{"a", "1"}, {"b", "1"}})
		wantScan(t, "Scan of a table created by the rolled back Update", scan(t, s, "created", ""), nil)
	})

	t.Run("panic rolls back and propagates", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "b", "1")
		type panicValue struct{ msg string }
		recovered := catchPanic(func() {
			_ = s.Update(t.Context(), func(tx storage.Tx) error {
				if err := writeMany(tx); err != nil {
					return err
				}
				panic(panicValue{"boom"})
			})
		})
		if recovered != (panicValue{"boom"}) {
			t.Fatalf("recovered from Update: got %v; want panicValue{boom}", recovered)
		}
		wantScan(t, "Scan after a panic", scan(t, s, "t", ""), []kv{{"a", "1"}, {"b", "1"}})
		wantScan(t, "Scan of a table created by the panicking Update", scan(t, s, "created", ""), nil)

		// The store stays usable.
		put(t, s, "t", "c", "after panic")
		committedValue(t, s, "t", "c", "after panic")
	})

	t.Run("custom error types survive errors.As", func(t *testing.T) {
		s := h.open(t)
		for _, run := range []struct {
			name string
			call func(fn func(storage.Tx) error) error
		}{
			{"Update", func(fn func(storage.Tx) error) error { return s.Update(t.Context(), fn) }},
			{"View", func(fn func(storage.Tx) error) error { return s.View(t.Context(), fn) }},
		} {
			sent := &customError{code: 42}
			err := run.call(func(storage.Tx) error { return fmt.Errorf("wrapped: %w", sent) })
			var got *customError
			if !errors.As(err, &got) || got != sent {
				t.Errorf("%s: errors.As(%v): got %v; want the *customError returned by fn", run.name, err, got)
			}
			err = run.call(func(storage.Tx) error { return sent })
			if err != error(sent) {
				t.Errorf("%s: got %v; want the *customError returned by fn itself", run.name, err)
			}
		}
	})
}

// writeMany changes table "t" (holding a and b) and creates table "created",
// for the rollback tests.
func writeMany(tx storage.Tx) error {
	for _, op := range []func() error{
		func() error { return tx.Put("t", "a", []byte("2")) },
		func() error { return tx.Delete("t", "b") },
		func() error { return tx.Put("t", "c", []byte("new")) },
		func() error { return tx.Put("created", "k", []byte("new")) },
	} {
		if err := op(); err != nil {
			return err
		}
	}
	return nil
}

func (h *harness) testView(t *testing.T) {
	t.Run("Put and Delete return ErrReadOnly", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "v")
		view(t, s, func(tx storage.Tx) error {
			if err := tx.Put("t", "new", []byte("v")); !errors.Is(err, storage.ErrReadOnly) {
				t.Errorf("Put in View: got %v; want ErrReadOnly", err)
			}
			if err := tx.Put("t", "k", []byte("changed")); !errors.Is(err, storage.ErrReadOnly) {
				t.Errorf("Put of an existing key in View: got %v; want ErrReadOnly", err)
			}
			if err := tx.Delete("t", "k"); !errors.Is(err, storage.ErrReadOnly) {
				t.Errorf("Delete in View: got %v; want ErrReadOnly", err)
			}
			wantValue(t, tx, "t", "k", "v")
			wantMissing(t, tx, "t", "new")
			return nil
		})
		wantScan(t, "Scan after refused writes", scan(t, s, "t", ""), []kv{{"k", "v"}})
	})

	t.Run("panic propagates and the store stays usable", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "v")
		recovered := catchPanic(func() {
			_ = s.View(t.Context(), func(storage.Tx) error { panic("view panic") })
		})
		if recovered != "view panic" {
			t.Fatalf("recovered from View: got %v; want %q", recovered, "view panic")
		}
		put(t, s, "t", "k", "after panic")
		committedValue(t, s, "t", "k", "after panic")
	})

	t.Run("sees one snapshot while an Update commits", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "k", "v1")
		before := []kv{{"a", "1"}, {"k", "v1"}}
		done := make(chan error, 1)
		view(t, s, func(tx storage.Tx) error {
			wantValue(t, tx, "t", "k", "v1")
			go func() {
				done <- s.Update(context.Background(), func(tx storage.Tx) error {
					if err := tx.Put("t", "k", []byte("v2")); err != nil {
						return err
					}
					if err := tx.Put("t", "b", []byte("2")); err != nil {
						return err
					}
					return tx.Delete("t", "a")
				})
			}()
			select {
			case err := <-done:
				done <- err // for the check after the View
			case <-time.After(waitLimit):
				t.Errorf("Update during a View: got no commit within %v; want it to commit while the View is open", waitLimit)
			}
			wantValue(t, tx, "t", "k", "v1")
			wantValue(t, tx, "t", "a", "1")
			wantMissing(t, tx, "t", "b")
			wantScan(t, "Scan in the View after the commit", scanTx(t, tx, "t", ""), before)
			return nil
		})
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Update: got %v; want nil", err)
			}
		case <-time.After(waitLimit):
			t.Fatalf("Update after the View ended: got no commit within %v; want a commit", waitLimit)
		}
		wantScan(t, "Scan in a new View", scan(t, s, "t", ""), []kv{{"b", "2"}, {"k", "v2"}})
	})
}

func (h *harness) testTxClosed(t *testing.T) {
	t.Run("Tx used after fn returns returns ErrTxClosed", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "v")
		check := func(what string, tx storage.Tx) {
			t.Helper()
			if tx == nil {
				t.Fatalf("%s: fn was not called", what)
			}
			if _, err := tx.Get("t", "k"); !errors.Is(err, storage.ErrTxClosed) {
				t.Errorf("%s: Get: got %v; want ErrTxClosed", what, err)
			}
			if err := tx.Put("t", "late", []byte("v")); !errors.Is(err, storage.ErrTxClosed) {
				t.Errorf("%s: Put: got %v; want ErrTxClosed", what, err)
			}
			if err := tx.Delete("t", "k"); !errors.Is(err, storage.ErrTxClosed) {
				t.Errorf("%s: Delete: got %v; want ErrTxClosed", what, err)
			}
			err := tx.Scan("t", "", func(string, []byte) error { return nil })
			if !errors.Is(err, storage.ErrTxClosed) {
				t.Errorf("%s: Scan: got %v; want ErrTxClosed", what, err)
			}
		}

		var kept storage.Tx
		view(t, s, func(tx storage.Tx) error { kept = tx; return nil })
		check("View", kept)

		kept = nil
		update(t, s, func(tx storage.Tx) error { kept = tx; return nil })
		check("committed Update", kept)

		kept = nil
		_ = s.Update(t.Context(), func(tx storage.Tx) error { kept = tx; return errStop })
		check("rolled back Update", kept)

		kept = nil
		catchPanic(func() {
			_ = s.Update(t.Context(), func(tx storage.Tx) error { kept = tx; panic("boom") })
		})
		check("panicked Update", kept)

		wantScan(t, "Scan after the late calls", scan(t, s, "t", ""), []kv{{"k", "v"}})
	})
}

func (h *harness) testContext(t *testing.T) {
	t.Run("View with a done context returns its error", func(t *testing.T) {
		s := h.open(t)
		expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		for _, c := range []struct {
			ctx  context.Context
			want error
		}{{cancelled(), context.Canceled}, {expired, context.DeadlineExceeded}} {
			called := false
			err := s.View(c.ctx, func(storage.Tx) error { called = true; return nil })
			if !errors.Is(err, c.want) {
				t.Errorf("View: got %v; want %v", err, c.want)
			}
			if called {
				t.Errorf("View with %v: fn was called; want it not called", c.want)
			}
		}
	})

	t.Run("Update with a done context writes nothing", func(t *testing.T) {
		s := h.open(t)
		expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		for _, c := range []struct {
			ctx  context.Context
			want error
		}{{cancelled(), context.Canceled}, {expired, context.DeadlineExceeded}} {
			called := false
			err := s.Update(c.ctx, func(tx storage.Tx) error {
				called = true
				return tx.Put("t", "k", []byte("v"))
			})
			if !errors.Is(err, c.want) {
				t.Errorf("Update: got %v; want %v", err, c.want)
			}
			if called {
				t.Errorf("Update with %v: fn was called; want it not called", c.want)
			}
		}
		committedMissing(t, s, "t", "k")
	})

	t.Run("context cancelled inside Update commits nothing", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "old")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := s.Update(ctx, func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("new")); err != nil {
				return err
			}
			if err := tx.Put("t", "k2", []byte("new")); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Update: got %v; want context.Canceled", err)
		}
		wantScan(t, "Scan after a cancelled Update", scan(t, s, "t", ""), []kv{{"k", "old"}})
	})
}

func (h *harness) testClose(t *testing.T) {
	t.Run("Close is idempotent", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "v")
		for i := range 3 {
			if err := s.Close(); err != nil {
				t.Errorf("Close call %d: got %v; want nil", i+1, err)
			}
		}
	})

	t.Run("View and Update after Close return ErrClosed", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "v")
		if err := s.Close(); err != nil {
			t.Fatalf("Close: got %v; want nil", err)
		}
		called := false
		fn := func(storage.Tx) error { called = true; return nil }
		if err := s.View(t.Context(), fn); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("View after Close: got %v; want ErrClosed", err)
		}
		if err := s.Update(t.Context(), fn); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Update after Close: got %v; want ErrClosed", err)
		}
		if called {
			t.Error("fn after Close: got called; want not called")
		}
	})
}
