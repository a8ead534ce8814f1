package sink

import "io"

// Chunks is bytes kept in chunks of ChunkBytes, taken from and given back
// to a pool shared by the process: what is encoded apart from its file (a
// Parquet row group's pages, a ranked CSV group's lines) is written into it
// once, neither copied as a slice growing by doubling is nor faulted in
// anew for each group (fresh memory costs about 2.5 ms per MB on the 2-core
// VM, more than encoding it). The zero value is empty and ready.
type Chunks struct {
	chunks [][]byte
	size   int
}

// ChunkBytes is the size of a chunk.
const ChunkBytes = 1 << 20

// chunkPool holds the chunks of groups already written, for the next, in
// any file: at most 48 MB kept, about four row groups of a ranked file.
var chunkPool = make(chan []byte, 48)

// Write appends p; it never fails.
func (d *Chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if k := len(d.chunks); k == 0 || len(d.chunks[k-1]) == ChunkBytes {
			var c []byte
			select {
			case c = <-chunkPool:
			default:
				c = make([]byte, 0, ChunkBytes)
			}
			d.chunks = append(d.chunks, c[:0])
		}
		last := &d.chunks[len(d.chunks)-1]
		m := min(len(p), ChunkBytes-len(*last))
		*last = append(*last, p[:m]...)
		p = p[m:]
	}
	d.size += n
	return n, nil
}

// Len is the number of bytes written.
func (d *Chunks) Len() int { return d.size }

// WriteRange writes the n bytes from offset off to out.
func (d *Chunks) WriteRange(out io.Writer, off, n int) error {
	for end := off + n; off < end; {
		c := d.chunks[off/ChunkBytes]
		lo := off % ChunkBytes
		hi := min(len(c), lo+end-off)
		if _, err := out.Write(c[lo:hi]); err != nil {
			return err
		}
		off += hi - lo
	}
	return nil
}

// WriteTo writes every byte to out.
func (d *Chunks) WriteTo(out io.Writer) (int64, error) {
	var n int64
	for _, c := range d.chunks {
		k, err := out.Write(c)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Release gives the chunks back to the pool and empties d.
func (d *Chunks) Release() {
	for _, c := range d.chunks {
		select {
		case chunkPool <- c:
		default:
		}
	}
	d.chunks, d.size = nil, 0
}
