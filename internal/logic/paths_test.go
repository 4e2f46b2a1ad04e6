package logic

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPaths checks the literal paths a condition lists and what it tells
// of the elements of the quantifiers they are in.
func TestPaths(t *testing.T) {
	c, err := Parse([]byte(`{"and":[
		{"some":[{"var":"resource.tags.departments"},{"in":[{"var":""},{"var":"subject.tags.departments"}]}]},
		{"all":[["a","b"],{"none":[{"var":"context.items"},{"==":[{"var":["x","d"]},{"var":"action"}]}]}]},
		{"some":[[{"var":"p"}],{"var":"q"}]},
		{"!":{"missing":["m1",{"var":"m2"}]}},
		{"missing_some":[1,["s1","s2"]]},
		{"some":[{"var":["list",[1]]},{"var":"r"}]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Op, Path, At string
		Segs         int
		In           []string
	}
	describe := func(es []Elements) []string {
		var out []string
		for _, e := range es {
			switch {
			case e.Scalars:
				out = append(out, "scalars")
			case e.From != nil:
				out = append(out, "from "+e.From.Path)
			default:
				out = append(out, "unknown")
			}
		}
		return out
	}
	var got []row
	for _, p := range c.Paths() {
		got = append(got, row{p.Op, p.Path, p.At, len(p.Segments), describe(p.In)})
	}
	want := []row{
		{"var", "resource.tags.departments", "and[0].some[0]", 3, nil},
		{"var", "", "and[0].some[1].in[0]", 0, []string{"from resource.tags.departments"}},
		{"var", "subject.tags.departments", "and[0].some[1].in[1]", 3, []string{"from resource.tags.departments"}},
		{"var", "context.items", "and[1].all[1].none[0]", 2, []string{"scalars"}},
		{"var", "x", "and[1].all[1].none[1].==[0]", 1, []string{"from context.items", "scalars"}},
		{"var", "action", "and[1].all[1].none[1].==[1]", 1, []string{"from context.items", "scalars"}},
		{"var", "p", "and[2].some[0][0]", 1, nil},
		{"var", "q", "and[2].some[1]", 1, []string{"unknown"}},
		{"var", "m2", "and[3].![0].missing[1]", 1, nil},
		{"missing", "m1", "and[3].![0]", 1, nil},
		{"missing_some", "s1", "and[4]", 1, nil},
		{"missing_some", "s2", "and[4]", 1, nil},
		{"var", "list", "and[5].some[0]", 1, nil},
		{"var", "r", "and[5].some[1]", 1, []string{"unknown"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Paths (-want +got):\n%s", d)
	}
	if (*Cond)(nil).Paths() != nil || Stored([]byte(`{"bad":1}`)).Paths() != nil {
		t.Errorf("Paths of nil or a broken condition: want nil")
	}
}
