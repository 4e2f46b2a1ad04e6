package pgstore_test

import (
	"context"
	"testing"

	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
	"github.com/scopegate/authz/storage/storagetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a Store on url with opts, closed when the test ends.
func open(t testing.TB, url string, opts *pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: got %v; want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStorage(t *testing.T) {
	urls := map[storage.Storage]string{}
	storagetest.Run(t, func(t *testing.T) storage.Storage {
		url := pgtest.URL(t)
		s := open(t, url, nil)
		urls[s] = url
		return s
	}, &storagetest.Options{
		Reopen: func(t *testing.T, s storage.Storage) storage.Storage {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: got %v; want nil", err)
			}
			url := urls[s]
			r := open(t, url, nil)
			urls[r] = url
			return r
		},
	})
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Bench(b, func(b *testing.B) storage.Storage { return open(b, pgtest.URL(b), nil) })
}
