package authz_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/storage"
)

// TestBuildStopsAtARecordThatDoesNotDecode: a graph build decodes records
// on a second goroutine, a chunk at a time. A record that does not decode,
// several chunks into a kind, makes the calls that need the graph fail with
// its error (New still opens the store), and the build leaves no goroutine
// behind.
func TestBuildStopsAtARecordThatDoesNotDecode(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s := be.open(t)
			c := must(authz.New(s, testOptions()))(t)
			must(c.Apply(ctx, oneTenantBatch()))(t)
			// Many more chunks than the decoder buffers, so that a build
			// that fails early may leave some undelivered
			// (TestDecoderStopEndsItsGoroutine tests that case alone).
			for batch := range 4 {
				var b authz.Batch
				for i := batch * 5000; i < (batch+1)*5000; i++ {
					b.Resources = append(b.Resources, authz.ResourceInput{ID: fmt.Sprintf("doc%05d", i), ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: fmt.Sprintf("x%05d", i)})
				}
				must(c.Apply(ctx, b))(t)
			}
			// One early (found while the store is still being read) and one
			// in the last chunk (found after).
			if err := s.Update(context.Background(), func(tx storage.Tx) error {
				if err := tx.Put("resources", "doc00300", []byte(`{"id":`)); err != nil {
					return err
				}
				return tx.Put("resources", "doc19999", []byte(`{"id":`))
			}); err != nil {
				t.Fatal(err)
			}
			before := runtime.NumGoroutine()
			for range 3 {
				fresh := must(authz.New(s, testOptions()))(t)
				_, err := fresh.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read",
					Resource: &authz.ResourceRef{ResourceID: "doc00001"}})
				if err == nil || !strings.Contains(err.Error(), "decode resource") {
					t.Fatalf("Evaluate on a store with a record that does not decode: got error %v; want one naming the decoding of a resource", err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := runtime.NumGoroutine(); got > before {
				t.Fatalf("goroutines after three failed builds: got %d; want at most %d", got, before)
			}
		})
	}
}
