package logic

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestFastCompareAgrees evaluates every comparison operator, with the var
// on either side of a string or number literal, on values of every JSON
// type (and missing ones), with and without the fast path. Whenever the
// fast path decides, it must give the evaluator's answer; and it must decide
// the cases it exists for.
func TestFastCompareAgrees(t *testing.T) {
	literals := []string{`"eng"`, `""`, `"3"`, `3`, `0`, `-1.5`, `18`}
	values := []any{"eng", "ENG", "", "3", "18", 3.0, 0.0, -1.5, 18.0, 17.999, true, false, nil,
		[]any{"eng"}, []any{}, map[string]any{"x": "eng"}, map[string]any{}}
	decided := map[string]int{}
	for _, op := range []string{"==", "===", "!=", "!==", "<", "<=", ">", ">="} {
		for _, lit := range literals {
			for _, varFirst := range []bool{true, false} {
				src := fmt.Sprintf(`{%q:[{"var":"subject.meta.x"},%s]}`, op, lit)
				if !varFirst {
					src = fmt.Sprintf(`{%q:[%s,{"var":"subject.meta.x"}]}`, op, lit)
				}
				c, err := Parse(json.RawMessage(src))
				if err != nil {
					t.Fatal(err)
				}
				if c.fast == nil {
					t.Fatalf("%s: no fast form", src)
				}
				slow := &Cond{rule: c.rule, src: c.src, prog: c.prog, cost: c.cost}
				datas := []map[string]any{
					{"subject": map[string]any{"meta": map[string]any{}}},         // missing value
					{"subject": map[string]any{}},                                 // missing parent
					{"subject": map[string]any{"meta": "not an object"}},          // parent of another type
					{"subject": map[string]any{"meta": []any{"x", "y"}}},          // parent an array
					{"subject": map[string]any{"meta": map[string]any{"x": nil}}}, // null
				}
				for _, v := range values {
					datas = append(datas, map[string]any{"subject": map[string]any{"meta": map[string]any{"x": v}}})
				}
				for _, data := range datas {
					want, _ := slow.eval(data)
					got, ok := c.fast.Eval(data)
					if !ok {
						continue
					}
					decided[fmt.Sprintf("%T", data["subject"].(map[string]any)["meta"])]++
					if got != want {
						t.Errorf("%s on %v: fast path says %v; the evaluator says %v", src, data, got, want)
					}
					if full, _ := c.eval(data); full != want {
						t.Errorf("%s on %v: eval says %v; the evaluator says %v", src, data, full, want)
					}
				}
			}
		}
	}
	if decided["map[string]interface {}"] < 200 {
		t.Errorf("the fast path decided %v; want it to decide the comparisons of strings and of numbers", decided)
	}
	for _, src := range []string{`{"==":[{"var":"a"},{"var":"b"}]}`, `{"==":[{"var":["a","x"]},"x"]}`, `{"<":[1,{"var":"a"},3]}`,
		`{"==":[{"var":"a"},true]}`, `{"==":[{"var":"a"},null]}`, `{"in":["x",{"var":"a"}]}`, `{"and":[{"==":[{"var":"a"},"x"]}]}`} {
		c, err := Parse(json.RawMessage(src))
		if err != nil {
			t.Fatal(err)
		}
		if c.fast != nil {
			t.Errorf("%s: got a fast form; want the evaluator to decide it", src)
		}
	}
}
