package authz

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/scopegate/authz/internal/jsonscan"
	"github.com/scopegate/authz/storage"
)

// ExportFormat is the format field of an export's header line.
const ExportFormat = "scopegate-authz-export"

// ExportVersion is the version of the export format that Export writes and
// Import reads.
const ExportVersion = 1

// An export is JSON Lines: one JSON object per line.
//
// The first line is the header (ExportHeader). Each following line is one
// object: {"kind": "scopes", "item": {…}}, where kind names the list of
// Batch the object belongs to and item is the object as the library's JSON
// shape shows it (the Scope, the Membership, …, with its id and its
// createdAt and createdBy). Objects come in dependency order — scope types,
// scope type edges, scopes, scope edges, subjects, resource types, resource
// type edges, roles,
// permissions, role-permissions, scope overrides, memberships, role
// assignments, resources, resource edges, resource scope links,
// collections, resource policies, tag groups, tags, tag bindings, tag
// assignments — and in id order within a kind, so that every object comes
// after those it refers to and two exports of the same store are the same
// bytes but for the header. The last line is the trailer, {"end":
// {"objects": n}}, which tells a complete export from a truncated one.

// ExportHeader is the first line of an export.
type ExportHeader struct {
	// Format is ExportFormat and Version is ExportVersion.
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Schema is the schema version of the exporting store's layout.
	Schema int `json:"schema"`
	// Revision is the revision of the store the export is a snapshot of.
	Revision uint64 `json:"revision"`
	// ExportedAt is when the export began (Options.Now).
	ExportedAt Time `json:"exportedAt"`
	// ScopeID is the scope whose subtree the export holds
	// (ExportOptions.ScopeID); empty for a whole store.
	ScopeID string `json:"scopeId,omitempty"`
}

// ExportOptions configures Export. A nil *ExportOptions exports the whole
// store.
type ExportOptions struct {
	// ScopeID, when set, limits the export to that scope's subtree, to move
	// a tenant to another store: the scope and the scopes below it, and
	// every object defined at one of them (roles, permissions, resource
	// types, resources, memberships, overrides, collections, policies, tag
	// groups, tags and tag assignments), with what hangs on those (role
	// assignments, role-permissions of its roles, edges and links between
	// its objects, tag bindings of its groups, resource type edges from or
	// to its resource types); the subjects those objects name; and every
	// scope type and scope type edge (they are global). Objects
	// that refer to something outside the subtree, such as a membership's
	// role defined above the scope, are exported too and make the import
	// fail where that is missing: export a tenant (a define scope), whose
	// model is its own.
	ScopeID string
}

// exportLine is a line of an export after the header.
type exportLine struct {
	Kind string          `json:"kind,omitempty"`
	Item json.RawMessage `json:"item,omitempty"`
	End  *exportEnd      `json:"end,omitempty"`
}

type exportEnd struct {
	Objects int `json:"objects"`
}

// exportOrder lists the groups of Batch in an order where every object
// comes after the objects it refers to. TestExportOrder checks that it
// lists every kind once, and the import tests that chunks of one object
// load in this order.
var exportOrder = []string{
	"scopeTypes", "scopeTypeEdges", "scopes", "scopeEdges", "subjects", "resourceTypes", "resourceTypeEdges", "roles",
	"permissions", "rolePermissions", "scopeOverrides", "memberships", "roleAssignments",
	"resources", "resourceEdges", "resourceScopeLinks", "collections", "resourcePolicies",
	"tagGroups", "tags", "tagBindings", "tagAssignments",
}

// ExportSummary says what an Export wrote.
type ExportSummary struct {
	// Revision is the revision of the store the export is a snapshot of.
	Revision uint64
	// Objects is the number of objects written.
	Objects int
}

