package synth

import (
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// streamDepth is the number of batches generated ahead of the writer: enough
// to keep both goroutines busy, few enough to keep memory flat.
const streamDepth = 2

// Stream drains g, generating on its own goroutine while write (on the
// caller's goroutine) encodes each batch, so that generation and encoding
// overlap. Stream releases every batch after write returns. It stops at the
// first error from write and returns it.
func Stream(g *Generator, write func(arrow.RecordBatch) error) error {
	batches := make(chan arrow.RecordBatch, streamDepth)
	stop := make(chan struct{})
	genErr := make(chan error, 1)
	go func() {
		defer close(batches)
		for {
			rec, err := g.Next()
			if errors.Is(err, io.EOF) {
				genErr <- nil
				return
			}
			if err != nil {
				genErr <- err
				return
			}
			select {
			case batches <- rec:
			case <-stop:
				rec.Release()
				genErr <- nil
				return
			}
		}
	}()
	var werr error
	for rec := range batches {
		if werr == nil {
			werr = write(rec)
			if werr != nil {
				close(stop)
			}
		}
		rec.Release()
	}
	if err := <-genErr; err != nil {
		return err
	}
	return werr
}
