package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/scopegate/authz/storage"
)

// testVersioner checks the storage.Versioner contract, for backends that
// implement it.
func (h *harness) testVersioner(t *testing.T) {
	s := h.open(t)
	v, ok := s.(storage.Versioner)
	if !ok {
		t.Skip("the backend does not implement storage.Versioner")
	}
	t.Run("a commit changes the version before Update returns", func(t *testing.T) {
		before := v.Version()
		put(t, s, "t", "k", "v")
		if got := v.Version(); got == before {
			t.Errorf("Version after a committed Update: got %d; want a value other than %d", got, before)
		}
	})
	t.Run("an empty commit changes the version too", func(t *testing.T) {
		before := v.Version()
		update(t, s, func(storage.Tx) error { return nil })
		if got := v.Version(); got == before {
			t.Errorf("Version after an Update with no writes: got %d; want a value other than %d", got, before)
		}
	})
	t.Run("Views and failed Updates leave it unchanged", func(t *testing.T) {
		before := v.Version()
		if err := s.View(context.Background(), func(storage.Tx) error { return nil }); err != nil {
			t.Fatalf("View: got %v; want nil", err)
		}
		boom := errors.New("boom")
		err := s.Update(context.Background(), func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update: got %v; want %v", err, boom)
		}
		if got := v.Version(); got != before {
			t.Errorf("Version: got %d; want %d (unchanged)", got, before)
		}
	})
}
