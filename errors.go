package authz

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by the Client wraps exactly one of
// them (or a storage error, or a context error), so callers can classify a
// failure with errors.Is, through *BatchError and *ItemError too.
var (
	// ErrInvalid reports malformed input: a missing required field, an
	// unknown enum value, a bad id, a malformed condition, a reference cycle
	// inside one batch.
	ErrInvalid = errors.New("invalid")

	// ErrNotFound reports that an object, or an object named by a reference
	// field, does not exist.
	ErrNotFound = errors.New("not found")

	// ErrAlreadyExists reports an id that is already used, or a write that
	// would break a uniqueness rule, whether the clash is with stored data
	// or inside the batch.
	ErrAlreadyExists = errors.New("already exists")

	// ErrNotAllowed reports valid input that breaks a rule of the model:
	// the scope-type hierarchy, a tag binding, a cycle, a locked tag group,
	// a delete that would leave objects dangling.
	ErrNotAllowed = errors.New("not allowed")

	// ErrBatchTooLarge reports a batch with more items than
	// Options.MaxBatchSize. Nothing of it is stored.
	ErrBatchTooLarge = errors.New("batch too large")

	// ErrSchemaVersion reports a store written by an incompatible version
	// of this library, or one with data but no schema version. New refuses
	// such a store.
	ErrSchemaVersion = errors.New("unsupported schema version")
)

// ruleError is an error with its own message that matches one sentinel
// through errors.Is. The message never repeats the sentinel's text unless it
// reads naturally ("scope "x": not found").
type ruleError struct {
	msg  string
	kind error
}

func (e *ruleError) Error() string { return e.msg }
func (e *ruleError) Unwrap() error { return e.kind }

func invalidf(format string, args ...any) error {
	return &ruleError{msg: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

func notAllowedf(format string, args ...any) error {
	return &ruleError{msg: fmt.Sprintf(format, args...), kind: ErrNotAllowed}
}

func existsf(format string, args ...any) error {
	return &ruleError{msg: fmt.Sprintf(format, args...), kind: ErrAlreadyExists}
}

// notFound reports a missing object: `scope "scope_nope": not found`.
func notFound(kind, id string) error {
	return &ruleError{msg: fmt.Sprintf("%s %q: not found", kind, id), kind: ErrNotFound}
}

// ItemError is the failure of one item of a batch.
type ItemError struct {
	// Kind names the input slice the item came from ("scopes",
	// "tagAssignments"). It is set only for Client.Apply, whose batch mixes
	// kinds; the typed Create methods leave it empty.
	Kind string
	// Index is the position of the item in its input slice, or -1 when
	// the error concerns the batch as a whole (ErrBatchTooLarge).
	Index int
	// ID is the item's id: the client id when given, else the generated one.
	ID string
	// Field is the JSON name of the offending field, with a path for nested
	// inputs ("memberships[1].roleIds[0]"); empty when the item as a whole
	// is at fault.
	Field string
	// Err is the cause. It wraps one of ErrInvalid, ErrNotFound,
	// ErrAlreadyExists, ErrNotAllowed or ErrBatchTooLarge.
	Err error
}

// Error formats the item error as
// `item 1 (scope_backend): parentScopeId: scope "scope_nope": not found`.
func (e *ItemError) Error() string {
	var b strings.Builder
	if e.Kind != "" {
		b.WriteString(e.Kind)
		b.WriteByte(' ')
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, "item %d", e.Index)
		if e.ID != "" {
			fmt.Fprintf(&b, " (%s)", e.ID)
		}
		if e.Field != "" {
			b.WriteString(": ")
			b.WriteString(e.Field)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns Err.
func (e *ItemError) Unwrap() error { return e.Err }

// BatchError is returned by batch writes that fail. Nothing of the batch was
// stored. Items lists every bad item found, in input order.
type BatchError struct {
	// Op names the operation: "create scopes", "apply".
	Op string
	// Items holds one entry per problem found; an item may appear more than
	// once when several of its fields are at fault.
	Items []*ItemError
}

// Error formats the batch error as the operation followed by every item
// error, separated by "; ".
func (e *BatchError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	for i, it := range e.Items {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(it.Error())
	}
	return b.String()
}

// Unwrap returns the item errors, so that errors.Is and errors.As look
// through a BatchError into its items.
func (e *BatchError) Unwrap() []error {
	errs := make([]error, len(e.Items))
	for i, it := range e.Items {
		errs[i] = it
	}
	return errs
}

// singleError turns the BatchError of a batch of one into the error of the
// single form: `create scope scope_backend: parentScopeId: scope "x": not found`.
// The result unwraps to the *BatchError, so errors.Is with a sentinel and
// errors.As with *BatchError or *ItemError work as for the batch form.
func singleError(op string, err error) error {
	var be *BatchError
	if !errors.As(err, &be) || len(be.Items) == 0 {
		return err
	}
	return &singleErr{op: op, be: be}
}

type singleErr struct {
	op string
	be *BatchError
}

func (e *singleErr) Error() string {
	var b strings.Builder
	b.WriteString(e.op)
	if id := e.be.Items[0].ID; id != "" {
		b.WriteString(" ")
		b.WriteString(id)
	}
	for i, it := range e.be.Items {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if it.Field != "" {
			b.WriteString(it.Field)
			b.WriteString(": ")
		}
		b.WriteString(it.Err.Error())
	}
	return b.String()
}

func (e *singleErr) Unwrap() error { return e.be }
