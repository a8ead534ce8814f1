package sink

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestChunks writes pieces of random sizes across chunk boundaries and
// reads back the whole and ranges that start, end and span at boundaries.
func TestChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, 3*ChunkBytes+12345)
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	var d Chunks
	for p := want; len(p) > 0; {
		n := min(len(p), 1+rng.IntN(ChunkBytes/3))
		if k, err := d.Write(p[:n]); k != n || err != nil {
			t.Fatalf("Write: %d, %v", k, err)
		}
		p = p[n:]
	}
	if d.Len() != len(want) {
		t.Fatalf("Len %d, want %d", d.Len(), len(want))
	}
	var all bytes.Buffer
	if n, err := d.WriteTo(&all); err != nil || n != int64(len(want)) || !bytes.Equal(all.Bytes(), want) {
		t.Fatalf("WriteTo: %d bytes, %v, equal %v", n, err, bytes.Equal(all.Bytes(), want))
	}
	for _, r := range [][2]int{{0, 0}, {0, 1}, {ChunkBytes - 1, 2}, {ChunkBytes, ChunkBytes}, {5, 2*ChunkBytes + 7}, {len(want) - 3, 3}} {
		var b bytes.Buffer
		if err := d.WriteRange(&b, r[0], r[1]); err != nil || !bytes.Equal(b.Bytes(), want[r[0]:r[0]+r[1]]) {
			t.Fatalf("WriteRange(%d, %d): %v, equal %v", r[0], r[1], err, bytes.Equal(b.Bytes(), want[r[0]:r[0]+r[1]]))
		}
	}
	d.Release()
	if d.Len() != 0 {
		t.Fatalf("Len after Release %d", d.Len())
	}
}
