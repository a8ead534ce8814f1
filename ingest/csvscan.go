package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// csvScanner splits an RFC 4180 byte stream into records. Unlike
// encoding/csv it never gives up: a record with broken quoting, or longer
// than maxRecord bytes, is reported as a problem and scanning resumes on the
// physical line after the one where that record started, so one stray quote
// cannot swallow the rest of a file. Its buffer starts small and grows
// only for long records, to at most twice maxRecord, whatever the input size.
//
// As in encoding/csv, "\r\n" counts as "\n" (also inside quoted fields),
// blank lines are skipped, and a quote may appear in a field only if the
// field is quoted and the quote is doubled.
type csvScanner struct {
	r     io.Reader
	comma byte
	buf   []byte
	pos   int // start of unconsumed data (the current record while scanning one)
	end   int
	eof   bool
	err   error // read error other than io.EOF

	maxRecord int
	line      int64 // physical line number of buf[pos], 1-based

	// The current record.
	fields  [][]byte // views into buf or scratch, valid until the next call
	recLine int64    // physical line where the record starts
	problem string   // why the record is unusable, or ""
	raw     []byte   // the record's text (its first line if it has a problem)

	scratch []byte
	ends    []int

	// lazy leaves a line without quotes unsplit: next sets plain and
	// leaves fields empty, and the caller splits raw with splitFields
	// (the parallel reader splits on its workers, parallel.go).
	lazy  bool
	plain bool
}

func newCSVScanner(r io.Reader, comma byte, maxRecord int) *csvScanner {
	return &csvScanner{r: r, comma: comma, buf: make([]byte, min(64<<10, 2*maxRecord+4096)), maxRecord: maxRecord, line: 1}
}

// fill reads more input after compacting the unconsumed data to the front of
// the buffer. It reports whether the caller should look again (false at the
// end of input or on a read error).
func (s *csvScanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		copy(s.buf, s.buf[s.pos:s.end])
		s.end -= s.pos
		s.pos = 0
	}
	if s.end == len(s.buf) {
		// Only a record longer than the buffer gets here; callers stop
		// at maxRecord, so the buffer never grows past twice that.
		size := min(2*len(s.buf), 2*s.maxRecord+4096)
		if size <= len(s.buf) {
			s.err = errors.New("internal error: CSV record buffer full")
			return false
		}
		grown := make([]byte, size)
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	switch {
	case err == io.EOF:
		s.eof = true
	case err != nil:
		s.err = err
		return false
	}
	return n > 0 || !s.eof
}

// next scans the next record. It returns false at the end of the input or on
// a read error (see s.err). When it returns true, either s.fields holds the
// record or s.problem says why the record was skipped.
func (s *csvScanner) next() bool {
	s.problem = ""
	s.plain = false
	searched := 0 // bytes after s.pos already known to hold no newline
	for {
		if s.pos >= s.end {
			if !s.fill() {
				return false
			}
			continue
		}
		nl := bytes.IndexByte(s.buf[s.pos+searched:s.end], '\n')
		if nl >= 0 {
			nl += searched
		}
		if nl < 0 {
			searched = s.end - s.pos
			if !s.eof {
				if s.end-s.pos >= s.maxRecord {
					s.skipLongLine()
					return s.err == nil
				}
				if !s.fill() && s.err != nil {
					return false
				}
				continue
			}
			nl = s.end - s.pos
		}
		after := nl + 1 // offset of the next line; past end when the input ended without "\n"
		line := s.buf[s.pos : s.pos+nl]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			s.pos = min(s.pos+after, s.end)
			s.line++
			searched = 0
			continue
		}
		s.recLine = s.line
		if len(line) > s.maxRecord {
			s.problem = fmt.Sprintf("line is %d bytes, longer than the %d-byte record limit", len(line), s.maxRecord)
			s.raw = line
			s.pos = min(s.pos+after, s.end)
			s.line++
			return true
		}
		if bytes.IndexByte(line, '"') < 0 {
			if s.lazy {
				s.fields = s.fields[:0]
				s.plain = true
			} else {
				s.fields, _ = splitFields(s.fields[:0], line, s.comma)
			}
			s.raw = line
			s.pos = min(s.pos+after, s.end)
			s.line++
			return true
		}
		return s.quoted(after)
	}
}

