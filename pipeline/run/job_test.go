package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"risklane/models"
	"risklane/pipeline/rank"
	"risklane/sink"
)

func writeJob(t *testing.T, dir, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, "nightly.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadJob(t *testing.T) {
	dir := t.TempDir()
	j, err := LoadJob(writeJob(t, dir, `
input: incoming/*.csv
profile: date
model: /srv/models/current
outputs: ranked
budget: 2.5%
yellow: 400
explore: 0%
seed: 42
rank_by: expected-revenue
csv: true
rejects: false
max_reject_rate: 2%
retention:
  keep_nights: 14
  keep_days: 30
log: json
`))
	if err != nil {
		t.Fatal(err)
	}
	if j.Input != filepath.Join(dir, "incoming/*.csv") || j.Outputs != filepath.Join(dir, "ranked") || j.Model != "/srv/models/current" {
		t.Errorf("paths: %q %q %q", j.Input, j.Outputs, j.Model)
	}
	want := rank.Plan{Budget: rank.Percent(2.5), Yellow: rank.Rows(400), Explore: rank.Percent(0), Seed: 42}
	if p := j.Plan(); p != want {
		t.Errorf("plan %+v, want %+v", p, want)
	}
	if *j.MaxRejectRate != 0.02 || *j.Rejects || !j.CSV || j.Retention != (Retention{14, 30}) || j.Log != "json" || j.RankBy != string(models.ByExpectedRevenue) {
		t.Errorf("job %+v", j)
	}

	// Defaults.
	j, err = LoadJob(writeJob(t, dir, "input: a.csv\nprofile: kcs\nmodel: m\noutputs: out\n"))
	if err != nil {
		t.Fatal(err)
	}
	if j.Plan() != rank.DefaultPlan() || j.Rejects != nil || j.MaxRejectRate != nil {
		t.Errorf("defaults: %+v", j)
	}

	for name, bad := range map[string]string{
		"unknown key": "input: a\nprofile: p\nmodel: m\noutputs: o\nbudjet: 5%\n",
		"missing":     "input: a\nprofile: p\n",
		"bad budget":  "input: a\nprofile: p\nmodel: m\noutputs: o\nbudget: five\n",
		"bad rate":    "input: a\nprofile: p\nmodel: m\noutputs: o\nmax_reject_rate: 150%\n",
		"bad rank_by": "input: a\nprofile: p\nmodel: m\noutputs: o\nrank_by: luck\n",
		"bad glob":    "input: '[a'\nprofile: p\nmodel: m\noutputs: o\n",
		"not yaml":    "input: [unclosed\n",
		"neg. nights": "input: a\nprofile: p\nmodel: m\noutputs: o\nretention: {keep_nights: -1}\n",
	} {
		_, err := LoadJob(writeJob(t, dir, bad))
		if !errors.Is(err, ErrUsage) || ExitCode(err) != ExitUsage {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	if _, err := LoadJob(filepath.Join(dir, "absent.yaml")); err == nil {
		t.Error("absent job file accepted")
	}
}

// nightJob sets up an outputs folder and a job over inputs in dir.
func nightJob(t *testing.T, dir string) *Job {
	t.Helper()
	in := filepath.Join(dir, "incoming")
	os.Mkdir(in, 0o755)
	night(t, in)
	rate := Rate(0.01)
	return &Job{Input: filepath.Join(in, "*"), Profile: "canonical", Model: "test-model", Outputs: filepath.Join(dir, "ranked"),
		MaxRejectRate: &rate}
}

func runNight(t *testing.T, j *Job, night string) (*Manifest, error) {
	t.Helper()
	return j.Run(context.Background(), NightOptions{Night: night, LoadModel: func(string) (models.Model, error) { return trainedModel(t), nil }})
}

func TestNights(t *testing.T) {
	dir := t.TempDir()
	j := nightJob(t, dir)
	out := j.Outputs

	// Night 1 succeeds: its folder is complete and latest points to it.
	m, err := runNight(t, j, "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, filepath.Join(out, "2026-03-01")); !slices.Equal(got, []string{sink.Marker, "manifest.json", "ranked.parquet", "rejects.csv"}) {
		t.Fatalf("night folder: %v", got)
	}
	if link, _ := os.Readlink(filepath.Join(out, "latest")); link != "2026-03-01" {
		t.Fatalf("latest -> %q", link)
	}
	if st, err := os.Stat(filepath.Join(out, "2026-03-01")); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("night folder mode %v, %v; want 0755", st.Mode(), err)
	}
	disk, err := ReadManifest(filepath.Join(out, "latest", "manifest.json"))
	if err != nil || disk.RunID != m.RunID || disk.Outputs[0].Path != "ranked.parquet" || disk.Night != "2026-03-01" {
		t.Fatalf("manifest %+v, %v", disk, err)
	}
	if disk.Outputs[0].SHA256 != sha(t, filepath.Join(out, "latest", "ranked.parquet")) {
		t.Fatal("the manifest's checksum is not the published file's")
	}
	first := sha(t, filepath.Join(out, "2026-03-01", "ranked.parquet"))

	// Night 2 fails on its reject rate: night 1 and latest are untouched; the
	// failure is kept for the analyst.
	tight := Rate(0.00001)
	j.MaxRejectRate = &tight
	_, err = runNight(t, j, "2026-03-02")
	if !errors.Is(err, ErrRejectRate) {
		t.Fatalf("err = %v, want the reject-rate error", err)
	}
	if link, _ := os.Readlink(filepath.Join(out, "latest")); link != "2026-03-01" {
		t.Fatalf("after a failed night latest -> %q", link)
	}
	if sha(t, filepath.Join(out, "2026-03-01", "ranked.parquet")) != first {
		t.Fatal("a failed night changed the previous night")
	}
	failed, err := ReadManifest(filepath.Join(out, "2026-03-02.failed", "manifest.json"))
	if err != nil || failed.Status != "failed" || failed.ExitCode != ExitRejectRate {
		t.Fatalf("failed night manifest %+v, %v", failed, err)
	}
	if _, err := os.Stat(filepath.Join(out, "2026-03-02")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed night has a published folder")
	}

	// Rerun night 2 with the usual limit: it is published, the failure
	// folder goes; rerunning night 1 gives the same bytes.
	rate := Rate(0.01)
	j.MaxRejectRate = &rate
	if _, err := runNight(t, j, "2026-03-02"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "2026-03-02.failed")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the failure folder outlived a successful rerun")
	}
	if _, err := runNight(t, j, "2026-03-01"); err != nil {
		t.Fatal(err)
	}
	if sha(t, filepath.Join(out, "2026-03-01", "ranked.parquet")) != first {
		t.Fatal("rerunning a night changed its ranked file")
	}
	if link, _ := os.Readlink(filepath.Join(out, "latest")); link != "2026-03-02" {
		t.Fatalf("latest -> %q after rerunning night 1; want the newest night", link)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".lock", sink.Marker, "2026-03-01", "2026-03-02", "latest"}) {
		t.Fatalf("outputs folder holds %v", names)
	}

	// No input: a clear error, nothing published.
	j.Input = filepath.Join(dir, "nothing-*.csv")
	if _, err := runNight(t, j, "2026-03-03"); err == nil || !strings.Contains(err.Error(), "no input file matches") {
		t.Fatalf("no input: %v", err)
	}
	if _, err := runNight(t, j, "yesterday"); !errors.Is(err, ErrUsage) {
		t.Fatalf("bad night name: %v", err)
	}
}

