package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
)

// waitLimit bounds every wait, so that a deadlock fails instead of hanging.
const waitLimit = 10 * time.Second

func put(t *testing.T, s storage.Storage, table, key, value string) {
	t.Helper()
	err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put(table, key, []byte(value)) })
	if err != nil {
		t.Fatalf("Update putting %s/%s: got %v; want nil", table, key, err)
	}
}

// all returns every key=value of table, in Scan order.
func all(t *testing.T, s storage.Storage, table string) []string {
	t.Helper()
	var got []string
	err := s.View(context.Background(), func(tx storage.Tx) error {
		return tx.Scan(table, "", func(k string, v []byte) error {
			got = append(got, k+"="+string(v))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View: got %v; want nil", err)
	}
	return got
}

func wantRows(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: got %q; want %q", what, got, want)
	}
}

// sql runs statements on url outside any Store.
func sql(t *testing.T, url string, stmts ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: got %v; want nil", err)
	}
	defer conn.Close(context.Background())
	for _, stmt := range stmts {
		if _, err := conn.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("%s: got %v; want nil", stmt, err)
		}
	}
}

func TestSchemasAreSeparate(t *testing.T) {
	url := pgtest.URL(t)
	a := open(t, url, &pgstore.Options{Schema: "tenant_a"})
	b := open(t, url, nil)
	if b.Schema() != pgstore.DefaultSchema {
		t.Errorf("Schema of the default: got %q; want %q", b.Schema(), pgstore.DefaultSchema)
	}
	put(t, a, "t", "k", "from a")
	put(t, a, "only_a", "k", "a")
	put(t, b, "t", "k", "from b")
	put(t, b, "t", "k2", "from b")
	wantRows(t, "table t of schema tenant_a", all(t, a, "t"), "k=from a")
	wantRows(t, "table only_a of schema tenant_a", all(t, a, "only_a"), "k=a")
	wantRows(t, "table t of schema authz", all(t, b, "t"), "k=from b", "k2=from b")
	wantRows(t, "table only_a of schema authz", all(t, b, "only_a"))
}

func TestOpenRefusesUnknownSchemaVersions(t *testing.T) {
	for _, c := range []struct{ name, stmt string }{
		{"newer version", "UPDATE authz.pgstore_meta SET value = '2'"},
		{"version 0", "UPDATE authz.pgstore_meta SET value = '0'"},
		{"not a number", "UPDATE authz.pgstore_meta SET value = '1.0'"},
		{"empty", "UPDATE authz.pgstore_meta SET value = ''"},
		{"no version", "DELETE FROM authz.pgstore_meta"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := pgtest.URL(t)
			s := open(t, url, nil)
			put(t, s, "t", "k", "v")
			s.Close()
			sql(t, url, c.stmt)
			_, err := pgstore.Open(context.Background(), url, nil)
			if !errors.Is(err, pgstore.ErrSchemaVersion) {
				t.Fatalf("Open: got %v; want ErrSchemaVersion", err)
			}
			// Nothing changed: after restoring the version the data is there.
			sql(t, url, "DELETE FROM authz.pgstore_meta", "INSERT INTO authz.pgstore_meta VALUES ('schema_version', '1')")
			wantRows(t, "table t after the refusal", all(t, open(t, url, nil), "t"), "k=v")
		})
	}
}

func TestOpenLeavesForeignTablesAlone(t *testing.T) {
	url := pgtest.URL(t)
	sql(t, url, "CREATE SCHEMA app", "CREATE TABLE app.pgstore_kv (id int)", "INSERT INTO app.pgstore_kv VALUES (7)")
	_, err := pgstore.Open(context.Background(), url, &pgstore.Options{Schema: "app"})
	if err == nil {
		t.Fatal("Open on a schema with another program's pgstore_kv: got nil; want an error")
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables []string
	rows, _ := conn.Query(context.Background(), "SELECT tablename FROM pg_tables WHERE schemaname = 'app' ORDER BY 1")
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, "tables of schema app after the refusal", tables, "pgstore_kv")
}

func TestOpenRefusesBadOptions(t *testing.T) {
	const url = "host=/nonexistent dbname=x" // never reached
	for _, name := range []string{
		"A", "Authz", "1a", "a-b", "a b", `a"b`, "a;drop", "pg_x", "pg_", "é", "a\x00", strings.Repeat("a", 64),
		"a.b", "$a", "a$",
	} {
		if _, err := pgstore.Open(context.Background(), url, &pgstore.Options{Schema: name}); err == nil || !strings.Contains(err.Error(), "schema name") {
			t.Errorf("Open with schema %q: got %v; want an error about the schema name", name, err)
		}
	}
	if _, err := pgstore.Open(context.Background(), url, nil); err == nil || !strings.HasPrefix(err.Error(), "pgstore: ") {
		t.Errorf("Open without a server: got %v; want an error starting with pgstore:", err)
	}
	for _, n := range []int32{1, -1} {
		if _, err := pgstore.Open(context.Background(), url, &pgstore.Options{MaxConns: n}); err == nil || !strings.Contains(err.Error(), "MaxConns") {
			t.Errorf("Open with MaxConns %d: got %v; want an error about MaxConns", n, err)
		}
	}
}

func TestOpenAcceptsEdgeSchemaNames(t *testing.T) {
	url := pgtest.URL(t)
	for _, name := range []string{"_", "a", "a1_", "pgx", strings.Repeat("z", 63), "select"} {
		s := open(t, url, &pgstore.Options{Schema: name})
		put(t, s, "t", "k", name)
		wantRows(t, "table t of schema "+name, all(t, s, "t"), "k="+name)
	}
}

