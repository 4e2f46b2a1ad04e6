package storagetest

import (
	"context"
	"testing"

	"github.com/scopegate/authz/storage"
)

// benchValue is the value written by the benchmarks: about the size of a
// small JSON record.
var benchValue = []byte(`{"id":"scope_0123456789","name":"a benchmark record","parent":"scope_9876543210"}`)

// Bench runs the storage benchmarks against the stores returned by
// newStorage, which must return a new, empty store on each call:
//
//   - Get: one Get in a View, in a table of 10,000 keys.
//   - Put: one Put of a new key per Update.
//   - Put1000: 1,000 Puts of new keys in one Update.
//   - Scan10k: a View scanning a table of 10,000 keys.
//
// Building the keys of Put counts (one allocation per key); those of Put1000
// are built with the timer stopped.
func Bench(b *testing.B, newStorage func(b *testing.B) storage.Storage) {
	ctx := context.Background()
	open := func(b *testing.B) storage.Storage {
		s := newStorage(b)
		b.Cleanup(func() { s.Close() })
		return s
	}
	// fill writes n keys to table in transactions of 1,000 and returns them.
	fill := func(b *testing.B, s storage.Storage, table string, n int) []string {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = keyN(i)
		}
		for i := 0; i < n; i += 1000 {
			err := s.Update(ctx, func(tx storage.Tx) error {
				for _, k := range keys[i:min(i+1000, n)] {
					if err := tx.Put(table, k, benchValue); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		return keys
	}

	b.Run("Get", func(b *testing.B) {
		s := open(b)
		keys := fill(b, s, "t", 10_000)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := keys[i%len(keys)]
			i += 7919 // a prime: visits the keys out of order
			err := s.View(ctx, func(tx storage.Tx) error {
				_, err := tx.Get("t", k)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("Put", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := keyN(i)
			i++
			err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", k, benchValue) })
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("Put1000", func(b *testing.B) {
		s := open(b)
		keys := make([]string, 1000)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			b.StopTimer()
			for j := range keys {
				keys[j] = keyN(n)
				n++
			}
			b.StartTimer()
			err := s.Update(ctx, func(tx storage.Tx) error {
				for _, k := range keys {
					if err := tx.Put("t", k, benchValue); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("Scan10k", func(b *testing.B) {
		s := open(b)
		fill(b, s, "t", 10_000)
		fill(b, s, "u", 1000) // a neighbouring table the scan must not visit
		b.ReportAllocs()
		for b.Loop() {
			var n int
			err := s.View(ctx, func(tx storage.Tx) error {
				return tx.Scan("t", "", func(string, []byte) error { n++; return nil })
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != 10_000 {
				b.Fatalf("Scan: got %d keys; want 10000", n)
			}
		}
	})
}
