package authz

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/testsize"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// storeBackends opens an empty store of each kind; the bolt one also
// returns its path (memstore: "").
var storeBackends = []struct {
	name string
	open func(t *testing.T) (storage.Storage, string)
}{
	{"memstore", func(t *testing.T) (storage.Storage, string) {
		s := memstore.New()
		t.Cleanup(func() { s.Close() })
		return s, ""
	}},
	{"boltstore", func(t *testing.T) (storage.Storage, string) {
		path := filepath.Join(t.TempDir(), "authz.bolt")
		s, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, path
	}},
}

// dump reads every key of the given tables.
func dump(t *testing.T, s storage.Storage, tables []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.View(context.Background(), func(tx storage.Tx) error {
		for _, table := range tables {
			err := tx.Scan(table, "", func(k string, v []byte) error {
				out[table+"/"+k] = string(v)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	if path == "" {
		return [32]byte{}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestNewRefusesUnstampedData puts one key into one table of the layout of
// a store that has no schema version, for every table: New must refuse the
// store with ErrSchemaVersion, name the table, and write nothing.
func TestNewRefusesUnstampedData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range storeBackends {
		for _, table := range layoutTables() {
			t.Run(b.name+"/"+table, func(t *testing.T) {
				s, path := b.open(t)
				err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put(table, "k", []byte("another program's")) })
				if err != nil {
					t.Fatal(err)
				}
				before, hash := dump(t, s, layoutTables()), hashFile(t, path)
				_, err = New(s, nil)
				if !errors.Is(err, ErrSchemaVersion) || !strings.Contains(err.Error(), fmt.Sprintf("%q", table)) {
					t.Fatalf("New: got %v; want an error wrapping ErrSchemaVersion that names table %q", err, table)
				}
				if diff := dump(t, s, layoutTables()); !maps.Equal(before, diff) {
					t.Errorf("store after the refused New: got %q; want %q", diff, before)
				}
				if hashFile(t, path) != hash {
					t.Error("the file changed; want every byte as before")
				}
			})
		}
	}
}

// TestNewRandomStores fills stores with random keys in random tables — of
// the layout and others — with or without a schema version, and calls New:
// it must refuse, writing nothing, a store stamped with another version or
// unstamped with data in a layout table, and adopt every other one.
func TestNewRandomStores(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)
	ctx := context.Background()
	layout := layoutTables()
	// A store of schema version 1 is upgraded, not adopted as it is: the
	// stamps here are the current version and versions New refuses.
	current := strconv.Itoa(schemaVersion)
	others := []string{"users", "sessions", "t", "meta2", "Scopes", "\x00", "ids\x00"}
	stores := testsize.Count(t, "AUTHZ_FOREIGN_STORES", 100)
	for _, b := range storeBackends {
		var adopted, refused int
		for i := range stores {
			s, path := b.open(t)
			written := map[string]bool{}
			dataInLayout := false
			stamp := ""
			err := s.Update(ctx, func(tx storage.Tx) error {
				for range r.IntN(4) {
					table := others[r.IntN(len(others))]
					if r.IntN(2) == 0 {
						table = layout[r.IntN(len(layout))]
						dataInLayout = true
					}
					written[table] = true
					if err := tx.Put(table, fmt.Sprintf("k%d", r.IntN(100)), []byte("v")); err != nil {
						return err
					}
				}
				switch r.IntN(4) {
				case 0:
					stamp = current
				case 1:
					stamp = []string{"3", "0", "x", "99"}[r.IntN(4)]
				}
				if stamp != "" {
					written[tableMeta] = true
					return tx.Put(tableMeta, metaSchema, []byte(stamp))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			tables := slices.Sorted(maps.Keys(written))
			wantRefused := stamp != "" && stamp != current || stamp == "" && dataInLayout
			before := dump(t, s, append(tables, tableMeta))
			var hash [32]byte
			if wantRefused {
				hash = hashFile(t, path)
			}
			_, err = New(s, nil)
			switch {
			case wantRefused && !errors.Is(err, ErrSchemaVersion):
				t.Fatalf("%s store %d (tables %q, schema %q): New got %v; want ErrSchemaVersion", b.name, i, tables, stamp, err)
			case wantRefused:
				refused++
				if got := dump(t, s, append(tables, tableMeta)); !maps.Equal(got, before) {
					t.Fatalf("%s store %d: after the refused New got %q; want %q", b.name, i, got, before)
				}
				if hashFile(t, path) != hash {
					t.Fatalf("%s store %d: the file changed; want every byte as before", b.name, i)
				}
			case err != nil:
				t.Fatalf("%s store %d (tables %q, schema %q): New got %v; want a client", b.name, i, tables, stamp, err)
			default:
				adopted++
				if got := dump(t, s, []string{tableMeta})[tableMeta+"/"+metaSchema]; got != current {
					t.Fatalf("%s store %d: schema after New: got %q; want %q", b.name, i, got, current)
				}
			}
			s.Close()
		}
		t.Logf("%s: %d stores adopted, %d refused", b.name, adopted, refused)
		if adopted < 10 || refused < 10 {
			t.Errorf("%s: got %d adopted and %d refused; want at least 10 of each", b.name, adopted, refused)
		}
	}
}

// TestBoltFiles goes from the file to the Client: another program's bbolt
// file is refused by boltstore.Open with every byte kept; a file of ours,
// marked or written before the marker existed, reopens with its data.
func TestBoltFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	t.Run("another program's file", func(t *testing.T) {
		path := filepath.Join(dir, "app.db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			for bucket, kv := range map[string][2]string{"users": {"alice", `{"admin":true}`}, "sessions": {"s1", "alice"}} {
				b, err := tx.CreateBucket([]byte(bucket))
				if err != nil {
					return err
				}
				if err := b.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		hash := hashFile(t, path)
		s, err := boltstore.Open(path, nil)
		if err == nil {
			s.Close()
			t.Fatal("Open: got a store; want an error wrapping boltstore.ErrForeignFile")
		}
		if !errors.Is(err, boltstore.ErrForeignFile) || !strings.Contains(err.Error(), `"users"`) {
			t.Errorf("Open: got %v; want an error wrapping boltstore.ErrForeignFile naming bucket \"users\"", err)
		}
		if hashFile(t, path) != hash {
			t.Error("the file changed; want every byte as before")
		}
	})

	for _, unmark := range []bool{false, true} {
		name := "our file reopened"
		if unmark {
			name = "our file from before the marker"
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "authz.bolt")
			s, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateScopeType(ctx, ScopeTypeInput{ID: "type_org", Name: "Org"}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if unmark {
				// Remove the marker with bbolt, as files written before it
				// existed lack it.
				db, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("\x00boltstore")) })
				db.Close()
				if err != nil {
					t.Fatalf("delete the marker: %v", err)
				}
			}
			s, err = boltstore.Open(path, nil)
			if err != nil {
				t.Fatalf("reopen: got %v; want the store", err)
			}
			defer s.Close()
			c, err = New(s, nil)
			if err != nil {
				t.Fatalf("New after reopen: got %v; want a client", err)
			}
			if st, err := c.GetScopeType(ctx, "type_org"); err != nil || st.Name != "Org" {
				t.Fatalf("GetScopeType after reopen: got %+v, %v; want Org", st, err)
			}
		})
	}
}
