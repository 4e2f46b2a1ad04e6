// Package pgstore is a storage.Storage in a PostgreSQL database, over pgx
// (github.com/jackc/pgx/v5) and its connection pool, so that several
// processes can share one store.
//
// # Layout
//
// Open keeps everything in one schema of the database (Options.Schema,
// "authz" by default), so that two Stores with different schemas share a
// database without seeing each other's data. The schema holds three tables:
//
//   - pgstore_kv (tbl bytea, key bytea, value bytea), primary key (tbl, key):
//     every row of every table of the store. Names and keys are bytea so that
//     any bytes are allowed and rows sort bytewise, whatever the collation
//     of the database; values are opaque bytes.
//   - pgstore_writer (id, commits): a single row that every Update locks
//     first, by incrementing its count of commits.
//   - pgstore_meta (key text, value text): the version of this layout,
//     under key "schema_version".
//
// The first Open of a schema creates the schema and the tables in one
// transaction, holding a transaction-level advisory lock (keyed by the
// schema's name) so that several processes opening a new database at once
// create them exactly once; later Opens take the same lock to read the
// version. The tables are created with plain CREATE TABLE: in a schema that
// already holds a table of the same name but no pgstore_meta, Open fails
// and leaves it alone. The version is an integer of this package, not of
// the authz data, which the authz core versions on its own.
//
// # Schema versions
//
// Open refuses, with an error wrapping ErrSchemaVersion, a schema whose
// pgstore_meta holds a version this package does not know (written by a
// newer release, or damaged) or no version at all. It never changes such a
// schema, and never migrates one downwards. A future release that changes
// the layout migrates older versions upwards, under the same lock.
//
// # Transactions, concurrency and atomicity
//
// A View is one PostgreSQL transaction, REPEATABLE READ and READ ONLY: it
// sees one snapshot, taken at its first statement, whatever commits
// meanwhile, and never waits for an Update. Views run in parallel, each on a
// connection of the pool.
//
// An Update is a READ COMMITTED transaction whose first statement locks
// the writer row (UPDATE … SET commits = commits + 1). The lock is held
// until the commit or rollback, so Updates from any number of Stores and processes run one at
// a time, as with bbolt's single writer; READ COMMITTED (rather than
// REPEATABLE READ, whose snapshot would be taken before the wait) makes
// every statement after the lock see every Update committed before it.
// Within one Store, Updates also wait for each other before taking a
// connection, so waiting writers hold at most one connection per Store and
// Views always find one. Options.MaxConns must therefore be at least 2.
//
// An Update commits atomically when fn returns nil. It writes nothing when
// fn returns an error, when fn panics (the transaction is rolled back and
// the panic continues), when ctx is done before the commit (a statement
// running when ctx ends is cancelled), and when the connection is lost
// before the commit, which the server rolls back. Once the commit is sent,
// the Update waits for its outcome whatever ctx says; an error from the
// commit itself (a lost connection) leaves the outcome unknown, as with any
// database.
//
// Tx.Scan reads its rows in pages of 256 keys in key order (keyset
// pagination over the primary key), calling fn for the rows of one page
// after the page has been read: a scan holds at most one page in memory,
// and fn may use the Tx. Each Get and page is one round trip to the
// server. Puts and Deletes are kept in the Tx (the last write of a key
// wins) and sent together, over arrays, in at most three statements
// (deletes, inserts of keys the Tx read as missing, upserts of the others):
// before a Scan, when 4,096 are waiting (or 32 MiB of values), and before
// the commit; a Get of a key written in the Tx answers from them. A
// database error of such a write is therefore returned by the Scan or Put
// that sends it, or by Update. As in any PostgreSQL transaction, a
// statement that fails (a write, a Get, a Prefetch) ends the transaction:
// every later call of the Tx fails too, and Update returns the error. A Tx implements storage.Prefetcher: Prefetch reads many keys of a
// table in one statement, and the Gets that follow answer from what it
// read (the authz core prefetches what a batch of 8 items or more will
// check, so that a bulk load does not pay a round trip per item).
//
// Every statement reads the key table through its primary key: key by
// key, or in key order for a page. The Store's connections run with
// enable_sort off, and the statements that name many keys probe them one
// by one, so that statistics that have not caught up with a table that
// grew (a bulk load) never make the planner read a whole table instead.
//
// # Ownership and errors
//
// Open creates the pool and Close closes it. Close waits for the
// connections in use to come back to the pool: as the storage contract
// says, it must not be called while a View or Update is in progress. The
// storage sentinels (storage.ErrNotFound, storage.ErrReadOnly,
// storage.ErrTxClosed, storage.ErrKeyRequired, storage.ErrClosed) are
// returned as the storage package says. Errors of the database are
// returned wrapped, prefixed with "pgstore:"; when ctx ended, View and
// Update return ctx.Err().
//
// A Store does not implement storage.Versioner: other processes may write
// the same schema, so no Store sees every commit as it happens.
//
// # Learning of commits (storage.Watcher)
//
// The writer row counts commits: an Update increments it as it locks the
// row, and sends pg_notify on channel "pgstore" (payload "schema count
// xid") in its transaction, so that the notification is delivered when,
// and only if, the Update commits. A Store implements storage.Watcher: its
// version grows each time it observes that the writer row changed (its
// count, and xmin, the id of the transaction that last wrote it, which
// every commit changes and a copy restored from a dump does too). It
// observes its own commits as they return; the others' by reading the row
// when a notification of its schema arrives on a connection of its own
// that LISTENs to the channel (Options.NoListen turns it off; it
// reconnects when lost, then reads the row once), and every
// Options.PollInterval (default one second), so that a lost notification
// delays it by one interval at most. A notification is only a reason to
// read the row: anyone connected to the database can send one, and a
// forged one changes nothing. A Store never observes a commit before the
// commit is visible. The authz Client answers from what its Store has
// observed by default, and reads the store first when a request asks for a
// revision or for full consistency.
//
// After the server restarts, the pool's idle connections are dead: View
// and Update take another connection when the one they got fails before
// anything was sent, so that the first requests after a restart succeed.
package pgstore
