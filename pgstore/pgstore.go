package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scopegate/authz/internal/txguard"
	"github.com/scopegate/authz/storage"
)

// SchemaVersion is the version of the layout of the tables that this
// release of the package writes and reads.
const SchemaVersion = 1

// DefaultSchema is the schema of a Store when Options.Schema is empty.
const DefaultSchema = "authz"

// ErrSchemaVersion is wrapped by the error of Open for a schema that holds
// a pgstore_meta table without a version this package knows.
var ErrSchemaVersion = errors.New("pgstore: unknown schema version")

// pageSize is the number of rows of one page of Tx.Scan.
var pageSize = 256

// Options configures Open. The zero value (and a nil *Options) gives the
// defaults.
type Options struct {
	// Schema is the PostgreSQL schema holding the tables, created by Open
	// if missing. It must be 1 to 63 lower-case ASCII letters, digits and
	// underscores, not starting with a digit nor with "pg_". Empty means
	// DefaultSchema.
	Schema string

	// MaxConns is the size of the connection pool. Zero keeps the size of
	// the connection string (pool_max_conns) or pgxpool's default (the
	// larger of 4 and the number of CPUs). It must be at least 2: an
	// Update holds one connection, and a View started during it needs
	// another.
	MaxConns int32

	// Logger receives the events of the Store: creating a schema, a
	// failed rollback, a lost listener connection. Nil means no logging.
	Logger *slog.Logger

	// NoListen turns off the listener: the Store then learns of the
	// commits of other Stores only by polling. By default a dedicated
	// connection LISTENs to the notification every commit sends.
	NoListen bool

	// PollInterval is how often the Store reads the commit count, so that
	// a lost notification or a listener reconnecting never leaves it
	// unaware of a commit for longer. Zero means DefaultPollInterval; a
	// negative value turns polling off.
	PollInterval time.Duration
}

// DefaultPollInterval is the default of Options.PollInterval.
const DefaultPollInterval = time.Second

// notifyChannel is the channel of the notifications of every Store of a
// database; the payload is "schema version".
const notifyChannel = "pgstore"

// Store is a storage.Storage in a schema of a PostgreSQL database. It is
// safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	log    *slog.Logger
	closed atomic.Bool

	// writer is held by the Update of this Store in progress.
	writer chan struct{}

	sql statements

	// pages counts the page queries of Tx.Scan, for tests.
	pages atomic.Int64

	// commits is what the Store knows of the commit count (Watch).
	commits known
	// stop ends the listener and the poller; done is closed when both
	// have returned.
	stop context.CancelFunc
	done sync.WaitGroup
	// listenerPID is the backend pid of the listener's connection, for
	// tests.
	listenerPID atomic.Uint32
}

var (
	_ storage.Storage = (*Store)(nil)
	_ storage.Watcher = (*Store)(nil)
)

// known is what a Store knows of the commits: the version Watch reports,
// which counts the changes of the commit count the Store has observed, and
// the channel closed at the next one. The version is the Store's own: the
// count read from the writer row only tells it whether something changed,
// so that a count that goes down (a schema restored from an older copy)
// is a change like any other, and nothing a notification says is trusted.
type known struct {
	mu   sync.Mutex
	v    uint64
	last string // the last state of the writer row observed; "" before the first
	ch   chan struct{}
}

// observe records that the state of the writer row (its count and the id
// of the transaction that last wrote it, xmin, which every commit changes
// and a restored copy does too), read from the database or returned by a
// commit of this Store, is count, visible to transactions that begin from
// now on.
func (k *known) observe(count string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if count == k.last {
		return
	}
	k.last = count
	k.v++
	if k.ch != nil {
		close(k.ch)
		k.ch = nil
	}
}

func (k *known) watch() (uint64, <-chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ch == nil {
		k.ch = make(chan struct{})
	}
	return k.v, k.ch
}

