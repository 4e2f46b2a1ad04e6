//go:build race

package authz_test

// raceEnabled reports a build with the race detector, whose instrumentation
// allocates where a normal build does not: allocation counts are not
// asserted then.
const raceEnabled = true