// splitFields appends the fields of an unquoted line to dst, without
// copying, and reports whether the line is ASCII without NUL bytes (then
// it needs no UTF-8 check, see validText). It looks at eight bytes at a
// time: one pass where a bytes.IndexByte per field cost a call and a
// vector set-up for fields of a few bytes.
func splitFields(dst [][]byte, line []byte, comma byte) ([][]byte, bool) {
	const lo, hi, low7 = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	pat := uint64(comma) * lo
	var bad uint64 // top bit set by a byte >= 0x80 or by a NUL
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		v := binary.LittleEndian.Uint64(line[i:])
		bad |= v | (v-lo)&^v
		// The top bit of each byte of x that is zero, exactly: adding
		// 0x7f to the low seven bits carries into the top bit of no
		// other byte.
		x := v ^ pat
		for m := ^((x&low7 + low7) | x | low7); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			dst = append(dst, line[start:j])
			start = j + 1
		}
	}
	ascii := bad&hi == 0
	for ; i < len(line); i++ {
		c := line[i]
		if c == comma {
			dst = append(dst, line[start:i])
			start = i + 1
		}
		ascii = ascii && c != 0 && c < 0x80 // a NUL delimiter is a NUL too, as in the loop above
	}
	return append(dst, line[start:]), ascii
}

// maxSkip is how far a line longer than the record limit is skipped in
// search of its end before the input is given up as not line-based.
func maxSkip(maxRecord int) int { return max(16*maxRecord, 64<<20) }

// skipLongLine drops a physical line longer than the record limit, keeping
// its first bytes for the rejects file.
func (s *csvScanner) skipLongLine() {
	s.recLine = s.line
	s.scratch = append(s.scratch[:0], s.buf[s.pos:s.pos+min(maxRejectValue, s.end-s.pos)]...)
	s.raw = s.scratch
	n := 0
	for {
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			n += i
			s.pos += i + 1
			break
		}
		n += s.end - s.pos
		s.pos = s.end
		if n > maxSkip(s.maxRecord) {
			s.err = fmt.Errorf("line %d runs for more than %d bytes without a line end: not a CSV file, or an endless input", s.line, n)
			return
		}
		if !s.fill() {
			break
		}
	}
	s.line++
	s.problem = fmt.Sprintf("line is %d bytes or more, longer than the %d-byte record limit", n, s.maxRecord)
}