// Watch returns the Store's version, which grows each time the Store
// observes that the commits changed, and a channel closed when it does
// next. It implements storage.Watcher. A Store observes its own commits as
// they return, and those of other Stores (other processes) by reading the
// commit count from the database when a notification of the schema arrives
// and every Options.PollInterval, so that a lost notification or a
// listener reconnecting never leaves it unaware of a commit for longer. It
// never observes a commit before the commit is visible; a notification is
// only a reason to read the count, so a forged one changes nothing.
func (s *Store) Watch() (uint64, <-chan struct{}) { return s.commits.watch() }

// statements are the SQL texts of a Store, naming its schema.
type statements struct {
	lockWriter, commits, get, getMany, putMany, insMany, delMany, page, pageTo string
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database of connString (a URL or keyword/value
// string, as pgx takes it) and opens the store in the schema of opts,
// creating the schema and its tables if needed (see the package
// documentation). opts may be nil. It fails with an error wrapping
// ErrSchemaVersion for a schema of an unknown version.
func Open(ctx context.Context, connString string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if !schemaName.MatchString(o.Schema) || len(o.Schema) >= 3 && o.Schema[:3] == "pg_" {
		return nil, fmt.Errorf("pgstore: schema name %q: want 1 to 63 lower-case letters, digits and _, not starting with a digit or pg_", o.Schema)
	}
	if o.MaxConns < 0 || o.MaxConns == 1 {
		return nil, fmt.Errorf("pgstore: MaxConns %d: want 0 (the default) or at least 2", o.MaxConns)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connection string: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if cfg.MaxConns < 2 {
		return nil, fmt.Errorf("pgstore: pool size %d: want at least 2", cfg.MaxConns)
	}
	// The store's statements read keys through the primary key, key by key
	// or in key order; none needs a sort. Without one, a planner whose
	// statistics are stale (a table that grew since it was last analyzed)
	// cannot choose to read and sort a whole table to return a page of it.
	cfg.ConnConfig.RuntimeParams["enable_sort"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{
		pool:   pool,
		schema: o.Schema,
		log:    o.Logger,
		writer: make(chan struct{}, 1),
		sql:    newStatements(o.Schema),
	}
	if err := s.prepare(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.poll(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	if !o.NoListen {
		s.done.Add(1)
		go s.listen(bg, cfg.ConnConfig.Copy())
	}
	interval := o.PollInterval
	if interval == 0 {
		interval = DefaultPollInterval
	}
	if interval > 0 {
		s.done.Add(1)
		go s.poller(bg, interval)
	}
	return s, nil
}

// poll reads the commit count.
func (s *Store) poll(ctx context.Context) error {
	var n string
	if err := s.pool.QueryRow(ctx, s.sql.commits).Scan(&n); err != nil {
		return s.fail(ctx, "read the commit count", err)
	}
	s.commits.observe(n)
	return nil
}

// poller polls every interval until ctx ends.
func (s *Store) poller(ctx context.Context, interval time.Duration) {
	defer s.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.poll(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pgstore: poll the commit count", "schema", s.schema, "error", err)
			}
		}
	}
}

// listen LISTENs on a connection of its own until ctx ends, learning the
// commit of every notification of the Store's schema. When the connection
// is lost it reconnects (after pauses doubling from 10 ms to 1 s) and
// polls once, to learn of the commits it may have missed meanwhile.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	defer s.done.Done()
	wait := 10 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("pgstore: listener connection lost; reconnecting", "schema", s.schema, "error", err, "after", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// listenOnce listens on one connection until it fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{notifyChannel}.Sanitize()); err != nil {
		return err
	}
	s.listenerPID.Store(conn.PgConn().PID())
	// Commits made before LISTEN took effect sent no notification here.
	if err := s.poll(ctx); err != nil {
		return err
	}
	// A notification of this schema is a reason to read the count, not a
	// count to trust: anyone connected to the database may send one.
	prefix := s.schema + " "
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if strings.HasPrefix(n.Payload, prefix) {
			if err := s.poll(ctx); err != nil {
				return err
			}
		}
	}
}

// Schema returns the schema of the store.
func (s *Store) Schema() string { return s.schema }

func newStatements(schema string) statements {
	kv := pgx.Identifier{schema, "pgstore_kv"}.Sanitize()
	return statements{
		lockWriter: "UPDATE " + pgx.Identifier{schema, "pgstore_writer"}.Sanitize() + " SET commits = commits + 1 WHERE id = 1 RETURNING commits || ' ' || xmin",
		commits:    "SELECT commits || ' ' || xmin FROM " + pgx.Identifier{schema, "pgstore_writer"}.Sanitize() + " WHERE id = 1",
		get:        "SELECT value FROM " + kv + " WHERE tbl = $1 AND key = $2",
		// The LIMIT keeps the planner from flattening the lateral subquery
		// into a join: each key is one probe of the primary key whatever
		// the table's statistics say (a hash join over a table that grew
		// since it was last analyzed reads the whole table).
		getMany: "SELECT k.key, v.value FROM unnest($2::bytea[]) AS k(key) JOIN LATERAL (SELECT value FROM " + kv +
			" WHERE tbl = $1 AND key = k.key LIMIT 1) AS v ON true",
		putMany: "INSERT INTO " + kv + " (tbl, key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])" +
			" ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value",
		// insMany writes keys the transaction knows to be absent: a plain
		// insert costs the server less than an upsert.
		insMany: "INSERT INTO " + kv + " (tbl, key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])",
		// delMany finds the rows key by key (a lateral probe, as getMany)
		// and deletes them by their physical ids.
		delMany: "DELETE FROM " + kv + " WHERE ctid = ANY(ARRAY(SELECT x.ctid FROM unnest($1::bytea[], $2::bytea[]) AS d(tbl, key)" +
			" JOIN LATERAL (SELECT ctid FROM " + kv + " WHERE tbl = d.tbl AND key = d.key LIMIT 1) AS x ON true))",
		page:   "SELECT key, value FROM " + kv + " WHERE tbl = $1 AND key >= $2 ORDER BY key LIMIT $3",
		pageTo: "SELECT key, value FROM " + kv + " WHERE tbl = $1 AND key >= $2 AND key < $4 ORDER BY key LIMIT $3",
	}
}

// lockClass is the first key of the advisory lock of Open (the second is
// the hash of the schema name): "pgst" in ASCII.
const lockClass = 0x70677374

// prepare creates the schema and its tables if they are missing and checks
// the version, in one transaction holding the advisory lock of the schema.
func (s *Store) prepare(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: connect: %w", err)
	}
	defer s.rollback(ctx, tx) // after the commit: does nothing
	if err := s.prepareIn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: commit the tables of schema %q: %w", s.schema, err)
	}
	return nil
}

