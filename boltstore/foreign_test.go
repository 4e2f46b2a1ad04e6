package boltstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/scopegate/authz/internal/testsize"
	"github.com/scopegate/authz/storage"
)

// node is the content of a bbolt bucket (or of the root of a file, whose
// values bbolt cannot hold): plain values and nested buckets.
type node struct {
	values  map[string][]byte
	buckets map[string]*node
}

func newNode() *node { return &node{values: map[string][]byte{}, buckets: map[string]*node{}} }

func (n *node) bucket(name string) *node {
	delete(n.values, name)
	if n.buckets[name] == nil {
		n.buckets[name] = newNode()
	}
	return n.buckets[name]
}

func (n *node) set(key string, v []byte) *node {
	delete(n.buckets, key)
	n.values[key] = v
	return n
}

// writeFile writes a bbolt file holding root's buckets, as another program
// would, with bbolt itself. noFreelistSync makes bbolt write to the file
// when it is next opened for writing.
func writeFile(t *testing.T, path string, root *node, noFreelistSync bool) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: noFreelistSync})
	if err != nil {
		t.Fatal(err)
	}
	var fill func(b *bolt.Bucket, n *node) error
	fill = func(b *bolt.Bucket, n *node) error {
		for k, v := range n.values {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		for k, sub := range n.buckets {
			c, err := b.CreateBucket([]byte(k))
			if err != nil {
				return err
			}
			if err := fill(c, sub); err != nil {
				return err
			}
		}
		return nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for k, sub := range root.buckets {
			b, err := tx.CreateBucket([]byte(k))
			if err != nil {
				return err
			}
			if err := fill(b, sub); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

var schemaVersionRE = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)

// wantOpens says, from the content written, whether the file is one Open
// must accept: no bucket at all, or the marker with format 1, or (without
// a marker bucket) an authz schema version in meta.
func wantOpens(root *node) bool {
	if len(root.buckets) == 0 {
		return true
	}
	if m := root.buckets[markerBucket]; m != nil {
		v, ok := m.values[markerKey]
		return ok && string(v) == "1"
	}
	if m := root.buckets["meta"]; m != nil {
		v, ok := m.values["schema"]
		return ok && schemaVersionRE.Match(v)
	}
	return false
}

// checkOpen opens the file at path and checks the outcome against
// wantOpens: a refused file fails with ErrForeignFile and keeps every byte;
// an accepted one takes a write, and Open itself changed nothing in it
// unless it had no bucket (then it gains the marker) or bbolt had its
// bookkeeping to do (noFreelistSync).
func checkOpen(t *testing.T, path string, root *node, noFreelistSync bool) (opened bool) {
	t.Helper()
	before := fileHash(t, path)
	s, err := Open(path, &Options{NoSync: true, Timeout: -1})
	if !wantOpens(root) {
		if err == nil {
			s.Close()
			t.Fatalf("Open: got a store; want an error wrapping ErrForeignFile")
		}
		if !errors.Is(err, ErrForeignFile) || !strings.HasPrefix(err.Error(), "boltstore: open "+path+": ") {
			t.Fatalf("Open: got %q; want an error wrapping ErrForeignFile that names the file", err)
		}
		if fileHash(t, path) != before {
			t.Fatal("the refused file changed; want every byte as before")
		}
		// The refusal released the file: a second Open is refused the same
		// way, not timed out on a lock.
		if _, err := Open(path, &Options{Timeout: -1}); !errors.Is(err, ErrForeignFile) {
			t.Fatalf("second Open: got %v; want ErrForeignFile again", err)
		}
		return false
	}
	if err != nil {
		t.Fatalf("Open: got %v; want a store", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if changed := fileHash(t, path) != before; changed && len(root.buckets) > 0 && !noFreelistSync {
		t.Error("Open and Close changed a file that holds buckets; want it unchanged")
	}
	s, err = Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatalf("second Open: got %v; want a store", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put("t", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update: got %v; want nil", err)
	}
	return true
}

// TestOpenForeignFile opens files of another program, and of this package,
// made with bbolt directly.
func TestOpenForeignFile(t *testing.T) {
	revision := []byte{0, 0, 0, 0, 0, 0, 0, 7}
	cases := []struct {
		name  string
		root  func() *node
		opens bool
	}{
		{"another program's buckets", func() *node {
			r := newNode()
			r.bucket("users").set("alice", []byte(`{"name":"Alice"}`)).set("bob", []byte(`{"name":"Bob"}`))
			r.bucket("sessions").set("s1", []byte("alice"))
			return r
		}, false},
		{"our table names without a schema version", func() *node {
			r := newNode()
			r.bucket("meta").set("revision", revision)
			r.bucket("ids").set("scope_a", []byte("scope"))
			r.bucket("scopes").set("scope_a", []byte(`{"id":"scope_a"}`))
			return r
		}, false},
		{"only meta, with a foreign schema value", func() *node {
			r := newNode()
			r.bucket("meta").set("schema", []byte("v2-beta"))
			return r
		}, false},
		{"schema version with a leading zero", func() *node {
			r := newNode()
			r.bucket("meta").set("schema", []byte("01"))
			return r
		}, false},
		{"schema as a nested bucket", func() *node {
			r := newNode()
			r.bucket("meta").bucket("schema").set("1", []byte("1"))
			return r
		}, false},
		{"an empty bucket", func() *node {
			r := newNode()
			r.bucket("users")
			return r
		}, false},
		{"marker of another format", func() *node {
			r := newNode()
			r.bucket(markerBucket).set(markerKey, []byte("2"))
			r.bucket("meta").set("schema", []byte("1"))
			return r
		}, false},
		{"empty bbolt file", newNode, true},
		{"authz file from before the marker", func() *node {
			r := newNode()
			r.bucket("meta").set("schema", []byte("1")).set("revision", revision)
			r.bucket("scopes").set("scope_a", []byte(`{"id":"scope_a"}`))
			return r
		}, true},
		{"authz file of a newer schema version", func() *node {
			r := newNode()
			r.bucket("meta").set("schema", []byte("2"))
			r.bucket("audit").set("x", nil)
			return r
		}, true},
		{"marked file", func() *node {
			r := newNode()
			r.bucket(markerBucket).set(markerKey, []byte("1"))
			r.bucket("users").set("alice", nil)
			return r
		}, true},
	}
	for _, tc := range cases {
		for _, nfs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/noFreelistSync=%v", tc.name, nfs), func(t *testing.T) {
				root := tc.root()
				if got := wantOpens(root); got != tc.opens {
					t.Fatalf("wantOpens: got %v; want %v (the test's own rule disagrees with its table)", got, tc.opens)
				}
				path := filepath.Join(t.TempDir(), "app.db")
				writeFile(t, path, root, nfs)
				checkOpen(t, path, root, nfs)
			})
		}
	}

	t.Run("zero-byte file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "zero.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		checkOpen(t, path, newNode(), false)
	})
}

// TestOpenMarksItsFiles checks that a new file gets the marker, so that it
// opens again once it holds tables of any names, and that a file of this
// package reopens with its data.
func TestOpenMarksItsFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "own.bolt")
	ctx := context.Background()
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx storage.Tx) error {
		for _, table := range []string{"users", "sessions", "ids"} {
			if err := tx.Put(table, "k", []byte(table)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var format []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(markerBucket)); b != nil {
			format = b.Get([]byte(markerKey))
		}
		return nil
	})
	if string(format) != markerFormat {
		t.Errorf("marker format: got %q; want %q", format, markerFormat)
	}
	s.Close()

	before := fileHash(t, path)
	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: got %v; want the store", err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx storage.Tx) error {
		v, err := tx.Get("users", "k")
		if err == nil && string(v) != "users" {
			err = fmt.Errorf("got %q; want %q", v, "users")
		}
		return err
	})
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	s.Close()
	if fileHash(t, path) != before {
		t.Error("reopening a file of ours changed it; want it unchanged")
	}
}

