// Package authz is an embeddable library for scoped, hierarchical
// authorization: RBAC with inheritance down a tree of scopes, overrides,
// ABAC conditions in JSON Logic, resource policies and collections, resource
// hierarchies, delegation and tags.
//
// This overview follows the order in which an application meets the
// library. The rules themselves are in the docs/ folder of the repository:
// docs/model.md (the model), docs/decisions.md (how Evaluate decides),
// docs/conditions.md, docs/collections.md, docs/lookups.md, docs/limits.md,
// docs/errors.md and docs/consistency.md.
//
// # A Client on a store
//
// An application creates a Client with New on a storage.Storage: memstore
// for an in-memory store, boltstore for a bbolt file, pgstore for a
// PostgreSQL database shared by several processes, or any backend that
// passes the conformance suite of storage/storagetest. Options set the id
// generator, the clock and the limits; nil selects the defaults. New records
// the schema version of an empty store, upgrades one written by an earlier
// version of the library, and refuses (ErrSchemaVersion) one it cannot read.
//
// # Loading a model with batches
//
// Scope types and the edges between them say which scopes may nest under
// which; scopes form a tree. A scope whose type has permission mode define
// starts a new inheritance boundary (a tenant). Subjects become members of
// scopes; role assignments on memberships give them roles; roles hold
// permissions through role-permissions. Resources are owned by a scope, may
// be linked into other scopes and nested under other resources; resource
// type edges, when a model declares them, say which types may nest under
// which (ResourceTypeEdge). Collections select resources by rules; resource
// policies allow or deny actions on a resource or a collection. Tags, in tag
// groups bound to model types, are assigned to resources, subjects, roles
// and permissions (docs/model.md).
//
// Every kind has a batch method (CreateScopes) and a single form
// (CreateScope), and Apply takes a Batch of every kind at once. A batch is
// atomic: it is validated completely, every problem is reported in one
// *BatchError, and then it is stored in one storage transaction or not at
// all. Any id-valued field may name an object created in the same batch,
// before or after it in the input, and in Apply of any kind. Results come
// back in input order. Every kind also has Get, List, Update and Delete
// methods; deletes cascade in the same transaction.
//
// # Evaluate
//
// Evaluate asks whether a subject may do an action on a resource in a
// scope, possibly on behalf of another subject (both must then be allowed).
// It resolves the request as the request scope sees it (nothing of another
// tenant can change the answer), then decides in order: resource policies
// (the owner's first, then the borrower's, by priority, deny first at equal
// priority), the resource hierarchy, the subject's roles after overrides and
// conditions, and default deny. The Decision says who decided and why, and,
// with EvaluateInput.Explain, lists every step considered
// (docs/decisions.md, docs/conditions.md). Options.DecisionLog receives
// the decisions (or a sample of them, Options.DecisionLogRate) with their
// input, revision and duration, for an audit trail or metrics. Every
// committed write also records, in its transaction, what it did to each
// object in the audit feed (Client.Changes, Client.WatchChanges,
// Options.AuditRetention).
//
// # Lookups
//
// ListAllowedResources (what may this subject do it to?) and
// ListAllowedSubjects (who may do it?) answer the reverse questions
// exactly: each candidate is decided by the algorithm Evaluate runs, on one
// snapshot of the store, so a lookup lists every allowed subject or resource
// and nothing else. Candidates come from reverse edges the graph keeps
// (child scopes, the members of a scope, and the resources living in a
// scope, by type and sorted by id), so a lookup costs what the request
// scope can see, not the size of the store, and a page of resources costs
// the candidates it decides. Results are in id order and paged (Page):
// Limit bounds a page, and the Next of a page is the After of the one that
// follows. ListEffectivePermissions lists the permissions a subject holds in
// a scope through its roles, after overrides, with the conditions still to
// be met (docs/lookups.md).
//
// # Errors
//
// Errors wrap one of the sentinels ErrInvalid, ErrNotFound,
// ErrAlreadyExists, ErrNotAllowed, ErrBatchTooLarge and ErrSchemaVersion;
// match them with errors.Is, which looks through *BatchError and
// *ItemError. Storage and context errors are returned as they are. A denied
// authorization is not an error: it is a Decision whose Allowed field is
// false (docs/errors.md).
//
// # Concurrency and ownership
//
// A Client is safe for concurrent use. Several Clients may share one store.
// Each write is one storage transaction and increments the store's revision
// (Client.Revision). The Client never closes the store it was given: the
// caller closes it after the last call on the Client has returned.
//
// # Cost of a request, and cancellation
//
// What one request costs is bounded whatever the stored model and the
// request hold. The walks over the model (the scope chain, the resource
// hierarchy up to Options.MaxHierarchyDepth, memberships, grants and
// policies) are bounded by the model. What stored expressions and the
// request's context can make expensive is counted in operations and
// bounded by an operation budget of Options.MaxEvaluationCost per subject
// decided (default DefaultMaxEvaluationCost, 100,000 operations, a few
// milliseconds): every JSON Logic operation of a condition (each
// iteration of some, all and none, each element in scans, each 64 bytes
// of string or path read, each string that may be slow to read as a
// number), every test of a collection's match definition, every glob
// pattern matched against an external id, and the conversion of the
// request's context (one operation per 4 values, two more per map; a
// value shared by several maps is converted each time it is reached). What one subject's
// evaluation computed and another reuses (the context, a match that reads
// nothing of the subject) is charged to both, so that no decision depends
// on the order in which a lookup or a delegation decides its subjects. A
// decision that runs
// out of its budget fails closed: it is a denial whose explanation says
// where the budget ran out, and Evaluate returns no error for it; only a
// grant of the role step (found before, or needing no evaluation) can
// still allow, since every step that may deny ran before it.
//
// Writes refuse what could never fit: a condition whose cost, whatever the
// data, exceeds MaxConditionCost (nested quantifiers over literal arrays
// multiply) fails with ErrInvalid naming the costliest quantifier, and so
// does a match definition whose conditions exceed it together. (A client
// whose MaxEvaluationCost is below MaxConditionCost may store conditions
// it can never finish.) Values
// read from the data or the context are values, never run as logic. Glob
// patterns match in time linear in the external id (times the length, in
// 64-character words, of the longest part between stars that holds ?).
//
// Evaluate, EvaluateBatch and the lookups check their ctx as they go:
// before each resource, policy and membership they consider, and every
// 1,024 operations of a condition (between charges: one charge covers one
// operator's pass over its arguments). A done ctx stops the request at once
// with ctx's error and a denial (an empty page for a lookup), never a
// grant. A lookup decides each candidate with its own budget, so its cost
// grows with the candidates it decides (Page.Limit bounds what a page
// lists, not the candidates decided to fill it): bound it with ctx.
//
// # Limits
//
// Every stored field is bounded (MaxIDLength, MaxTextLength, MaxListLength,
// MaxMetaBytes, MaxMetaDepth, MaxRawJSONBytes, MaxConditionCost, and node
// and depth limits for conditions and match definitions); a write past a
// limit fails with ErrInvalid and stores nothing. A batch holds at most
// Options.MaxBatchSize items (ErrBatchTooLarge). Client.Check verifies a
// whole store the way bbolt's Tx.Check verifies a file, and reports what it
// finds in a *CheckError (docs/limits.md).
//
// Generated ids are "{prefix}_{uuidv7}" (Options.NewID replaces the
// generator). Client ids are kept verbatim: 1–200 characters of
// [A-Za-z0-9_.:@|-], other than "." and ".." (no URL path can name those two:
// URL resolution removes them as dot segments; "..." and every other id is
// an ordinary path segment), unique across the whole store whatever the
// kind. A write with a refused id fails with ErrInvalid naming the id's
// field; ids stored before the rule stay readable. Timestamps come from
// Options.Now and marshal as RFC 3339 UTC. The actor attached to the context
// with WithActor becomes createdBy and appliedBy; without one it is
// "system".
//
// # Consistency
//
// Evaluate reads an in-memory graph of the model that the Client keeps: the
// objects decoded once, conditions and match definitions compiled once. The
// graph is immutable and shared by concurrent evaluations without locks. It
// is brought up to date before a request is answered (from the newest
// revision the Client knows; see Consistency for stores shared with other
// processes): each write stores, with the new revision, the list of
// graph nodes it touched (a change log of the last 256 revisions), and the
// first Evaluate that sees a newer revision, from this Client or another one
// on the same store, reloads just those nodes into a new graph that shares
// the rest. A Client that fell further behind reads the whole store again.
// New builds the graph before it returns, and a write through the Client
// that touches few nodes brings it up to date before returning, so that
// neither the first request nor the one after such a write pays for it
// (Options.DeferGraph leaves both to the first call that needs the graph).
// With a store that implements storage.Versioner (memstore, boltstore), an
// Evaluate on an unchanged store opens no transaction at all; with a
// storage.Watcher (pgstore) it opens none while the store has told of no
// new commit; with other stores it opens one View to read the revision.
//
// Evaluate is built to allocate little (BENCHMARKS.md gives the figures of
// each kind of request): a request decided by roles — allowed, or denied
// by the role step — allocates nothing once a request with the same grants
// or the same reason of denial has been answered on the revision, with or
// without the decision cache; the sentences and the lists of matches are
// made once per revision and shared. So the Matches of a Decision may
// share memory with the graph and with other Decisions, and must be
// treated as read-only.
// Each revision also has a bounded cache of decisions
// (Options.DecisionCacheSize) for requests without context, explanation or
// delegation; it starts empty at every write, so it never answers with a
// decision of an older revision.
//
// Each lookup page reads the store as it is then; a write between two pages
// may move an object across a page boundary (docs/consistency.md).
//
// Every write commits one revision; a context from WithWriteRevision
// receives it, and BatchResult.Revision carries it. A request can ask for a
// model at least that fresh (EvaluateInput.Consistency and the same field
// of the lookups): AtLeastRevision waits, bounded by the request's ctx,
// until the Client answers from that revision or a later one, so that a
// write made through one Client, or another process sharing the store, is
// seen by the next request wherever it is answered; FullyConsistent reads
// the store's current revision first.
package authz
