//go:build unix

package authz_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/childproc"
)

// crashApplyEnv tells TestApplyCrashChild, run as a child process by
// TestApplyCrash, which bolt file to write.
const crashApplyEnv = "AUTHZ_CRASH_CHILD_PATH"

// TestApplyCrash kills a child process that applies batches of 2–100
// objects to a bolt file (fsync on) with SIGKILL at random moments. After
// each kill the file must open, pass Client.Check, and hold every batch
// wholly or not at all, the committed ones forming a prefix that never
// shrinks.
func TestApplyCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.bolt")
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)
	rounds := envCount(t, "AUTHZ_CRASH_ROUNDS", 10)
	last := 0
	for round := 1; round <= rounds; round++ {
		delay := time.Duration(5+r.IntN(120)) * time.Millisecond
		childproc.RunUntilKilled(t, "TestApplyCrashChild", []string{crashApplyEnv + "=" + path}, delay)
		got := checkCrashModel(t, path)
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

// checkCrashModel opens the file left by a killed child, checks it and
// returns the number of committed batches.
func checkCrashModel(t *testing.T, path string) int {
	t.Helper()
	s, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer s.Close()
	c, err := authz.New(s, nil)
	if err != nil {
		t.Fatalf("new client after kill: %v", err)
	}
	return authztest.CheckCrashBatches(t, c)
}

// TestApplyCrashChild is the child process of TestApplyCrash: it applies
// crash batches to the file named by $AUTHZ_CRASH_CHILD_PATH, continuing
// after the last committed one, until it is killed. Without the variable
// it skips.
func TestApplyCrashChild(t *testing.T) {
	path := os.Getenv(crashApplyEnv)
	if path == "" {
		t.Skip("child process of TestApplyCrash")
	}
	s, err := boltstore.Open(path, nil) // fsync on: the configuration under test
	if err != nil {
		t.Fatal(err)
	}
	c, err := authz.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	authztest.ApplyCrashBatches(t, c, childproc.Ready)
}
