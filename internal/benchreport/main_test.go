package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	r := parseLine("BenchmarkModelEvaluate/medium/memstore/role-2   	 4000000	       250.5 ns/op	       0 B/op	       0 allocs/op")
	if r == nil {
		t.Fatal("got nil; want a result")
	}
	if r.name != "BenchmarkModelEvaluate/medium/memstore/role" || r.procs != 2 {
		t.Errorf("got name %q procs %d; want BenchmarkModelEvaluate/medium/memstore/role and 2", r.name, r.procs)
	}
	if r.metrics["ns/op"] != 250.5 || r.metrics["allocs/op"] != 0 {
		t.Errorf("got metrics %v; want ns/op 250.5 and allocs/op 0", r.metrics)
	}
	for _, line := range []string{"PASS", "ok  	github.com/x	1.2s", "BenchmarkX", "BenchmarkX-2 notanumber 1 ns/op"} {
		if r := parseLine(line); r != nil {
			t.Errorf("parseLine(%q): got %+v; want nil", line, r)
		}
	}
}

func TestTargets(t *testing.T) {
	var results []*result
	for _, line := range []string{
		"BenchmarkModelEvaluate/medium/memstore/role-2 100 900 ns/op 0 B/op 0 allocs/op",
		"BenchmarkModelEvaluate/medium/memstore/condition-2 100 3500 ns/op 10 B/op 1 allocs/op",
		"BenchmarkModelEvaluate/medium/memstore/role-parallel 100 1000 ns/op",
		"BenchmarkModelEvaluate/medium/memstore/role-parallel-2 100 500 ns/op",
		"BenchmarkCompare/medium/authz-2 100 100 ns/op",
		"BenchmarkCompare/medium/authz-nocache-2 100 100 ns/op",
		"BenchmarkCompare/medium/casbin-enforcer-2 100 5000 ns/op",
		"BenchmarkModelLookup/medium/memstore/resources-first-page-2 100 2500000 ns/op 100 results/op",
		"BenchmarkModelEvaluate/medium/pgstore/role-2 100 990 ns/op 0 B/op 0 allocs/op",
		"BenchmarkPropagationLag-2 500 1600000 ns/op 0.52 p50-ms 60.5 p99-ms 61 max-ms",
		"BenchmarkModelBulkLoad/medium/pgstore-2 1 10000000000 ns/op 31000 objects/s",
		// Three runs of one benchmark: the median counts.
		"BenchmarkRBAC/small/authz-nocache-2 100 400 ns/op 0 B/op 0 allocs/op",
		"BenchmarkRBAC/small/authz-nocache-2 100 900 ns/op 0 B/op 0 allocs/op",
		"BenchmarkRBAC/small/authz-nocache-2 100 450 ns/op 0 B/op 0 allocs/op",
		"BenchmarkRBAC/small/casbin-cached-2 100 360 ns/op 234 B/op 8 allocs/op",
		"BenchmarkRBACFirstPass/small-2 3 17000000 ns/op 1000 ns/request",
		"BenchmarkRBACLoad/small/memstore-2 1 50000000 ns/op 269033 objects/s 22378 rules/s",
		"BenchmarkRBACLoad/small/casbin-2 1 900000 ns/op 1239234 rules/s",
		"BenchmarkRBAC/xlarge/authz-nocache-2 100 1350 ns/op 0 B/op 0 allocs/op",
		"BenchmarkRBACFirstPass/xlarge-2 1 40000000 ns/op 4000 ns/request 12500 new-ms",
		"BenchmarkRBACHeap/xlarge/authz-memstore-2 1 1 ns/op 2500 B/rule 900.5 B/object",
	} {
		results = append(results, parseLine(line))
	}
	var out bytes.Buffer
	write(&out, results, "test cpu", "go test\n", "abc1234")
	for _, want := range []string{
		"| Evaluate, RBAC path, memstore, medium | ≤ 1.00 µs | 900 ns | yes |",
		"| Evaluate, one JSON Logic condition, memstore, medium | ≤ 3.00 µs | 3.50 µs | **no** |",
		"| Parallel Evaluate (RBAC), medium: throughput with -cpu 2 / -cpu 1 | ≥ 1.8× | 2.00× | yes |",
		"| Against Casbin Enforcer, medium (speed-up of authz without its decision cache) | ≥ 20× | 50× | yes |",
		"| Against Casbin CachedEnforcer, repeated requests, medium (speed-up of authz with its cache) | ≥ 1× | — | not measured |",
		"| ListAllowedResources, first page of 100, medium, memstore | ≤ 2.00 ms | 2.50 ms (100 results) | **no** |",
		"| PostgreSQL: Evaluate on a warm Client / memstore, role, medium | ≤ 1.2× | 1.10× (990 ns) | yes |",
		"| PostgreSQL: propagation lag from a commit in one process to the default answer in another, p99 | ≤ 50 ms | 60.50 ms | **no** |",
		"| PostgreSQL: bulk load with Apply, batches of 1,000, medium | ≥ 50000 objects/s | 31000 objects/s | **no** |",
		"| PostgreSQL: cold open of the medium store and first decision | ≤ 10 s | — | not measured |",
		"| RBAC workload: check without a decision cache, small | ≤ 500 ns, 0 allocs | 450 ns, 0 allocs | yes |",
		"| RBAC workload: Casbin CachedEnforcer / check without a decision cache, small | ≥ 1× | 0.80× (360 ns) | **no** |",
		"| RBAC workload: first pass after New / steady check, small | ≤ 2× | 2.22× (1.00 µs) | **no** |",
		"| RBAC workload: load, memstore / Casbin, small | ≥ 1× and ≥ 250k rules/s | 0.02× (22378 rules/s; Casbin 1239234) | **no** |",
		"| RBAC workload: check without a decision cache, xlarge | (reported) | 1.35 µs, 0 allocs | yes |",
		"| RBAC workload: flat with growth: xlarge / small, without a decision cache | (reported) | 3.00× | yes |",
		"| RBAC workload: heap after load per stored object, xlarge | (reported) | 900 B/object (2500 B/rule) | yes |",
		"| RBAC workload: New on the loaded memstore (graph built), xlarge | (reported) | 12.50 s | yes |",
		"| RBAC workload: first pass after New, per request, xlarge | (reported) | 4.00 µs | yes |",
		"from commit abc1234.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestEveryTargetHasACause: every target of the RBAC workload that can be
// missed has a cause to explain its miss (write marks a missed target
// without one), and every cause belongs to a target.
func TestEveryTargetHasACause(t *testing.T) {
	x := index{byName: map[string][]*result{}}
	// The RBAC flat row appears once small and large are measured.
	for _, line := range []string{
		"BenchmarkRBAC/small/authz-nocache-2 100 400 ns/op",
		"BenchmarkRBAC/large/authz-nocache-2 100 900 ns/op",
	} {
		r := parseLine(line)
		x.byName[r.name] = append(x.byName[r.name], r)
	}
	ts := targets(x)
	for _, tg := range ts {
		if tg.want == "(reported)" || !strings.HasPrefix(tg.what, "RBAC workload: ") {
			continue
		}
		found := false
		for _, c := range causes {
			found = found || strings.HasPrefix(tg.what, c.prefix)
		}
		if !found {
			t.Errorf("target %q has no cause", tg.what)
		}
	}
	for _, c := range causes {
		used := false
		for _, tg := range ts {
			used = used || strings.HasPrefix(tg.what, c.prefix)
		}
		if !used {
			t.Errorf("cause %q names no target", c.prefix)
		}
	}
}
