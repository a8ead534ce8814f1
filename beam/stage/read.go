package stage

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/ingest"
	"risklane/ingest/profile"
)

// readDecl reads one declarations file through the profile and calls fn
// with each accepted batch. reject, if not nil, receives the file's
// rejected rows in input order (ingest reports them from its reading
// goroutine; they are handed on between batches, on this one).
func readDecl(prof *profile.Profile, in fileIn, opt ingest.Options, reject func(rejectRow), fn func(arrow.RecordBatch) error) error {
	var mu sync.Mutex
	var pending []ingest.Reject
	if reject != nil {
		opt.Rejects = rejectFunc(func(rj ingest.Reject) error {
			mu.Lock()
			pending = append(pending, rj)
			mu.Unlock()
			return nil
		})
	}
	var seq int64
	flush := func() {
		if reject == nil {
			return
		}
		mu.Lock()
		p := pending
		pending = nil
		mu.Unlock()
		for _, r := range p {
			reject(rejectRow{File: in.Index, Seq: seq, Path: r.File, Line: r.Line, Column: r.Column, Value: r.Value, Reason: r.Reason})
			seq++
		}
	}
	rd, err := ingest.Open(in.Path, prof, opt)
	if err != nil {
		return err
	}
	defer rd.Close()
	for rd.Next() {
		if err := fn(rd.RecordBatch()); err != nil {
			return err
		}
		flush()
	}
	if err := rd.Err(); err != nil {
		return err
	}
	rd.Close()
	flush()
	return nil
}
