//go:build unix

package authz_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/internal/childproc"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/pgstore"
)

// The environment of the child processes of TestStressProcesses.
const (
	stressRoleEnv   = "AUTHZ_STRESS_PROC_ROLE" // "writer N" or "reader N"
	stressURLEnv    = "AUTHZ_STRESS_PROC_URL"
	stressSchemaEnv = "AUTHZ_STRESS_PROC_SCHEMA"
	stressForEnv    = "AUTHZ_STRESS_PROC_FOR"
)

// stressWriters and stressReaders are the numbers of writer and reader
// processes of TestStressProcesses.
const stressWriters, stressReaders = 2, 2

// stressEvent is a write of a writer process: at revision rev, toggle is
// present or not.
type stressEvent struct {
	rev     uint64
	toggle  int
	present bool
}

// stressAnswer is an answer of a reader process: request i was answered
// allowed, from a revision between lo and hi.
type stressAnswer struct {
	i       int
	lo, hi  uint64
	allowed bool
	how     string
}

// TestStressProcesses is TestStress across operating-system processes on
// one PostgreSQL schema: two writer processes toggle objects that change
// decisions (each its own toggles, every write reporting the revision it
// committed), and two reader processes ask the stress requests, half of
// them with AtLeastRevision set to a revision a writer committed (the
// test relays each write's revision to the readers as it is reported),
// the others with the default consistency, by Evaluate or a lookup. From
// the writers' reports the test rebuilds the model of every revision, and
// requires each answer to be the oracle's for a revision the reader could
// have answered from: at least the revision it asked for, or the highest
// it asked for before (a Client never goes back), and at most the store's
// revision after the answer.
func TestStressProcesses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	store := authztest.Pgstore(t)
	setup := newStressSetup(t)
	c := must(authz.New(store, nil))(t)
	must(c.Apply(ctx, setup.base))(t)
	baseRev := must(c.Revision(ctx))(t)
	var want [][]bool
	for mask := range 1 << len(setup.toggles) {
		want = append(want, setup.want(setup.with(mask)))
	}
	env := []string{stressURLEnv + "=" + pgtest.SharedURL(t), stressSchemaEnv + "=" + store.Schema(),
		stressForEnv + "=" + stressDuration(t).String()}

	var (
		mu      sync.Mutex
		events  []stressEvent
		answers []stressAnswer
		readers []io.Writer
		wg      sync.WaitGroup
	)
	for i := range stressReaders {
		in, out := startStressChild(t, fmt.Sprintf("reader %d", i), env)
		readers = append(readers, in)
		wg.Go(func() {
			for out.Scan() {
				f := strings.Fields(out.Text())
				if len(f) != 6 || f[0] != "r" {
					continue
				}
				a := stressAnswer{how: f[5]}
				a.i, _ = strconv.Atoi(f[1])
				a.lo, _ = strconv.ParseUint(f[2], 10, 64)
				a.hi, _ = strconv.ParseUint(f[3], 10, 64)
				a.allowed = f[4] == "true"
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		})
	}
	var writers sync.WaitGroup
	for i := range stressWriters {
		_, out := startStressChild(t, fmt.Sprintf("writer %d", i), env)
		writers.Go(func() {
			for out.Scan() {
				f := strings.Fields(out.Text())
				if len(f) != 4 || f[0] != "w" {
					continue
				}
				var e stressEvent
				e.rev, _ = strconv.ParseUint(f[1], 10, 64)
				e.toggle, _ = strconv.Atoi(f[2])
				e.present = f[3] == "true"
				mu.Lock()
				events = append(events, e)
				// Relay the revision: the readers ask for it next.
				for _, r := range readers {
					fmt.Fprintf(r, "%d\n", e.rev)
				}
				mu.Unlock()
			}
		})
	}
	writers.Wait()
	for _, r := range readers {
		r.(io.Closer).Close() // the readers stop when their input ends
	}
	wg.Wait()

	// The model at each revision from the writers' reports.
	slices.SortFunc(events, func(a, b stressEvent) int { return cmp.Compare(a.rev, b.rev) })
	if len(events) == 0 {
		t.Fatal("the writers reported no write")
	}
	maxRev := events[len(events)-1].rev
	state := make([]int, maxRev-baseRev+1) // mask of present toggles, by revision - baseRev
	mask, next := 0, 0
	for rev := baseRev; rev <= maxRev; rev++ {
		for next < len(events) && events[next].rev == rev {
			e := events[next]
			if e.present {
				mask |= 1 << e.toggle
			} else {
				mask &^= 1 << e.toggle
			}
			next++
		}
		state[rev-baseRev] = mask
	}
	stateAt := func(rev uint64) int { return state[min(max(rev, baseRev), maxRev)-baseRev] }
	checked := map[string]int{}
	for _, a := range answers {
		ok := false
		for rev := a.hi; rev >= a.lo && rev >= baseRev && !ok; rev-- {
			ok = want[stateAt(rev)][a.i] == a.allowed
		}
		if !ok {
			req, _ := json.Marshal(setup.reqs[a.i])
			t.Fatalf("request %s (%s) answered allowed=%v from revisions %d..%d: the oracle never says so there", req, a.how, a.allowed, a.lo, a.hi)
		}
		checked[a.how]++
	}
	if checked["atLeast"] == 0 || checked["default"] == 0 {
		t.Fatalf("answers checked: %v; want both kinds", checked)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes in %d processes, answers of %d processes checked against the oracle: %v", len(events), stressWriters, stressReaders, checked)
}

// startStressChild starts a child process of the test binary running
// TestStressProcessChild as role.
func startStressChild(t *testing.T, role string, env []string) (io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	return childproc.Start(t, "TestStressProcessChild", role, append(env, stressRoleEnv+"="+role))
}

// TestStressProcessChild is a child process of TestStressProcesses;
// without its environment it skips.
func TestStressProcessChild(t *testing.T) {
	role := strings.Fields(os.Getenv(stressRoleEnv))
	if len(role) != 2 {
		t.Skip("child process of TestStressProcesses")
	}
	n, _ := strconv.Atoi(role[1])
	d, err := time.ParseDuration(os.Getenv(stressForEnv))
	if err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.Open(ctx, os.Getenv(stressURLEnv), &pgstore.Options{Schema: os.Getenv(stressSchemaEnv), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := must(authz.New(s, nil))(t)
	setup := newStressSetup(t)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if role[0] == "writer" {
		stressWrite(t, c, setup, n, d, out)
		return
	}
	stressRead(t, c, setup, n, out)
}

// stressWrite toggles the toggles k with k % stressWriters == n in turn
// for d, and reports each write: "w revision toggle present".
func stressWrite(t *testing.T, c *authz.Client, setup *stressSetup, n int, d time.Duration, out *bufio.Writer) {
	var mine []int
	for k := range setup.toggles {
		if k%stressWriters == n {
			mine = append(mine, k)
		}
	}
	present := map[int]bool{}
	for end, j := time.Now().Add(d), 0; time.Now().Before(end); j++ {
		k := mine[j%len(mine)]
		var w authz.WriteRevision
		wctx := authz.WithWriteRevision(ctx, &w)
		f := setup.toggles[k].create
		if present[k] {
			f = setup.toggles[k].remove
		}
		if err := f(wctx, c); err != nil {
			t.Fatalf("toggle %d (present %v): %v", k, present[k], err)
		}
		present[k] = !present[k]
		fmt.Fprintf(out, "w %d %d %v\n", w.Revision(), k, present[k])
		out.Flush()
	}
}

// stressRead asks random stress requests until its input ends, half with
// AtLeastRevision set to the last revision its input named, and reports
// each answer: "r request lo hi allowed how", where lo is the revision the
// answer cannot be older than and hi the store's revision after it.
func stressRead(t *testing.T, c *authz.Client, setup *stressSetup, n int, out *bufio.Writer) {
	var latest atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			rev, _ := strconv.ParseUint(in.Text(), 10, 64)
			latest.Store(max(latest.Load(), rev))
		}
	}()
	r := rand.New(rand.NewPCG(uint64(n), 3))
	var floor uint64 // the highest revision asked for so far
	for {
		select {
		case <-done:
			return
		default:
		}
		i := r.IntN(len(setup.reqs))
		q := setup.reqs[i]
		var (
			d   authz.Decision
			err error
			how = "default"
		)
		if rev := latest.Load(); rev > 0 && r.IntN(2) == 0 {
			how, floor = "atLeast", max(floor, rev)
			q.Consistency = &authz.Consistency{AtLeastRevision: rev}
			d, err = c.Evaluate(ctx, q)
		} else {
			d, err = stressAsk(c, setup.base, q, r.IntN(4))
		}
		if err != nil {
			t.Fatalf("request %d (%s): %v", i, how, err)
		}
		hi := must(c.Revision(context.Background()))(t)
		fmt.Fprintf(out, "r %d %d %d %v %s\n", i, floor, hi, d.Allowed, how)
	}
}
