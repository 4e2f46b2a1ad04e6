package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/storage"
)

// kvModel is what a store should hold: table → key → value.
type kvModel map[string]map[string][]byte

func (m kvModel) clone() kvModel {
	out := kvModel{}
	for tbl, kv := range m {
		out[tbl] = maps.Clone(kv)
	}
	return out
}

func (m kvModel) put(tbl, k string, v []byte) {
	if m[tbl] == nil {
		m[tbl] = map[string][]byte{}
	}
	m[tbl][k] = bytes.Clone(v)
}

func (m kvModel) del(tbl, k string) { delete(m[tbl], k) }

// scan returns "key=value" lines of the keys of tbl starting with prefix,
// in byte order.
func (m kvModel) scan(tbl, prefix string) []string {
	var keys []string
	for k := range m[tbl] {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // Go compares strings bytewise
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%q=%q", k, m[tbl][k])
	}
	return out
}

// scanTx returns what tx.Scan gives, in the form of kvModel.scan.
func scanTx(tx storage.Tx, tbl, prefix string) ([]string, error) {
	var out []string
	err := tx.Scan(tbl, prefix, func(k string, v []byte) error {
		if v == nil {
			return fmt.Errorf("scan %q: value of %q is nil; want a non-nil slice", tbl, k)
		}
		out = append(out, fmt.Sprintf("%q=%q", k, v))
		return nil
	})
	return out, err
}

// checkGet compares tx.Get(tbl, k) with the model.
func checkGet(tx storage.Tx, m kvModel, tbl, k string) error {
	got, err := tx.Get(tbl, k)
	want, ok := m[tbl][k]
	switch {
	case !ok && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("Get(%q, %q): got %q, %v; want ErrNotFound", tbl, k, got, err)
	case ok && err != nil:
		return fmt.Errorf("Get(%q, %q): got error %v; want %q", tbl, k, err, want)
	case ok && (got == nil || !bytes.Equal(got, want)):
		return fmt.Errorf("Get(%q, %q): got %q (nil %v); want %q", tbl, k, got, got == nil, want)
	}
	return nil
}

var (
	attackTables = []string{"t", "u"}
	// Short keys over the bytes where orderings and encodings break, so
	// that the same keys come back again and again.
	attackBytes = []byte{0x00, 0x01, 'a', 0x7f, 0x80, 0xff}
	errAbort    = errors.New("fn gives up")
)

func randKey(r *rand.Rand) string {
	b := make([]byte, 1+r.IntN(2))
	for i := range b {
		b[i] = attackBytes[r.IntN(len(attackBytes))]
	}
	return string(b)
}

func randValue(r *rand.Rand) []byte {
	switch r.IntN(4) {
	case 0:
		return nil // stored as an empty value
	case 1:
		return []byte{}
	default:
		return []byte(fmt.Sprintf("v%d\x00\xff", r.IntN(1000)))
	}
}

// bulkKeys returns n keys b00000… from start: enough for a Tx to send its
// writes on its own (maxPending) in the middle of a sequence.
func bulkKeys(start, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("b%05d", start+i)
	}
	return out
}

