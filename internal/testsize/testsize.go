// Package testsize reads the sizes of the long test rounds from AUTHZ_*
// environment variables: unset, a test runs at the size that fits in CI;
// scripts/reliability.sh sets them to run the long versions. It imports
// nothing of this module, so that every test package can use it.
package testsize

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Count returns the positive number in the environment variable name, or
// def when it is unset. Any other value fails the test.
func Count(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// Duration returns the positive Go duration ("30s") in the environment
// variable name, or def when it is unset. Any other value fails the test.
func Duration(tb testing.TB, name string, def time.Duration) time.Duration {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}