// prepareIn is prepare in transaction tx.
func (s *Store) prepareIn(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", lockClass, s.schema); err != nil {
		return fmt.Errorf("pgstore: lock schema %q: %w", s.schema, err)
	}
	meta := pgx.Identifier{s.schema, "pgstore_meta"}.Sanitize()
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", meta).Scan(&exists); err != nil {
		return fmt.Errorf("pgstore: look for schema %q: %w", s.schema, err)
	}
	if exists {
		return s.checkVersion(ctx, tx, meta)
	}
	if err := s.create(ctx, tx); err != nil {
		return fmt.Errorf("pgstore: create the tables in schema %q: %w", s.schema, err)
	}
	s.log.Info("pgstore: created the tables", "schema", s.schema, "version", SchemaVersion)
	return nil
}

// checkVersion reads the version in table meta.
func (s *Store) checkVersion(ctx context.Context, tx pgx.Tx, meta string) error {
	var v string
	err := tx.QueryRow(ctx, "SELECT value FROM "+meta+" WHERE key = 'schema_version'").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: schema %q has no version in %s", ErrSchemaVersion, s.schema, meta)
	}
	if err != nil {
		return fmt.Errorf("pgstore: read the version of schema %q: %w", s.schema, err)
	}
	if n, err := strconv.Atoi(v); err != nil || n != SchemaVersion {
		return fmt.Errorf("%w: schema %q has version %q; this release knows version %d only, and never migrates downwards",
			ErrSchemaVersion, s.schema, v, SchemaVersion)
	}
	return nil
}

