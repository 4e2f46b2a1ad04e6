// Command ratios reads the output of BenchmarkCompare on stdin and prints,
// per model size, a Markdown table of each engine's time and allocations
// and how many times faster authz is.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// figure is one benchmark result: time and allocations per op.
type figure struct{ ns, allocs float64 }

func main() {
	bySize := map[string]map[string]figure{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkCompare/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkCompare/")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		size, engine, ok := strings.Cut(name, "/")
		if !ok {
			continue
		}
		var fig figure
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				fig.ns = v
			case "allocs/op":
				fig.allocs = v
			}
		}
		if bySize[size] == nil {
			bySize[size] = map[string]figure{}
		}
		bySize[size][engine] = fig
	}
	var sizes []string
	for s := range bySize {
		sizes = append(sizes, s)
	}
	sort.Strings(sizes)
	for _, s := range sizes {
		engines := bySize[s]
		fmt.Printf("### %s\n\n| engine | ns/op | allocs/op | authz is faster by |\n|---|---|---|---|\n", s)
		// Each Casbin engine is compared with its counterpart: the plain
		// Enforcer with authz evaluating every request, the cached one with
		// authz and its decision cache.
		against := map[string]string{"casbin-enforcer": "authz-nocache", "casbin-cached": "authz"}
		for _, e := range []string{"authz", "authz-nocache", "casbin-enforcer", "casbin-cached"} {
			fig, ok := engines[e]
			if !ok {
				continue
			}
			ratio := "—"
			if base := engines[against[e]].ns; base > 0 {
				r := fig.ns / base
				prec := 1
				if r >= 100 {
					prec = 0
				}
				ratio = fmt.Sprintf("%.*f× (against %s)", prec, r, against[e])
			}
			fmt.Printf("| %s | %.0f | %.0f | %s |\n", e, fig.ns, fig.allocs, ratio)
		}
		fmt.Println()
	}
}
