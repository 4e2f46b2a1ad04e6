package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/storage"
)

// learnWait bounds how long a test waits for a Store to learn of a commit.
const learnWait = 10 * time.Second

// openWith opens a Store on url with opts, closed at the end of the test.
func openWith(t *testing.T, url string, opts *Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: got %v; want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// commit makes one Update on s.
func commit(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update: got %v; want nil", err)
	}
}

// version returns the version s reports.
func version(s *Store) uint64 {
	v, _ := s.Watch()
	return v
}

// waitForChange waits until the version of s is past before: s has
// observed a commit made after it reported before.
func waitForChange(t *testing.T, s *Store, before uint64, how string) {
	t.Helper()
	deadline := time.After(learnWait)
	for {
		v, changed := s.Watch()
		if v > before {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s: the Store's version is still %d after %v; want it past %d", how, v, learnWait, before)
		}
	}
}

// TestOtherStoresLearnOfCommits: a Store learns of the commits of another
// (as of another process) by notification alone, by polling alone, and
// after its listener's connection is killed; a Store of another schema
// learns nothing of them; the writer learns of its own as they return.
func TestOtherStoresLearnOfCommits(t *testing.T) {
	url := pgtest.URL(t)
	writer := openWith(t, url, &Options{PollInterval: -1})
	notified := openWith(t, url, &Options{PollInterval: -1})
	polled := openWith(t, url, &Options{NoListen: true, PollInterval: 20 * time.Millisecond})
	other := openWith(t, url, &Options{Schema: "other", PollInterval: 20 * time.Millisecond})
	otherBefore := version(other)

	w, n, p := version(writer), version(notified), version(polled)
	commit(t, writer)
	if version(writer) <= w {
		t.Fatalf("the writer's own commit: version %d; want past %d", version(writer), w)
	}
	waitForChange(t, notified, n, "by notification")
	waitForChange(t, polled, p, "by polling")

	// Kill the listener's connection: it reconnects and catches up.
	pid := notified.listenerPID.Load()
	if _, err := writer.pool.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	n = version(notified)
	commit(t, writer)
	waitForChange(t, notified, n, "after the listener's connection was killed")
	if notified.listenerPID.Load() == pid {
		t.Errorf("the listener still reports the killed connection %d", pid)
	}

	time.Sleep(100 * time.Millisecond) // several polls of other
	if v := version(other); v != otherBefore {
		t.Errorf("a Store of another schema: version %d; want %d, unchanged", v, otherBefore)
	}
}

// TestWatchTrustsOnlyTheDatabase: a notification anyone connected may send
// ("schema 18446744073709551615") changes nothing but a read of the count;
// the next real commit is still observed. A count that goes down (the
// schema restored from an older copy) is a change too.
func TestWatchTrustsOnlyTheDatabase(t *testing.T) {
	url := pgtest.URL(t)
	writer := openWith(t, url, &Options{PollInterval: -1})
	reader := openWith(t, url, &Options{PollInterval: -1})

	before := version(reader)
	if _, err := writer.pool.Exec(context.Background(), "SELECT pg_notify('pgstore', 'authz 18446744073709551615')"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if v := version(reader); v != before {
		t.Errorf("after a forged notification: version %d; want %d (no commit happened)", v, before)
	}
	commit(t, writer)
	waitForChange(t, reader, before, "a commit after a forged notification")

	before = version(reader)
	if _, err := writer.pool.Exec(context.Background(), "UPDATE authz.pgstore_writer SET commits = 0"); err != nil {
		t.Fatal(err)
	}
	commit(t, writer) // count 1: lower than before
	waitForChange(t, reader, before, "a commit after the count went down")
}

// TestServerRestart: while the server is down, View and Update fail with
// an error (not a hang, not a panic) and write nothing; once it is back,
// the same Stores work at once without being reopened (every View and the
// first Update succeed, although the pool's idle connections are dead),
// their listeners reconnect, and a commit made after the restart is
// learned by another Store.
func TestServerRestart(t *testing.T) {
	url := pgtest.URL(t)
	writer := openWith(t, url, &Options{PollInterval: -1})
	watcher := openWith(t, url, &Options{PollInterval: -1})
	for range 4 { // connections in the pools, to be found dead after the restart
		if err := writer.View(context.Background(), func(storage.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	before := version(watcher)
	commit(t, writer)
	waitForChange(t, watcher, before, "before the restart")

	pgtest.Restart(t, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := writer.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", "down", []byte("x")) })
		if err == nil {
			t.Error("Update while the server is down: got nil; want an error")
		}
		if err := writer.View(ctx, func(storage.Tx) error { return nil }); err == nil {
			t.Error("View while the server is down: got nil; want an error")
		}
	})

	for i := range 10 {
		if err := writer.View(context.Background(), func(storage.Tx) error { return nil }); err != nil {
			t.Fatalf("View %d after the restart: %v", i, err)
		}
	}
	before = version(watcher)
	if err := writer.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "after", []byte("y")) }); err != nil {
		t.Fatalf("the first Update after the restart: %v", err)
	}
	waitForChange(t, watcher, before, "after the restart")
	err := watcher.View(context.Background(), func(tx storage.Tx) error {
		if _, err := tx.Get("t", "down"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the write made while the server was down: got %v; want ErrNotFound", err)
		}
		v, err := tx.Get("t", "after")
		if err != nil || string(v) != "y" {
			t.Errorf("the write made after the restart: got %q, %v; want %q", v, err, "y")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View after the restart: %v", err)
	}
}

// TestFailedPrefetchForgetsItsKeys: a Prefetch that fails leaves nothing
// behind: a Get of a stored key it was given then reads the key itself
// (and, the ctx being done, fails too) rather than answering "missing".
func TestFailedPrefetchForgetsItsKeys(t *testing.T) {
	s := openWith(t, pgtest.URL(t), &Options{NoListen: true, PollInterval: -1})
	if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = s.View(ctx, func(tx storage.Tx) error {
		cancel()
		if err := tx.(storage.Prefetcher).Prefetch("t", []string{"k"}); err == nil {
			t.Fatal("Prefetch with a done ctx: got nil; want an error")
		}
		if _, err := tx.Get("t", "k"); err == nil || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get of a stored key after a failed Prefetch: got %v; want the ctx's error, not ErrNotFound", err)
		}
		return nil
	})
}
