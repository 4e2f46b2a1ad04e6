package pgstore

import (
	"context"
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
