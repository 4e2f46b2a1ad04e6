package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/scopegate/authz/storage"
)

// DefaultMaxBatchSize is the default of Options.MaxBatchSize.
const DefaultMaxBatchSize = 10000

// Options configure a Client. The zero value of every field selects its
// default; a nil *Options selects all defaults.
type Options struct {
	// NewID generates the id of an object created without a client id. It
	// receives the kind's prefix ("scope", "rsl", "tag_assignment") and must
	// return a string that is unique in the store. The default returns
	// prefix + "_" + a lower-case UUIDv7. Tests and examples inject a
	// deterministic generator.
	NewID func(prefix string) string

	// Now returns the current time for createdAt and appliedAt. The default
	// is time.Now. Stored times are in UTC, truncated to the second.
	Now func() time.Time

	// MaxBatchSize bounds the number of items in one batch, inline
	// memberships, role assignments and tags included. Default
	// DefaultMaxBatchSize.
	MaxBatchSize int

	// Logger receives debug records about writes. The default discards them.
	Logger *slog.Logger

	// ReadActions are the actions for which a mirror link makes a scope a
	// home of the resource (docs/model.md#resource-scope-links). Default: read, list, view.
	ReadActions []string

	// MaxHierarchyDepth bounds how many parent levels the resource
	// hierarchy step climbs (docs/decisions.md#step-2-the-resource-hierarchy). Default 32.
	MaxHierarchyDepth int

	// DecisionCacheSize bounds how many decisions Evaluate remembers for
	// the current revision of the store; a negative value turns the cache
	// off. Default DefaultDecisionCacheSize. The cache cannot answer with a
	// stale decision: it belongs to one revision, and every write starts a
	// new, empty one. Requests with a context, an explanation or a
	// delegation are never cached.
	DecisionCacheSize int

	// MaxEvaluationCost bounds the work of deciding one request for one
	// subject, in operations: every JSON Logic operation of the conditions
	// evaluated (each iteration of some, all and none, each path segment a
	// var walks, each 64 bytes of string read, …), every test of a
	// collection's match definition, every glob pattern matched
	// against an external id (one operation per 64 bytes of pattern and of
	// id, more for long parts holding ?), and the conversion of the
	// request's context for the conditions (one operation per 4 values,
	// two more per map).
	// One operation is about 10 to 50 ns, so the default bounds one decision's conditions, matches and
	// patterns to a few milliseconds whatever the stored model and the
	// request's context hold. A delegated request has one such budget
	// for the actor and one for the principal; a lookup one per candidate.
	//
	// An evaluation that runs out fails closed: the decision is a denial
	// (decidedBy "default") whose explanation and trace say where the
	// budget ran out — unless it ran out in the role step and that step
	// finds a grant: one found before, or one that needs no evaluation (no
	// condition, and a pattern that is not a glob) found after. Such a
	// grant stands, because the steps that may deny all ran before the
	// role step, and a grant only adds. Evaluate returns no error for it:
	// the same request on the same revision always stops at the same
	// place, so the decision is cached like any other. Default
	// DefaultMaxEvaluationCost; a negative value removes the bound (the
	// request's ctx still stops it).
	MaxEvaluationCost int64

	// DecisionLog, when set, receives the decisions of Evaluate and
	// EvaluateBatch (a sample of them: DecisionLogRate), those of the
	// decision cache and denials returned with an error included, with the
	// input, the revision they were made from and their duration. It is
	// called on the request's goroutine after the decision is made, before
	// it is returned: it must be safe for concurrent use and quick (hand
	// the entry to a buffered channel or a logger). The entry is the
	// hook's: a copy of the input and the decision. A panic of the hook
	// reaches the caller of Evaluate. Nil, the default, logs nothing and
	// costs nothing.
	DecisionLog func(ctx context.Context, entry DecisionLogEntry)

	// DecisionLogRate is the fraction of decisions passed to DecisionLog,
	// each drawn at random: 0.01 passes about one in a hundred. Zero
	// passes every decision; New refuses a rate below zero or above one.
	DecisionLogRate float64

	// AuditRetention bounds the audit feed (Client.Changes): by default
	// the last DefaultAuditMaxEntries entries of at most
	// DefaultAuditMaxAge. A negative MaxEntries turns the feed off.
	AuditRetention AuditRetention

	// DeferGraph leaves the building of the Client's evaluation graph to
	// the first call that needs it. By default New builds it from the
	// store before it returns (a store whose records do not decode is
	// opened all the same, and the calls that need the graph report it),
	// and a write through the Client that touches at most 256 nodes of
	// the graph (a few objects, or a batch of a few hundred) brings it up
	// to date before returning, so that the next Evaluate does not pay
	// for either. A larger write, such as a batch of a bulk load, leaves
	// the update to the next call that needs the graph. Writes of other
	// Clients and processes are caught up with by the next call, as
	// always. Set DeferGraph for a Client that only writes, exports,
	// imports or reads the audit feed.
	DeferGraph bool
}

// DefaultMaxHierarchyDepth is the default of Options.MaxHierarchyDepth.
const DefaultMaxHierarchyDepth = 32

// DefaultMaxEvaluationCost is the default of Options.MaxEvaluationCost:
// ten conditions at MaxConditionCost.
const DefaultMaxEvaluationCost = 10 * MaxConditionCost

