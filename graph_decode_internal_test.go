package authz

import (
	"runtime"
	"testing"
	"time"
)

// TestDecoderStopEndsItsGoroutine: a build that fails while its decoder
// holds chunks it cannot deliver (both channels full) still ends the
// decoder's goroutine when it stops it.
func TestDecoderStopEndsItsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	gk := graphKinds[graphKindOrder[resourceKind]]
	d := startDecoder()
	// The decoder fills out (cap(d.out)), holds one more, and in fills:
	// every send below is taken without anyone reading out.
	for range cap(d.out) + 1 + cap(d.in) {
		d.in <- &decodeChunk{gk: gk, raw: [][]byte{[]byte(`{"id":"r"}`)}}
	}
	d.stop()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Fatalf("goroutines after stop: got %d; want %d", got, before)
	}
}
