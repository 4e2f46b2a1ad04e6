// Package pgtest gives tests of this module a PostgreSQL database: a fresh,
// empty database per test on one throwaway server per test binary.
//
// The server is started on first use from the PostgreSQL binaries of the
// machine (initdb and postgres, found in /usr/lib/postgresql/*/bin, newest
// version first, then in PATH), in a new temporary directory, listening
// only on a unix socket in that directory, with trust authentication and
// without fsync. When the test binary runs as root, the binaries run as the
// postgres system user (they refuse to run as root) and the directory is
// given to that user. The server is stopped, and its directory removed, by
// Stop, which Main calls after the tests; on Linux it is also killed when
// the test binary dies without calling Stop.
//
// With AUTHZ_PG_URL set to a connection string, no server is started: the
// databases are created on that server, whose user must be allowed to
// create and drop databases.
//
// Without binaries and without AUTHZ_PG_URL, URL skips the test with
// SkipMessage; with AUTHZ_PG_REQUIRED=1 (as in CI) it fails it instead.
//
// A package using URL runs its tests through Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Environment variables read by this package.
const (
	// EnvURL names the variable holding the connection string of an
	// existing server to use instead of a throwaway one.
	EnvURL = "AUTHZ_PG_URL"

	// EnvRequired names the variable that, set to 1, turns the skip for
	// missing binaries into a failure.
	EnvRequired = "AUTHZ_PG_REQUIRED"
)

// SkipMessage is the message of the skip (or, with AUTHZ_PG_REQUIRED=1, the
// failure) of a test that asks for a database on a machine without
// PostgreSQL binaries.
const SkipMessage = "skipped: no PostgreSQL binaries (install postgresql or set AUTHZ_PG_URL)"

// errNoBinaries is the reason of a skip: no server can be started.
var errNoBinaries = errors.New(SkipMessage)

var (
	startOnce sync.Once
	srv       *server // nil until started, or when starting failed
	startErr  error
	dbCount   atomic.Int64
)

// Main runs the tests of m, stops the server started for them (if any) and
// exits with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server started by this package, if any, and removes its
// directory (on a server named by AUTHZ_PG_URL, it drops the shared
// database instead). Tests must not use their databases afterwards. It is
// safe to call more than once.
func Stop() {
	startOnce.Do(func() { startErr = errors.New("pgtest: stopped") })
	if shared.name != "" && srv != nil && srv.cl == nil {
		_ = srv.exec("DROP DATABASE IF EXISTS " + shared.name + " WITH (FORCE)")
	}
	if srv != nil {
		srv.stop()
		srv = nil
	}
}

// startTimeout bounds initdb and the server's start.
const startTimeout = time.Minute

// shared is the database of SharedURL, created on first use.
var shared struct {
	once sync.Once
	name string
	err  error
}

// serverFor returns the server, started on first use. It skips the test,
// or fails it under AUTHZ_PG_REQUIRED=1, when no server can be started for
// lack of binaries; any other failure to start the server fails the test.
func serverFor(tb testing.TB) *server {
	tb.Helper()
	s, err := start()
	if errors.Is(err, errNoBinaries) {
		if os.Getenv(EnvRequired) == "1" {
			tb.Fatalf("%s (%s=1)", SkipMessage, EnvRequired)
		}
		tb.Skip(SkipMessage)
	}
	if err != nil {
		tb.Fatalf("pgtest: starting PostgreSQL: %v", err)
	}
	return s
}

// SharedURL returns the connection string of one database shared by the
// tests of the test binary, created on first use and dropped by Stop: a
// test that needs a store of its own opens it in a schema of its own,
// which costs less than a database. It skips the test as URL does.
func SharedURL(tb testing.TB) string {
	tb.Helper()
	s := serverFor(tb)
	shared.once.Do(func() {
		name := fmt.Sprintf("authz_shared_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
		if shared.err = s.exec("CREATE DATABASE " + name); shared.err == nil {
			shared.name = name
		}
	})
	if shared.err != nil {
		tb.Fatalf("pgtest: %v", shared.err)
	}
	return withDatabase(s.url, shared.name)
}

// URL returns the connection string of a new, empty database, dropped (with
// any connections still open to it) when the test ends. It skips the test,
// or fails it under AUTHZ_PG_REQUIRED=1, when no server can be started for
// lack of binaries; any other failure to start the server fails the test.
func URL(tb testing.TB) string {
	tb.Helper()
	s := serverFor(tb)
	name := fmt.Sprintf("authz_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, dbCount.Add(1))
	// FILE_COPY (PostgreSQL 15 and later) takes a tenth of the time of the
	// default, which writes the new database to the WAL.
	err := s.exec("CREATE DATABASE " + name + " STRATEGY FILE_COPY")
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "42601" {
		err = s.exec("CREATE DATABASE " + name) // an older server
	}
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return withDatabase(s.url, name)
}

// start starts the server once per test binary, or connects to the one
// named by AUTHZ_PG_URL.
func start() (*server, error) {
	startOnce.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			srv = &server{url: u}
			return
		}
		bin, err := findBinaries()
		if err != nil {
			startErr = err
			return
		}
		srv, startErr = startCluster(bin)
	})
	if startErr != nil {
		return nil, startErr
	}
	return srv, nil
}

// server is a PostgreSQL server that tests may create databases on.
type server struct {
	url string // of the maintenance database, "postgres" unless EnvURL says otherwise

	mu sync.Mutex
	cl *cluster // nil for a server named by EnvURL
}

// exec runs one statement on the maintenance database, in a connection of
// its own (CREATE and DROP DATABASE cannot run in a transaction).
func (s *server) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cl != nil {
		s.cl.stop()
		s.cl = nil
	}
}

// withDatabase returns the connection string u naming database name: the
// path of a URL, or a dbname keyword appended to a keyword/value string
// (the last occurrence of a keyword wins).
func withDatabase(u, name string) string {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		p, err := url.Parse(u)
		if err == nil {
			p.Path = "/" + name
			return p.String()
		}
	}
	return u + " dbname=" + name
}

// Restart stops the server started by this package (fast shutdown: the
// open connections are closed), calls down while it is stopped, and starts
// it again on the same data, returning once it accepts connections. It
// skips the test when the server is the one of AUTHZ_PG_URL, which this
// package does not control. Tests of other databases must not run
// meanwhile.
func Restart(tb testing.TB, down func()) {
	tb.Helper()
	s, err := start()
	if err != nil {
		tb.Skipf("pgtest: no server to restart: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cl == nil {
		tb.Skipf("pgtest: the server of %s is not restarted by the tests", EnvURL)
	}
	s.cl.shutdown()
	if down != nil {
		down()
	}
	if err := s.cl.start(); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.cl.waitReady(ctx, s.url); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
}
