//go:build unix

package boltstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/scopegate/authz/internal/childproc"
	"github.com/scopegate/authz/internal/testsize"
	"github.com/scopegate/authz/storage"
)

// crashPathEnv tells TestCrashChild, run as a child process by
// TestCrashKillDuringWrites, which file to write.
const crashPathEnv = "BOLTSTORE_CRASH_CHILD_PATH"

const (
	crashTable   = "data"
	crashMeta    = "meta"
	crashLastKey = "last" // number of the last committed transaction
	crashTxKeys  = 100
)

// crashValue is the value of key i of transaction n: long enough that a
// transaction spans several pages.
func crashValue(n, i int) string {
	return fmt.Sprintf("tx%d/%d:%s", n, i, strings.Repeat("x", 200))
}

// TestCrashKillDuringWrites kills a child process writing transactions of
// 100 keys with SIGKILL at random moments, and checks after each kill that
// the file opens, passes bbolt's consistency check, and holds every
// transaction wholly or not at all.
func TestCrashKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.bolt")
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)

	last := 0
	rounds := testsize.Count(t, "AUTHZ_BOLT_CRASH_ROUNDS", 5)
	for round := 1; round <= rounds; round++ {
		delay := time.Duration(20+r.IntN(181)) * time.Millisecond
		childproc.RunUntilKilled(t, "TestCrashChild", []string{crashPathEnv + "=" + path}, delay)
		got := checkCrashFile(t, path)
		t.Logf("round %d: killed %v after the child was ready; %d transactions committed", round, delay, got)
		if got < last {
			t.Fatalf("round %d: committed transactions: got %d; want at least %d, as before the kill", round, got, last)
		}
		last = got
	}
	if last == 0 {
		t.Fatal("committed transactions after 5 rounds: got 0; want some, or the test proves nothing")
	}
}

// checkCrashFile opens the file left by a killed child, checks it and
// returns the number of committed transactions.
func checkCrashFile(t *testing.T, path string) int {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open after the kill: got %v; want nil", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: got %v; want nil", err)
		}
	}()

	// bbolt's own check: page reachability, freelist, ordering.
	err = s.db.View(func(btx *bolt.Tx) error {
		var errs []error
		for err := range btx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt consistency check: got %v; want no error", err)
	}

	var last int
	err = s.View(context.Background(), func(tx storage.Tx) error {
		var err error
		if last, err = crashLast(tx); err != nil {
			return err
		}
		// Every transaction 1..last is whole and nothing else is there.
		n, i := 1, 0
		err = tx.Scan(crashTable, "", func(k string, v []byte) error {
			if n > last {
				return fmt.Errorf("key after the last transaction %d: got %q; want none (counter and data disagree)", last, k)
			}
			if wantKey, wantValue := crashKey(n, i), crashValue(n, i); k != wantKey || string(v) != wantValue {
				return fmt.Errorf("key %d of transaction %d: got %q=%.20q…; want %q=%.20q…", i, n, k, v, wantKey, wantValue)
			}
			if i++; i == crashTxKeys {
				n, i = n+1, 0
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n != last+1 || i != 0 {
			return fmt.Errorf("data: got %d whole transactions and %d keys; want %d whole transactions", n-1, i, last)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// crashKey is key i of transaction n. Its zero-padded number makes the byte
// order of the keys the order of the transactions.
func crashKey(n, i int) string {
	return fmt.Sprintf("tx%08d/%03d", n, i)
}

func crashLast(tx storage.Tx) (int, error) {
	v, err := tx.Get(crashMeta, crashLastKey)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

// TestCrashChild is the child process of TestCrashKillDuringWrites: it
// writes transactions to the file named by $BOLTSTORE_CRASH_CHILD_PATH until
// it is killed. Transaction n writes keys tx<n>/<i> for i in 0..99 and sets
// the counter meta/last to n. Without the variable it skips.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		t.Skip("child process of TestCrashKillDuringWrites")
	}
	s, err := Open(path, nil) // fsync on: the configuration under test
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var n int
	if err := s.View(ctx, func(tx storage.Tx) (err error) { n, err = crashLast(tx); return err }); err != nil {
		t.Fatal(err)
	}
	childproc.Ready()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n++
		err := s.Update(ctx, func(tx storage.Tx) error {
			for i := range crashTxKeys {
				if err := tx.Put(crashTable, crashKey(n, i), []byte(crashValue(n, i))); err != nil {
					return err
				}
			}
			return tx.Put(crashMeta, crashLastKey, []byte(strconv.Itoa(n)))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("child: not killed within 30s")
}