func TestLockKeepsRunsApart(t *testing.T) {
	dir := t.TempDir()
	j := nightJob(t, dir)
	os.MkdirAll(j.Outputs, 0o755)
	sink.Mark(j.Outputs)
	unlock, err := lock(filepath.Join(j.Outputs, ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = runNight(t, j, "2026-03-01")
	if !errors.Is(err, ErrBusy) || ExitCode(err) != ExitBusy {
		t.Fatalf("err = %v, want the busy error", err)
	}
	unlock()
	if _, err := runNight(t, j, "2026-03-01"); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

// What a killed run can leave: a staging folder, a night moved aside but
// not replaced, a night moved aside and replaced, an empty staging folder
// not yet marked. Recovery removes the first, restores the second, deletes
// the third and fourth, and leaves alone what looks alike but carries no
// marker (issue 12: it deleted a user's .staging-mine/ and restored a
// user's report.replaced-v2 as report).
func TestRecoverOutputs(t *testing.T) {
	out := t.TempDir()
	mk := func(p, content string) {
		os.MkdirAll(filepath.Join(out, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(out, p), []byte(content), 0o644)
	}
	mark := func(p string) { sink.Mark(filepath.Join(out, p)) }
	mk(".staging-2026-03-05-123/ranked.parquet", "partial")
	mark(".staging-2026-03-05-123")
	mk("2026-03-04.replaced-99/ranked.parquet", "old night 4")
	mark("2026-03-04.replaced-99")
	mk("2026-03-03.replaced-98/ranked.parquet", "older copy of night 3")
	mark("2026-03-03.replaced-98")
	mk("2026-03-03/ranked.parquet", "night 3")
	os.Mkdir(filepath.Join(out, ".staging-2026-03-06-124"), 0o755)
	os.Symlink("2026-03-03", filepath.Join(out, ".latest.tmp"))
	mk(".staging-mine/draft.txt", "a user's")
	mk("report.replaced-v2/r.txt", "a user's")
	if err := recoverOutputs(out, discard()); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, out); !slices.Equal(got, []string{".staging-mine", ".staging-mine/draft.txt", "2026-03-03", "2026-03-03/ranked.parquet",
		"2026-03-04", "2026-03-04/" + sink.Marker, "2026-03-04/ranked.parquet", "report.replaced-v2", "report.replaced-v2/r.txt"}) {
		t.Fatalf("after recovery: %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "2026-03-04", "ranked.parquet")); string(b) != "old night 4" {
		t.Fatal("night 4 not restored")
	}
}

func TestPrune(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nights  []string
		latest  string
		current string
		keep    Retention
		want    []string
	}{
		{"nothing to do", []string{"2026-03-01", "2026-03-02"}, "2026-03-02", "2026-03-02", Retention{}, []string{"2026-03-01", "2026-03-02"}},
		{"keep 2 nights", []string{"2026-02-27", "2026-03-01", "2026-03-02", "2026-03-03"}, "2026-03-03", "2026-03-03",
			Retention{KeepNights: 2}, []string{"2026-03-02", "2026-03-03"}},
		{"failed nights go with their window", []string{"2026-02-27.failed", "2026-03-01", "2026-03-02.failed", "2026-03-03"}, "2026-03-03", "2026-03-03",
			Retention{KeepNights: 2}, []string{"2026-03-01", "2026-03-02.failed", "2026-03-03"}},
		{"keep 7 days", []string{"2026-02-20", "2026-02-24", "2026-02-25", "2026-03-03"}, "2026-03-03", "2026-03-03",
			Retention{KeepDays: 7}, []string{"2026-02-24", "2026-02-25", "2026-03-03"}},
		// Rerunning an old night: the newer night is the one kept, and the
		// current and latest nights survive whatever the rules say.
		{"latest and current survive", []string{"2025-12-01", "2026-01-01", "2026-01-02", "2026-03-03"}, "2026-01-01", "2026-01-02",
			Retention{KeepNights: 1, KeepDays: 1}, []string{"2026-01-01", "2026-01-02", "2026-03-03"}},
		{"other folders are not nights", []string{"archive", "2020-01-01", "2026-03-03"}, "2026-03-03", "2026-03-03",
			Retention{KeepNights: 1}, []string{"2026-03-03", "archive"}},
		// A dated folder risklane did not write (no marker) is not a night.
		{"unmarked dated folders stay", []string{"2020-01-01", "2026-03-03", "u:2020-05-05", "u:2020-05-06.failed"}, "2026-03-03", "2026-03-03",
			Retention{KeepNights: 1}, []string{"2020-05-05", "2020-05-06.failed", "2026-03-03"}},
	} {
		out := t.TempDir()
		for _, n := range tc.nights {
			user, ok := strings.CutPrefix(n, "u:")
			os.Mkdir(filepath.Join(out, user), 0o755)
			if !ok {
				sink.Mark(filepath.Join(out, user))
			}
		}
		os.Symlink(tc.latest, filepath.Join(out, latestLink))
		if _, err := prune(out, tc.current, tc.keep); err != nil {
			t.Fatal(err)
		}
		var got []string
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if e.Name() != latestLink {
				got = append(got, e.Name())
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: kept %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDefaultNightIsToday(t *testing.T) {
	dir := t.TempDir()
	j := nightJob(t, dir)
	day := time.Date(2026, 7, 14, 2, 30, 0, 0, time.Local)
	_, err := j.Run(context.Background(), NightOptions{Now: func() time.Time { return day },
		LoadModel: func(string) (models.Model, error) { return trainedModel(t), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(j.Outputs, "2026-07-14", "ranked.parquet")); err != nil {
		t.Fatal(err)
	}
}

// A job's outputs folder is never the filesystem root, a home folder or a
// folder above one (issue 12: retention ran at the root of a chroot).
func TestRefusedOutputs(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, c := range []struct{ dir, want string }{
		{string(filepath.Separator), "the root of the filesystem"},
		{home, "a home folder"},
		{filepath.Dir(home), "a folder that holds a home folder"},
		{filepath.Join(home, "risklane-nights"), ""},
	} {
		if got := refusedOutputs(c.dir); got != c.want {
			t.Errorf("%s: %q, want %q", c.dir, got, c.want)
		}
	}
	j := &Job{Outputs: string(filepath.Separator), Model: filepath.Join(home, "model")}
	if err := j.claimOutputs(nil); !errors.Is(err, ErrUsage) {
		t.Fatalf("outputs at the root: %v", err)
	}
}
