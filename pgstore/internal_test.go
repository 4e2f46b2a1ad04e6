package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/storage"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.URL(t), nil)
	if err != nil {
		t.Fatalf("Open: got %v; want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// scanCount scans table for prefix and returns the keys and the number of
// page queries it made.
func scanCount(t *testing.T, s *Store, table, prefix string) (keys []string, pages int64) {
	t.Helper()
	before := s.pages.Load()
	err := s.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(table, prefix, func(k string, v []byte) error {
			if string(v) != "v"+k {
				return fmt.Errorf("value of %q: got %q; want %q", k, v, "v"+k)
			}
			keys = append(keys, k)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("Scan %q: got %v; want nil", prefix, err)
	}
	return keys, s.pages.Load() - before
}

// wantPages is the number of page queries of a scan of n keys: full pages,
// then one that is not full (possibly empty).
func wantPages(n int) int64 { return int64(n/pageSize + 1) }

// TestScanPrefixesAreBytewise generates keys over the bytes where prefix
// ranges break (0x00, 0x7f, 0x80, 0xff…), scans every prefix of every key
// and random ones with tiny pages, and compares with a model.
func TestScanPrefixesAreBytewise(t *testing.T) {
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 3

	s := openStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0x00, 0x01, 'a', 'b', 0x7f, 0x80, 0xc3, 0xfe, 0xff}
	randKey := func(maxLen int) string {
		b := make([]byte, 1+rng.IntN(maxLen))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	keys := map[string]bool{}
	for len(keys) < 400 {
		keys[randKey(4)] = true
	}
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		for k := range keys {
			if err := tx.Put("t", k, []byte("v"+k)); err != nil {
				return err
			}
			// Neighbouring tables share no keys with t.
			if err := tx.Put("s", k, []byte("other")); err != nil {
				return err
			}
			if err := tx.Put("t\x00", k, []byte("other")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted) // Go compares strings bytewise
	prefixes := map[string]bool{"": true, "\xff": true, "\xff\xff": true, "\xff\xff\xff\xff\xff": true}
	for _, k := range sorted {
		for i := 1; i <= len(k); i++ {
			prefixes[k[:i]] = true
		}
	}
	for range 200 {
		prefixes[randKey(5)] = true
	}
	for p := range prefixes {
		var want []string
		for _, k := range sorted {
			if strings.HasPrefix(k, p) {
				want = append(want, k)
			}
		}
		got, pages := scanCount(t, s, "t", p)
		if !slices.Equal(got, want) {
			t.Errorf("Scan prefix %q: got %q; want %q", p, got, want)
		}
		if pages != wantPages(len(want)) {
			t.Errorf("Scan prefix %q of %d keys, pages of %d: got %d queries; want %d", p, len(want), pageSize, pages, wantPages(len(want)))
		}
	}
}

// TestScanOfManyRowsIsPaged scans 1,200 of 1,500 rows in pages of the
// real size.
func TestScanOfManyRowsIsPaged(t *testing.T) {
	s := openStore(t)
	var want []string
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		for i := range 1500 {
			k := fmt.Sprintf("x%05d", i)
			if i%5 == 0 {
				k = fmt.Sprintf("y%05d", i) // 300 keys outside the prefix
			} else {
				want = append(want, k)
			}
			if err := tx.Put("t", k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, pages := scanCount(t, s, "t", "x")
	if !slices.Equal(got, want) {
		t.Errorf("Scan prefix x: got %d keys (first %q); want %d keys in order", len(got), got[:min(3, len(got))], len(want))
	}
	if pages != wantPages(len(want)) {
		t.Errorf("page queries of a scan of %d keys: got %d; want %d (pages of %d)", len(want), pages, wantPages(len(want)), pageSize)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"a\xff", "b", true},
		{"a\xff\xff", "b", true},
		{"\xff", "", false},
		{"\xff\xff", "", false},
		{"a\x00", "a\x01", true},
		{"\xfe\xff", "\xff", true},
	} {
		got, ok := prefixEnd([]byte(c.in))
		if ok != c.ok || !bytes.Equal(got, []byte(c.want)) {
			t.Errorf("prefixEnd(%q): got %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestConnectionLostInsideUpdate kills the server process of an Update's
// connection after its writes: the commit fails and nothing is written.
func TestConnectionLostInsideUpdate(t *testing.T) {
	s := openStore(t)
	err := s.Update(context.Background(), func(stx storage.Tx) error { return stx.Put("t", "k", []byte("old")) })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(stx storage.Tx) error {
		for _, k := range []string{"k", "k2"} {
			if err := stx.Put("t", k, []byte("new")); err != nil {
				return err
			}
		}
		pid := stx.(*tx).ptx.Conn().PgConn().PID()
		var killed bool
		if err := s.pool.QueryRow(context.Background(), "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&killed); err != nil || !killed {
			return fmt.Errorf("pg_terminate_backend: got %v, %v; want true, nil", killed, err)
		}
		return nil
	})
	if err == nil {
		t.Fatal("Update whose connection was lost before the commit: got nil; want an error")
	}
	var got []string
	err = s.View(context.Background(), func(stx storage.Tx) error {
		return stx.Scan("t", "", func(k string, v []byte) error { got = append(got, k+"="+string(v)); return nil })
	})
	if err != nil {
		t.Fatalf("View after the lost connection: got %v; want nil", err)
	}
	if !slices.Equal(got, []string{"k=old"}) {
		t.Errorf("table t after the lost connection: got %q; want [k=old]", got)
	}
}

// TestStatementsProbeTheIndex plans the statements that read and delete
// keys on a table the planner believes empty (analyzed when it was,
// autovacuum off) after 30,000 rows arrived: generic and custom plans must
// use the primary key, key by key or in key order. A plan that joins the
// keys with every row of a table, or sorts a whole table, reads the table
// for each batch or page: that made bulk loads slower the bigger the store.
func TestStatementsProbeTheIndex(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	kv := pgx.Identifier{s.schema, "pgstore_kv"}.Sanitize()
	for _, stmt := range []string{"ALTER TABLE " + kv + " SET (autovacuum_enabled = false)", "ANALYZE " + kv} {
		if _, err := s.pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(ctx, func(tx storage.Tx) error {
		for i := range 30_000 {
			if err := tx.Put("t", fmt.Sprintf("k%06d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A thousand keys, as a batch prefetches: with two the planner
	// would choose well anyway.
	var list, tables []string
	for i := range 1000 {
		list = append(list, fmt.Sprintf(`'\x%x'::bytea`, fmt.Sprintf("k%06d", i*29)))
		tables = append(tables, `'\x74'::bytea`)
	}
	keys := "ARRAY[" + strings.Join(list, ", ") + "]"
	index := "Index Scan using pgstore_kv_pkey"
	for _, c := range []struct{ name, sql, args, want string }{
		{"get", s.sql.get, `'\x74', '\x6b303030303031'`, index},
		{"getMany", s.sql.getMany, `'\x74', ` + keys, index},
		{"delMany", s.sql.delMany, "ARRAY[" + strings.Join(tables, ", ") + "], " + keys, "Tid Scan on pgstore_kv"},
		{"page", s.sql.page, `'\x74', '\x6b', 200`, index},
		{"pageTo", s.sql.pageTo, `'\x74', '\x6b', 200, '\x6c'`, index},
	} {
		for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
			text := explain(t, s, mode, c.sql, c.args)
			if !strings.Contains(text, c.want) || strings.Contains(text, "Seq Scan") || strings.Contains(text, "Hash") ||
				strings.Contains(text, "Bitmap") || strings.Contains(text, "Sort") {
				t.Errorf("%s (%s): got plan\n%s\nwant a %s and no scan or sort of the table", c.name, mode, text, c.want)
			}
		}
	}
}

// explain returns the plan of sql with args in plan cache mode, on a
// connection of its own.
func explain(t *testing.T, s *Store, mode, sql, args string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var plan []string
	for _, stmt := range []string{"SET plan_cache_mode = " + mode, "PREPARE p AS " + sql, "EXPLAIN (COSTS OFF) EXECUTE p(" + args + ")", "DEALLOCATE p", "RESET plan_cache_mode"} {
		rows, err := conn.Query(ctx, stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err == nil {
				plan = append(plan, line)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return strings.Join(plan, "\n")
}

// TestLargeValuesFlushEarly: pending writes are sent once their values
// reach maxPendingBytes, not only at maxPending writes, so that one
// statement never carries thousands of large values.
func TestLargeValuesFlushEarly(t *testing.T) {
	s := openStore(t)
	value := bytes.Repeat([]byte("v"), 4<<20)
	err := s.Update(context.Background(), func(stx storage.Tx) error {
		tx := stx.(*tx)
		for i := range 10 {
			if err := tx.Put("t", fmt.Sprintf("k%d", i), value); err != nil {
				return err
			}
			if waiting := len(tx.order); waiting*len(value) >= maxPendingBytes {
				t.Errorf("after put %d: %d writes of %d bytes wait; want a flush at %d bytes", i, waiting, len(value), maxPendingBytes)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx storage.Tx) error {
		v, err := tx.Get("t", "k9")
		if err != nil || !bytes.Equal(v, value) {
			t.Errorf("k9: got %d bytes, %v; want the value", len(v), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
