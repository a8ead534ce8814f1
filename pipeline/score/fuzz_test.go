package score

import (
	"encoding/binary"
	"testing"

	"risklane/pipeline/rank"
)

// FuzzFill: a damaged spill file gives an error, never a panic or a row out
// of range.
func FuzzFill(f *testing.F) {
	good := appendBucketRecord(nil, 0, kindID, []byte("D1"))
	good = appendBucketRecord(good, 1, kindID, []byte("D2"))
	good = appendBucketRecord(good, 0, kindReason, []byte("importer's past fraud rate 34%"))
	f.Add(good, 2)
	f.Add(good[:7], 2)
	f.Add([]byte{0, 0, 0, 0, 'x', 1, 'a'}, 1)
	exact := binary.AppendUvarint(nil, 3)
	exact = append(exact, "why"...)
	exact = binary.AppendUvarint(exact, 1)
	exact = binary.AppendUvarint(exact, 2)
	exact = append(exact, make([]byte, 16)...)
	f.Add(appendBucketRecord(good, 1, kindExact, exact), 2) // reasons with contributions
	f.Add([]byte{255, 255, 255, 255, 'i', 255, 255, 255, 255, 15}, 3)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		n = 1 + max(0, n%64)
		rows := make([]rank.Row, n)
		fill(rows, data)
	})
}
