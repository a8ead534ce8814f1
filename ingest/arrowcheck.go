package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Defensive reading of Arrow IPC files (docs/input-safety.md).
//
// arrow-go trusts the flatbuffers metadata of an IPC file: a damaged vector
// length or offset makes it panic, or allocate a slice as long as the
// length claims before reading anything (a runtime out-of-memory that no
// recover can catch). So before arrow-go sees a file, checkArrowIPC walks
// its metadata (the footer and every message) and checks that every table,
// vector and string lies inside its buffer and every body inside the file;
// arrow-go then reads only what was checked. Allocations while reading are
// bounded by boundedAllocator, the arrays of every batch are checked by
// checkBatch before a value is read, and a panic left anyway becomes an
// error (see Reader.produce).

// Limits on Arrow IPC metadata that no declaration file comes near.
const (
	arrowMaxFields = 10_000 // fields of a schema, nested ones included
	arrowMaxDepth  = 64     // nesting of fields
)

var errArrowMeta = errors.New("damaged Arrow IPC metadata")

// fbuf is one flatbuffer, read with bounds checks.
type fbuf struct {
	b      []byte
	fields int // fields seen, against arrowMaxFields
}

func (f *fbuf) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errArrowMeta, fmt.Sprintf(format, args...))
}

func (f *fbuf) u32(at int) (uint32, error) {
	if at < 0 || at > len(f.b)-4 {
		return 0, f.fail("offset %d outside the %d-byte metadata", at, len(f.b))
	}
	return binary.LittleEndian.Uint32(f.b[at:]), nil
}

// fbTable is a checked flatbuffers table: its position and vtable.
type fbTable struct {
	f      *fbuf
	pos    int
	vt     int // vtable position
	vtLen  int
	objLen int
}