// Export writes the whole store to w as one consistent snapshot (a single
// read transaction), in the documented JSON Lines format that Import
// reads: a header, one object per line in dependency order, a trailer. It
// is the portable backup of any backend. It returns what it wrote; on an
// error, w holds a prefix of the export without its trailer, which Import
// refuses. ctx is checked between objects.
func (c *Client) Export(ctx context.Context, w io.Writer, opts *ExportOptions) (ExportSummary, error) {
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var sum ExportSummary
	err := c.store.View(ctx, func(tx storage.Tx) error {
		rev, err := readRevision(tx)
		if err != nil {
			return err
		}
		sum.Revision = rev
		var sub *subtree
		if o.ScopeID != "" {
			if sub, err = newSubtree(tx, o.ScopeID); err != nil {
				return err
			}
		}
		head, err := json.Marshal(ExportHeader{Format: ExportFormat, Version: ExportVersion, Schema: schemaVersion, Revision: rev,
			ExportedAt: Time{c.timestamp()}, ScopeID: o.ScopeID})
		if err != nil {
			return err
		}
		if err := writeLine(bw, head); err != nil {
			return err
		}
		for _, name := range exportOrder {
			k := groupKind(name)
			err := tx.Scan(k.table, "", func(_ string, v []byte) error {
				if sum.Objects%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				rec, err := k.decode(v)
				if err != nil {
					return err
				}
				item, err := json.Marshal(rec)
				if err != nil {
					return err
				}
				if sub != nil {
					if in, err := sub.holds(name, item); err != nil || !in {
						return err
					}
				}
				line, err := json.Marshal(exportLine{Kind: name, Item: item})
				if err != nil {
					return err
				}
				sum.Objects++
				return writeLine(bw, line)
			})
			if err != nil {
				return err
			}
		}
		end, _ := json.Marshal(exportLine{End: &exportEnd{Objects: sum.Objects}})
		return writeLine(bw, end)
	})
	if err != nil {
		return sum, fmt.Errorf("authz: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("authz: export: %w", err)
	}
	return sum, nil
}

func writeLine(w *bufio.Writer, line []byte) error {
	if _, err := w.Write(line); err != nil {
		return err
	}
	return w.WriteByte('\n')
}

// groupKind returns the kind of the records of the Batch group name.
func groupKind(name string) *kindSpec {
	for _, row := range kindTable {
		if row.group.name == name {
			return row.kind
		}
	}
	panic("authz: no kind for batch group " + name)
}

// ImportOptions configures Import. A nil *ImportOptions gives the
// defaults.
type ImportOptions struct {
	// BatchSize is the number of objects Import applies in one batch. Zero
	// means Options.MaxBatchSize; it cannot exceed it.
	BatchSize int
	// Progress, when set, is called after each batch commits with the
	// number of objects imported so far.
	Progress func(imported int)
	// Skip is the number of objects at the start of the export to pass
	// over: to go on with an import that failed, import the same export
	// with Skip set to its ImportError.Committed.Objects.
	Skip int
}

// ImportSummary says what an Import committed.
type ImportSummary struct {
	// Objects is the number of objects committed, Batches the number of
	// batches that committed them.
	Objects, Batches int
	// Revision is the revision of the store after the last batch.
	Revision uint64
}

// ImportError is the error of an Import that failed: the line where the
// problem is, and what was committed before it.
type ImportError struct {
	// Line is the line of the export (from 1) the problem is at: the
	// line that does not decode, or the first line of the batch that was
	// refused; 0 for a problem of the whole input.
	Line int
	// Committed is what Import committed before the problem. An export that
	// fits one batch is imported atomically: nothing is committed then.
	Committed ImportSummary
	// Err is the cause: a *BatchError when the store refused a batch.
	Err error
}

// Error formats the problem and what was committed.
func (e *ImportError) Error() string {
	where := "import"
	if e.Line > 0 {
		where = fmt.Sprintf("import: line %d", e.Line)
	}
	msg := e.Err.Error()
	if be := (*BatchError)(nil); errors.As(e.Err, &be) && be.Op == "import" {
		msg = strings.TrimPrefix(msg, "import: ") // said once
	}
	return fmt.Sprintf("%s: %s (%d objects committed before it, in %d batches)", where, msg, e.Committed.Objects, e.Committed.Batches)
}

// Unwrap returns the cause.
func (e *ImportError) Unwrap() error { return e.Err }

// stampKeys are the fields of a record that Import restores as exported
// instead of taking them from the importing write: when and by whom the
// object was created or applied.
var stampKeys = [][2]string{{"createdAt", "createdBy"}, {"appliedAt", "appliedBy"}}

// Import reads an export (see Export) and creates its objects, with their
// ids, times and actors, in batches of ImportOptions.BatchSize objects, in
// the export's order. An export of at most one batch is imported
// atomically: all of it or nothing. A larger one is imported batch by
// batch, each atomic: when one fails, the batches before it stay
// committed, and the *ImportError says how many objects they hold and the
// line where the failing batch starts. Once the cause is fixed, importing
// the export again with ImportOptions.Skip set to that number goes on
// where the import stopped.
//
// Import refuses an export of another format or version, or without its
// trailer (a truncated file), before it commits anything for the batch
// that reaches the end; and a line that is not valid UTF-8, names a field
// twice, names one the object does not have (also in another case), or
// holds a time or an actor that is not one. Objects that already exist in the store make their
// batch fail (ErrAlreadyExists): import into an empty store, or one without
// those objects.
//
// Every object is validated as a write of it would be, with one exception:
// scope edges are not checked against the scope type hierarchy
// (ScopeTypeEdge), nor resource edges against the resource type hierarchy
// (ResourceTypeEdge). A hierarchy is checked when an edge is created, and
// a store keeps the edges made before an edge of the hierarchy was declared
// or deleted; the import restores them as the export holds them.
func (c *Client) Import(ctx context.Context, r io.Reader, opts *ImportOptions) (ImportSummary, error) {
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchSize <= 0 {
		o.BatchSize = c.maxBatchSize
	}
	if o.BatchSize > c.maxBatchSize {
		return ImportSummary{}, &ImportError{Err: fmt.Errorf("batch size %d is above Options.MaxBatchSize %d", o.BatchSize, c.maxBatchSize)}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	line := 0
	var sum ImportSummary
	fail := func(at int, err error) (ImportSummary, error) {
		return sum, &ImportError{Line: at, Committed: sum, Err: err}
	}
	next := func() ([]byte, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		line++
		return sc.Bytes(), nil
	}
	scanErr := func() error {
		line++ // the line that could not be read
		return sc.Err()
	}
	head, err := next()
	if err != nil {
		return fail(0, fmt.Errorf("reading the header: %w", err))
	}
	var h ExportHeader
	if err := json.Unmarshal(head, &h); err != nil || h.Format != ExportFormat {
		return fail(1, errors.New("not an export of this library (no header line)"))
	}
	if h.Version != ExportVersion {
		return fail(1, fmt.Errorf("export format version %d; this library reads version %d", h.Version, ExportVersion))
	}
	var (
		bt      Batch
		stamps  = map[string][]json.RawMessage{}
		n       int // objects in bt
		first   int // line of bt's first object
		ended   bool
		objects int
	)
	flush := func() error {
		if n == 0 {
			return nil
		}
		res, err := c.runBatch(ctx, "import", true, &bt, stamps)
		if err != nil {
			return err
		}
		sum.Objects += n
		sum.Batches++
		sum.Revision = res.Revision
		if o.Progress != nil {
			o.Progress(sum.Objects)
		}
		bt, stamps, n = Batch{}, map[string][]json.RawMessage{}, 0
		return nil
	}
	for {
		raw, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(line, scanErr())
		}
		if ended {
			return fail(line, errors.New("a line after the trailer"))
		}
		keys, err := jsonscan.Check(raw)
		if err != nil {
			return fail(line, err)
		}
		if k, ok := jsonscan.UnknownKey(keys, reflect.TypeFor[exportLine]()); ok {
			return fail(line, fmt.Errorf("unknown field %q", k))
		}
		var l exportLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return fail(line, err)
		}
		if l.End != nil && (l.Kind != "" || l.Item != nil) {
			return fail(line, errors.New("a line is an object or the trailer, not both"))
		}
		if l.End != nil {
			if l.End.Objects != objects {
				return fail(line, fmt.Errorf("the trailer counts %d objects; the export holds %d", l.End.Objects, objects))
			}
			ended = true
			continue
		}
		objects++
		if objects <= o.Skip {
			continue
		}
		if n == o.BatchSize {
			if err := flush(); err != nil {
				return fail(first, err)
			}
		}
		if n == 0 {
			first = line
		}
		stamp, err := addExported(&bt, l.Kind, l.Item)
		if err != nil {
			return fail(line, err)
		}
		stamps[l.Kind] = append(stamps[l.Kind], stamp)
		n++
	}
	if !ended {
		return fail(line, errors.New("the export ends without its trailer: it is truncated"))
	}
	if o.Skip > objects {
		return fail(0, fmt.Errorf("skip %d objects: the export holds %d", o.Skip, objects))
	}
	if err := flush(); err != nil {
		return fail(first, err)
	}
	return sum, nil
}