// TestReservedTable checks that no table can use the marker's bucket, so
// that a Store cannot unmark its own file.
func TestReservedTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reserved.bolt")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Put("t", "k", nil); err != nil {
			return err
		}
		for name, err := range map[string]error{
			"Delete": tx.Delete(markerBucket, markerKey),
			"Put":    tx.Put(markerBucket, markerKey, []byte("2")),
			"Scan":   tx.Scan(markerBucket, "", func(string, []byte) error { return nil }),
			"Get":    func() error { _, err := tx.Get(markerBucket, markerKey); return err }(),
		} {
			if err == nil || !strings.Contains(err.Error(), "reserved") {
				t.Errorf("%s on the marker's bucket: got %v; want an error saying it is reserved", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: got %v; want the store (marker intact)", err)
	}
	s.Close()
}

// TestOpenRandomForeignFiles builds random bbolt files — bucket names of
// our own and of others, nested buckets, keys and values near the ones
// Open looks for — and opens each: every file is refused without a byte
// changing, unless it is exactly a file of ours (wantOpens).
func TestOpenRandomForeignFiles(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random seed %d", seed)
	n := testsize.Count(t, "AUTHZ_FOREIGN_FILES", 300)
	if testing.Short() {
		n = min(n, 60)
	}
	names := []string{markerBucket, "meta", "ids", "index", "unique", "scopes", "subjects", "users", "sessions", "t",
		"\x00", "\x00boltstore\x00", "META", "meta\x00"}
	keys := []string{markerKey, "schema", "revision", "last", "format\x00", "Schema"}
	values := []string{"1", "2", "10", "999999999", "01", "0", "+1", "-1", " 1", "1 ", "1\x00", "1.0", "1000000000",
		"v1", "", "format", "\xff"}
	randBytes := func(max int) string {
		b := make([]byte, 1+r.IntN(max))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	pick := func(pool []string) string {
		if r.IntN(4) == 0 {
			return randBytes(12)
		}
		return pool[r.IntN(len(pool))]
	}
	var fill func(n *node, depth int)
	fill = func(n *node, depth int) {
		for range r.IntN(5) {
			if depth < 3 && r.IntN(4) == 0 {
				fill(n.bucket(pick(append(keys, names...))), depth+1)
			} else {
				n.set(pick(keys), []byte(pick(values)))
			}
		}
	}
	var opened, refused int
	for i := range n {
		root := newNode()
		if r.IntN(10) != 0 {
			for range 1 + r.IntN(4) {
				fill(root.bucket(pick(names)), 0)
			}
		}
		// The keys Open looks for, valid or nearly so.
		switch r.IntN(6) {
		case 0:
			root.bucket(markerBucket).set(markerKey, []byte(markerFormat))
		case 1:
			root.bucket("meta").set("schema", fmt.Appendf(nil, "%d", 1+r.IntN(1000)))
		case 2:
			root.bucket(markerBucket).set(markerKey, []byte(pick(values)))
		case 3:
			root.bucket("meta").set("schema", []byte(pick(values)))
		}
		nfs := r.IntN(3) == 0
		path := filepath.Join(t.TempDir(), fmt.Sprintf("f%d.db", i))
		writeFile(t, path, root, nfs)
		ok := t.Run(fmt.Sprint(i), func(t *testing.T) {
			if checkOpen(t, path, root, nfs) {
				opened++
			} else {
				refused++
			}
		})
		if !ok {
			t.Fatalf("file %d: %s", i, describe(root, ""))
		}
	}
	t.Logf("%d files opened, %d refused", opened, refused)
	if opened < n/10 || refused < n/10 {
		t.Errorf("got %d files opened and %d refused; want at least %d of each, or the generator tests one side only", opened, refused, n/10)
	}
}

// describe renders a node for a failure message.
func describe(n *node, indent string) string {
	var b strings.Builder
	for k, v := range n.values {
		fmt.Fprintf(&b, "\n%s%q = %q", indent, k, v)
	}
	for k, sub := range n.buckets {
		fmt.Fprintf(&b, "\n%s%q/%s", indent, k, describe(sub, indent+"  "))
	}
	return b.String()
}
