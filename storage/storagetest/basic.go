package storagetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/scopegate/authz/storage"
)

func (h *harness) testGet(t *testing.T) {
	t.Run("missing key returns ErrNotFound", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1")
		view(t, s, func(tx storage.Tx) error {
			wantMissing(t, tx, "t", "b")
			wantMissing(t, tx, "t", "a\x00") // a key that has a present key as prefix
			wantMissing(t, tx, "t", "A")
			return nil
		})
		update(t, s, func(tx storage.Tx) error {
			wantMissing(t, tx, "t", "b")
			return nil
		})
	})

	t.Run("never written table returns ErrNotFound", func(t *testing.T) {
		s := h.open(t)
		view(t, s, func(tx storage.Tx) error {
			wantMissing(t, tx, "never", "k")
			return nil
		})
		put(t, s, "other", "k", "v")
		view(t, s, func(tx storage.Tx) error {
			wantMissing(t, tx, "never", "k")
			return nil
		})
		update(t, s, func(tx storage.Tx) error {
			wantMissing(t, tx, "never", "k")
			return nil
		})
	})

	t.Run("returned value is a copy", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "value")
		check := func(t *testing.T, tx storage.Tx) {
			t.Helper()
			v, err := tx.Get("t", "k")
			if err != nil {
				t.Fatalf("Get: got %v; want nil", err)
			}
			copy(v, "XXXXX")
			wantValue(t, tx, "t", "k", "value")
		}
		view(t, s, func(tx storage.Tx) error { check(t, tx); return nil })
		update(t, s, func(tx storage.Tx) error { check(t, tx); return nil })
		committedValue(t, s, "t", "k", "value")
	})

	t.Run("returned value stays valid after the transaction", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "first")
		var kept []byte
		view(t, s, func(tx storage.Tx) error {
			var err error
			kept, err = tx.Get("t", "k")
			return err
		})
		put(t, s, "t", "k", "later", "k2", "filler")
		if string(kept) != "first" {
			t.Errorf("value kept from an ended View: got %q; want %q", kept, "first")
		}
	})
}

func (h *harness) testPut(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		s := h.open(t)
		binary := make([]byte, 256)
		for i := range binary {
			binary[i] = byte(i)
		}
		put(t, s, "t", "text", "hello", "binary", string(binary), "k\x00\xff", "odd key")
		view(t, s, func(tx storage.Tx) error {
			wantValue(t, tx, "t", "text", "hello")
			wantValue(t, tx, "t", "binary", string(binary))
			wantValue(t, tx, "t", "k\x00\xff", "odd key")
			return nil
		})
	})

	t.Run("overwrite replaces the value", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "k", "a long first value")
		put(t, s, "t", "k", "v2")
		committedValue(t, s, "t", "k", "v2")
		wantScan(t, "Scan after overwrite", scan(t, s, "t", ""), []kv{{"k", "v2"}})
	})

	t.Run("empty value is present and distinct from missing", func(t *testing.T) {
		s := h.open(t)
		update(t, s, func(tx storage.Tx) error {
			if err := tx.Put("t", "empty", []byte{}); err != nil {
				return err
			}
			if err := tx.Put("t", "nil", nil); err != nil {
				return err
			}
			wantValue(t, tx, "t", "empty", "")
			wantValue(t, tx, "t", "nil", "")
			return nil
		})
		view(t, s, func(tx storage.Tx) error {
			wantValue(t, tx, "t", "empty", "")
			wantValue(t, tx, "t", "nil", "")
			wantMissing(t, tx, "t", "missing")
			return nil
		})
		wantScan(t, "Scan of empty values", scan(t, s, "t", ""), []kv{{"empty", ""}, {"nil", ""}})
	})

	t.Run("value is copied before Put returns", func(t *testing.T) {
		s := h.open(t)
		buf := []byte("original")
		update(t, s, func(tx storage.Tx) error {
			if err := tx.Put("t", "k", buf); err != nil {
				return err
			}
			copy(buf, "MODIFIED")
			wantValue(t, tx, "t", "k", "original")
			return nil
		})
		copy(buf, "CHANGED!")
		committedValue(t, s, "t", "k", "original")
	})
}