// addExported decodes an exported object into bt's list kind, and returns
// the JSON of its stamps (stampKeys) for runBatch.
func addExported(bt *Batch, kind string, item json.RawMessage) (json.RawMessage, error) {
	f, ok := batchFields[kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	list := reflect.ValueOf(bt).Elem().Field(f)
	// Inputs have the fields of their records but the stamps: refuse any
	// other field (also one that differs only in case), then decode.
	keys, err := jsonscan.Check(item)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	if keys == nil {
		return nil, fmt.Errorf("%s: the item is not an object", kind)
	}
	if k, ok := jsonscan.UnknownKey(keys, list.Type().Elem(), stampNames...); ok {
		return nil, fmt.Errorf("%s: unknown field %q", kind, k)
	}
	in := reflect.New(list.Type().Elem())
	if err := json.Unmarshal(item, in.Interface()); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	list.Set(reflect.Append(list, in.Elem()))
	// The stamps must be what an export holds: times in RFC 3339, actors
	// as strings.
	var st struct {
		CreatedAt *Time           `json:"createdAt"`
		CreatedBy json.RawMessage `json:"createdBy"`
		AppliedAt *Time           `json:"appliedAt"`
		AppliedBy json.RawMessage `json:"appliedBy"`
	}
	if err := json.Unmarshal(item, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	stamp := map[string]any{}
	for _, s := range []struct {
		at    *Time
		rawBy json.RawMessage
		keys  [2]string
	}{{st.CreatedAt, st.CreatedBy, stampKeys[0]}, {st.AppliedAt, st.AppliedBy, stampKeys[1]}} {
		var by *string
		if s.rawBy != nil {
			if err := json.Unmarshal(s.rawBy, &by); err != nil || by == nil {
				return nil, fmt.Errorf("%s: %s: want a string", kind, s.keys[1])
			}
		}
		switch {
		case s.at == nil && recordFields(kind)[s.keys[0]]:
			return nil, fmt.Errorf("%s: %s: missing; an exported %s has one", kind, s.keys[0], groupKind(kind).name)
		case s.at == nil && by != nil:
			return nil, fmt.Errorf("%s: %s: not a field of the kind", kind, s.keys[1])
		case s.at == nil:
			continue
		case s.at.IsZero():
			return nil, fmt.Errorf("%s: %s: want a time", kind, s.keys[0])
		}
		stamp[s.keys[0]] = s.at
		stamp[s.keys[1]] = ""
		if by != nil {
			stamp[s.keys[1]] = *by
		}
	}
	if len(stamp) == 0 {
		return nil, nil
	}
	return json.Marshal(stamp)
}

// recordFields returns the JSON names of the fields of the records of the
// Batch group kind.
func recordFields(kind string) map[string]bool { return recordFieldsByGroup()[kind] }

var recordFieldsByGroup = sync.OnceValue(func() map[string]map[string]bool {
	out := make(map[string]map[string]bool, len(kindTable))
	for _, row := range kindTable {
		if r, err := row.kind.decode([]byte("{}")); err == nil {
			out[row.group.name] = jsonscan.FieldNames(reflect.TypeOf(r).Elem())
		}
	}
	return out
})

// stampNames are the names of stampKeys.
var stampNames = []string{stampKeys[0][0], stampKeys[0][1], stampKeys[1][0], stampKeys[1][1]}

// batchFields maps the JSON name of each list of Batch to its field index.
var batchFields = func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeFor[Batch]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = i
	}
	return out
}()