// table checks the table at pos.
func (f *fbuf) table(pos int) (fbTable, error) {
	so, err := f.u32(pos)
	if err != nil {
		return fbTable{}, err
	}
	vt := pos - int(int32(so))
	if vt < 0 || vt > len(f.b)-4 {
		return fbTable{}, f.fail("vtable at %d outside the metadata", vt)
	}
	vtLen := int(binary.LittleEndian.Uint16(f.b[vt:]))
	objLen := int(binary.LittleEndian.Uint16(f.b[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || vt+vtLen > len(f.b) || pos+objLen > len(f.b) || objLen < 4 {
		return fbTable{}, f.fail("table at %d does not fit the metadata", pos)
	}
	return fbTable{f: f, pos: pos, vt: vt, vtLen: vtLen, objLen: objLen}, nil
}

// field returns the position of field i holding size bytes, or 0 if the
// field is absent.
func (t fbTable) field(i, size int) (int, error) {
	slot := 4 + 2*i
	if slot+2 > t.vtLen {
		return 0, nil
	}
	off := int(binary.LittleEndian.Uint16(t.f.b[t.vt+slot:]))
	if off == 0 {
		return 0, nil
	}
	if off+size > t.objLen {
		return 0, t.f.fail("field %d of the table at %d lies outside it", i, t.pos)
	}
	return t.pos + off, nil
}

// ref follows the offset in field i to a table, vector or string; 0 if the
// field is absent.
func (t fbTable) ref(i int) (int, error) {
	at, err := t.field(i, 4)
	if err != nil || at == 0 {
		return 0, err
	}
	u, _ := t.f.u32(at)
	to := at + int(u)
	if u == 0 || to >= len(t.f.b) || to < at {
		return 0, t.f.fail("reference at %d points outside the metadata", at)
	}
	return to, nil
}

func (t fbTable) int64(i int) (int64, error) {
	at, err := t.field(i, 8)
	if err != nil || at == 0 {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(t.f.b[at:])), nil
}

func (t fbTable) uint8(i int) (uint8, error) {
	at, err := t.field(i, 1)
	if err != nil || at == 0 {
		return 0, err
	}
	return t.f.b[at], nil
}

// sub checks the table referenced by field i; ok is false if absent.
func (t fbTable) sub(i int) (fbTable, bool, error) {
	at, err := t.ref(i)
	if err != nil || at == 0 {
		return fbTable{}, false, err
	}
	s, err := t.f.table(at)
	return s, err == nil, err
}

// vector checks the vector in field i of elements of size bytes and
// returns the position of its first element and its length.
func (t fbTable) vector(i, size int) (start, n int, err error) {
	at, err := t.ref(i)
	if err != nil || at == 0 {
		return 0, 0, err
	}
	u, err := t.f.u32(at)
	if err != nil {
		return 0, 0, err
	}
	if uint64(u)*uint64(size) > uint64(len(t.f.b)-at-4) {
		return 0, 0, t.f.fail("vector of %d elements at %d is longer than the metadata", u, at)
	}
	return at + 4, int(u), nil
}

// tables checks every table of the vector of tables in field i.
func (t fbTable) tables(i int, check func(fbTable) error) error {
	start, n, err := t.vector(i, 4)
	if err != nil {
		return err
	}
	for k := range n {
		at := start + 4*k
		u, _ := t.f.u32(at)
		if u == 0 || at+int(u) >= len(t.f.b) {
			return t.f.fail("element %d of the vector at %d points outside the metadata", k, start)
		}
		s, err := t.f.table(at + int(u))
		if err != nil {
			return err
		}
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

func (t fbTable) keyValues(i int) error {
	return t.tables(i, func(kv fbTable) error {
		if _, _, err := kv.vector(0, 1); err != nil {
			return err
		}
		_, _, err := kv.vector(1, 1)
		return err
	})
}

// Slots and codes of the Arrow format (format/Schema.fbs, Message.fbs,
// File.fbs).
const (
	typeTimestamp = 10
	typeUnion     = 14
	headerSchema  = 1
	headerDict    = 2
	headerBatch   = 3
)

func (f *fbuf) checkField(t fbTable, depth int) error {
	f.fields++
	if f.fields > arrowMaxFields || depth > arrowMaxDepth {
		return f.fail("more than %d fields or deeper than %d levels", arrowMaxFields, arrowMaxDepth)
	}
	if _, _, err := t.vector(0, 1); err != nil { // name
		return err
	}
	kind, err := t.uint8(2)
	if err != nil {
		return err
	}
	if typ, ok, err := t.sub(3); err != nil {
		return err
	} else if ok {
		switch kind {
		case typeTimestamp:
			if _, _, err := typ.vector(1, 1); err != nil { // time zone
				return err
			}
		case typeUnion:
			if _, _, err := typ.vector(1, 4); err != nil { // type ids
				return err
			}
		}
	}
	if dict, ok, err := t.sub(4); err != nil {
		return err
	} else if ok {
		if _, _, err := dict.sub(1); err != nil { // index type
			return err
		}
	}
	if err := t.tables(5, func(c fbTable) error { return f.checkField(c, depth+1) }); err != nil {
		return err
	}
	return t.keyValues(6)
}

func (f *fbuf) checkSchema(t fbTable) error {
	if err := t.tables(1, func(c fbTable) error { return f.checkField(c, 0) }); err != nil {
		return err
	}
	if err := t.keyValues(2); err != nil {
		return err
	}
	_, _, err := t.vector(3, 8)
	return err
}

func (f *fbuf) checkBatch(t fbTable, body int64) error {
	if n, err := t.int64(0); err != nil || n < 0 {
		return errors.Join(err, f.fail("negative row count %d", n))
	}
	start, n, err := t.vector(1, 16) // field nodes: length, null count
	if err != nil {
		return err
	}
	for k := range n {
		at := start + 16*k
		if int64(binary.LittleEndian.Uint64(f.b[at:])) < 0 || int64(binary.LittleEndian.Uint64(f.b[at+8:])) < 0 {
			return f.fail("field node %d has a negative length", k)
		}
	}
	start, n, err = t.vector(2, 16) // buffers: offset, length
	if err != nil {
		return err
	}
	for k := range n {
		at := start + 16*k
		off, ln := int64(binary.LittleEndian.Uint64(f.b[at:])), int64(binary.LittleEndian.Uint64(f.b[at+8:]))
		if off < 0 || ln < 0 || off > body || ln > body-off {
			return f.fail("buffer %d (offset %d, length %d) lies outside the %d-byte body", k, off, ln, body)
		}
	}
	if _, _, err := t.sub(3); err != nil {
		return err
	}
	_, _, err = t.vector(4, 8)
	return err
}

// checkMessage checks one message's metadata and returns its body length,
// which must fit in room bytes.
func checkMessage(meta []byte, room int64) (int64, error) {
	f := &fbuf{b: meta}
	root, err := f.u32(0)
	if err != nil {
		return 0, err
	}
	t, err := f.table(int(root))
	if err != nil {
		return 0, err
	}
	body, err := t.int64(3)
	if err != nil {
		return 0, err
	}
	if body < 0 || body > room {
		return 0, f.fail("message body of %d bytes, but only %d bytes follow", body, room)
	}
	kind, err := t.uint8(1)
	if err != nil {
		return 0, err
	}
	h, ok, err := t.sub(2)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, f.fail("message without header")
	}
	switch kind {
	case headerSchema:
		err = f.checkSchema(h)
	case headerBatch:
		err = f.checkBatch(h, body)
	case headerDict:
		b, ok, e := h.sub(1)
		if e == nil && !ok {
			e = f.fail("dictionary batch without data")
		}
		if err = e; err == nil {
			err = f.checkBatch(b, body)
		}
	default:
		err = f.fail("message of type %d is not a schema or record batch", kind)
	}
	return body, err
}

// readMessageAt reads the encapsulated message at off (continuation marker,
// length, flatbuffer) and returns its metadata and where its body starts.
func readMessageAt(r io.ReaderAt, off, size int64) (meta []byte, bodyAt int64, err error) {
	var pre [8]byte
	if off < 0 || off > size-4 {
		return nil, 0, fmt.Errorf("%w: message at %d outside the %d-byte file", errArrowMeta, off, size)
	}
	if _, err := r.ReadAt(pre[:4], off); err != nil {
		return nil, 0, err
	}
	n := int64(binary.LittleEndian.Uint32(pre[:4]))
	at := off + 4
	if n == 0xFFFFFFFF {
		if off > size-8 {
			return nil, 0, fmt.Errorf("%w: message at %d cut short", errArrowMeta, off)
		}
		if _, err := r.ReadAt(pre[4:], at); err != nil {
			return nil, 0, err
		}
		n = int64(int32(binary.LittleEndian.Uint32(pre[4:])))
		at += 4
	}
	if n == 0 {
		return nil, at, nil // end of stream
	}
	if n < 4 || n > size-at {
		return nil, 0, fmt.Errorf("%w: message metadata of %d bytes at %d, but the file has %d bytes", errArrowMeta, n, off, size)
	}
	meta = make([]byte, n)
	if _, err := r.ReadAt(meta, at); err != nil {
		return nil, 0, err
	}
	return meta, at + n, nil
}

// checkArrowStream checks every message of an Arrow IPC stream of size
// bytes.
func checkArrowStream(r io.ReaderAt, size int64) error {
	for off := int64(0); off < size; {
		meta, bodyAt, err := readMessageAt(r, off, size)
		if err != nil {
			return err
		}
		if meta == nil {
			return nil
		}
		body, err := checkMessage(meta, size-bodyAt)
		if err != nil {
			return err
		}
		off = bodyAt + body
	}
	return nil
}

// checkArrowFile checks the footer of an Arrow IPC file of size bytes and
// every message its blocks point to.
func checkArrowFile(r io.ReaderAt, size int64) error {
	const magic = "ARROW1"
	var tail [10]byte
	if size < 8+10 {
		return fmt.Errorf("%w: the file is too short (%d bytes)", errArrowMeta, size)
	}
	if _, err := r.ReadAt(tail[:], size-10); err != nil {
		return err
	}
	if string(tail[4:]) != magic {
		return fmt.Errorf("%w: no ARROW1 at the end: the file is cut short", errArrowMeta)
	}
	n := int64(int32(binary.LittleEndian.Uint32(tail[:4])))
	if n < 4 || n > size-10-8 {
		return fmt.Errorf("%w: footer of %d bytes in a %d-byte file", errArrowMeta, n, size)
	}
	meta := make([]byte, n)
	if _, err := r.ReadAt(meta, size-10-n); err != nil {
		return err
	}
	f := &fbuf{b: meta}
	root, err := f.u32(0)
	if err != nil {
		return err
	}
	t, err := f.table(int(root))
	if err != nil {
		return err
	}
	schema, ok, err := t.sub(1)
	if err != nil {
		return err
	}
	if !ok {
		return f.fail("footer without schema")
	}
	if err := f.checkSchema(schema); err != nil {
		return err
	}
	for _, slot := range []int{2, 3} { // dictionary and record batch blocks
		start, count, err := t.vector(slot, 24)
		if err != nil {
			return err
		}
		for k := range count {
			at := start + 24*k
			off := int64(binary.LittleEndian.Uint64(meta[at:]))
			metaLen := int64(int32(binary.LittleEndian.Uint32(meta[at+8:])))
			body := int64(binary.LittleEndian.Uint64(meta[at+16:]))
			end := size - 10 - n
			if off < 8 || metaLen < 8 || body < 0 || off > end || metaLen > end-off || body > end-off-metaLen {
				return fmt.Errorf("%w: block %d (offset %d, metadata %d, body %d) lies outside the file", errArrowMeta, k, off, metaLen, body)
			}
			m, bodyAt, err := readMessageAt(r, off, off+metaLen)
			if err != nil {
				return err
			}
			if m == nil {
				return fmt.Errorf("%w: block %d is empty", errArrowMeta, k)
			}
			if _, err := checkMessage(m, end-bodyAt); err != nil {
				return fmt.Errorf("block %d: %w", k, err)
			}
		}
	}
	return nil
}

// boundedAllocator refuses an allocation that would take the bytes held
// past limit: arrow-go allocates a decompressed buffer as long as the file
// says, before decompressing. The refusal is a panic (the Allocator
// interface has no error), which Reader turns into an error.
type boundedAllocator struct {
	memory.Allocator
	held, limit int64
}

type errAllocLimit struct{ want, limit int64 }

func (e errAllocLimit) Error() string {
	return fmt.Sprintf("%v: it asks for %d bytes of memory, beyond the %d-byte limit for this file", errArrowMeta, e.want, e.limit)
}

func (e errAllocLimit) Unwrap() error { return errArrowMeta }

func newBoundedAllocator(fileSize int64) *boundedAllocator {
	// Decompressed data may be larger than the file; 64 times and at least
	// 1 GiB is far beyond what a compressed declaration file expands to.
	return &boundedAllocator{Allocator: memory.DefaultAllocator, limit: max(64*fileSize, 1<<30)}
}

func (a *boundedAllocator) take(n int64) {
	if h := atomic.AddInt64(&a.held, n); n > 0 && h > a.limit {
		atomic.AddInt64(&a.held, -n)
		panic(errAllocLimit{h, a.limit})
	}
}

func (a *boundedAllocator) Allocate(size int) []byte {
	a.take(int64(size))
	return a.Allocator.Allocate(size)
}

func (a *boundedAllocator) Reallocate(size int, b []byte) []byte {
	a.take(int64(size - len(b)))
	return a.Allocator.Reallocate(size, b)
}

func (a *boundedAllocator) Free(b []byte) {
	atomic.AddInt64(&a.held, -int64(len(b)))
	a.Allocator.Free(b)
}

// checkArray checks that an array's buffers hold its length, before any of
// its values is read: arrow-go builds arrays from the buffers a file gives
// without checking them.
func checkArray(arr arrow.Array) error {
	d := arr.Data()
	n := d.Offset() + d.Len()
	bufs := d.Buffers()
	need := func(i int, bytes int64) error {
		have := 0
		if i < len(bufs) && bufs[i] != nil {
			have = bufs[i].Len()
		}
		if int64(have) < bytes {
			return fmt.Errorf("%w: a %s column of %d rows has a buffer of %d bytes, it needs %d", errArrowMeta, d.DataType(), d.Len(), have, bytes)
		}
		return nil
	}
	if d.Offset() < 0 || d.Len() < 0 {
		return fmt.Errorf("%w: negative length", errArrowMeta)
	}
	if d.DataType().ID() == arrow.NULL || d.Len() == 0 {
		return nil
	}
	if d.NullN() != 0 && len(bufs) > 0 && bufs[0] != nil {
		if err := need(0, (int64(n)+7)/8); err != nil {
			return err
		}
	}
	switch a := arr.(type) {
	case *array.Dictionary:
		if err := checkArray(a.Indices()); err != nil {
			return err
		}
		if err := checkArray(a.Dictionary()); err != nil {
			return err
		}
		size := a.Dictionary().Len()
		for i := range a.Len() {
			if a.IsValid(i) {
				if k := a.GetValueIndex(i); k < 0 || k >= size {
					return fmt.Errorf("%w: dictionary index %d outside a dictionary of %d values", errArrowMeta, k, size)
				}
			}
		}
		return nil
	case *array.String:
		// Binary's full check is String's without its UTF-8 check: text
		// that is not UTF-8 is a rejected row, not a damaged file.
		return checkArray(array.NewBinaryData(d))
	case *array.LargeString:
		return checkArray(array.NewLargeBinaryData(d))
	case interface{ ValidateFull() error }:
		if err := a.ValidateFull(); err != nil {
			return fmt.Errorf("%w: %v", errArrowMeta, err)
		}
		return nil
	}
	if fw, ok := d.DataType().(arrow.FixedWidthDataType); ok {
		return need(1, (int64(n)*int64(fw.BitWidth())+7)/8)
	}
	return nil
}
