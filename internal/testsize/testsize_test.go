package testsize_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scopegate/authz/internal/testsize"
)

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (r *fatalRecorder) Helper()               {}
func (r *fatalRecorder) Fatalf(string, ...any) { r.failed = true }

func TestCount(t *testing.T) {
	const name = "AUTHZ_TESTSIZE_COUNT"
	for _, tt := range []struct {
		value  string
		want   int
		failed bool
	}{
		{"", 7, false}, {"1", 1, false}, {"1500", 1500, false},
		{"0", 0, true}, {"-3", 0, true}, {"ten", 0, true}, {"1.5", 0, true},
	} {
		t.Run(fmt.Sprintf("%q", tt.value), func(t *testing.T) {
			t.Setenv(name, tt.value)
			r := &fatalRecorder{TB: t}
			got := testsize.Count(r, name, 7)
			if r.failed != tt.failed || (!tt.failed && got != tt.want) {
				t.Errorf("Count with %s=%q: got %d, failed=%v; want %d, failed=%v", name, tt.value, got, r.failed, tt.want, tt.failed)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	const name = "AUTHZ_TESTSIZE_DURATION"
	for _, tt := range []struct {
		value  string
		want   time.Duration
		failed bool
	}{
		{"", 2 * time.Second, false}, {"30s", 30 * time.Second, false}, {"1m30s", 90 * time.Second, false},
		{"0s", 0, true}, {"-1s", 0, true}, {"30", 0, true}, {"soon", 0, true},
	} {
		t.Run(fmt.Sprintf("%q", tt.value), func(t *testing.T) {
			t.Setenv(name, tt.value)
			r := &fatalRecorder{TB: t}
			got := testsize.Duration(r, name, 2*time.Second)
			if r.failed != tt.failed || (!tt.failed && got != tt.want) {
				t.Errorf("Duration with %s=%q: got %v, failed=%v; want %v, failed=%v", name, tt.value, got, r.failed, tt.want, tt.failed)
			}
		})
	}
}
