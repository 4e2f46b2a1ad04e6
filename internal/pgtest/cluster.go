//go:build unix

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// binGlob matches the directories of the binaries of Debian's packages.
var binGlob = "/usr/lib/postgresql/*/bin"

// binaries are the directory of initdb and postgres.
type binaries struct {
	dir string
}

func (b binaries) path(name string) string { return filepath.Join(b.dir, name) }

// findBinaries looks for initdb and postgres in /usr/lib/postgresql/*/bin,
// newest major version first, then in PATH.
func findBinaries() (binaries, error) {
	dirs, _ := filepath.Glob(binGlob)
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return binaries{dir: d}, nil
		}
	}
	return binaries{}, errNoBinaries
}

// majorOf returns the major version in a path .../postgresql/15/bin, or 0.
func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// cluster is a server started by this package.
type cluster struct {
	dir  string // temporary directory: data, socket, log
	bin  binaries
	cred *syscall.Credential // nil: run as this process's user
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
}

// startCluster creates a cluster in a new temporary directory and starts
// its server, listening on a unix socket in that directory only.
func startCluster(bin binaries) (_ *server, err error) {
	// The directory holds the socket, whose path must stay short (about
	// 100 bytes): use /tmp rather than a long TMPDIR.
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "authz-pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(dir, "server.log")
	data := filepath.Join(dir, "data")

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, bin.path("initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
		"--no-sync", "--no-instructions")
	initdb.SysProcAttr = sysProcAttr(cred)
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	cl := &cluster{dir: dir, bin: bin, cred: cred}
	if err := cl.start(); err != nil {
		return nil, err
	}
	s := &server{url: fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", dir), cl: cl}
	if err := cl.waitReady(ctx, s.url); err != nil {
		cl.stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	return s, nil
}

// start starts the server process on the cluster's data directory,
// appending its output to server.log.
func (cl *cluster) start() error {
	logf, err := os.OpenFile(filepath.Join(cl.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(cl.bin.path("postgres"), "-D", filepath.Join(cl.dir, "data"),
		"-k", cl.dir, "-c", "listen_addresses=", "-c", "port=5432",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.SysProcAttr = sysProcAttr(cl.cred)
	cmd.SysProcAttr.Setpgid = true // not killed by a ^C meant for go test
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	done := make(chan struct{})
	// The parent-death signal goes to the server when the thread that
	// started it ends: start it from a locked thread that lives until the
	// server has exited.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	cl.cmd, cl.done = cmd, done
	return nil
}

// waitReady waits until the server accepts connections.
func (cl *cluster) waitReady(ctx context.Context, url string) error {
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-cl.done:
			return errors.New("postgres exited before accepting connections")
		case <-ctx.Done():
			return fmt.Errorf("postgres: no connection within %v: %w", startTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop shuts the server down and removes its directory.
func (cl *cluster) stop() {
	cl.shutdown()
	_ = os.RemoveAll(cl.dir)
}

// shutdown shuts the server down (fast shutdown: open connections are
// closed, transactions rolled back), killing it if it takes longer than
// 10 s.
func (cl *cluster) shutdown() {
	_ = cl.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-cl.done:
	case <-time.After(10 * time.Second):
		_ = cl.cmd.Process.Kill()
		<-cl.done
	}
}

// runAs returns the credentials of the postgres system user when this
// process runs as root, and nil otherwise (the binaries then run as the
// current user).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, the PostgreSQL binaries need the postgres system user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}
