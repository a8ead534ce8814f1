package sink

import (
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
)

// snappyCodec is what arrow-go's Snappy codec implements: block and stream
// coding, and decoding that reports a damaged block as an error.
type snappyCodec interface {
	compress.ErrorCodec
	compress.StreamingCodec
}

// fastSnappy is arrow-go's Snappy codec with the fast block encoder of
// klauspost/compress (s2.EncodeSnappy) in place of its "better" one
// (s2.EncodeSnappyBetter, what klauspost/compress/snappy.Encode calls):
// both write standard Snappy blocks that any Snappy decoder reads, the fast
// one in a fraction of the CPU for slightly larger output. Compressing the
// pages was a tenth of an ingest's CPU (docs/ingest.md). Everything else,
// decoding included, is arrow-go's own.
type fastSnappy struct{ snappyCodec }

func (fastSnappy) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

// The registry is a plain map that arrow-go reads without a lock, so the
// encoder is swapped here, at initialisation, before any writer exists.
func init() {
	base, err := compress.GetCodec(compress.Codecs.Snappy)
	if c, ok := base.(snappyCodec); err == nil && ok {
		compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{c})
	}
}
