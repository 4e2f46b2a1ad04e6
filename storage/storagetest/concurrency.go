package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/authz/storage"
)

func (h *harness) testConcurrency(t *testing.T) {
	t.Run("50 concurrent writers increment one counter", func(t *testing.T) {
		s := h.open(t)
		const writers = 50
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				errs <- s.Update(context.Background(), func(tx storage.Tx) error {
					n, err := readCounter(tx, "t")
					if err != nil {
						return err
					}
					return tx.Put("t", "counter", []byte(strconv.Itoa(n+1)))
				})
			})
		}
		if !waitTimeout(&wg, waitLimit) {
			t.Fatalf("writers: got no end within %v; want all done", waitLimit)
		}
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Update: got %v; want nil", err)
			}
		}
		committedValue(t, s, "t", "counter", strconv.Itoa(writers))
	})

	t.Run("Views see consistent snapshots during Updates", func(t *testing.T) {
		// Each Update sets x in table "x" and y in table "y" to the same
		// number and appends a log key: every snapshot has x == y == the
		// number of log keys.
		s := h.open(t)
		const writers, rounds, readers = 4, 15, 4
		var writing sync.WaitGroup
		var failures atomic.Int32
		fail := func(err error) {
			if failures.Add(1) <= 5 {
				t.Error(err)
			}
		}
		for w := range writers {
			writing.Go(func() {
				for r := range rounds {
					err := s.Update(context.Background(), func(tx storage.Tx) error {
						n, err := readCounter(tx, "x")
						if err != nil {
							return err
						}
						n++
						if err := tx.Put("x", "counter", []byte(strconv.Itoa(n))); err != nil {
							return err
						}
						if err := tx.Put("log", fmt.Sprintf("%d-%d", w, r), nil); err != nil {
							return err
						}
						return tx.Put("y", "counter", []byte(strconv.Itoa(n)))
					})
					if err != nil {
						fail(fmt.Errorf("a writer's Update: got %v; want nil", err))
					}
				}
			})
		}
		stop := make(chan struct{})
		var reading sync.WaitGroup
		for range readers {
			reading.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := s.View(context.Background(), checkSnapshot)
					if err != nil {
						fail(err)
						return
					}
				}
			})
		}
		ok := waitTimeout(&writing, waitLimit)
		close(stop)
		if !waitTimeout(&reading, waitLimit) || !ok {
			t.Fatalf("readers and writers: got no end within %v; want all done", waitLimit)
		}
		view(t, s, checkSnapshot)
		committedValue(t, s, "x", "counter", strconv.Itoa(writers*rounds))
	})
}

// checkSnapshot checks the invariant of the snapshot test: x == y == the
// number of keys in "log".
func checkSnapshot(tx storage.Tx) error {
	x, err := readCounter(tx, "x")
	if err != nil {
		return err
	}
	var logged int
	if err := tx.Scan("log", "", func(string, []byte) error { logged++; return nil }); err != nil {
		return err
	}
	y, err := readCounter(tx, "y")
	if err != nil {
		return err
	}
	if x != y || x != logged {
		return fmt.Errorf("snapshot: got x=%d, y=%d, %d log keys; want them equal", x, y, logged)
	}
	return nil
}

