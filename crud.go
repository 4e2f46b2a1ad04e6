package authz

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/scopegate/authz/storage"
)

// Page selects a page of a list: at most Limit objects (0 means all) whose
// ids sort after After (empty means from the start). Lists are in id order,
// so the last id of a page is the After of the next one.
type Page struct {
	Limit int    `json:"limit,omitempty"`
	After string `json:"after,omitempty"`
}

// getOne reads one object of kind k.
func getOne[T any](ctx context.Context, c *Client, k *kindSpec, id string) (T, error) {
	var out T
	err := c.store.View(ctx, func(tx storage.Tx) error {
		t, err := load[T](tx, k, id)
		if err != nil {
			return err
		}
		out = *t
		return nil
	})
	return out, err
}

// listPlan says where a list reads from: the entries of index (with the
// given leading values), or the whole table of the kind when index is empty.
type listPlan struct {
	index  string
	values []string
}

func byIndex(name string, values ...string) listPlan { return listPlan{index: name, values: values} }

// list returns the objects of kind k found through plan that satisfy keep
// (nil keeps all), paged.
func list[T any](ctx context.Context, c *Client, k *kindSpec, plan listPlan, keep func(*T) bool, p Page) ([]T, error) {
	if p.Limit < 0 {
		return nil, invalidf("list %s: limit is %d; it must not be negative", k.table, p.Limit)
	}
	out := []T{}
	err := c.store.View(ctx, func(tx storage.Tx) error {
		add := func(id string, t *T) error {
			if keep != nil && !keep(t) {
				return nil
			}
			out = append(out, *t)
			if p.Limit > 0 && len(out) >= p.Limit {
				return errStopScan
			}
			return nil
		}
		var err error
		if plan.index == "" {
			err = tx.Scan(k.table, "", func(id string, v []byte) error {
				if id <= p.After {
					return nil
				}
				r, err := k.decode(v)
				if err != nil {
					return err
				}
				return add(id, any(r).(*T))
			})
		} else {
			err = scanIndex(tx, plan.index, plan.values, func(id string) error {
				if id <= p.After {
					return nil
				}
				t, err := load[T](tx, k, id)
				if err != nil {
					return fmt.Errorf("authz: store corrupted: index %s names %w", plan.index, err)
				}
				return add(id, t)
			})
		}
		if errors.Is(err, errStopScan) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listIDs returns the objects of kind k with the given ids that satisfy keep,
// in id order, paged. Missing ids are skipped.
func listIDs[T any](ctx context.Context, c *Client, k *kindSpec, ids []string, keep func(*T) bool, p Page) ([]T, error) {
	if p.Limit < 0 {
		return nil, invalidf("list %s: limit is %d; it must not be negative", k.table, p.Limit)
	}
	sort.Strings(ids)
	out := []T{}
	err := c.store.View(ctx, func(tx storage.Tx) error {
		for i, id := range ids {
			if id <= p.After || (i > 0 && ids[i-1] == id) {
				continue
			}
			t, err := load[T](tx, k, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if keep != nil && !keep(t) {
				continue
			}
			out = append(out, *t)
			if p.Limit > 0 && len(out) >= p.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// update applies patch to the object id of kind k in one transaction and
// stores it, keeping its indexes. patch validates the change and may read
// the store through the view.
func update[T any, P interface {
	*T
	record
}](ctx context.Context, c *Client, k *kindSpec, id string, patch func(v *view, t *T) error) (T, error) {
	var out T
	missing := false // id names no object: the error names it already
	_, err := c.write(ctx, "update "+k.name, func(tx *writeTx) error {
		old, err := load[T](tx, k, id)
		if err != nil {
			missing = errors.Is(err, ErrNotFound)
			return err
		}
		t, err := load[T](tx, k, id)
		if err != nil {
			return err
		}
		v := newView(tx, nil)
		if err := patch(v, t); err != nil {
			return err
		}
		if v.err != nil {
			return v.err
		}
		if field, err := checkLimits(t); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if err := putRecord(tx, P(t), P(old)); err != nil {
			return err
		}
		out = *t
		return nil
	})
	if missing {
		return out, fmt.Errorf("update %w", err) // update scope "x": not found
	}
	if err != nil {
		return out, fmt.Errorf("update %s %q: %w", k.name, id, err)
	}
	return out, nil
}

// maxCascade bounds the number of objects one Delete may remove through
// cascades, as a guard against a corrupted store that references itself.
const maxCascade = 50_000_000

// deleteOne deletes the object id of kind k and, in the same transaction,
// everything that depends on it (kindSpec.dependents), or refuses.
func (c *Client) deleteOne(ctx context.Context, k *kindSpec, id string) error {
	missing := false // id names no object: the error names it already
	_, err := c.write(ctx, "delete "+k.name, func(tx *writeTx) error {
		d := &deleter{v: newView(tx, nil), done: map[string]bool{}}
		err := d.delete(k, id, true)
		missing = d.missing
		return err
	})
	if missing {
		return fmt.Errorf("delete %w", err) // delete scope "x": not found
	}
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", k.name, id, err)
	}
	return nil
}

// name names the object id of kind k in a refusal: a scope edge by its
// child scope (what the user created), any other object by its kind and id.
func (d *deleter) name(k *kindSpec, id string) string {
	if k == scopeEdgeKind {
		if e := get[ScopeEdge](d.v, scopeEdgeKind, id); e != nil {
			return fmt.Sprintf("child scope %q", e.ChildScopeID)
		}
	}
	return fmt.Sprintf("%s %q", k.name, id)
}

type deleter struct {
	v    *view
	done map[string]bool
	// missing is set when the object the delete names does not exist.
	missing bool
}

func (d *deleter) delete(k *kindSpec, id string, top bool) error {
	if d.done[id] {
		return nil
	}
	if len(d.done) >= maxCascade {
		return fmt.Errorf("authz: delete cascades to more than %d objects", maxCascade)
	}
	tx := d.v.tx
	raw, err := tx.Get(k.table, id)
	if errors.Is(err, storage.ErrNotFound) {
		if top {
			d.missing = true
			return notFound(k.name, id)
		}
		return nil
	}
	if err != nil {
		return err
	}
	r, err := k.decode(raw)
	if err != nil {
		return err
	}
	d.done[id] = true
	if k.beforeDelete != nil {
		if err := k.beforeDelete(d.v, r); err != nil {
			if top {
				return err
			}
			return fmt.Errorf("%s %q: %w", k.name, id, err)
		}
	}
	for _, dep := range k.dependents {
		ids := d.v.indexed(dep.index, id)
		if d.v.err != nil {
			return d.v.err
		}
		if len(ids) > 0 && dep.refuse != "" {
			what := fmt.Sprintf("%s %q", k.name, id)
			if top {
				what = "it"
			}
			return notAllowedf("%s %s (%s is one)", what, dep.refuse, d.name(dep.kind, ids[0]))
		}
		for _, did := range ids {
			if err := d.delete(dep.kind, did, false); err != nil {
				return err
			}
		}
	}
	return deleteEntries(d.v.w, r)
}

// TreeQuery selects the relatives of a scope or a resource in its
// hierarchy. Depth bounds the levels walked: 1 gives the parents (or the
// children), 0 every level. CascadeOnly, for resources only, follows only
// edges with cascade inherit: the ancestors whose permissions reach the
// resource, or the descendants a permission on it reaches.
//
// The answer is breadth-first: the nearest relatives first, each level in id
// order, every relative once (at its nearest level). Limit and After page it
// as they page lists, After being the last id of the previous page; an
// After that is not among the relatives is ErrInvalid.
type TreeQuery struct {
	Depth       int  `json:"depth,omitempty"`
	CascadeOnly bool `json:"cascadeOnly,omitempty"`
	Page
}

// walk answers q for the object id of kind k in one read transaction: from
// each object, edges of kind ek found through index (by the object's id)
// lead, through step, to the next objects. ErrNotFound when id is not an
// object of kind k.
func walk[T, E any](ctx context.Context, c *Client, k, ek *kindSpec, id, index string, step func(*E) (string, bool), q TreeQuery) ([]T, error) {
	if q.Limit < 0 || q.Depth < 0 {
		return nil, invalidf("list %s: limit and depth must not be negative", k.table)
	}
	out := []T{}
	err := c.store.View(ctx, func(tx storage.Tx) error {
		if _, err := load[T](tx, k, id); err != nil {
			return err
		}
		seen := map[string]bool{id: true}
		level, skipping := []string{id}, q.After != ""
		for depth := 1; len(level) > 0 && (q.Depth == 0 || depth <= q.Depth); depth++ {
			var next []string
			for _, from := range level {
				err := scanIndex(tx, index, []string{from}, func(eid string) error {
					e, err := load[E](tx, ek, eid)
					if err != nil {
						return fmt.Errorf("authz: store corrupted: index %s names %w", index, err)
					}
					if to, ok := step(e); ok && !seen[to] {
						seen[to] = true
						next = append(next, to)
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			sort.Strings(next)
			for _, nid := range next {
				if skipping {
					skipping = nid != q.After
					continue
				}
				t, err := load[T](tx, k, nid)
				if err != nil {
					return fmt.Errorf("authz: store corrupted: index %s names %w", index, err)
				}
				out = append(out, *t)
				if q.Limit > 0 && len(out) >= q.Limit {
					return nil
				}
			}
			level = next
		}
		if skipping {
			return invalidf("after: %s %q is not among the relatives asked for", k.name, q.After)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
