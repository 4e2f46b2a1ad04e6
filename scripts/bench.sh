#!/usr/bin/env bash
# Runs every benchmark — the generated models on the three backends, the
# storage backends, pgstore's writes and propagation lag, and the Casbin
# comparison — and regenerates BENCHMARKS.md. The pgstore benchmarks need
# PostgreSQL's binaries (Debian's postgresql package) or AUTHZ_PG_URL.
#
#   scripts/bench.sh                 # all sizes: small, medium, large, and xlarge
#                                    # for the RBAC workload (about an hour and a half)
#   SIZES=small,medium BIG= scripts/bench.sh
#
# Outputs are kept in $OUT (default: a new temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-small,medium,large}
BIG=${BIG-xlarge}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
compare_sizes=$(echo "$SIZES" | tr ',' '\n' | grep -v '^small$' | paste -sd, - || true)
compare_sizes=${compare_sizes:-small}
# A pgstore benchmark that cannot start PostgreSQL fails rather than skips.
export AUTHZ_PG_REQUIRED=${AUTHZ_PG_REQUIRED:-1}

run() {
	local name=$1
	shift
	echo "$*" >>"$OUT/commands.txt"
	echo "+ $*" >&2
	"$@" | tee "$OUT/$name.txt"
}

: >"$OUT/commands.txt"
# The commit measured, marked when the work tree differs from it.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit with uncommitted changes"
fi
echo "$commit" >"$OUT/commit"
run model go test -run '^$' -bench 'BenchmarkModel(Evaluate|FirstEvaluateAfterWrite|ColdOpen|Backup|ExportImport|Memory|Lookup)$' \
	-authz.sizes "$SIZES" -benchtime "$BENCHTIME" -timeout 60m .
run parallel go test -run '^$' -bench 'BenchmarkModelEvaluate/.*/memstore/role-parallel$' \
	-authz.sizes "$SIZES" -cpu 1,2 -benchtime "$BENCHTIME" -timeout 60m .
run bulkload go test -run '^$' -bench 'BenchmarkModelBulkLoad$' -authz.sizes "$SIZES" -benchtime 1x -timeout 60m .
run storage go test -run '^$' -bench . -benchtime 2000x ./memstore ./boltstore
run pgstore go test -run '^$' -bench 'BenchmarkClientWrites|BenchmarkPropagationLag' -benchtime 500x ./pgstore
(
	cd benchmarks
	echo "cd benchmarks && go test -run '^\$' -bench Compare -sizes $compare_sizes -benchtime 2s" >>"$OUT/commands.txt"
	go test -run '^$' -bench Compare -sizes "$compare_sizes" -benchtime 2s -timeout 60m | tee "$OUT/compare.txt"
	# The workload a Casbin user brings: checks three times (medians), the
	# first pass after New three times, loads and heap once; then the size
	# above large ($BIG, empty to skip) for checks, first pass and heap.
	echo "cd benchmarks && go test -run '^\$' -bench 'BenchmarkRBAC\$|BenchmarkRBACCacheResident|BenchmarkMemoryLatency' -sizes $SIZES -benchtime 2s -count 3" >>"$OUT/commands.txt"
	go test -run '^$' -bench 'BenchmarkRBAC$|BenchmarkRBACCacheResident|BenchmarkMemoryLatency' -sizes "$SIZES" -benchtime 2s -count 3 -timeout 90m | tee "$OUT/rbac.txt"
	echo "cd benchmarks && go test -run '^\$' -bench 'BenchmarkRBACFirstPass' -sizes $SIZES -benchtime 3x -count 3" >>"$OUT/commands.txt"
	go test -run '^$' -bench 'BenchmarkRBACFirstPass' -sizes "$SIZES" -benchtime 3x -count 3 -timeout 90m | tee "$OUT/rbacfirst.txt"
	echo "cd benchmarks && go test -run '^\$' -bench 'BenchmarkRBACLoad|BenchmarkRBACHeap' -sizes $SIZES -benchtime 1x" >>"$OUT/commands.txt"
	go test -run '^$' -bench 'BenchmarkRBACLoad|BenchmarkRBACHeap' -sizes "$SIZES" -benchtime 1x -timeout 90m | tee "$OUT/rbacload.txt"
	if [ -n "$BIG" ]; then
		echo "cd benchmarks && go test -run '^\$' -bench 'BenchmarkRBAC\$/$BIG/authz-nocache' -sizes $BIG -benchtime 2s -count 3" >>"$OUT/commands.txt"
		go test -run '^$' -bench "BenchmarkRBAC\$/$BIG/authz-nocache" -sizes "$BIG" -benchtime 2s -count 3 -timeout 90m | tee "$OUT/rbacbig.txt"
		echo "cd benchmarks && go test -run '^\$' -bench 'BenchmarkRBACFirstPass|BenchmarkRBACHeap/$BIG/authz-memstore\$' -sizes $BIG -benchtime 1x" >>"$OUT/commands.txt"
		go test -run '^$' -bench "BenchmarkRBACFirstPass|BenchmarkRBACHeap/$BIG/authz-memstore\$" -sizes "$BIG" -benchtime 1x -timeout 90m | tee "$OUT/rbacbigheap.txt"
	fi
)
go run ./internal/benchreport -dir "$OUT" >BENCHMARKS.md
echo "wrote BENCHMARKS.md (raw outputs in $OUT)" >&2
