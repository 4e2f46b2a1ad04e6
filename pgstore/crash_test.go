//go:build unix

package pgstore_test

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/childproc"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/internal/testsize"
	"github.com/scopegate/authz/pgstore"
)

// crashURLEnv tells TestApplyCrashChild, run as a child process by
// TestApplyCrash, which database to write.
const crashURLEnv = "AUTHZ_PG_CRASH_CHILD_URL"

// TestApplyCrash kills a child process that applies batches of 2–100
// objects through pgstore with SIGKILL at random moments, the server
// rolling back the transaction of the connection that went away. After
// each kill the store must pass Client.Check and hold every batch wholly or
// not at all, the committed ones forming a prefix that never shrinks.
func TestApplyCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	url := pgtest.URL(t)
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)
	rounds := testsize.Count(t, "AUTHZ_PG_CRASH_ROUNDS", 8)
	last := 0
	for round := 1; round <= rounds; round++ {
		delay := time.Duration(5+r.IntN(150)) * time.Millisecond
		childproc.RunUntilKilled(t, "TestApplyCrashChild", []string{crashURLEnv + "=" + url}, delay)
		s, err := pgstore.Open(context.Background(), url, &pgstore.Options{NoListen: true, PollInterval: -1})
		if err != nil {
			t.Fatalf("open after kill: %v", err)
		}
		c, err := authz.New(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := authztest.CheckCrashBatches(t, c)
		s.Close()
		t.Logf("round %d: killed %v after the child was ready; %d batches committed", round, delay, got)
		if got < last {
			t.Fatalf("round %d: committed batches: got %d; want at least %d, as before the kill", round, got, last)
		}
		last = got
	}
	if last == 0 {
		t.Fatalf("committed batches after %d rounds: got 0; want some, or the test proves nothing", rounds)
	}
}

// TestApplyCrashChild is the child process of TestApplyCrash: it applies
// crash batches to the database named by $AUTHZ_PG_CRASH_CHILD_URL until it
// is killed. Without the variable it skips.
func TestApplyCrashChild(t *testing.T) {
	url := os.Getenv(crashURLEnv)
	if url == "" {
		t.Skip("child process of TestApplyCrash")
	}
	s, err := pgstore.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := authz.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	authztest.ApplyCrashBatches(t, c, childproc.Ready)
}
