#!/usr/bin/env bash
# The long versions of the reliability tests (RELIABILITY.md). Every long
# test round reads its size from an AUTHZ_* variable; unset, it runs at the
# size that fits in CI (bash .ci/run, and a plain go test ./...). This
# script sets them to their long sizes (override any of them from the
# environment), runs the tests of every package that reads them, a long race
# stress run, then every fuzz target (scripts/fuzz.sh).
#
#   variable                  CI size  here   what it sizes
#   AUTHZ_ORACLE_MODELS       150      1000   random models checked against the oracle (TestOracle)
#   AUTHZ_INVARIANT_MODELS    60       600    random models each invariant is checked on (TestInvariant*)
#   AUTHZ_LOOKUP_MODELS       150      1500   random models of TestLookupsEqualBruteForce
#   AUTHZ_FRESHNESS_STRIDE    3        1      TestNoStaleDecisions asks every Nth request after each write
#   AUTHZ_STRESS              2s       30s    how long TestStress runs on each backend (a Go duration)
#   AUTHZ_CRASH_ROUNDS        10       50     SIGKILLs of a child applying batches (TestApplyCrash)
#   AUTHZ_DAMAGE_ROUNDS       200      3000   damaged bolt files opened (TestDamagedBoltFile)
#   AUTHZ_FOREIGN_STORES      100      1000   random foreign stores per backend given to New (TestNewRandomStores)
#   AUTHZ_HOSTILE_MODELS      40       400    generated hostile models per backend (TestHostileModelsStayWithinBudget)
#   AUTHZ_CYCLE_ROUNDS        60       600    random edge batches of the cycle tests (cycles_test.go)
#   AUTHZ_LEVEL_STEPS         120      1200   random tree changes of TestScopeLevelsFollowTheTree
#   AUTHZ_TAG_ROUNDS          40       400    random tag batches of tag_limits_test.go
#   AUTHZ_FOREIGN_FILES       300      3000   random bbolt files boltstore.Open must refuse (boltstore)
#   AUTHZ_BOLT_CRASH_ROUNDS   5        50     SIGKILLs of a child writing to bbolt (boltstore)
#   AUTHZ_PG_CRASH_ROUNDS     8        50     SIGKILLs of a child applying batches through pgstore
#   AUTHZ_PG_ORACLE_MODELS    30       300    oracle models on pgstore
#   AUTHZ_PG_INVARIANT_MODELS 15       150    models decided on pgstore as on memstore
#   AUTHZ_PG_PROCESS_ROUNDS   60       1000   writes read back by another process (pgstore)
#   AUTHZ_HOSTILE_CONDITIONS  300      3000   hostile conditions run against the budget (internal/logic)
#   AUTHZ_LOGIC_RULES         6000     60000  random rules compared with the jsonlogic library (internal/logic)
#   AUTHZ_MODELGEN_MEDIUM     unset    1      load the medium generated model too (internal/modelgen)
#
# go test -short shrinks a few of them further (and skips the crash tests).
set -euo pipefail
cd "$(dirname "$0")/.."

export AUTHZ_ORACLE_MODELS=${AUTHZ_ORACLE_MODELS:-1000}
export AUTHZ_INVARIANT_MODELS=${AUTHZ_INVARIANT_MODELS:-600}
export AUTHZ_LOOKUP_MODELS=${AUTHZ_LOOKUP_MODELS:-1500}
export AUTHZ_FRESHNESS_STRIDE=${AUTHZ_FRESHNESS_STRIDE:-1}
export AUTHZ_STRESS=${AUTHZ_STRESS:-30s}
export AUTHZ_CRASH_ROUNDS=${AUTHZ_CRASH_ROUNDS:-50}
export AUTHZ_DAMAGE_ROUNDS=${AUTHZ_DAMAGE_ROUNDS:-3000}
export AUTHZ_FOREIGN_STORES=${AUTHZ_FOREIGN_STORES:-1000}
export AUTHZ_HOSTILE_MODELS=${AUTHZ_HOSTILE_MODELS:-400}
export AUTHZ_CYCLE_ROUNDS=${AUTHZ_CYCLE_ROUNDS:-600}
export AUTHZ_LEVEL_STEPS=${AUTHZ_LEVEL_STEPS:-1200}
export AUTHZ_TAG_ROUNDS=${AUTHZ_TAG_ROUNDS:-400}
export AUTHZ_FOREIGN_FILES=${AUTHZ_FOREIGN_FILES:-3000}
export AUTHZ_BOLT_CRASH_ROUNDS=${AUTHZ_BOLT_CRASH_ROUNDS:-50}
export AUTHZ_PG_CRASH_ROUNDS=${AUTHZ_PG_CRASH_ROUNDS:-50}
export AUTHZ_PG_ORACLE_MODELS=${AUTHZ_PG_ORACLE_MODELS:-300}
export AUTHZ_PG_INVARIANT_MODELS=${AUTHZ_PG_INVARIANT_MODELS:-150}
export AUTHZ_PG_PROCESS_ROUNDS=${AUTHZ_PG_PROCESS_ROUNDS:-1000}
export AUTHZ_HOSTILE_CONDITIONS=${AUTHZ_HOSTILE_CONDITIONS:-3000}
export AUTHZ_LOGIC_RULES=${AUTHZ_LOGIC_RULES:-60000}
export AUTHZ_MODELGEN_MEDIUM=${AUTHZ_MODELGEN_MEDIUM:-1}

# Everything but TestStress, which runs under -race below.
go test -count=1 -v -skip '^TestStress$' -timeout 90m . ./boltstore ./pgstore ./internal/logic ./internal/modelgen |
	grep -E '^(--- |ok|FAIL|PASS)|compared|checked|round 50|outcomes|lookups|opened'
go test -count=1 -race -v -run '^TestStress$' -timeout 60m . | grep -E '^(--- |ok|FAIL)|writes'
scripts/fuzz.sh