// create creates the schema (if missing) and the tables.
func (s *Store) create(ctx context.Context, tx pgx.Tx) error {
	id := func(name string) string { return pgx.Identifier{s.schema, name}.Sanitize() }
	for _, stmt := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{s.schema}.Sanitize(),
		"CREATE TABLE " + id("pgstore_kv") + " (tbl bytea NOT NULL, key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (tbl, key))",
		"CREATE TABLE " + id("pgstore_writer") + " (id integer PRIMARY KEY CHECK (id = 1), commits bigint NOT NULL DEFAULT 0)",
		"INSERT INTO " + id("pgstore_writer") + " (id) VALUES (1)",
		"CREATE TABLE " + id("pgstore_meta") + " (key text PRIMARY KEY, value text NOT NULL)",
		"INSERT INTO " + id("pgstore_meta") + " (key, value) VALUES ('schema_version', '" + strconv.Itoa(SchemaVersion) + "')",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// View runs fn in a REPEATABLE READ, READ ONLY transaction. It implements
// storage.Storage.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ptx, err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.fail(ctx, "begin", err)
	}
	t := &tx{s: s, ctx: ctx, ptx: ptx}
	defer func() {
		t.End()
		s.rollback(ctx, ptx)
	}()
	return fn(t)
}

// Update runs fn in a READ COMMITTED transaction that first locks the
// writer row, and commits it if fn returns nil. It implements
// storage.Storage.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return ctx.Err()
	}
	ptx, err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return s.fail(ctx, "begin", err)
	}
	t := &tx{s: s, ctx: ctx, ptx: ptx, Guard: txguard.Guard{Writable: true}}
	done := false
	defer func() {
		t.End()
		if !done {
			s.rollback(ctx, ptx)
		}
	}()
	var commit string
	if err := ptx.QueryRow(ctx, s.sql.lockWriter).Scan(&commit); err != nil {
		return s.fail(ctx, "lock the writer row", err)
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return s.fail(ctx, "write", err)
	}
	if _, err := ptx.Exec(ctx, "SELECT pg_notify($1, $2)", notifyChannel, s.schema+" "+commit); err != nil {
		return s.fail(ctx, "notify", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t.End()
	done = true
	// Once sent, the commit is waited for: cancelling it would leave its
	// outcome unknown.
	if err := ptx.Commit(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	s.commits.observe(commit)
	return nil
}

// begin starts a transaction. It tries again when the connection it got
// failed before anything was sent (pgconn.SafeToRetry), as every idle
// connection of the pool does after the server restarted: at most once per
// connection of the pool, and once more.
func (s *Store) begin(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	for attempt := 0; ; attempt++ {
		ptx, err := s.pool.BeginTx(ctx, opts)
		if err == nil || ctx.Err() != nil || !pgconn.SafeToRetry(err) || attempt > int(s.pool.Config().MaxConns) {
			return ptx, err
		}
	}
}

// rollback ends a transaction that did not commit. Rolling back a
// transaction whose connection is broken closes the connection, and the
// server rolls it back.
func (s *Store) rollback(ctx context.Context, ptx pgx.Tx) {
	if err := ptx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		s.log.Warn("pgstore: rollback", "schema", s.schema, "error", err)
	}
}

// fail wraps an error of the database outside fn: ctx.Err() when ctx is
// done, storage.ErrClosed after Close.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// Close closes the connection pool. Calls after the first return nil; View
// and Update then return storage.ErrClosed. It implements storage.Storage.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stop()
	s.done.Wait()
	s.pool.Close()
	return nil
}

