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

// commit makes one Update on s and returns the commit count it made.
func commit(t *testing.T, s *Store) uint64 {
	t.Helper()
	if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update: got %v; want nil", err)
	}
	v, _ := s.Watch()
	return v
}

// waitToLearn waits until s knows of commit want.
func waitToLearn(t *testing.T, s *Store, want uint64, how string) {
	t.Helper()
	deadline := time.After(learnWait)
	for {
		v, changed := s.Watch()
		if v >= want {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s: the Store knows of commit %d after %v; want %d", how, v, learnWait, want)
		}
	}
}

// TestOtherStoresLearnOfCommits: a Store learns of the commits of another
// (as of another process) by notification alone, by polling alone, and
// after its listener's connection is killed; a Store of another schema
// learns nothing of them.
func TestOtherStoresLearnOfCommits(t *testing.T) {
	url := pgtest.URL(t)
	writer := openWith(t, url, &Options{PollInterval: -1})
	notified := openWith(t, url, &Options{PollInterval: -1})
	polled := openWith(t, url, &Options{NoListen: true, PollInterval: 20 * time.Millisecond})
	other := openWith(t, url, &Options{Schema: "other", PollInterval: 20 * time.Millisecond})

	if v, _ := writer.Watch(); v != 0 {
		t.Fatalf("a new schema: Watch says %d commits; want 0", v)
	}
	c := commit(t, writer)
	if c != 1 {
		t.Fatalf("the writer's own commit: Watch says %d; want 1", c)
	}
	waitToLearn(t, notified, c, "by notification")
	waitToLearn(t, polled, c, "by polling")

	// Kill the listener's connection: it reconnects and catches up.
	pid := notified.listenerPID.Load()
	if _, err := writer.pool.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	c = commit(t, writer)
	waitToLearn(t, notified, c, "after the listener's connection was killed")
	if notified.listenerPID.Load() == pid {
		t.Errorf("the listener still reports the killed connection %d", pid)
	}

	time.Sleep(100 * time.Millisecond) // several polls of other
	if v, _ := other.Watch(); v != 0 {
		t.Errorf("a Store of another schema knows of %d commits; want 0", v)
	}
	// A new Store starts from the count.
	if v, _ := openWith(t, url, &Options{NoListen: true, PollInterval: -1}).Watch(); v != c {
		t.Errorf("a new Store: Watch says %d; want %d", v, c)
	}
}

// TestServerRestart: while the server is down, View and Update fail with
// an error (not a hang, not a panic) and write nothing; once it is back,
// the same Stores work again without being reopened, their listeners
// reconnect, and a commit made after the restart is learned by another
// Store.
func TestServerRestart(t *testing.T) {
	url := pgtest.URL(t)
	writer := openWith(t, url, &Options{PollInterval: -1})
	watcher := openWith(t, url, &Options{PollInterval: -1})
	before := commit(t, writer)
	waitToLearn(t, watcher, before, "before the restart")

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

	// The pools reconnect on their own; the first statement after the
	// restart may still meet a connection the server closed.
	deadline := time.Now().Add(learnWait)
	var c uint64
	for {
		err := writer.Update(context.Background(), func(tx storage.Tx) error { return tx.Put("t", "after", []byte("y")) })
		if err == nil {
			c, _ = writer.Watch()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Update after the restart: still failing after %v: %v", learnWait, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitToLearn(t, watcher, c, "after the restart")
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
