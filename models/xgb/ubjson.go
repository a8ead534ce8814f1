package xgb

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadUBJSON reads a model in the UBJSON form of XGBoost's JSON schema, which
// XGBoost 1.6 and later write with save_model("model.ubj") (the default
// format of XGBoost 2.x), and validates it. It accepts what ReadJSON accepts.
//
// The UBJSON (draft 12, big-endian) is first turned into JSON text, so that
// one schema reader serves both formats. Every length and count is checked
// against the bytes left before anything is allocated for it, containers
// nest at most 64 deep, and NaN or infinite numbers are refused.
func ReadUBJSON(r io.Reader) (*Model, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return decodeUBJSON(data)
}

func decodeUBJSON(data []byte) (*Model, error) {
	text, err := ubjsonToJSON(data)
	if err != nil {
		// XGBoost writes NaN as the threshold of a categorical split: say
		// that categorical splits are the problem, not the NaN.
		if text, lerr := ubjsonToJSONLenient(data); lerr == nil && categoricalJSON(text) {
			return nil, ErrCategorical
		}
		return nil, err
	}
	var jm jsonModel
	if err := json.Unmarshal(text, &jm); err != nil {
		return nil, ubjsonSchemaError(err)
	}
	m, err := jm.model()
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// ubjsonSchemaError reports a schema mismatch by field; offsets into the
// intermediate JSON text would mean nothing to the user.
func ubjsonSchemaError(err error) error {
	if typ, ok := err.(*json.UnmarshalTypeError); ok {
		field := typ.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Errorf("%s: UBJSON %s does not fit %s", field, typ.Value, typ.Type)
	}
	return fmt.Errorf("invalid model: %v", err)
}

// looksUBJSON reports whether data starts like a UBJSON object: '{' followed
// by the integer marker of the first key's length (JSON has '"' or space).
func looksUBJSON(data []byte) bool {
	return len(data) > 1 && data[0] == '{' && strings.IndexByte("iUIlL#$", data[1]) >= 0
}

const ubjMaxDepth = 64

type ubjFrame struct {
	key   string
	index int
	array bool
}

type ubjDecoder struct {
	lenient bool // NaN and infinities become null (see ubjsonToJSONLenient)
	data    []byte
	pos     int
	out     []byte
	frames  []ubjFrame
}

func ubjsonToJSON(data []byte) ([]byte, error) {
	return ubjsonConvert(data, false)
}

// ubjsonToJSONLenient is ubjsonToJSON writing NaN and infinities as null,
// for telling why a document was refused.
func ubjsonToJSONLenient(data []byte) ([]byte, error) {
	return ubjsonConvert(data, true)
}

func ubjsonConvert(data []byte, lenient bool) ([]byte, error) {
	// Text is at most a few times larger than UBJSON (a 4-byte float32 needs
	// up to 15 characters); start with twice the size and let append grow.
	u := &ubjDecoder{data: data, out: make([]byte, 0, 2*len(data)), lenient: lenient}
	if err := u.value(0); err != nil {
		return nil, err
	}
	if u.pos != len(u.data) {
		return nil, u.fail("%d bytes after the end of the document", len(u.data)-u.pos)
	}
	return u.out, nil
}

func (u *ubjDecoder) fail(format string, args ...any) error {
	var path strings.Builder
	for _, f := range u.frames {
		if f.array {
			fmt.Fprintf(&path, "[%d]", f.index)
		} else {
			if path.Len() > 0 {
				path.WriteByte('.')
			}
			path.WriteString(f.key)
		}
	}
	where := ""
	if path.Len() > 0 {
		where = " (" + path.String() + ")"
	}
	return fmt.Errorf("UBJSON offset %d%s: %s", u.pos, where, fmt.Sprintf(format, args...))
}

func (u *ubjDecoder) left() int { return len(u.data) - u.pos }

// marker returns the next type marker, skipping no-op markers.
func (u *ubjDecoder) marker() (byte, error) {
	for u.pos < len(u.data) {
		c := u.data[u.pos]
		u.pos++
		if c != 'N' {
			return c, nil
		}
	}
	return 0, u.fail("unexpected end of data")
}

// peek returns the next marker without consuming it (no-ops are consumed).
func (u *ubjDecoder) peek() (byte, error) {
	c, err := u.marker()
	if err == nil {
		u.pos--
	}
	return c, err
}

func (u *ubjDecoder) take(n int) ([]byte, error) {
	if n > u.left() {
		return nil, u.fail("needs %d bytes but only %d are left", n, u.left())
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

// ubjSize is the payload size of the fixed-size types a typed container may
// hold; types without a payload are refused there, so that a count can
// never make output out of nothing.
func ubjSize(m byte) int {
	switch m {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return 0
}

func (u *ubjDecoder) integer(m byte) (int64, error) {
	b, err := u.take(ubjSize(m))
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i':
		return int64(int8(b[0])), nil
	case 'U':
		return int64(b[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	default:
		return int64(binary.BigEndian.Uint64(b)), nil
	}
}

// length reads a length or count: an integer marker and its value.
func (u *ubjDecoder) length() (int, error) {
	m, err := u.marker()
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i', 'U', 'I', 'l', 'L':
	default:
		return 0, u.fail("length has marker %q, want an integer", m)
	}
	n, err := u.integer(m)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(u.left()) {
		return 0, u.fail("length %d out of range (%d bytes left)", n, u.left())
	}
	return int(n), nil
}

func (u *ubjDecoder) str() (string, error) {
	n, err := u.length()
	if err != nil {
		return "", err
	}
	b, err := u.take(n)
	return string(b), err
}

func (u *ubjDecoder) value(depth int) error {
	m, err := u.marker()
	if err != nil {
		return err
	}
	return u.valueOf(m, depth)
}

func (u *ubjDecoder) valueOf(m byte, depth int) error {
	switch m {
	case 'Z':
		u.out = append(u.out, "null"...)
	case 'T':
		u.out = append(u.out, "true"...)
	case 'F':
		u.out = append(u.out, "false"...)
	case 'i', 'U', 'I', 'l', 'L':
		n, err := u.integer(m)
		if err != nil {
			return err
		}
		u.out = strconv.AppendInt(u.out, n, 10)
	case 'd', 'D':
		b, err := u.take(ubjSize(m))
		if err != nil {
			return err
		}
		v, bits := 0.0, 64
		if m == 'd' {
			v, bits = float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32
		} else {
			v = math.Float64frombits(binary.BigEndian.Uint64(b))
		}
		if (math.IsNaN(v) || math.IsInf(v, 0)) && u.lenient {
			u.out = append(u.out, "null"...)
			break
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			u.pos -= len(b)
			return u.fail("%v is not accepted in a model", v)
		}
		u.out = strconv.AppendFloat(u.out, v, 'g', -1, bits)
	case 'C':
		b, err := u.take(1)
		if err != nil {
			return err
		}
		u.out = appendString(u.out, string(b))
	case 'S':
		s, err := u.str()
		if err != nil {
			return err
		}
		u.out = appendString(u.out, s)
	case 'H':
		s, err := u.str()
		if err != nil {
			return err
		}
		if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || !json.Valid([]byte(s)) {
			return u.fail("high-precision number %q is not a number", s)
		}
		u.out = append(u.out, s...)
	case '[', '{':
		if depth >= ubjMaxDepth {
			return u.fail("containers nested more than %d deep", ubjMaxDepth)
		}
		return u.container(m, depth+1)
	default:
		u.pos--
		return u.fail("unknown marker %q", m)
	}
	return nil
}

// container reads an array or object, with the optional $type and #count
// headers of optimized containers.
func (u *ubjDecoder) container(open byte, depth int) error {
	array := open == '['
	var typ byte
	count := -1
	c, err := u.peek()
	if err != nil {
		return err
	}
	if c == '$' {
		u.pos++
		if typ, err = u.marker(); err != nil {
			return err
		}
		if ubjSize(typ) == 0 {
			return u.fail("optimized container of type %q is not supported", typ)
		}
		if c, err = u.peek(); err != nil {
			return err
		}
		if c != '#' {
			return u.fail("container with a type ($) but no count (#)")
		}
	}
	if c == '#' {
		u.pos++
		if count, err = u.length(); err != nil {
			return err
		}
		// Each element takes at least one byte (a typed one exactly its
		// size, an object entry a key length too): a count the remaining
		// bytes cannot hold is refused before anything is produced.
		minSize := 1
		if typ != 0 {
			minSize = ubjSize(typ)
		}
		if !array {
			minSize++
		}
		if count > u.left()/minSize {
			return u.fail("count %d needs more than the %d bytes left", count, u.left())
		}
	}
	if array {
		u.out = append(u.out, '[')
	} else {
		u.out = append(u.out, '{')
	}
	u.frames = append(u.frames, ubjFrame{array: array})
	frame := &u.frames[len(u.frames)-1]
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			c, err := u.peek()
			if err != nil {
				return err
			}
			if (array && c == ']') || (!array && c == '}') {
				u.pos++
				break
			}
		}
		if i > 0 {
			u.out = append(u.out, ',')
		}
		frame.index = i
		if !array {
			key, err := u.str()
			if err != nil {
				return err
			}
			frame.key = key
			u.out = appendString(u.out, key)
			u.out = append(u.out, ':')
		}
		if typ != 0 {
			err = u.valueOf(typ, depth)
		} else {
			err = u.value(depth)
		}
		if err != nil {
			return err
		}
		frame = &u.frames[len(u.frames)-1]
	}
	u.frames = u.frames[:len(u.frames)-1]
	if array {
		u.out = append(u.out, ']')
	} else {
		u.out = append(u.out, '}')
	}
	return nil
}
