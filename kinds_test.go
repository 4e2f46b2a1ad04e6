package authz

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// validateKindTable checks rows as go-memdb's DBSchema.Validate checks a
// schema: every kind has one row, the rows follow the fields of Batch and
// BatchResult, their groups make records of their kind, their dependents
// name indexes that the dependent kind's records write, and what a write
// touches agrees with how records enter the graph (graphKinds).
func validateKindTable(rows []kindRow) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	seen := map[*kindSpec]bool{}
	names, tables, prefixes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, row := range rows {
		k := row.kind
		if k == nil {
			fail("a row has no kind")
			continue
		}
		if seen[k] {
			fail("kind %q has two rows", k.name)
		}
		seen[k] = true
		for _, u := range []struct {
			what, v string
			in      map[string]bool
		}{{"name", k.name, names}, {"table", k.table, tables}, {"prefix", k.prefix, prefixes}} {
			if u.v == "" || u.in[u.v] {
				fail("kind %q: %s %q is empty or not unique", k.name, u.what, u.v)
			}
			u.in[u.v] = true
		}
		if kindsByName[k.name] != k {
			fail("kind %q is not the one registered under its name", k.name)
		}
		if row.touches == nil {
			fail("kind %q: no touches (use touchNothing for a kind the graph does not hold)", k.name)
		}
		if row.group.recKind == nil || row.group.recKind() != k {
			fail("kind %q: its group %q makes records of another kind", k.name, row.group.name)
		}
	}
	for name, k := range kindsByName {
		if !seen[k] {
			fail("kind %q has no row", name)
		}
	}

	// The groups follow the slice fields of Batch and BatchResult.
	for _, t := range []reflect.Type{reflect.TypeFor[Batch](), reflect.TypeFor[BatchResult]()} {
		var fields []reflect.StructField
		for i := range t.NumField() {
			if t.Field(i).Type.Kind() == reflect.Slice {
				fields = append(fields, t.Field(i))
			}
		}
		if len(fields) != len(rows) {
			fail("%s has %d slice fields for %d rows", t.Name(), len(fields), len(rows))
			continue
		}
		for i, row := range rows {
			tag, _, _ := strings.Cut(fields[i].Tag.Get("json"), ",")
			if tag != row.group.name {
				fail("row %d (kind %q) has group %q; %s field %d is %q", i, row.kind.name, row.group.name, t.Name(), i, tag)
			}
		}
	}

	// Dependents name an index that records of the dependent kind write.
	for _, row := range rows {
		for _, d := range row.dependents {
			if d.kind == nil || !seen[d.kind] {
				fail("kind %q: a dependent through %q has no row", row.kind.name, d.index)
				continue
			}
			if !slices.Contains(indexNames(d.kind), d.index) {
				fail("kind %q: dependent %q is found through index %q, which %q records do not write", row.kind.name, d.kind.name, d.index, d.kind.name)
			}
		}
	}

	// Touches agree with the graph: a kind with a node of its own touches
	// itself, a kind that attaches to another kind's node touches that
	// node, and nothing else is touched.
	nodes := map[*kindSpec]bool{}
	attachTo := map[*kindSpec][]*kindSpec{}
	for _, gk := range graphKinds {
		if gk.node != nil {
			nodes[gk.k] = true
		}
		for _, a := range gk.to {
			attachTo[gk.k] = append(attachTo[gk.k], a.kind)
		}
	}
	for _, row := range rows {
		if row.touches == nil {
			continue // reported above
		}
		want := slices.Clone(attachTo[row.kind])
		if nodes[row.kind] {
			want = append(want, row.kind)
		}
		got := map[*kindSpec]bool{}
		for _, r := range sampleRecords(row.kind) {
			row.touches(r, func(k *kindSpec, id string) {
				if id != "" {
					got[k] = true
				}
			})
		}
		for _, k := range want {
			if !got[k] {
				fail("kind %q: a write does not touch the %q node it belongs to in the graph", row.kind.name, k.name)
			}
		}
		for k := range got {
			if !slices.Contains(want, k) {
				fail("kind %q: a write touches %q, a node it does not belong to in the graph", row.kind.name, k.name)
			}
		}
	}
	return errors.Join(errs...)
}

// indexNames returns the names of the indexes that records of kind k write.
func indexNames(k *kindSpec) []string {
	var names []string
	for _, r := range sampleRecords(k) {
		for _, e := range r.indexes() {
			if !slices.Contains(names, e.name) {
				names = append(names, e.name)
			}
		}
	}
	return names
}