// readCounter reads the decimal number under key "counter" of table, 0 when
// missing.
func readCounter(tx storage.Tx, table string) (int, error) {
	v, err := tx.Get(table, "counter")
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

// waitTimeout waits for wg and reports whether it finished within d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (h *harness) testSize(t *testing.T) {
	t.Run("10,000 keys in one Update", func(t *testing.T) {
		s := h.open(t)
		const n = 10_000
		update(t, s, func(tx storage.Tx) error {
			for i := n - 1; i >= 0; i-- { // descending: Scan must sort
				if err := tx.Put("t", keyN(i), []byte(strconv.Itoa(i))); err != nil {
					return err
				}
			}
			return nil
		})
		view(t, s, func(tx storage.Tx) error {
			i := 0
			err := tx.Scan("t", "", func(k string, v []byte) error {
				if k != keyN(i) || string(v) != strconv.Itoa(i) {
					return fmt.Errorf("entry %d: got %q=%q; want %q=%q", i, k, v, keyN(i), strconv.Itoa(i))
				}
				i++
				return nil
			})
			if err != nil {
				return err
			}
			if i != n {
				t.Errorf("Scan: got %d keys; want %d", i, n)
			}
			wantValue(t, tx, "t", keyN(0), "0")
			wantValue(t, tx, "t", keyN(n/2), strconv.Itoa(n/2))
			wantValue(t, tx, "t", keyN(n-1), strconv.Itoa(n-1))
			return nil
		})
		wantScan(t, `Scan prefix keyN(4321)`, scan(t, s, "t", keyN(4321)), []kv{{keyN(4321), "4321"}})

		update(t, s, func(tx storage.Tx) error {
			for i := range n {
				if i%1000 != 7 {
					if err := tx.Delete("t", keyN(i)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		var want []kv
		for i := 7; i < n; i += 1000 {
			want = append(want, kv{keyN(i), strconv.Itoa(i)})
		}
		wantScan(t, "Scan after deleting all but 10 keys", scan(t, s, "t", ""), want)
	})
}

func (h *harness) testDurability(t *testing.T) {
	if h.opts.Reopen == nil {
		t.Skip("backend is not durable: Options.Reopen is nil")
	}

	t.Run("committed data survives reopen", func(t *testing.T) {
		s := h.open(t)
		update(t, s, func(tx storage.Tx) error {
			for i := range 1000 {
				if err := tx.Put("many", keyN(i), []byte(strconv.Itoa(i))); err != nil {
					return err
				}
			}
			return nil
		})
		put(t, s, "t", "k", "v", "empty", "", "binary", "\x00\xff")
		put(t, s, "other", "k", "other")
		update(t, s, func(tx storage.Tx) error { return tx.Delete("t", "gone") })
		put(t, s, "t", "gone", "x")
		update(t, s, func(tx storage.Tx) error { return tx.Delete("t", "gone") })

		s = h.reopen(t, s)
		wantScan(t, "Scan of t after reopen", scan(t, s, "t", ""), []kv{{"binary", "\x00\xff"}, {"empty", ""}, {"k", "v"}})
		wantScan(t, "Scan of other after reopen", scan(t, s, "other", ""), []kv{{"k", "other"}})
		var got int
		view(t, s, func(tx storage.Tx) error {
			return tx.Scan("many", "", func(k string, v []byte) error {
				if k != keyN(got) || string(v) != strconv.Itoa(got) {
					return fmt.Errorf("entry %d: got %q=%q; want %q=%q", got, k, v, keyN(got), strconv.Itoa(got))
				}
				got++
				return nil
			})
		})
		if got != 1000 {
			t.Errorf("keys of table many after reopen: got %d; want 1000", got)
		}

		// The reopened store takes writes, and they survive too.
		put(t, s, "t", "k", "v2")
		s = h.reopen(t, s)
		committedValue(t, s, "t", "k", "v2")
	})

	t.Run("rolled back data does not survive reopen", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "b", "1")
		if err := s.Update(t.Context(), func(tx storage.Tx) error {
			if err := writeMany(tx); err != nil {
				return err
			}
			return errStop
		}); err != errStop {
			t.Fatalf("Update: got %v; want %v", err, errStop)
		}
		catchPanic(func() {
			_ = s.Update(t.Context(), func(tx storage.Tx) error {
				if err := tx.Put("t", "panicked", []byte("x")); err != nil {
					return err
				}
				panic("boom")
			})
		})
		ctx, cancel := context.WithCancel(t.Context())
		_ = s.Update(ctx, func(tx storage.Tx) error {
			cancel()
			return tx.Put("t", "cancelled", []byte("x"))
		})

		s = h.reopen(t, s)
		wantScan(t, "Scan after reopen", scan(t, s, "t", ""), []kv{{"a", "1"}, {"b", "1"}})
		wantScan(t, "Scan of a table only written by rolled back Updates", scan(t, s, "created", ""), nil)
	})
}