// tx is a storage.Tx over a pgx transaction.
type tx struct {
	s   *Store
	ctx context.Context
	ptx pgx.Tx
	txguard.Guard
	// pending holds the writes not yet sent, by table and key (the last
	// write of a key wins); order lists their keys in the order of their
	// first write. Reads send them first (flush), so that they see them.
	pending      map[pendingKey]pendingWrite
	order        []pendingKey
	pendingBytes int
	// read holds what Prefetch read (value nil: the key is missing). A
	// write of a key removes it: pending answers for it from then on.
	read map[pendingKey][]byte
}

var _ storage.Prefetcher = (*tx)(nil)

// Prefetch reads the keys of table in one statement, for the Gets that
// follow. It implements storage.Prefetcher. The rows it reads stay valid
// for the transaction: a View reads one snapshot, and an Update holds the
// writer row, so no other Update changes them meanwhile.
func (t *tx) Prefetch(table string, keys []string) error {
	if err := t.Guard.Scan(table); err != nil {
		return err
	}
	if t.read == nil {
		t.read = make(map[pendingKey][]byte, len(keys))
	}
	var want [][]byte
	for _, k := range keys {
		pk := pendingKey{table, k}
		if _, ok := t.read[pk]; ok || k == "" {
			continue
		}
		if _, ok := t.pending[pk]; ok {
			continue
		}
		t.read[pk] = nil
		want = append(want, []byte(k))
	}
	if len(want) == 0 {
		return nil
	}
	if err := t.prefetch(table, want); err != nil {
		// Forget the keys this call marked: Get reads them itself.
		for _, k := range want {
			delete(t.read, pendingKey{table, string(k)})
		}
		return fmt.Errorf("pgstore: prefetch from table %q: %w", table, err)
	}
	return nil
}

// prefetch reads the keys want of table into t.read.
func (t *tx) prefetch(table string, want [][]byte) error {
	rows, err := t.ptx.Query(t.ctx, t.s.sql.getMany, []byte(table), want)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if v == nil {
			v = []byte{}
		}
		t.read[pendingKey{table, string(k)}] = v
	}
	return rows.Err()
}

type pendingKey struct{ table, key string }

// pendingWrite is a Put (value) or a Delete (del). absent marks a Put of a
// key that the transaction read as missing (Prefetch) and did not write
// before: no other transaction can add it meanwhile (an Update holds the
// writer row), so it is sent as a plain insert.
type pendingWrite struct {
	value  []byte
	del    bool
	absent bool
}

// maxPending is the number of pending writes, and maxPendingBytes the size
// of their values, that sends them without waiting for a read or the
// commit: a flush stays far below the server's limit on one message (1 GB)
// whatever the values hold.
const (
	maxPending      = 4096
	maxPendingBytes = 32 << 20
)

// queue records a write to send later. A done ctx fails it at once, as a
// statement sent then would.
func (t *tx) queue(table, key string, w pendingWrite) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if t.pending == nil {
		t.pending = make(map[pendingKey]pendingWrite)
	}
	k := pendingKey{table, key}
	if prev, ok := t.pending[k]; ok {
		w.absent = !w.del && prev.absent
	} else {
		t.order = append(t.order, k)
		v, read := t.read[k]
		w.absent = !w.del && read && v == nil
	}
	delete(t.read, k)
	t.pending[k] = w
	t.pendingBytes += len(key) + len(w.value)
	if len(t.order) >= maxPending || t.pendingBytes >= maxPendingBytes {
		return t.flush()
	}
	return nil
}

