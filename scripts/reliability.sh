#!/usr/bin/env bash
# The long versions of the reliability tests (RELIABILITY.md): many more
# random models against the oracle and for the lookups, 50 crash rounds, a long race stress run,
# thousands of damaged bolt files, then every fuzz target (scripts/fuzz.sh).
# About 20 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

export AUTHZ_ORACLE_MODELS=${AUTHZ_ORACLE_MODELS:-1000}
export AUTHZ_LOOKUP_MODELS=${AUTHZ_LOOKUP_MODELS:-1500}
export AUTHZ_CRASH_ROUNDS=${AUTHZ_CRASH_ROUNDS:-50}
export AUTHZ_STRESS=${AUTHZ_STRESS:-30s}
export AUTHZ_DAMAGE_ROUNDS=${AUTHZ_DAMAGE_ROUNDS:-3000}

go test -count=1 -v -run '^(TestOracle|TestLookupsEqualBruteForce|TestInvariant.*|TestApplyCrash|TestDamagedBoltFile)$' -timeout 60m . |
	grep -E '^(=== RUN|--- |ok|FAIL|PASS)|compared|checked|round 50|outcomes|lookups'
go test -count=1 -race -v -run '^TestStress$' -timeout 60m . | grep -E '^(--- |ok|FAIL)|writes'
go test -count=1 -run Crash -v ./boltstore | grep -E '^(--- |ok|FAIL)'
scripts/fuzz.sh
