package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
	"github.com/scopegate/authz/storage/storagetest"
)

func TestStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage { return authztest.Memstore(t) }, nil)
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Bench(b, func(b *testing.B) storage.Storage { return authztest.Memstore(b) })
}

// TestViewsRunInParallel checks that two Views are inside fn at the same
// time: each waits for the other to start.
func TestViewsRunInParallel(t *testing.T) {
	s := authztest.Memstore(t)
	firstIn := make(chan struct{})
	secondIn := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		errs <- s.View(context.Background(), func(storage.Tx) error {
			close(firstIn)
			select {
			case <-secondIn:
				return nil
			case <-time.After(5 * time.Second):
				return fmt.Errorf("second View: got no start within 5s; want it to run alongside the first")
			}
		})
	}()
	<-firstIn
	err := s.View(context.Background(), func(storage.Tx) error { close(secondIn); return nil })
	if err != nil {
		t.Fatalf("second View: got %v; want nil", err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestViewDoesNotWaitForUpdate checks that a View runs to completion while an
// Update is stopped inside fn, and sees the state before it.
func TestViewDoesNotWaitForUpdate(t *testing.T) {
	s := authztest.Memstore(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", "k", []byte("old")) }); err != nil {
		t.Fatal(err)
	}
	inUpdate := make(chan struct{})
	release := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		errs <- s.Update(ctx, func(tx storage.Tx) error {
			if err := tx.Put("t", "k", []byte("new")); err != nil {
				return err
			}
			close(inUpdate)
			<-release
			return nil
		})
	}()
	<-inUpdate
	viewDone := make(chan error, 1)
	go func() {
		viewDone <- s.View(ctx, func(tx storage.Tx) error {
			v, err := tx.Get("t", "k")
			if err != nil || string(v) != "old" {
				return fmt.Errorf("Get during an Update: got %q, %v; want %q, nil", v, err, "old")
			}
			return nil
		})
	}()
	select {
	case err := <-viewDone:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("View during an Update: got no result within 5s; want it not to wait")
	}
	close(release)
	if err := <-errs; err != nil {
		t.Fatalf("Update: got %v; want nil", err)
	}
}

// BenchmarkCommitLargeStore measures a one-key Update in a store of a
// million keys: commits must not cost in proportion to the store size.
func BenchmarkCommitLargeStore(b *testing.B) {
	s := authztest.Memstore(b)
	ctx := context.Background()
	value := []byte("value")
	const size, batch = 1_000_000, 10_000
	for i := 0; i < size; i += batch {
		err := s.Update(ctx, func(tx storage.Tx) error {
			for j := i; j < i+batch; j++ {
				if err := tx.Put("t", fmt.Sprintf("k%08d", j), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := fmt.Sprintf("k%08d", (i*7919)%size)
		i++
		err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", k, value) })
		if err != nil {
			b.Fatal(err)
		}
	}
}