// attackStep runs one random operation in tx and applies it to m (the
// transaction's view), failing on any difference.
func attackStep(r *rand.Rand, tx storage.Tx, m kvModel, bulk bool) (string, error) {
	tbl := attackTables[r.IntN(len(attackTables))]
	p := tx.(storage.Prefetcher)
	switch n := r.IntN(100); {
	case n < 20:
		var keys []string
		for range r.IntN(12) {
			keys = append(keys, randKey(r))
		}
		if len(keys) > 1 && r.IntN(2) == 0 {
			keys = append(keys, keys[0]) // the same key twice
		}
		if err := p.Prefetch(tbl, keys); err != nil {
			return "", fmt.Errorf("Prefetch(%q, %q): %w", tbl, keys, err)
		}
		for _, k := range keys {
			if err := checkGet(tx, m, tbl, k); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("prefetch %s %q", tbl, keys), nil
	case n < 35:
		k := randKey(r)
		return fmt.Sprintf("get %s %q", tbl, k), checkGet(tx, m, tbl, k)
	case n < 60:
		k, v := randKey(r), randValue(r)
		m.put(tbl, k, v)
		return fmt.Sprintf("put %s %q %q", tbl, k, v), tx.Put(tbl, k, v)
	case n < 72:
		k := randKey(r)
		m.del(tbl, k)
		return fmt.Sprintf("delete %s %q", tbl, k), tx.Delete(tbl, k)
	case n < 80:
		// Delete, then put back, maybe after a Prefetch that saw it gone.
		k, v := randKey(r), randValue(r)
		if err := tx.Delete(tbl, k); err != nil {
			return "", err
		}
		if r.IntN(2) == 0 {
			if err := p.Prefetch(tbl, []string{k}); err != nil {
				return "", err
			}
		}
		m.put(tbl, k, v)
		return fmt.Sprintf("delete+put %s %q", tbl, k), tx.Put(tbl, k, v)
	case n < 88:
		prefix := ""
		if r.IntN(2) == 0 {
			prefix = randKey(r)[:1]
		}
		got, err := scanTx(tx, tbl, prefix)
		if err != nil {
			return "", err
		}
		if want := m.scan(tbl, prefix); !slices.Equal(got, want) {
			return "", fmt.Errorf("Scan(%q, %q) inside Update: got %d rows %q; want %d rows %q", tbl, prefix, len(got), clip(got), len(want), clip(want))
		}
		return fmt.Sprintf("scan %s %q", tbl, prefix), nil
	default:
		if !bulk {
			return "noop", nil
		}
		// Enough keys to cross maxPending, overlapping those of earlier
		// bulk steps: prefetched, written, deleted, written back.
		keys := bulkKeys(r.IntN(3000), maxPending+1+r.IntN(300))
		what := r.IntN(4)
		if r.IntN(2) == 0 {
			if err := p.Prefetch(tbl, keys); err != nil {
				return "", err
			}
		}
		for i, k := range keys {
			var err error
			switch {
			case what == 0 || what == 3 && i%3 == 0:
				v := []byte(k)
				m.put(tbl, k, v)
				err = tx.Put(tbl, k, v)
			case what == 1 || what == 3 && i%3 == 1:
				m.del(tbl, k)
				err = tx.Delete(tbl, k)
			default:
				// put, delete, put: the last wins.
				m.put(tbl, k, nil)
				if err = tx.Put(tbl, k, []byte("first")); err == nil {
					if err = tx.Delete(tbl, k); err == nil {
						err = tx.Put(tbl, k, nil)
					}
				}
			}
			if err != nil {
				return "", fmt.Errorf("bulk write %d of %q: %w", i, k, err)
			}
		}
		// Sample reads after the writes crossed the threshold.
		for range 20 {
			if err := checkGet(tx, m, tbl, keys[r.IntN(len(keys))]); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("bulk %d %s %d keys from %s", what, tbl, len(keys), keys[0]), nil
	}
}

func clip(s []string) []string {
	if len(s) > 12 {
		return append(s[:12:12], "…")
	}
	return s
}

// checkStore compares every table of s with m in a View, and Gets after a
// Prefetch in the View.
func checkStore(t *testing.T, s storage.Storage, m kvModel, r *rand.Rand) {
	t.Helper()
	err := s.View(context.Background(), func(tx storage.Tx) error {
		for _, tbl := range attackTables {
			got, err := scanTx(tx, tbl, "")
			if err != nil {
				return err
			}
			if want := m.scan(tbl, ""); !slices.Equal(got, want) {
				return fmt.Errorf("table %q after commit: got %d rows %q; want %d rows %q", tbl, len(got), clip(got), len(want), clip(want))
			}
			var keys []string
			for range 30 {
				keys = append(keys, randKey(r))
			}
			if err := tx.(storage.Prefetcher).Prefetch(tbl, keys); err != nil {
				return err
			}
			for _, k := range keys {
				if err := checkGet(tx, m, tbl, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAttackTxMatchesModel runs random sequences of Prefetch, Get, Put,
// Delete and Scan in Updates (some crossing maxPending, some given up by
// fn after the Tx sent writes) and compares every answer, inside the
// Update and after it, with a map. A Put sent as a plain insert for a key
// that exists fails the whole Update; a write lost or resurrected shows in
// the Scans.
func TestAttackTxMatchesModel(t *testing.T) {
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 200
	for seed := range 3 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s := openStore(t)
			r := rand.New(rand.NewPCG(uint64(seed), 14))
			committed := kvModel{}
			for u := range 6 {
				m := committed.clone()
				abort := r.IntN(5) == 0
				bulk := r.IntN(3) == 0
				var trace []string
				err := s.Update(context.Background(), func(tx storage.Tx) error {
					for range 80 {
						what, err := attackStep(r, tx, m, bulk)
						if err != nil {
							return fmt.Errorf("after %d steps, the last %q: %w", len(trace), trace[max(0, len(trace)-8):], err)
						}
						trace = append(trace, what)
					}
					if abort {
						return errAbort
					}
					return nil
				})
				switch {
				case abort && !errors.Is(err, errAbort):
					t.Fatalf("update %d: got %v; want errAbort", u, err)
				case !abort && err != nil:
					t.Fatalf("update %d: %v", u, err)
				case !abort:
					committed = m
				}
				checkStore(t, s, committed, r)
			}
		})
	}
}

// TestAttackPrefetchAbsentEdgeCases runs the sequences where the insert of
// a key read as missing is most at risk, each in one Update then checked.
func TestAttackPrefetchAbsentEdgeCases(t *testing.T) {
	type op struct {
		kind string // p(refetch), put, del, scan, fill (maxPending other writes)
		key  string
	}
	cases := map[string][]op{
		"prefetch put put":                   {{"p", "k"}, {"put", "k"}, {"put", "k"}},
		"prefetch put fill put":              {{"p", "k"}, {"put", "k"}, {"fill", ""}, {"put", "k"}},
		"prefetch put scan put":              {{"p", "k"}, {"put", "k"}, {"scan", ""}, {"put", "k"}},
		"prefetch put fill prefetch put":     {{"p", "k"}, {"put", "k"}, {"fill", ""}, {"p", "k"}, {"put", "k"}},
		"prefetch put scan prefetch put":     {{"p", "k"}, {"put", "k"}, {"scan", ""}, {"p", "k"}, {"put", "k"}},
		"prefetch prefetch put scan put":     {{"p", "k"}, {"p", "k"}, {"put", "k"}, {"scan", ""}, {"put", "k"}},
		"put prefetch put":                   {{"put", "k"}, {"p", "k"}, {"put", "k"}},
		"put scan prefetch put":              {{"put", "k"}, {"scan", ""}, {"p", "k"}, {"put", "k"}},
		"put fill prefetch put":              {{"put", "k"}, {"fill", ""}, {"p", "k"}, {"put", "k"}},
		"prefetch del put":                   {{"p", "k"}, {"del", "k"}, {"put", "k"}},
		"prefetch put del put":               {{"p", "k"}, {"put", "k"}, {"del", "k"}, {"put", "k"}},
		"prefetch put del fill put":          {{"p", "k"}, {"put", "k"}, {"del", "k"}, {"fill", ""}, {"put", "k"}},
		"prefetch put fill del prefetch put": {{"p", "k"}, {"put", "k"}, {"fill", ""}, {"del", "k"}, {"p", "k"}, {"put", "k"}},
		"prefetch put fill del put":          {{"p", "k"}, {"put", "k"}, {"fill", ""}, {"del", "k"}, {"put", "k"}},
		"stored: prefetch del fill put":      {{"put0", "k"}, {"p", "k"}, {"del", "k"}, {"fill", ""}, {"put", "k"}},
		"stored: del scan prefetch put":      {{"put0", "k"}, {"del", "k"}, {"scan", ""}, {"p", "k"}, {"put", "k"}},
		"stored: del fill prefetch put":      {{"put0", "k"}, {"del", "k"}, {"fill", ""}, {"p", "k"}, {"put", "k"}},
		"stored: prefetch del scan put":      {{"put0", "k"}, {"p", "k"}, {"del", "k"}, {"scan", ""}, {"put", "k"}},
		"fill of the key itself":             {{"p", "b00001"}, {"fill", ""}, {"put", "b00001"}},
		"prefetch fill keys, fill twice":     {{"pfill", ""}, {"fill", ""}, {"fill", ""}},
		"prefetch fill keys, del, fill":      {{"pfill", ""}, {"delfill", ""}, {"pfill", ""}, {"fill", ""}},
	}
	s := openStore(t)
	n := 0
	for name, ops := range cases {
		n++
		tbl := fmt.Sprintf("c%d", n)
		m := kvModel{}
		t.Run(name, func(t *testing.T) {
			// put0: stored by an earlier Update.
			if ops[0].kind == "put0" {
				if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put(tbl, ops[0].key, []byte("0")) }); err != nil {
					t.Fatal(err)
				}
				m.put(tbl, ops[0].key, []byte("0"))
				ops = ops[1:]
			}
			err := s.Update(context.Background(), func(tx storage.Tx) error {
				fill := bulkKeys(0, maxPending)
				for i, o := range ops {
					var err error
					switch o.kind {
					case "p":
						err = tx.(storage.Prefetcher).Prefetch(tbl, []string{o.key, o.key})
					case "pfill":
						err = tx.(storage.Prefetcher).Prefetch(tbl, fill)
					case "put":
						v := []byte(fmt.Sprint(i))
						m.put(tbl, o.key, v)
						err = tx.Put(tbl, o.key, v)
					case "del":
						m.del(tbl, o.key)
						err = tx.Delete(tbl, o.key)
					case "scan":
						_, err = scanTx(tx, tbl, "")
					case "fill", "delfill":
						for _, k := range fill {
							if o.kind == "fill" {
								m.put(tbl, k, []byte(k))
								err = tx.Put(tbl, k, []byte(k))
							} else {
								m.del(tbl, k)
								err = tx.Delete(tbl, k)
							}
							if err != nil {
								break
							}
						}
					}
					if err != nil {
						return fmt.Errorf("op %d %v: %w", i, o, err)
					}
					if o.key != "" {
						if err := checkGet(tx, m, tbl, o.key); err != nil {
							return fmt.Errorf("after op %d %v: %w", i, o, err)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := s.View(context.Background(), func(tx storage.Tx) error {
				got, err = scanTx(tx, tbl, "")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if want := m.scan(tbl, ""); !slices.Equal(got, want) {
				t.Errorf("table after commit: got %d rows %q; want %d rows %q", len(got), clip(got), len(want), clip(want))
			}
		})
	}
}

// TestAttackTwoStoresToggle has two Stores on one schema run Updates at the
// same time, each prefetching a random subset of shared keys and toggling
// them (missing: insert; present: delete or overwrite) and incrementing a
// counter. The writer row serializes them: no Update may fail with a
// duplicate key, the counter counts every Update, and each key ends
// present exactly when it was toggled an odd number of times.
func TestAttackTwoStoresToggle(t *testing.T) {
	url := pgURL(t)
	stores := []*Store{openURL(t, url), openURL(t, url)}
	const perStore, nkeys = 25, 40
	var mu sync.Mutex
	toggles := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for u := range perStore {
				var keys []string
				for range 1 + r.IntN(15) {
					keys = append(keys, fmt.Sprintf("k%02d", r.IntN(nkeys)))
				}
				slices.Sort(keys)
				keys = slices.Compact(keys)
				err := s.Update(context.Background(), func(tx storage.Tx) error {
					if err := tx.(storage.Prefetcher).Prefetch("t", append(keys, "count")); err != nil {
						return err
					}
					for _, k := range keys {
						_, err := tx.Get("t", k)
						switch {
						case errors.Is(err, storage.ErrNotFound):
							err = tx.Put("t", k, []byte{byte(i)})
						case err == nil:
							err = tx.Delete("t", k)
							if err == nil && r.IntN(3) == 0 {
								// Delete, read as missing, insert, delete.
								if err = tx.(storage.Prefetcher).Prefetch("t", []string{k}); err == nil {
									if err = tx.Put("t", k, nil); err == nil {
										err = tx.Delete("t", k)
									}
								}
							}
						}
						if err != nil {
							return err
						}
					}
					n := 0
					if v, err := tx.Get("t", "count"); err == nil {
						fmt.Sscan(string(v), &n)
					} else if !errors.Is(err, storage.ErrNotFound) {
						return err
					}
					return tx.Put("t", "count", []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					errs <- fmt.Errorf("store %d update %d (keys %q): %w", i, u, keys, err)
					return
				}
				mu.Lock()
				for _, k := range keys {
					toggles[k]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	want := kvModel{}
	for k, n := range toggles {
		if n%2 == 1 {
			want.put("t", k, nil)
		}
	}
	want.put("t", "count", []byte(fmt.Sprint(perStore*len(stores))))
	err := stores[1].View(context.Background(), func(tx storage.Tx) error {
		var got []string
		err := tx.Scan("t", "", func(k string, v []byte) error {
			if k != "count" {
				v = nil // which Store wrote it does not matter
			}
			got = append(got, fmt.Sprintf("%q=%q", k, v))
			return nil
		})
		if want := want.scan("t", ""); !slices.Equal(got, want) {
			t.Errorf("after %d toggling Updates: got %q; want %q", perStore*len(stores), got, want)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAttackAbortedUpdatesLeaveNothing gives up Updates after the Tx sent
// writes on its own (past maxPending and by a Scan): by an error of fn, by
// a panic, and by cancelling ctx, the last before or after fn returns.
// Nothing may remain, and the next Update, which prefetches the same keys
// (missing again) and inserts them, must succeed.
func TestAttackAbortedUpdatesLeaveNothing(t *testing.T) {
	s := openStore(t)
	if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "kept", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	keys := append(bulkKeys(0, maxPending+10), "kept")
	write := func(tx storage.Tx) error {
		if err := tx.(storage.Prefetcher).Prefetch("t", keys); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Put("t", k, []byte("new")); err != nil {
				return err
			}
		}
		if err := tx.Delete("t", "kept"); err != nil {
			return err
		}
		_, err := scanTx(tx, "t", "")
		return err
	}
	ways := []struct {
		name string
		run  func() error
	}{
		{"fn returns an error", func() error {
			return s.Update(context.Background(), func(tx storage.Tx) error {
				if err := write(tx); err != nil {
					return err
				}
				return errAbort
			})
		}},
		{"fn panics", func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			return s.Update(context.Background(), func(tx storage.Tx) error {
				if err := write(tx); err != nil {
					return err
				}
				panic("fn panics")
			})
		}},
		{"ctx cancelled inside fn", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			return s.Update(ctx, func(tx storage.Tx) error {
				if err := write(tx); err != nil {
					return err
				}
				cancel()
				// fn ignores what the writes after the cancel return.
				for _, k := range bulkKeys(10000, 10) {
					_ = tx.Put("t", k, []byte("late"))
				}
				return nil
			})
		}},
		{"ctx cancelled in the middle of the writes", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			return s.Update(ctx, func(tx storage.Tx) error {
				for i, k := range keys {
					if i == maxPending+3 {
						cancel()
					}
					if err := tx.Put("t", k, []byte("new")); err != nil {
						return err
					}
				}
				return nil
			})
		}},
	}
	want := kvModel{}
	want.put("t", "kept", []byte("1"))
	for _, w := range ways {
		if err := w.run(); err == nil {
			t.Errorf("%s: Update got nil; want an error", w.name)
		} else if strings.HasPrefix(w.name, "ctx") && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Update got %v; want context.Canceled", w.name, err)
		}
		checkStore(t, s, want, rand.New(rand.NewPCG(1, 1)))
	}
	// The keys are missing again: a Prefetch reads them so, and inserts
	// them.
	if err := s.Update(context.Background(), write); err != nil {
		t.Fatalf("Update after the aborted ones: %v", err)
	}
}

// TestAttackDeletesAndPaging deletes keys that do not exist, keys stored,
// keys written earlier in the Update and already sent, in flushes of every
// size up to maxPending, and scans with tiny pages over the gaps.
func TestAttackDeletesAndPaging(t *testing.T) {
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 5
	s := openStore(t)
	r := rand.New(rand.NewPCG(3, 3))
	m := kvModel{}
	ctx := context.Background()
	for round := range 6 {
		err := s.Update(ctx, func(tx storage.Tx) error {
			n := []int{1, 2, 17, 300, maxPending - 1, maxPending}[round]
			for i := range n {
				k := fmt.Sprintf("d%04d", r.IntN(2*maxPending))
				if r.IntN(3) == 0 {
					m.put("t", k, []byte(k))
					if err := tx.Put("t", k, []byte(k)); err != nil {
						return err
					}
				} else {
					m.del("t", k)
					if err := tx.Delete("t", k); err != nil {
						return err
					}
				}
				if i%97 == 0 {
					prefix := k[:3]
					got, err := scanTx(tx, "t", prefix)
					if err != nil {
						return err
					}
					if want := m.scan("t", prefix); !slices.Equal(got, want) {
						return fmt.Errorf("Scan(%q) after %d writes: got %d rows; want %d", prefix, i, len(got), len(want))
					}
				}
			}
			// Delete missing keys only: a statement that finds no row.
			for range 3 {
				if err := tx.Delete("t", "missing"+randKey(r)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkStore(t, s, kvModel{"t": m["t"], "u": nil}, r)
	}
}

// pgURL returns the URL of a fresh database.
func pgURL(t *testing.T) string { return pgtest.URL(t) }

// openURL opens a Store in the default schema of url, closed when the test
// ends.
func openURL(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("Open: got %v; want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