// TestConcurrentFirstOpen opens a new database from several pools at once,
// as processes starting together would: the tables are created once and
// every Open succeeds.
func TestConcurrentFirstOpen(t *testing.T) {
	url := pgtest.URL(t)
	const n = 8
	errs := make(chan error, n)
	stores := make(chan *pgstore.Store, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			s, err := pgstore.Open(context.Background(), url, &pgstore.Options{MaxConns: 2})
			errs <- err
			if err == nil {
				stores <- s
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent first Open: got %v; want nil", err)
		}
	}
	for s := range stores {
		put(t, s, "t", "k", "v")
		s.Close()
	}
}

// TestUpdatesOfSeveralStoresSerialize increments one counter from many
// goroutines through several Stores (several pools, as several processes
// would have): every increment reads the value of the one before.
func TestUpdatesOfSeveralStoresSerialize(t *testing.T) {
	url := pgtest.URL(t)
	const stores, perStore = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, stores*perStore)
	for range stores {
		s := open(t, url, &pgstore.Options{MaxConns: 2})
		for range perStore {
			wg.Go(func() {
				errs <- s.Update(context.Background(), func(tx storage.Tx) error {
					n := 0
					v, err := tx.Get("t", "counter")
					if err == nil {
						n, err = strconv.Atoi(string(v))
					}
					if err != nil && !errors.Is(err, storage.ErrNotFound) {
						return err
					}
					runtime.Gosched() // let another writer read the same value, if it can
					time.Sleep(time.Millisecond)
					return tx.Put("t", "counter", []byte(strconv.Itoa(n+1)))
				})
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: got %v; want nil", err)
		}
	}
	wantRows(t, "counter", all(t, open(t, url, nil), "t"), fmt.Sprintf("counter=%d", stores*perStore))
}

func TestContextEndingInsideUpdate(t *testing.T) {
	t.Run("while waiting for another process's writer", func(t *testing.T) {
		url := pgtest.URL(t)
		holder, waiter := open(t, url, nil), open(t, url, nil)
		locked, release := make(chan struct{}), make(chan struct{})
		held := make(chan error, 1)
		go func() {
			held <- holder.Update(context.Background(), func(tx storage.Tx) error {
				close(locked)
				<-release
				return tx.Put("t", "holder", []byte("v"))
			})
		}()
		<-locked
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		called := false
		err := waiter.Update(ctx, func(tx storage.Tx) error {
			called = true
			return tx.Put("t", "waiter", []byte("v"))
		})
		close(release)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Update waiting for the writer row: got %v; want context.DeadlineExceeded", err)
		}
		if called {
			t.Error("fn of the Update whose context ended while waiting: got called; want not called")
		}
		if err := <-held; err != nil {
			t.Fatalf("Update holding the writer row: got %v; want nil", err)
		}
		wantRows(t, "table t", all(t, waiter, "t"), "holder=v")
	})

	t.Run("between statements", func(t *testing.T) {
		url := pgtest.URL(t)
		s := open(t, url, nil)
		put(t, s, "t", "k", "old")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var putErr error
		err := s.Update(ctx, func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("new")); err != nil {
				return err
			}
			cancel()
			putErr = tx.Put("t", "k2", []byte("new"))
			return nil // ignores the failed Put: the commit must not happen
		})
		if !errors.Is(putErr, context.Canceled) {
			t.Errorf("Put after the context ended: got %v; want an error wrapping context.Canceled", putErr)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Update: got %v; want context.Canceled", err)
		}
		wantRows(t, "table t after the cancelled Update", all(t, s, "t"), "k=old")
		put(t, s, "t", "k", "after") // the Store stays usable
		wantRows(t, "table t", all(t, s, "t"), "k=after")
	})

	t.Run("during a long run of statements", func(t *testing.T) {
		url := pgtest.URL(t)
		s := open(t, url, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Update(ctx, func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("v")); err != nil {
				return err
			}
			// 10,000 Puts, each followed by a Get of a missing key (one
			// round trip each), outlive the deadline.
			for i := range 10_000 {
				if err := tx.Put("u", strconv.Itoa(i), nil); err != nil {
					return err
				}
				if _, err := tx.Get("none", strconv.Itoa(i)); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Update: got %v; want an error wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > waitLimit {
			t.Errorf("Update after its deadline: returned after %v; want it to stop at the deadline", d)
		}
		wantRows(t, "table t", all(t, s, "t"))
		wantRows(t, "table u", all(t, s, "u"))
	})
}

// TestPanicRollsBackForEveryStore panics inside an Update: no other Store
// sees its writes, and the writer row is free at once.
func TestPanicRollsBackForEveryStore(t *testing.T) {
	url := pgtest.URL(t)
	a, b := open(t, url, nil), open(t, url, nil)
	put(t, a, "t", "k", "old")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered: got %v; want boom", r)
			}
		}()
		_ = a.Update(context.Background(), func(tx storage.Tx) error {
			for _, k := range []string{"k", "new"} {
				if err := tx.Put("t", k, []byte("panicked")); err != nil {
					return err
				}
			}
			panic("boom")
		})
	}()
	wantRows(t, "table t seen by another Store", all(t, b, "t"), "k=old")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := b.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", "b", []byte("v")) }); err != nil {
		t.Fatalf("Update of another Store after the panic: got %v; want nil", err)
	}
	put(t, a, "t", "a", "v")
	wantRows(t, "table t", all(t, a, "t"), "a=v", "b=v", "k=old")
}