// subtree decides which objects an export of a scope's subtree holds
// (ExportOptions.ScopeID).
type subtree struct {
	scopes   map[string]bool // the scope and those below it
	ids      map[string]bool // the objects exported so far
	subjects map[string]bool // the subjects the subtree's objects name
}

// newSubtree reads the scope tree below root and the subjects that the
// subtree's memberships, resources and tag assignments name.
func newSubtree(tx storage.Tx, root string) (*subtree, error) {
	if _, err := tx.Get(scopeKind.table, root); errors.Is(err, storage.ErrNotFound) {
		return nil, notFound(scopeKind.name, root)
	} else if err != nil {
		return nil, err
	}
	children := map[string][]string{}
	err := tx.Scan(scopeEdgeKind.table, "", func(_ string, v []byte) error {
		var e ScopeEdge
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		children[e.ParentScopeID] = append(children[e.ParentScopeID], e.ChildScopeID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := &subtree{scopes: map[string]bool{root: true}, ids: map[string]bool{}, subjects: map[string]bool{}}
	for queue := []string{root}; len(queue) > 0; queue = queue[1:] {
		for _, ch := range children[queue[0]] {
			if !s.scopes[ch] {
				s.scopes[ch] = true
				queue = append(queue, ch)
			}
		}
	}
	// The subjects come before the objects that name them: find them first.
	for _, k := range []*kindSpec{membershipKind, resourceKind, tagAssignKind} {
		err := tx.Scan(k.table, "", func(_ string, v []byte) error {
			var f struct{ ScopeID, SubjectID, OwnerID, TargetType, TargetID string }
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			if !s.scopes[f.ScopeID] {
				return nil
			}
			for _, id := range []string{f.SubjectID, f.OwnerID} {
				if id != "" {
					s.subjects[id] = true
				}
			}
			if f.TargetType == string(ModelSubject) {
				s.subjects[f.TargetID] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// holds reports whether the object item (JSON) of the Batch group kind is
// in the subtree, and records it.
func (s *subtree) holds(kind string, item []byte) (bool, error) {
	var f struct {
		ID, ScopeID, ChildScopeID, ParentScopeID, MembershipID, RoleID   string
		ResourceID, ParentResourceID, ChildResourceID, TagGroupID, TagID string
		ParentTypeID, ChildTypeID                                        string
	}
	if err := json.Unmarshal(item, &f); err != nil {
		return false, err
	}
	var in bool
	switch kind {
	case "scopeTypes", "scopeTypeEdges":
		in = true
	case "scopes":
		in = s.scopes[f.ID]
	case "scopeEdges":
		in = s.scopes[f.ParentScopeID] && s.scopes[f.ChildScopeID]
	case "subjects":
		in = s.subjects[f.ID]
	case "scopeOverrides":
		in = s.scopes[f.ChildScopeID]
	case "roleAssignments":
		in = s.ids[f.MembershipID]
	case "rolePermissions":
		in = s.ids[f.RoleID]
	case "resourceTypeEdges":
		// Either end: an edge is a rule on its child type, and dropping
		// one would loosen the rules of the imported tenant. An edge from
		// a type outside the subtree makes the import fail, as any
		// reference outside it does.
		in = s.ids[f.ParentTypeID] || s.ids[f.ChildTypeID]
	case "resourceEdges":
		in = s.ids[f.ParentResourceID] && s.ids[f.ChildResourceID]
	case "resourceScopeLinks":
		in = s.ids[f.ResourceID] && s.scopes[f.ScopeID]
	case "tagBindings":
		in = s.ids[f.TagGroupID]
	case "tagAssignments":
		in = s.scopes[f.ScopeID] && s.ids[f.TagID]
	default: // defined at a scope
		in = s.scopes[f.ScopeID]
	}
	if in {
		s.ids[f.ID] = true
	}
	return in, nil
}
