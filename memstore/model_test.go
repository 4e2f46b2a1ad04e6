package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// TestUpdatesMatchAModel applies random Updates to a few tables, a fifth of
// them rolled back by an error, and checks after each that every table
// reads (Get and Scan, from a new View) exactly as a map of the committed
// writes, and that a View open across the Update reads as the model did
// before it. The
// key space is small, so that tables are often emptied and written again,
// and deletes often hit missing keys and tables never written.
func TestUpdatesMatchAModel(t *testing.T) {
	tables := []string{"a", "b", "c", "never"}
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 7))
		s := memstore.New()
		model := map[string]map[string]string{}
		errRollback := errors.New("rollback")
		for round := range 300 {
			work := cloneModel(model)
			rollback := r.IntN(5) == 0
			// A View open across the Update keeps reading the model before.
			before := cloneModel(model)
			started, release, viewed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				viewed <- s.View(context.Background(), func(tx storage.Tx) error {
					close(started)
					<-release
					return checkTx(tx, before, tables)
				})
			}()
			<-started
			err := s.Update(context.Background(), func(tx storage.Tx) error {
				for range r.IntN(40) + 1 {
					table := tables[r.IntN(3)]
					key := fmt.Sprintf("k%02d", r.IntN(30))
					switch r.IntN(3) {
					case 0:
						if err := tx.Delete(table, key); err != nil {
							return err
						}
						delete(work[table], key)
						if err := tx.Delete("never", key); err != nil {
							return err
						}
					default:
						v := fmt.Sprint(r.IntN(1000))
						if r.IntN(5) == 0 {
							v = ""
						}
						if err := tx.Put(table, key, []byte(v)); err != nil {
							return err
						}
						if work[table] == nil {
							work[table] = map[string]string{}
						}
						work[table][key] = v
					}
				}
				if rollback {
					return errRollback
				}
				return nil
			})
			if rollback {
				if !errors.Is(err, errRollback) {
					t.Fatalf("seed %d round %d: rolled back Update: got %v; want the callback's error", seed, round, err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				model = work
			}
			close(release)
			if err := <-viewed; err != nil {
				t.Fatalf("seed %d round %d: a View open across the Update: %v", seed, round, err)
			}
			if err := s.View(context.Background(), func(tx storage.Tx) error { return checkTx(tx, model, tables) }); err != nil {
				t.Fatalf("seed %d round %d: %v", seed, round, err)
			}
		}
	}
}

func cloneModel(m map[string]map[string]string) map[string]map[string]string {
	c := map[string]map[string]string{}
	for t, kv := range m {
		c[t] = maps.Clone(kv)
	}
	return c
}

// checkTx reports the first difference between what tx reads of tables
// and model.
func checkTx(tx storage.Tx, model map[string]map[string]string, tables []string) error {
	for _, table := range tables {
		var keys []string
		err := tx.Scan(table, "", func(k string, v []byte) error {
			if want, ok := model[table][k]; !ok || string(v) != want {
				return fmt.Errorf("scan %s: %q = %q; model has %q (present: %v)", table, k, v, want, ok)
			}
			keys = append(keys, k)
			return nil
		})
		if err != nil {
			return err
		}
		want := slices.Sorted(maps.Keys(model[table]))
		if !slices.Equal(keys, want) {
			return fmt.Errorf("scan %s: got keys %q; want %q", table, keys, want)
		}
		for i := range 30 {
			k := fmt.Sprintf("k%02d", i)
			v, err := tx.Get(table, k)
			want, ok := model[table][k]
			switch {
			case ok && (err != nil || string(v) != want):
				return fmt.Errorf("get %s/%s: got %q, %v; want %q", table, k, v, err, want)
			case !ok && !errors.Is(err, storage.ErrNotFound):
				return fmt.Errorf("get %s/%s: got %q, %v; want ErrNotFound", table, k, v, err)
			}
		}
	}
	return nil
}
