#!/usr/bin/env bash
# Runs every fuzz target for a while (FUZZTIME each, default 2m; 8 targets,
# so 16 minutes in all by default). Failing inputs land in testdata/fuzz of
# the package, where `go test` replays them from then on: commit them with
# the fix.
#
#   scripts/fuzz.sh              # 2 minutes per target
#   FUZZTIME=30s scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-2m}
targets=(
	". FuzzApply"
	"./internal/logic FuzzCondition"
	"./internal/match FuzzMatchDefinition"
	"./internal/match FuzzGlobMatch"
	". FuzzClientID"
	"./internal/logic FuzzAgreesWithLibrary"
	"./examples/httpserver FuzzRoutes"
	"./examples/httpserver FuzzStrictBody"
)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== $name ($pkg) for $FUZZTIME" >&2
	go test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tail -3
done
