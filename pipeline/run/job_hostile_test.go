package run

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// aliasBomb is a job file of nested YAML aliases: each level refers to the
// previous one nine times, so a decoder that expands aliases builds 9^depth
// values from a file of about a kilobyte.
func aliasBomb(depth int) []byte {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for k := 0; k < 9; k++ {
			if k > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("input: x\nprofile: date\nmodel: m\noutputs: o\n")
	return []byte(b.String())
}

// TestJobAliasBomb: a job file with anchors and aliases is refused before
// anything is expanded, as a profile is (one mechanism, profile.DecodePlain).
func TestJobAliasBomb(t *testing.T) {
	data := aliasBomb(12)
	_, err := parseJob(data, "/jobs/bomb.yaml")
	if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "line 1: anchors, aliases and tags are not allowed") {
		t.Fatalf("%d-byte alias bomb: err %v", len(data), err)
	}
	for _, in := range []string{"input: &x a\nprofile: *x\n", "input: !!binary eA==\n"} {
		if _, err := parseJob([]byte(in), "/jobs/j.yaml"); err == nil || !strings.Contains(err.Error(), "are not allowed") {
			t.Errorf("%q: err %v", in, err)
		}
	}
	big := []byte("input: x\n" + strings.Repeat("# padding\n", maxJobBytes/10+1))
	if _, err := parseJob(big, "/jobs/big.yaml"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized job: err %v", err)
	}
}
