package ingest

import (
	"bytes"
	"testing"
)

// TestSetBits: setBits sets exactly bits [lo, hi), bit by bit as the
// obvious loop does, for every range in 6 bytes and over bits already set.
func TestSetBits(t *testing.T) {
	for _, init := range []byte{0, 0x5a} {
		for lo := 0; lo <= 48; lo++ {
			for hi := lo; hi <= 48; hi++ {
				got := bytes.Repeat([]byte{init}, 6)
				want := bytes.Repeat([]byte{init}, 6)
				setBits(got, lo, hi)
				for i := lo; i < hi; i++ {
					want[i>>3] |= 1 << (i & 7)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("setBits(%08b, %d, %d) = %08b, want %08b", bytes.Repeat([]byte{init}, 6), lo, hi, got, want)
				}
			}
		}
	}
}
