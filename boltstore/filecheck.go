package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt memory-maps the file and trusts its meta page: a file shorter than
// the meta page says (a copy cut short, a full disk) makes bbolt read past
// the end of the map, which kills the process with SIGBUS instead of
// returning an error. checkFile reads the two meta pages itself first and
// refuses such a file with a clear error.

const (
	boltMagic      = 0xED0CDAED
	pageHeaderSize = 16
	metaSize       = 64 // magic … checksum
)

// boltMeta is the part of bbolt's meta page checkFile needs.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // pages in use: the file must hold at least pgid pages
	txid     uint64
}

// parseMeta decodes the meta page at the start of b, or reports that it is
// not a valid one (wrong magic or checksum). bbolt writes it in the
// machine's byte order; every platform Go supports here is little endian
// but for s390x and some ppc/mips, which bbolt itself rejects files of the
// other order on.
func parseMeta(b []byte, order binary.ByteOrder) (boltMeta, bool) {
	if len(b) < pageHeaderSize+metaSize {
		return boltMeta{}, false
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	if order.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != order.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: order.Uint32(m[8:]), root: order.Uint64(m[16:]), freelist: order.Uint64(m[32:]),
		pgid: order.Uint64(m[40:]), txid: order.Uint64(m[48:])}, true
}

// checkFile refuses an existing file whose newest valid meta page describes
// more pages than the file holds, or points outside them. A missing or
// empty file, or one without a valid meta page, is left to bbolt.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return nil // bbolt reports it
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil
	}
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	head = head[:n]
	order := binary.NativeEndian
	var best boltMeta
	found := false
	consider := func(off int) {
		if off < 0 || off >= len(head) {
			return
		}
		if m, ok := parseMeta(head[off:], order); ok && (!found || m.txid > best.txid) {
			best, found = m, true
		}
	}
	consider(0)
	if m, ok := parseMeta(head, order); ok {
		consider(int(m.pageSize))
	} else {
		consider(os.Getpagesize())
	}
	if !found || best.pageSize == 0 {
		return nil
	}
	need := int64(best.pgid) * int64(best.pageSize)
	if best.pgid < 2 || best.root >= best.pgid || best.freelist >= best.pgid && best.freelist != ^uint64(0) {
		return fmt.Errorf("boltstore: open %s: the file is corrupted: its meta page points outside the %d pages it declares", path, best.pgid)
	}
	if st.Size() < need {
		return fmt.Errorf("boltstore: open %s: the file is truncated: it has %d bytes, and its data needs %d", path, st.Size(), need)
	}
	return nil
}
