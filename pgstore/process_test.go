//go:build unix

package pgstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/childproc"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/internal/testsize"
	"github.com/scopegate/authz/pgstore"
)

// The environment of the child processes of TestProcessesReadTheirWrites.
const (
	procRoleEnv = "AUTHZ_PG_PROC_ROLE" // writer or reader
	procURLEnv  = "AUTHZ_PG_PROC_URL"
)

// child is a child process of the test binary, talked to line by line.
type child struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startChild(t testing.TB, role, url string) *child {
	t.Helper()
	in, out := childproc.Start(t, "TestProcessChild", role, []string{procRoleEnv + "=" + role, procURLEnv + "=" + url})
	return &child{in: in, out: out}
}

// ask sends a line and returns the fields of the child's answer, skipping
// the lines of go test itself.
func (c *child) ask(t testing.TB, line string) []string {
	t.Helper()
	if _, err := fmt.Fprintln(c.in, line); err != nil {
		t.Fatal(err)
	}
	for c.out.Scan() {
		if f := strings.Fields(c.out.Text()); len(f) > 0 && f[0] == "answer" {
			return f[1:]
		}
	}
	t.Fatalf("the child ended without answering %q: %v", line, c.out.Err())
	return nil
}

// TestProcessesReadTheirWrites runs a writer and a reader in two processes
// on one database. The writer toggles bob's grant and returns the revision
// of each write; the reader, given that revision, must answer what the
// write implies at once (AtLeastRevision), and its default answer must
// catch up; the time from the commit to that default answer is the
// propagation lag, whose percentiles the test logs.
func TestProcessesReadTheirWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	p := startProcesses(t)
	var lags []time.Duration
	for i := range testsize.Count(t, "AUTHZ_PG_PROCESS_ROUNDS", 60) {
		// Even rounds ask with the revision first (read your writes);
		// odd rounds wait for the default answer first (the lag).
		if lag, measured := p.round(t, i%2 == 1); measured {
			lags = append(lags, lag)
		}
	}
	slices.Sort(lags)
	t.Logf("propagation lag from a commit in one process to the default answer in another, over %d writes: p50 %v, p99 %v, max %v",
		len(lags), lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1])
}

// BenchmarkPropagationLag measures the time from a commit in one process to
// the default answer that reflects it in another, which learns of commits
// by notification (and polls every second): one write per op, reported as
// percentiles over the ops.
func BenchmarkPropagationLag(b *testing.B) {
	p := startProcesses(b)
	var lags []time.Duration
	for b.Loop() {
		lag, _ := p.round(b, true)
		lags = append(lags, lag)
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-ms")
}

// processes are a writer and a reader process on one database holding
// procModel.
type processes struct{ writer, reader *child }

func startProcesses(tb testing.TB) *processes {
	url := pgtest.URL(tb)
	c, err := authz.New(open(tb, url, nil), nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Apply(context.Background(), procModel); err != nil {
		tb.Fatal(err)
	}
	return &processes{writer: startChild(tb, "writer", url), reader: startChild(tb, "reader", url)}
}

// round has the writer toggle the grant and the reader answer with the
// revision of the write (lag false) or by default, reporting the lag.
func (p *processes) round(tb testing.TB, lag bool) (time.Duration, bool) {
	w := p.writer.ask(tb, "write")
	if len(w) != 3 {
		tb.Fatalf("writer answered %q", w)
	}
	mode := "fresh"
	if lag {
		mode = "lag"
	}
	r := p.reader.ask(tb, mode+" "+strings.Join(w, " "))
	if len(r) != 2 || r[0] != "ok" {
		tb.Fatalf("%s round: the reader, given revision %s, answered %q; want ok", mode, w[0], r)
	}
	if !lag {
		return 0, false
	}
	ns, err := strconv.ParseInt(r[1], 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ns), true
}

// TestProcessChild is a child process of TestProcessesReadTheirWrites;
// without its environment it skips.
func TestProcessChild(t *testing.T) {
	role, url := os.Getenv(procRoleEnv), os.Getenv(procURLEnv)
	if role == "" {
		t.Skip("child process of TestProcessesReadTheirWrites")
	}
	ctx := context.Background()
	s, err := pgstore.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := authz.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := bufio.NewScanner(os.Stdin)
	granted := false
	for in.Scan() {
		var answer string
		switch role {
		case "writer":
			// Toggle the grant; answer the revision, what it implies and
			// the time of the commit.
			var w authz.WriteRevision
			wctx := authz.WithWriteRevision(ctx, &w)
			if granted {
				err = c.DeleteRolePermission(wctx, "grant")
			} else {
				_, err = c.CreateRolePermission(wctx, authz.RolePermissionInput{ID: "grant", RoleID: "r", PermissionID: "p"})
			}
			if err != nil {
				t.Fatal(err)
			}
			granted = !granted
			answer = fmt.Sprintf("%d %v %d", w.Revision(), granted, time.Now().UnixNano())
		case "reader":
			f := strings.Fields(in.Text())
			mode := f[0]
			rev, _ := strconv.ParseUint(f[1], 10, 64)
			want := f[2] == "true"
			committed, _ := strconv.ParseInt(f[3], 10, 64)
			if mode == "fresh" {
				// Given the revision, the answer is the write's at once.
				q := procQuestion
				q.Consistency = &authz.Consistency{AtLeastRevision: rev}
				d, err := c.Evaluate(ctx, q)
				if err != nil || d.Allowed != want {
					answer = fmt.Sprintf("bad allowed=%v err=%v", d.Allowed, err)
					break
				}
				answer = "ok 0"
				break
			}
			// The default answer catches up once this process learns of
			// the commit.
			deadline := time.Now().Add(10 * time.Second)
			for {
				d, err := c.Evaluate(ctx, procQuestion)
				if err == nil && d.Allowed == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the default answer did not catch up within 10 s")
				}
				time.Sleep(50 * time.Microsecond)
			}
			answer = fmt.Sprintf("ok %d", time.Now().UnixNano()-committed)
		}
		fmt.Println("answer", answer)
	}
}
