package storagetest

import (
	"errors"
	"testing"

	"github.com/scopegate/authz/storage"
)

// testPrefetcher checks the storage.Prefetcher contract, for backends
// whose Tx implements it: Prefetch changes nothing of what Get returns, in
// a View and in an Update, for keys stored, missing, written or deleted in
// the transaction before or after the Prefetch.
func (h *harness) testPrefetcher(t *testing.T) {
	s := h.open(t)
	put(t, s, "t", "a", "1", "b", "2", "c", "3")
	supported := false
	check := func(tx storage.Tx, want map[string]string) {
		t.Helper()
		for k, v := range want {
			got, err := tx.Get("t", k)
			switch {
			case v == "" && !errors.Is(err, storage.ErrNotFound):
				t.Errorf("Get(%q) after Prefetch: got %q, %v; want ErrNotFound", k, got, err)
			case v != "" && (err != nil || string(got) != v):
				t.Errorf("Get(%q) after Prefetch: got %q, %v; want %q", k, got, err, v)
			}
		}
	}
	view(t, s, func(tx storage.Tx) error {
		p, ok := tx.(storage.Prefetcher)
		if !ok {
			return nil
		}
		supported = true
		if err := p.Prefetch("t", []string{"a", "missing", "a", "c"}); err != nil {
			t.Fatalf("Prefetch in a View: %v", err)
		}
		check(tx, map[string]string{"a": "1", "b": "2", "c": "3", "missing": ""})
		return nil
	})
	if !supported {
		t.Skip("the backend's Tx does not implement storage.Prefetcher")
	}
	update(t, s, func(tx storage.Tx) error {
		if err := tx.Put("t", "b", []byte("written before")); err != nil {
			return err
		}
		if err := tx.Delete("t", "c"); err != nil {
			return err
		}
		if err := tx.(storage.Prefetcher).Prefetch("t", []string{"a", "b", "c", "d", "new"}); err != nil {
			t.Fatalf("Prefetch in an Update: %v", err)
		}
		check(tx, map[string]string{"a": "1", "b": "written before", "c": "", "d": ""})
		if err := tx.Put("t", "a", []byte("written after")); err != nil {
			return err
		}
		if err := tx.Put("t", "new", []byte("n")); err != nil {
			return err
		}
		if err := tx.Delete("t", "b"); err != nil {
			return err
		}
		check(tx, map[string]string{"a": "written after", "b": "", "new": "n"})
		// What the Tx sends to the store before a Scan must not make the
		// prefetched values come back.
		if err := tx.Scan("t", "", func(string, []byte) error { return nil }); err != nil {
			return err
		}
		check(tx, map[string]string{"a": "written after", "b": "", "c": "", "new": "n"})
		return nil
	})
	view(t, s, func(tx storage.Tx) error {
		check(tx, map[string]string{"a": "written after", "b": "", "c": "", "new": "n"})
		return nil
	})
}
