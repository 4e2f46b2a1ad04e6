package storagetest

import (
	"errors"
	"fmt"
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
		// Keys read as missing are written, written again (before and
		// after what the Tx sends on its own), deleted and written back:
		// every write must take effect, whatever the Tx knew of the key.
		if err := tx.Put("t", "new", []byte("n2")); err != nil {
			return err
		}
		if err := tx.Delete("t", "a"); err != nil {
			return err
		}
		if err := tx.Put("t", "a", []byte("written again")); err != nil {
			return err
		}
		if err := tx.Delete("t", "d"); err != nil {
			return err
		}
		if err := tx.Put("t", "d", []byte("d")); err != nil {
			return err
		}
		var many []string
		for i := range 5000 {
			many = append(many, fmt.Sprintf("m%04d", i))
		}
		if err := tx.(storage.Prefetcher).Prefetch("t", many); err != nil {
			t.Fatalf("Prefetch of %d keys: %v", len(many), err)
		}
		for round := range 2 {
			for _, k := range many {
				if err := tx.Put("t", k, []byte(fmt.Sprint(round))); err != nil {
					return err
				}
			}
		}
		return tx.Delete("t", "m0001")
	})
	want := map[string]string{"a": "written again", "b": "", "c": "", "d": "d", "new": "n2", "m0000": "1", "m0001": "", "m4095": "1", "m4999": "1"}
	view(t, s, func(tx storage.Tx) error {
		check(tx, want)
		n := 0
		err := tx.Scan("t", "m", func(string, []byte) error { n++; return nil })
		if n != 4999 {
			t.Errorf("keys with prefix m: got %d; want 4999", n)
		}
		return err
	})
}
