package main

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestReportConsumesClusters: the report takes the price clusters the
// cluster command wrote (--clusters) instead of fitting its own; on the same
// declarations with the same defaults the two give the same page, byte for
// byte, so the report draws exactly what risklane cluster found.
func TestReportConsumesClusters(t *testing.T) {
	dir := t.TempDir()
	night := "testdata/oldmodel/night.csv"
	clusters := filepath.Join(dir, "clusters.json")
	if msg, err := execute(t, newClusterCmd, "--in", night, "--profile", "canonical", "--out", filepath.Join(dir, "clusters.csv"), "--model", clusters); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	page := func(extra ...string) []byte {
		out := filepath.Join(t.TempDir(), "r.html")
		args := append([]string{"--model", oldModel, "--profile", "canonical", "--in", night, "--out", out}, extra...)
		if msg, err := execute(t, newReportCmd, args...); err != nil {
			t.Fatalf("%v\n%s", err, msg)
		}
		return mustRead(t, out)
	}
	if !bytes.Equal(page(), page("--clusters", clusters)) {
		t.Fatal("the report with the cluster command's clusters differs from the report that fitted its own")
	}
	if _, err := execute(t, newReportCmd, "--model", oldModel, "--profile", "canonical", "--in", night,
		"--out", filepath.Join(dir, "x.html"), "--clusters", filepath.Join(dir, "clusters.csv")); err == nil {
		t.Fatal("a file that is not a cluster model was accepted as --clusters")
	}
}
