package authz

import (
	"runtime"
	"strings"
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

// TestDecoderPanicIsAnError: a decoder that panics on a record fails the
// chunk with an error naming the kind, and the decoder goes on: a panic on
// the decoder's goroutine would end the whole process.
func TestDecoderPanicIsAnError(t *testing.T) {
	k := *resourceKind
	k.decode = func([]byte) (record, error) { panic("boom") }
	gk := *graphKinds[graphKindOrder[resourceKind]]
	gk.k = &k
	d := startDecoder()
	d.in <- &decodeChunk{gk: &gk, raw: [][]byte{[]byte(`{}`)}}
	c := <-d.out
	if c.err == nil || !strings.Contains(c.err.Error(), "decode resource: internal error: boom") {
		t.Fatalf("chunk error: got %v; want the decoder's panic", c.err)
	}
	ok := graphKinds[graphKindOrder[resourceKind]]
	d.in <- &decodeChunk{gk: ok, raw: [][]byte{[]byte(`{"id":"r"}`)}}
	if c := <-d.out; c.err != nil || len(c.recs) != 1 {
		t.Fatalf("next chunk: got %d records, error %v; want 1 record", len(c.recs), c.err)
	}
	d.stop()
}
