package main

import "risklane/ingest"

// rejectsFile is the --rejects file of a command that reads declarations,
// or nil when the flag is not given; its methods do nothing on nil. It is
// written under a temporary name beside its path (ingest.CreateRejectFile,
// sink.CreateAtomic) and appears there only on commit; callers defer
// abort, so a failed or killed run leaves neither it nor litter. The
// command has checked the path against its inputs (sink.Prepare).
type rejectsFile struct{ *ingest.RejectFile }

// createRejects starts the rejects file at path, or returns nil for "".
func createRejects(path string) (*rejectsFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := ingest.CreateRejectFile(path)
	if err != nil {
		return nil, err
	}
	return &rejectsFile{f}, nil
}

// sink returns f as the ingest.RejectSink of ingest.Options: nil (no
// sink, rejected rows only counted) for no file.
func (f *rejectsFile) sink() ingest.RejectSink {
	if f == nil {
		return nil
	}
	return f.RejectFile
}

// commit gives the file its final name.
func (f *rejectsFile) commit() error {
	if f == nil {
		return nil
	}
	return f.Commit()
}

// abort discards the file unless it was committed.
func (f *rejectsFile) abort() {
	if f != nil {
		f.Abort()
	}
}