// flush sends the pending writes: the deletes in one statement, the puts
// of keys known to be absent in a second and the other puts in a third,
// each over arrays, so that a batch of writes costs at most three round
// trips whatever its size.
func (t *tx) flush() error {
	if len(t.order) == 0 {
		return nil
	}
	var delT, delK, putT, putK, putV, insT, insK, insV [][]byte
	for _, k := range t.order {
		w := t.pending[k]
		switch {
		case w.del:
			delT, delK = append(delT, []byte(k.table)), append(delK, []byte(k.key))
		case w.absent:
			insT, insK, insV = append(insT, []byte(k.table)), append(insK, []byte(k.key)), append(insV, w.value)
		default:
			putT, putK, putV = append(putT, []byte(k.table)), append(putK, []byte(k.key)), append(putV, w.value)
		}
	}
	clear(t.pending)
	t.order, t.pendingBytes = t.order[:0], 0
	if len(delT) > 0 {
		if _, err := t.ptx.Exec(t.ctx, t.s.sql.delMany, delT, delK); err != nil {
			return fmt.Errorf("pgstore: delete %d keys: %w", len(delT), err)
		}
	}
	if len(insT) > 0 {
		if _, err := t.ptx.Exec(t.ctx, t.s.sql.insMany, insT, insK, insV); err != nil {
			return fmt.Errorf("pgstore: insert %d keys: %w", len(insT), err)
		}
	}
	if len(putT) > 0 {
		if _, err := t.ptx.Exec(t.ctx, t.s.sql.putMany, putT, putK, putV); err != nil {
			return fmt.Errorf("pgstore: put %d keys: %w", len(putT), err)
		}
	}
	return nil
}

func (t *tx) Get(table, key string) ([]byte, error) {
	if err := t.Read(table, key); err != nil {
		return nil, err
	}
	if w, ok := t.pending[pendingKey{table, key}]; ok {
		if w.del {
			return nil, storage.ErrNotFound
		}
		return bytes.Clone(w.value), nil
	}
	if v, ok := t.read[pendingKey{table, key}]; ok {
		if v == nil {
			return nil, storage.ErrNotFound
		}
		return bytes.Clone(v), nil
	}
	var v []byte
	err := t.ptx.QueryRow(t.ctx, t.s.sql.get, []byte(table), []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get from table %q: %w", table, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (t *tx) Put(table, key string, value []byte) error {
	if err := t.Write(table, key); err != nil {
		return err
	}
	// A copy: the caller may change value after Put returns. Never nil,
	// which would be NULL.
	return t.queue(table, key, pendingWrite{value: append([]byte{}, value...)})
}

func (t *tx) Delete(table, key string) error {
	if err := t.Write(table, key); err != nil {
		return err
	}
	return t.queue(table, key, pendingWrite{del: true})
}

// row is a key and value of a page of Scan.
type row struct {
	key, value []byte
}

func (t *tx) Scan(table, prefix string, fn func(key string, value []byte) error) error {
	if err := t.Guard.Scan(table); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	upper, bounded := prefixEnd([]byte(prefix))
	page := make([]row, 0, pageSize)
	// Each page starts at from: the prefix, then the least key after the
	// last key of the previous page (that key followed by a zero byte).
	from := []byte(prefix)
	for {
		if err := t.Guard.Scan(table); err != nil {
			return err // fn kept the Tx past the end of its transaction
		}
		t.s.pages.Add(1)
		var rows pgx.Rows
		var err error
		if bounded {
			rows, err = t.ptx.Query(t.ctx, t.s.sql.pageTo, []byte(table), from, pageSize, upper)
		} else {
			rows, err = t.ptx.Query(t.ctx, t.s.sql.page, []byte(table), from, pageSize)
		}
		if err != nil {
			return fmt.Errorf("pgstore: scan table %q: %w", table, err)
		}
		page = page[:0]
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.value); err != nil {
				rows.Close()
				return fmt.Errorf("pgstore: scan table %q: %w", table, err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("pgstore: scan table %q: %w", table, err)
		}
		for _, r := range page {
			if r.value == nil {
				r.value = []byte{}
			}
			if err := fn(string(r.key), r.value); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		from = append(page[len(page)-1].key, 0)
	}
}

// prefixEnd returns the least key greater than every key starting with
// prefix, and false when there is none (an empty prefix, or one of 0xff
// bytes only).
func prefixEnd(prefix []byte) ([]byte, bool) {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1], true
		}
	}
	return nil, false
}
