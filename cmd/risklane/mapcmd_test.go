package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMapCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "survey.html")
	cmd := newMapCmd()
	var b bytes.Buffer
	cmd.SetOut(&b)
	cmd.SetArgs([]string{"--in", "../../pipeline/choropleth/testdata/survey.csv", "--country", "country", "--value", "seizures", "--time", "year", "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"14 of 17 rows drawn over 2 steps of year", "not recognised: Atlantis (line 17)", "no outline at this scale: Singapore (line 16)", `no number in seizures: Rwanda: "" (line 9)`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, b.String())
		}
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 1<<20 {
		t.Errorf("map file: %v", err)
	}
	cmd = newMapCmd()
	cmd.SetArgs([]string{"--in", "../../pipeline/choropleth/testdata/survey.csv", "--country", "country", "--value", "seizures", "--out", "../../pipeline/choropleth/testdata/survey.csv"})
	cmd.SetOut(&b)
	cmd.SetErr(&b)
	if err := cmd.Execute(); err == nil || !isUsageError(err) {
		t.Errorf("writing over the input: %v, want a usage error", err)
	}
}
