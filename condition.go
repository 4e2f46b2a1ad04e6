package authz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/scopegate/authz/internal/logic"
)

// Conditions are parsed, validated and evaluated by internal/logic; what
// stays here is how the Client reports an invalid one.

// MaxConditionCost and logic.MaxCost are one limit: this does not compile
// when they differ.
const _ = uint(MaxConditionCost-logic.MaxCost) + uint(logic.MaxCost-MaxConditionCost)

// parseCondition is logic.Parse with its errors wrapping ErrInvalid, their
// message unchanged ("unknown operator "regex" at and[1]"). An empty raw
// (or JSON null) means "no condition" and returns nil, nil.
func parseCondition(raw json.RawMessage) (*logic.Cond, error) {
	c, err := parseStoredCondition(raw)
	if err != nil {
		return nil, err
	}
	if err := checkConditionPaths(c); err != nil {
		return nil, err
	}
	return c, nil
}

// parseStoredCondition is parseCondition without the refusal of paths that
// read nothing, for a condition restored by Import.
func parseStoredCondition(raw json.RawMessage) (*logic.Cond, error) {
	c, err := logic.Parse(raw)
	if err != nil {
		return nil, invalidf("%s", err)
	}
	return c, nil
}

// The condition data's shape, as far as it is fixed (docs/conditions.md#the-condition-data):
// its top-level fields, the subject's fields, and the fields of the
// subject and the resource that are strings (a path cannot go below them).
// The resource's own fields are not closed: its meta's top-level keys are
// copied next to them. meta, tags and context hold anything.
var (
	conditionRoots = []string{"subject", "resource", "context", "action", "scopeId"}
	subjectFields  = []string{"id", "type", "subjectType", "externalId", "displayName", "meta", "tags"}
	stringFields   = map[string][]string{
		"subject":  {"id", "type", "subjectType", "externalId", "displayName"},
		"resource": {"id", "type", "resourceTypeId", "scopeId", "externalResourceId", "ownerId", "createdBy", "createdAt", "displayName"},
	}
)

// checkConditionPaths refuses (ErrInvalid, naming the path and where it
// is) a literal path of c (a var's, or one given to missing or
// missing_some) that can be proven to read nothing in the condition data,
// whatever the data: a first segment that is not one of its fields; under
// subject, a field the subject does not have; a segment below action,
// scopeId or a string field of the subject or the resource. A path inside
// the predicate of some, all or none is read in the elements first, so it
// is checked only when none of the elements can have a value there: every
// enclosing quantifier runs over a literal array of scalars, or over the
// tag identifiers of subject.tags.<group> or resource.tags.<group> (read
// from the data). The empty path (the whole data, or the element) is never
// refused, nor anything under meta, tags, context, or the resource's other
// fields (its meta's top-level keys are copied there).
func checkConditionPaths(c *logic.Cond) error {
	for _, p := range c.Paths() {
		if len(p.Segments) == 0 || !readsDataOnly(p) {
			continue
		}
		if why := unreadable(p.Segments); why != "" {
			where := ""
			if p.At != "" {
				where = " at " + p.At
			}
			return invalidf("%s path %q%s reads nothing: %s", p.Op, p.Path, where, why)
		}
	}
	return nil
}

// readsDataOnly reports whether p can only find a value in the condition
// data: none of the elements of the quantifiers it is in can have one.
func readsDataOnly(p *logic.PathRef) bool {
	for _, e := range p.In {
		if !e.Scalars && (e.From == nil || !isTagList(e.From)) {
			return false
		}
	}
	return true
}

// isTagList reports whether p reads a list of tag identifiers (strings):
// subject.tags.<group> or resource.tags.<group>. Whether it reads them from
// the condition data (rather than from an enclosing element) is told by
// the quantifiers it is in, which the paths of the predicate are in too.
func isTagList(p *logic.PathRef) bool {
	s := p.Segments
	return p.Op == "var" && len(s) == 3 && (s[0] == "subject" || s[0] == "resource") && s[1] == "tags"
}

// unreadable says why the path segs reads nothing in the condition data,
// "" when it may read something.
func unreadable(segs []string) string {
	root := segs[0]
	if !slices.Contains(conditionRoots, root) {
		return fmt.Sprintf("the condition data has no %q (it has subject, resource, context, action and scopeId)", root)
	}
	if len(segs) < 2 {
		return ""
	}
	switch root {
	case "action", "scopeId":
		return fmt.Sprintf("%s is a string", root)
	case "subject":
		if !slices.Contains(subjectFields, segs[1]) {
			return fmt.Sprintf("the subject has no %q (it has %s; its own fields are under subject.meta)", segs[1], strings.Join(subjectFields, ", "))
		}
	}
	if len(segs) > 2 && slices.Contains(stringFields[root], segs[1]) {
		return fmt.Sprintf("%s.%s is a string", root, segs[1])
	}
	return ""
}

// buildCondition validates the JSON Logic condition raw of field (docs/conditions.md)
// and returns what to store: nil when raw is empty or JSON null. An Import
// (b.restoring) does not refuse paths that read nothing: stored conditions
// are not re-checked, and an export holds those stored before the check.
func buildCondition(b *builder, it *item, field string, raw json.RawMessage) json.RawMessage {
	parse := parseCondition
	if b.restoring {
		parse = parseStoredCondition
	}
	c, err := parse(raw)
	if err != nil {
		b.fail(it, field, err)
		return raw
	}
	if c == nil {
		return nil
	}
	return bytes.Clone(raw)
}

// patchCondition validates a condition given to an Update method and
// returns what to store: nil (no condition) when raw is empty or JSON null.
func patchCondition(field string, raw json.RawMessage) (json.RawMessage, error) {
	c, err := parseCondition(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if c == nil {
		return nil, nil
	}
	return bytes.Clone(raw), nil
}

// checkMatchConditionPaths applies checkConditionPaths to the conditions
// of a match definition that match.Parse accepted (its condition sections,
// in any, all and none too), naming the section ("any[0].condition: var
// path …").
func checkMatchConditionPaths(raw json.RawMessage) error {
	var def any
	if err := json.Unmarshal(raw, &def); err != nil {
		return invalidf("%s", err) // match.Parse accepted it: not reached
	}
	return matchConditionPaths(def, "")
}

func matchConditionPaths(def any, path string) error {
	obj, _ := def.(map[string]any)
	for _, section := range slices.Sorted(maps.Keys(obj)) {
		sp := section
		if path != "" {
			sp = path + "." + section
		}
		switch section {
		case "condition":
			if obj[section] == nil {
				continue
			}
			c, err := logic.ParseDecoded(obj[section])
			if err != nil {
				return invalidf("%s: %s", sp, err) // match.Parse accepted it: not reached
			}
			if err := checkConditionPaths(c); err != nil {
				return fmt.Errorf("%s: %w", sp, err)
			}
		case "any", "all", "none":
			list, _ := obj[section].([]any)
			for i, d := range list {
				if err := matchConditionPaths(d, sp+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