func (h *harness) testDelete(t *testing.T) {
	t.Run("removes the key", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "b", "2")
		update(t, s, func(tx storage.Tx) error { return tx.Delete("t", "a") })
		committedMissing(t, s, "t", "a")
		committedValue(t, s, "t", "b", "2")
		wantScan(t, "Scan after Delete", scan(t, s, "t", ""), []kv{{"b", "2"}})
	})

	t.Run("missing key is not an error", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1")
		update(t, s, func(tx storage.Tx) error {
			if err := tx.Delete("t", "missing"); err != nil {
				t.Errorf("Delete of a missing key: got %v; want nil", err)
			}
			if err := tx.Delete("never", "k"); err != nil {
				t.Errorf("Delete in a never written table: got %v; want nil", err)
			}
			return nil
		})
		committedValue(t, s, "t", "a", "1")
	})
}

func (h *harness) testScan(t *testing.T) {
	t.Run("prefix matches exactly", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "a\x00", "2", "a\x00b", "3", "ab", "4", "b", "5")
		tests := []struct {
			prefix string
			want   []kv
		}{
			{"a\x00", []kv{{"a\x00", "2"}, {"a\x00b", "3"}}},
			{"a", []kv{{"a", "1"}, {"a\x00", "2"}, {"a\x00b", "3"}, {"ab", "4"}}},
			{"ab", []kv{{"ab", "4"}}},
			{"abc", nil},
			{"c", nil},
			{"", []kv{{"a", "1"}, {"a\x00", "2"}, {"a\x00b", "3"}, {"ab", "4"}, {"b", "5"}}},
		}
		view(t, s, func(tx storage.Tx) error {
			for _, tt := range tests {
				wantScan(t, fmt.Sprintf("Scan prefix %q", tt.prefix), scanTx(t, tx, "t", tt.prefix), tt.want)
			}
			return nil
		})
	})

	t.Run("tables are separate", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "ta", "k1", "ta1", "k2", "ta2")
		put(t, s, "tab", "k1", "tab1", "k3", "tab3")
		put(t, s, "t", "k0", "t0")
		wantScan(t, `Scan of "ta"`, scan(t, s, "ta", ""), []kv{{"k1", "ta1"}, {"k2", "ta2"}})
		wantScan(t, `Scan of "tab"`, scan(t, s, "tab", ""), []kv{{"k1", "tab1"}, {"k3", "tab3"}})
		wantScan(t, `Scan of "t"`, scan(t, s, "t", "k"), []kv{{"k0", "t0"}})
		view(t, s, func(tx storage.Tx) error {
			wantMissing(t, tx, "ta", "k3")
			wantMissing(t, tx, "tab", "k2")
			return nil
		})
		update(t, s, func(tx storage.Tx) error { return tx.Delete("ta", "k1") })
		committedValue(t, s, "tab", "k1", "tab1")
	})

	t.Run("order is ascending by bytes", func(t *testing.T) {
		s := h.open(t)
		keys := []string{"a", "B", "b", "ba", "\x00", "\x01", "\x7f", "\x80", "\xc3\xa9", "\xff", "\xff\x00", "é", "z", "Z", "0", "10", "9"}
		shuffled := slices.Clone(keys)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		update(t, s, func(tx storage.Tx) error {
			for _, k := range shuffled {
				if err := tx.Put("t", k, []byte("v"+k)); err != nil {
					return err
				}
			}
			return nil
		})
		slices.Sort(keys) // Go compares strings bytewise
		keys = slices.Compact(keys)
		var want []kv
		for _, k := range keys {
			want = append(want, kv{k, "v" + k})
		}
		wantScan(t, "Scan order", scan(t, s, "t", ""), want)
		wantScan(t, `Scan prefix "\xff"`, scan(t, s, "t", "\xff"), []kv{{"\xff", "v\xff"}, {"\xff\x00", "v\xff\x00"}})
	})

	t.Run("never written table visits nothing", func(t *testing.T) {
		s := h.open(t)
		wantScan(t, "Scan of an empty store", scan(t, s, "never", ""), nil)
		put(t, s, "other", "k", "v")
		wantScan(t, "Scan of a never written table", scan(t, s, "never", ""), nil)
	})

	t.Run("callback error stops the scan and is returned unchanged", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "1", "b", "2", "c", "3", "d", "4")
		custom := &customError{code: 3}
		for _, stopWith := range []error{errStop, custom} {
			run := func(tx storage.Tx) error {
				var visited []string
				err := tx.Scan("t", "", func(k string, _ []byte) error {
					visited = append(visited, k)
					if len(visited) == 2 {
						return stopWith
					}
					return nil
				})
				if err != stopWith {
					t.Errorf("Scan: got error %v; want %v itself", err, stopWith)
				}
				if want := []string{"a", "b"}; !slices.Equal(visited, want) {
					t.Errorf("keys visited: got %q; want %q", visited, want)
				}
				return nil
			}
			view(t, s, run)
			update(t, s, run)
		}
	})

	t.Run("values are copies that stay valid", func(t *testing.T) {
		s := h.open(t)
		put(t, s, "t", "a", "alpha", "b", "beta")
		var kept [][]byte
		view(t, s, func(tx storage.Tx) error {
			return tx.Scan("t", "", func(_ string, v []byte) error {
				kept = append(kept, v)
				copy(v, "XX")
				return nil
			})
		})
		wantScan(t, "Scan after changing the values it returned", scan(t, s, "t", ""), []kv{{"a", "alpha"}, {"b", "beta"}})
		put(t, s, "t", "a", "new a", "b", "new b")
		if got, want := []string{string(kept[0]), string(kept[1])}, []string{"XXpha", "XXta"}; !slices.Equal(got, want) {
			t.Errorf("values kept from an ended View: got %q; want %q", got, want)
		}
	})

	t.Run("callback may read and write other tables", func(t *testing.T) {
		s := h.open(t)
		var want []kv
		update(t, s, func(tx storage.Tx) error {
			for i := range 500 {
				k := keyN(i)
				want = append(want, kv{k, "v" + k})
				if err := tx.Put("src", k, []byte("v"+k)); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, s, func(tx storage.Tx) error {
			return tx.Scan("src", "", func(k string, v []byte) error {
				wantValue(t, tx, "src", k, string(v))
				return tx.Put("dst", k, v)
			})
		})
		wantScan(t, `Scan of "src"`, scan(t, s, "src", ""), want)
		wantScan(t, `Scan of "dst" filled by a Scan callback`, scan(t, s, "dst", ""), want)
	})
}

func (h *harness) testEmptyNames(t *testing.T) {
	t.Run("empty table or key returns ErrKeyRequired", func(t *testing.T) {
		s := h.open(t)
		check := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, storage.ErrKeyRequired) {
				t.Errorf("%s: got %v; want ErrKeyRequired", what, err)
			}
		}
		update(t, s, func(tx storage.Tx) error {
			check(`Put("", "k")`, tx.Put("", "k", []byte("v")))
			check(`Put("t", "")`, tx.Put("t", "", []byte("v")))
			_, err := tx.Get("", "k")
			check(`Get("", "k")`, err)
			_, err = tx.Get("t", "")
			check(`Get("t", "")`, err)
			check(`Delete("", "k")`, tx.Delete("", "k"))
			check(`Delete("t", "")`, tx.Delete("t", ""))
			check(`Scan("", "")`, tx.Scan("", "", func(string, []byte) error { return nil }))
			return nil
		})
		view(t, s, func(tx storage.Tx) error {
			_, err := tx.Get("t", "")
			check(`Get("t", "") in View`, err)
			check(`Scan("", "") in View`, tx.Scan("", "", func(string, []byte) error { return nil }))
			return nil
		})
		wantScan(t, "Scan after refused writes", scan(t, s, "t", ""), nil)
	})
}

// keyN returns the n-th key of a sequence whose byte order is numeric order.
func keyN(n int) string {
	return fmt.Sprintf("k%08d", n)
}
