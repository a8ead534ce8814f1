package sink

import "encoding/binary"

// thriftWriter appends Thrift compact-protocol structs to a byte slice: the
// encoding of Parquet's page headers and file footer (parquet.thrift). Only
// what risklane's Parquet encoder writes is here: structs, i32/i64 fields,
// binary, booleans and lists of structs, i32 or binary.
type thriftWriter struct {
	b    []byte
	last []int16 // last field id written, per open struct
}

// Compact protocol type codes.
const (
	tcTrue   = 1
	tcFalse  = 2
	tcByte   = 3
	tcI32    = 5
	tcI64    = 6
	tcBinary = 8
	tcList   = 9
	tcStruct = 12
)

func (t *thriftWriter) uvarint(v uint64) { t.b = binary.AppendUvarint(t.b, v) }

func (t *thriftWriter) zigzag(v int64) { t.uvarint(uint64(v<<1) ^ uint64(v>>63)) }

// field writes a field header: the id as a delta from the struct's last
// field when it fits in four bits, else in full.
func (t *thriftWriter) field(id int16, typ byte) {
	top := len(t.last) - 1
	if d := id - t.last[top]; d > 0 && d <= 15 {
		t.b = append(t.b, byte(d)<<4|typ)
	} else {
		t.b = append(t.b, typ)
		t.zigzag(int64(id))
	}
	t.last[top] = id
}

// begin opens a struct (the message itself or a nested one); end closes it.
func (t *thriftWriter) begin() { t.last = append(t.last, 0) }

func (t *thriftWriter) end() {
	t.b = append(t.b, 0)
	t.last = t.last[:len(t.last)-1]
}

// structField opens a struct-valued field.
func (t *thriftWriter) structField(id int16) {
	t.field(id, tcStruct)
	t.begin()
}

func (t *thriftWriter) i32(id int16, v int32) {
	t.field(id, tcI32)
	t.zigzag(int64(v))
}

func (t *thriftWriter) i64(id int16, v int64) {
	t.field(id, tcI64)
	t.zigzag(v)
}

func (t *thriftWriter) i8(id int16, v int8) {
	t.field(id, tcByte)
	t.b = append(t.b, byte(v))
}

func (t *thriftWriter) boolean(id int16, v bool) {
	if v {
		t.field(id, tcTrue)
	} else {
		t.field(id, tcFalse)
	}
}

func (t *thriftWriter) binary(id int16, v []byte) {
	t.field(id, tcBinary)
	t.uvarint(uint64(len(v)))
	t.b = append(t.b, v...)
}

func (t *thriftWriter) str(id int16, v string) {
	t.field(id, tcBinary)
	t.uvarint(uint64(len(v)))
	t.b = append(t.b, v...)
}

// list writes a list field's header: n elements of type elem follow.
func (t *thriftWriter) list(id int16, elem byte, n int) {
	t.field(id, tcList)
	if n < 15 {
		t.b = append(t.b, byte(n)<<4|elem)
	} else {
		t.b = append(t.b, 0xf0|elem)
		t.uvarint(uint64(n))
	}
}

// listI32 writes a list of i32 values.
func (t *thriftWriter) listI32(id int16, vs []int32) {
	t.list(id, tcI32, len(vs))
	for _, v := range vs {
		t.zigzag(int64(v))
	}
}

// listStr writes a list of strings.
func (t *thriftWriter) listStr(id int16, vs []string) {
	t.list(id, tcBinary, len(vs))
	for _, v := range vs {
		t.uvarint(uint64(len(v)))
		t.b = append(t.b, v...)
	}
}
