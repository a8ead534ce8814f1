package main

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// watchPeakHeap samples the live heap (the heap marked by the last garbage
// collection) every interval and keeps a heap profile taken when it was at
// its largest. stop ends the watch and returns that profile (pprof's
// format), or one taken at stop if the heap never grew after the start.
func watchPeakHeap(interval time.Duration) (stop func() []byte) {
	var (
		mu   sync.Mutex
		peak uint64
		prof []byte
	)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	snap := func() {
		metrics.Read(sample)
		live := sample[0].Value.Uint64()
		mu.Lock()
		defer mu.Unlock()
		// Only a heap a twentieth above the last peak is profiled again:
		// writing a profile walks every allocation site.
		if prof != nil && live <= peak+peak/20 {
			return
		}
		var buf bytes.Buffer
		if err := pprof.Lookup("heap").WriteTo(&buf, 0); err == nil {
			peak, prof = live, buf.Bytes()
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				snap()
			}
		}
	}()
	return func() []byte {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		if prof == nil {
			runtime.GC()
			var buf bytes.Buffer
			pprof.Lookup("heap").WriteTo(&buf, 0)
			prof = buf.Bytes()
		}
		return prof
	}
}