// sampleRecords returns records of kind k whose string fields (nested and
// pointed-to ones included) are all "x", and the same with each one of
// those fields left empty in turn (a policy indexes its resource or else its
// collection), for each value a ModelType field may take (a tag
// assignment's target type decides what it touches).
func sampleRecords(k *kindSpec) []record {
	var out []record
	for _, mt := range []ModelType{ModelSubject, ModelResource, ModelResourceType, ModelRole, ModelPermission} {
		for skip := -1; ; skip++ {
			r, err := k.decode([]byte("{}"))
			if err != nil {
				panic(err)
			}
			n := 0
			fillStrings(reflect.ValueOf(r).Elem(), mt, skip, &n)
			out = append(out, r)
			if skip >= n {
				break
			}
		}
	}
	return out
}

// fillStrings sets the string fields of v to "x" (ModelType fields to mt),
// counting them in *n, except the one numbered skip.
func fillStrings(v reflect.Value, mt ModelType, skip int, n *int) {
	switch v.Kind() {
	case reflect.String:
		if *n != skip {
			if v.Type() == reflect.TypeFor[ModelType]() {
				v.SetString(string(mt))
			} else {
				v.SetString("x")
			}
		}
		*n++
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.New(v.Type().Elem()))
			fillStrings(v.Elem(), mt, skip, n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillStrings(v.Field(i), mt, skip, n)
			}
		}
	}
}

func TestKindTable(t *testing.T) {
	if err := validateKindTable(kindTable); err != nil {
		t.Errorf("the kind table is inconsistent:\n%v", err)
	}
}

// TestKindTableValidationFails breaks the table in each way validation
// looks for, and requires it to be caught.
func TestKindTableValidationFails(t *testing.T) {
	clone := func() []kindRow {
		rows := slices.Clone(kindTable)
		for i := range rows {
			rows[i].dependents = slices.Clone(rows[i].dependents)
		}
		return rows
	}
	row := func(rows []kindRow, k *kindSpec) *kindRow {
		for i := range rows {
			if rows[i].kind == k {
				return &rows[i]
			}
		}
		t.Fatalf("no row for %q", k.name)
		return nil
	}
	for _, tc := range []struct {
		name    string
		breakIt func([]kindRow) []kindRow
		want    string
	}{
		{"a kind without its row", func(rows []kindRow) []kindRow { return slices.Delete(rows, 3, 4) }, `kind "scope edge" has no row`},
		{"two rows of one kind", func(rows []kindRow) []kindRow { rows[1].kind = rows[0].kind; return rows }, `kind "scope type" has two rows`},
		{"rows out of Batch order", func(rows []kindRow) []kindRow {
			rows[0], rows[1] = rows[1], rows[0]
			return rows
		}, `row 0 (kind "scope type edge") has group "scopeTypeEdges"; Batch field 0 is "scopeTypes"`},
		{"a group of another kind", func(rows []kindRow) []kindRow { rows[0].group = rows[2].group; return rows }, `kind "scope type": its group "scopes" makes records of another kind`},
		{"a dependent through an index it does not write", func(rows []kindRow) []kindRow {
			row(rows, roleKind).dependents[0].index = ixRolePermPerm
			return rows
		}, `kind "role": dependent "role assignment" is found through index "role_perm.permission", which "role assignment" records do not write`},
		{"a write that misses its node", func(rows []kindRow) []kindRow {
			row(rows, rolePermKind).touches = touchNothing
			return rows
		}, `kind "role permission": a write does not touch the "role" node`},
		{"a write that touches itself without a node", func(rows []kindRow) []kindRow {
			row(rows, scopeEdgeKind).touches = touchSelf
			return rows
		}, `kind "scope edge": a write touches "scope edge", a node it does not belong to`},
		{"a tag assignment that touches only subjects", func(rows []kindRow) []kindRow {
			row(rows, tagAssignKind).touches = touching(func(a *TagAssignment, add toucher) { add(subjectKind, a.TargetID) })
			return rows
		}, `kind "tag assignment": a write does not touch the "resource" node`},
		{"no touches", func(rows []kindRow) []kindRow { row(rows, scopeKind).touches = nil; return rows }, `kind "scope": no touches`},
	} {
		err := validateKindTable(tc.breakIt(clone()))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want an error saying %s", tc.name, err, tc.want)
		}
	}
}

// TestExportOrder: the export lists every kind once, each after the kinds
// its records refer to (the import tests load exports one object per
// batch, which fails on any other order).
func TestExportOrder(t *testing.T) {
	seen := map[string]int{}
	for _, name := range exportOrder {
		seen[name]++
	}
	for _, row := range kindTable {
		if seen[row.group.name] != 1 {
			t.Errorf("kind %s (batch group %s): in exportOrder %d times; want once", row.kind.name, row.group.name, seen[row.group.name])
		}
	}
	if len(exportOrder) != len(kindTable) {
		t.Errorf("exportOrder has %d groups; kindTable %d kinds", len(exportOrder), len(kindTable))
	}
}