// Client is the entry point of the library: it writes the model into a
// storage.Storage and answers authorization questions from it.
//
// A Client is safe for concurrent use by multiple goroutines. It does not own
// the store: closing the store is the caller's job, after the last call on
// the Client has returned.
type Client struct {
	store        storage.Storage
	newID        func(prefix string) string
	now          func() time.Time
	maxBatchSize int
	log          *slog.Logger

	readActions map[string]bool
	// deferGraph is Options.DeferGraph.
	deferGraph        bool
	maxHierarchyDepth int
	decisionCacheSize int
	maxEvalCost       int64
	// audit is Options.AuditRetention with its defaults.
	audit AuditRetention
	// decisionLog is nil without Options.DecisionLog.
	decisionLog *decisionLog
	// costHook, set by tests only, receives the operations each subject's
	// evaluation used and why it stopped early (nil when it did not).
	costHook func(used int64, stop error)

	// versioner is store as a storage.Versioner, when it is one; watcher
	// is store as a storage.Watcher, when it is one and not a Versioner.
	versioner storage.Versioner
	watcher   storage.Watcher
	// graph is the in-memory model of the latest revision Evaluate saw;
	// graphMu serializes its rebuilds.
	graph   atomic.Pointer[graph]
	graphMu sync.Mutex
}

// New returns a Client over store. On an empty store it records the schema
// version; a store written by an earlier version of the library is upgraded
// in place, in one transaction (logged at Info: "authz: upgrading the store"),
// after which that earlier version refuses it; on a store written by an
// incompatible version, or holding data of this library's tables without a
// schema version, it fails with an error wrapping ErrSchemaVersion and
// writes nothing.
func New(store storage.Storage, opts *Options) (*Client, error) {
	if store == nil {
		return nil, errors.New("authz: new: store is nil")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxBatchSize < 0 {
		return nil, fmt.Errorf("authz: new: MaxBatchSize is %d; it must be positive (0 selects the default)", o.MaxBatchSize)
	}
	if !(o.DecisionLogRate >= 0 && o.DecisionLogRate <= 1) {
		return nil, fmt.Errorf("authz: new: DecisionLogRate is %v; it must be between 0 and 1 (0 passes every decision)", o.DecisionLogRate)
	}
	c := &Client{
		store:        store,
		newID:        o.NewID,
		now:          o.Now,
		maxBatchSize: o.MaxBatchSize,
		log:          o.Logger,
	}
	c.versioner, _ = store.(storage.Versioner)
	if c.versioner == nil {
		c.watcher, _ = store.(storage.Watcher)
	}
	if c.newID == nil {
		c.newID = NewUUIDv7ID
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxBatchSize == 0 {
		c.maxBatchSize = DefaultMaxBatchSize
	}
	c.readActions = map[string]bool{}
	if o.ReadActions == nil {
		o.ReadActions = []string{"read", "list", "view"}
	}
	for _, a := range o.ReadActions {
		c.readActions[a] = true
	}
	c.decisionCacheSize = o.DecisionCacheSize
	if c.decisionCacheSize == 0 {
		c.decisionCacheSize = DefaultDecisionCacheSize
	}
	c.maxEvalCost = o.MaxEvaluationCost
	if c.maxEvalCost == 0 {
		c.maxEvalCost = DefaultMaxEvaluationCost
	}
	if o.DecisionLog != nil {
		c.decisionLog = &decisionLog{hook: o.DecisionLog, rate: o.DecisionLogRate}
		if c.decisionLog.rate == 0 {
			c.decisionLog.rate = 1
		}
	}
	c.audit = o.AuditRetention
	if c.audit.MaxEntries == 0 {
		c.audit.MaxEntries = DefaultAuditMaxEntries
	}
	if c.audit.MaxAge == 0 {
		c.audit.MaxAge = DefaultAuditMaxAge
	}
	c.maxHierarchyDepth = o.MaxHierarchyDepth
	if c.maxHierarchyDepth <= 0 {
		c.maxHierarchyDepth = DefaultMaxHierarchyDepth
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := store.Update(context.Background(), c.openSchema); err != nil {
		return nil, fmt.Errorf("authz: new: %w", err)
	}
	c.deferGraph = o.DeferGraph
	if !c.deferGraph {
		// A store whose records do not decode is opened all the same, as
		// with DeferGraph: the calls that read the graph report it, and
		// Check and Export can still read what is there.
		if _, err := c.snapshot(context.Background()); err != nil {
			c.log.Debug("authz: graph not built by New", "err", err)
		}
	}
	return c, nil
}

// NewUUIDv7ID is the default Options.NewID: prefix + "_" + a lower-case
// UUIDv7, such as "scope_0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".
func NewUUIDv7ID(prefix string) string {
	u, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source fails.
		u = uuid.New()
	}
	return prefix + "_" + strings.ToLower(u.String())
}

// Revision returns the store's revision: a counter that every committed write
// through any Client on the store increments. Two equal revisions read from
// one store mean that nothing was written in between.
func (c *Client) Revision(ctx context.Context) (uint64, error) {
	var rev uint64
	err := c.store.View(ctx, func(tx storage.Tx) error {
		var err error
		rev, err = readRevision(tx)
		return err
	})
	return rev, err
}

type actorKey struct{}

// SystemActor is the createdBy / appliedBy of writes made with a context that
// carries no actor.
const SystemActor = "system"

// WithActor returns a context that attributes the writes made with it to the
// subject id: it becomes createdBy, appliedBy, and the default ownerId of
// resources.
func WithActor(ctx context.Context, subjectID string) context.Context {
	return context.WithValue(ctx, actorKey{}, subjectID)
}

// ActorFrom returns the actor attached to ctx by WithActor, or SystemActor.
func ActorFrom(ctx context.Context) string {
	if s, ok := ctx.Value(actorKey{}).(string); ok && s != "" {
		return s
	}
	return SystemActor
}

func (c *Client) timestamp() time.Time { return c.now().UTC().Truncate(time.Second) }