// quoted scans a record that contains at least one quote; it may span
// several physical lines. s.pos stays at the record start until the record
// is complete, so offsets k below are relative to it and survive fill.
// firstLine is the offset just past the record's first physical line.
func (s *csvScanner) quoted(firstLine int) bool {
	s.scratch = s.scratch[:0]
	s.ends = s.ends[:0]
	k := 0
	// avail makes sure byte k exists, reading more input if needed. It
	// returns false at the end of input.
	avail := func() bool {
		for s.pos+k >= s.end {
			if !s.fill() {
				return false
			}
		}
		return true
	}
	fail := func(problem string) bool {
		if k >= firstLine {
			problem = "a quoted field runs past the end of this line: " + problem
		}
		first := min(firstLine, s.end-s.pos)
		line := s.buf[s.pos : s.pos+first]
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		s.problem = problem
		s.raw = line
		s.fields = s.fields[:0]
		s.pos += first
		s.line++
		return true
	}
	tooLong := func() bool { return s.end-s.pos >= s.maxRecord && !s.eof }

	for {
		// At the start of a field.
		if !avail() {
			if s.err != nil {
				return false
			}
			s.ends = append(s.ends, len(s.scratch))
			return s.finish(k)
		}
		if s.buf[s.pos+k] == '"' {
			k++
			for {
				rest := s.buf[s.pos+k : s.end]
				q := bytes.IndexByte(rest, '"')
				if q < 0 {
					if s.eof {
						return fail("quoted field not closed before the end of the file")
					}
					if tooLong() {
						return fail(fmt.Sprintf("record longer than %d bytes: a quote is probably not closed", s.maxRecord))
					}
					// A "\r" at the end may be half of a "\r\n" split by the
					// buffer boundary: leave it for the next look.
					rest = bytes.TrimSuffix(rest, []byte{'\r'})
					s.appendQuoted(rest)
					k += len(rest)
					if !s.fill() && s.err != nil {
						return false
					}
					continue
				}
				s.appendQuoted(rest[:q])
				k += q + 1
				if !avail() {
					if s.err != nil {
						return false
					}
					s.ends = append(s.ends, len(s.scratch))
					return s.finish(k)
				}
				c := s.buf[s.pos+k]
				if c == '"' {
					s.scratch = append(s.scratch, '"')
					k++
					continue
				}
				if c == s.comma {
					k++
					s.ends = append(s.ends, len(s.scratch))
					break
				}
				if c == '\n' {
					s.ends = append(s.ends, len(s.scratch))
					return s.finish(k + 1)
				}
				if c == '\r' {
					k++
					if !avail() {
						if s.err != nil {
							return false
						}
						s.ends = append(s.ends, len(s.scratch))
						return s.finish(k)
					}
					if s.buf[s.pos+k] == '\n' {
						s.ends = append(s.ends, len(s.scratch))
						return s.finish(k + 1)
					}
				}
				return fail(fmt.Sprintf("unexpected %q after a closing quote (a quote inside a quoted field must be doubled)", rune(c)))
			}
			continue
		}
		// An unquoted field: up to the next separator or line end.
		searched := 0
		for {
			rest := s.buf[s.pos+k : s.end]
			i := indexSepOrNL(rest[searched:], s.comma)
			if i >= 0 {
				i += searched
			} else {
				searched = len(rest)
			}
			if i < 0 && !s.eof {
				if tooLong() {
					return fail(fmt.Sprintf("record longer than %d bytes", s.maxRecord))
				}
				if !s.fill() && s.err != nil {
					return false
				}
				continue
			}
			if i < 0 {
				i = len(rest)
			}
			field := rest[:i]
			if bytes.IndexByte(field, '"') >= 0 {
				return fail("quote inside an unquoted field (quote the whole field and double the quote)")
			}
			atEnd := i == len(rest) || rest[i] == '\n'
			if atEnd {
				field = bytes.TrimSuffix(field, []byte{'\r'})
			}
			s.scratch = append(s.scratch, field...)
			s.ends = append(s.ends, len(s.scratch))
			k += i
			if atEnd {
				if i < len(rest) {
					k++
				}
				return s.finish(k)
			}
			k++ // the separator
			break
		}
	}
}

// appendQuoted adds quoted-field content, turning "\r\n" into "\n".
func (s *csvScanner) appendQuoted(b []byte) {
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			s.scratch = append(s.scratch, b...)
			return
		}
		s.scratch = append(s.scratch, b[:i]...)
		s.scratch = append(s.scratch, '\n')
		b = b[i+2:]
	}
}

// finish completes a quoted-path record that occupies k bytes from s.pos.
func (s *csvScanner) finish(k int) bool {
	s.fields = s.fields[:0]
	start := 0
	for _, e := range s.ends {
		s.fields = append(s.fields, s.scratch[start:e])
		start = e
	}
	s.raw = s.buf[s.pos : s.pos+k]
	s.line += int64(bytes.Count(s.raw, []byte{'\n'}))
	s.raw = bytes.TrimRight(s.raw, "\r\n")
	s.pos += k
	return true
}

func indexSepOrNL(b []byte, comma byte) int {
	for i, c := range b {
		if c == comma || c == '\n' {
			return i
		}
	}
	return -1
}
