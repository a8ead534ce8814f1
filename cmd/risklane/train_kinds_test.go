package main

import (
	"strings"
	"testing"
)

// TestTrainKindsAndParams: --model picks a kind from the table, and the
// kind's declared parameters are checked against their ranges before any
// data is read.
func TestTrainKindsAndParams(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--in", "x.csv", "--profile", "kcs", "--out", dir}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "forest"}, `unknown model kind "forest": this risklane knows gbdt`},
		{[]string{"--max-depth", "40"}, "--max-depth 40: want 1 to 31"},
		{[]string{"--rounds", "2.5"}, "--rounds 2.5: want a whole number"},
		{[]string{"--subsample", "1.5"}, "--subsample 1.5: want 0 to 1"},
		{[]string{"--eta", "fast"}, `"fast" is not a number`},
	} {
		_, err := execute(t, newTrainCmd, append(append([]string(nil), base...), tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want an error mentioning %q", tc.args, err, tc.want)
		}
	}
}
