package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfile: --cpuprofile, on any command, writes a profile pprof
// reads (gzip-compressed protocol buffers), and a folder that does not
// exist is a usage error, and so is an existing file (it may be the
// command's input), which stays as it was; nothing else is left beside the
// profile.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	defer rootCmd.SetArgs(nil)
	defer func() { cpuProfile.path = "" }()
	rootCmd.SetArgs([]string{"version", "--cpuprofile", path})
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("risklane version --cpuprofile: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the profile is not gzip: %v", err)
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) == 0 {
		t.Fatalf("the profile: %d bytes, %v", len(b), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("beside the profile: %d entries, want only the profile", len(ents))
	}
	input := filepath.Join(t.TempDir(), "declarations.csv")
	if err := os.WriteFile(input, []byte("id\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rootCmd.SetArgs([]string{"version", "--cpuprofile", input})
	if err := rootCmd.Execute(); !isUsageError(err) {
		t.Fatalf("a profile over an existing file: %v, want a usage error", err)
	}
	if b, _ := os.ReadFile(input); string(b) != "id\n1\n" {
		t.Fatalf("the existing file was changed: %q", b)
	}
	rootCmd.SetArgs([]string{"version", "--cpuprofile", filepath.Join(t.TempDir(), "no", "cpu.prof")})
	if err := rootCmd.Execute(); !isUsageError(err) {
		t.Fatalf("a profile in a missing folder: %v, want a usage error", err)
	}
}
