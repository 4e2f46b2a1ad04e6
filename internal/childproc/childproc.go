//go:build unix

// Package childproc runs a test of the same test binary as a child process
// and kills it with SIGKILL, for crash tests: the parent starts the child,
// waits for its ready line, lets it work for a while and kills it; the child
// announces itself with Ready and dies with its parent.
package childproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RunUntilKilled runs the test named test of the running test binary as a
// child process with env added to its environment, waits until it prints
// its ready line (Ready), lets it run for delay and kills it with SIGKILL.
// It fails t if the child does not get ready within 10 s or dies otherwise.
func RunUntilKilled(t testing.TB, test string, env []string, delay time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// The child exits when its stdin closes, so that it cannot outlive us.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("got %q; want %q", line, "ready\n")
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err = <-ready:
	case <-time.After(10 * time.Second):
		err = errors.New("got nothing within 10s")
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child ready line: %v; child stderr:\n%s", err, stderr.String())
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: got exit %v; want death by SIGKILL; child stderr:\n%s", err, stderr.String())
	}
}

// Ready is called by the child once it is set up: it prints the ready line
// RunUntilKilled waits for, and makes the child exit when the parent goes
// away (its stdin closes).
func Ready() {
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Println("ready")
}

// Start runs the test named test of the running test binary as a child
// process with env added to its environment, and returns its standard
// input and a scanner of its standard output (lines up to 1 MiB); its
// standard error is the parent's. When the test ends, Start closes the
// child's input and waits for it, failing the test if it failed; name
// names the child in that failure.
func Start(tb testing.TB, test, name string, env []string) (io.WriteCloser, *bufio.Scanner) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("%s process: %v", name, err)
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	return in, sc
}
