//go:build !unix

package run

// lock does nothing where advisory file locks are not available: schedule
// one run of a job at a time.
func lock(string) (func(), error) { return func() {}, nil }
