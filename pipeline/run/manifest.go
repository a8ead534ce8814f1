// Package run drives risklane's scoring runs: one `risklane score` (inputs,
// model, plan -> ranked file, rejects, manifest) and the nightly job that
// `risklane run JOB.yaml` executes on a schedule (a folder per night,
// retention, a `latest` link that only ever points at a complete night).
package run

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/pipeline/rank"
	"risklane/sink"
)

// Manifest records what a run read, did and wrote. It is the last file a run
// writes, atomically: a manifest with status "ok" means every output it lists
// is complete and has the checksum it gives.
type Manifest struct {
	RunID string `json:"run_id"`
	// Version is the risklane binary's version (internal/version).
	Version  string `json:"risklane_version"`
	Night    string `json:"night,omitempty"` // the nightly job's night
	Status   string `json:"status"`          // "ok" or "failed"
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	Started  string `json:"started"`
	Finished string `json:"finished"`

	Inputs  []Input     `json:"inputs"`
	Profile string      `json:"profile"`
	Model   Model       `json:"model"`
	Plan    Plan        `json:"plan"`
	Counts  Counts      `json:"counts"`
	Lanes   *rank.Lanes `json:"lanes,omitempty"`
	Reasons Reasons     `json:"reasons"`
	Timings []Stage     `json:"timings"`
	Outputs []rank.File `json:"outputs"`
}

// Reasons counts how the reasons were computed: for Candidates rows in the
// first pass (more than the red and yellow lanes: every row that could still
// land there), and for Repaired red or yellow rows by a second read of the
// input (normally none; see package score).
type Reasons struct {
	Candidates int64 `json:"candidates"`
	Repaired   int64 `json:"repaired"`
}

// Input is one input file.
type Input struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Model identifies the model a run scored with.
type Model struct {
	ID       string   `json:"id"`
	Dir      string   `json:"dir"`
	Features []string `json:"features"`
}

// Plan is how the run cut lanes.
type Plan struct {
	Budget  rank.Share `json:"budget"`
	Yellow  rank.Share `json:"yellow"`
	Explore rank.Share `json:"explore"`
	Seed    uint64     `json:"seed"`
	RankBy  string     `json:"rank_by"`
	// MaxRejectRate is the share of rejected rows above which the run fails
	// (0 to 1; absent: no limit).
	MaxRejectRate *float64 `json:"max_reject_rate,omitempty"`
}

// Counts reconcile: Read = Accepted + Rejected, and Scored = Accepted.
type Counts struct {
	Read     int64 `json:"read"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	Scored   int64 `json:"scored"`
}

// Stage is the timing of one stage of a run.
type Stage struct {
	Name    string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	Rows    int64   `json:"rows,omitempty"`
	// RowsPerSecond is Rows / Seconds of wall time.
	RowsPerSecond float64 `json:"rows_per_second,omitempty"`
	// ReadSeconds and WorkSeconds split a streaming pass into the reader's
	// time (decode, validate) and the workers' summed busy time.
	ReadSeconds float64 `json:"read_seconds,omitempty"`
	WorkSeconds float64 `json:"work_seconds,omitempty"`
	// CPUSeconds is the process's CPU time (user and system, all cores)
	// during the stage: on a busy machine, the part of the cost that does not
	// depend on the neighbours.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// stageClock measures one stage's wall and CPU time.
type stageClock struct {
	wall time.Time
	cpu  time.Duration
}

func startStage() stageClock { return stageClock{time.Now(), cpuTime()} }

func (c stageClock) stage(name string, rows int64) Stage {
	s := stage(name, time.Since(c.wall), rows)
	s.CPUSeconds = (cpuTime() - c.cpu).Seconds()
	return s
}

func stage(name string, wall time.Duration, rows int64) Stage {
	s := Stage{Name: name, Seconds: wall.Seconds(), Rows: rows}
	if rows > 0 && wall > 0 {
		s.RowsPerSecond = float64(rows) / wall.Seconds()
	}
	return s
}

// Write writes the manifest to path atomically.
func (m *Manifest) Write(path string) (rank.File, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return rank.File{}, err
	}
	data = append(data, '\n')
	if err := sink.WriteFileAtomic(path, data); err != nil {
		return rank.File{}, err
	}
	sum := sha256.Sum256(data)
	return rank.File{Path: path, Format: "json", Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// ReadManifest reads a manifest written by Write.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// checksum returns the size and SHA-256 of a file, and an upper bound on
// the rows it holds, or -1 when that is unknown: a Parquet file's row count
// from its footer, a plain CSV file's line count (counted while hashing),
// nothing for compressed CSV or Arrow IPC.
func checksum(path string) (Input, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, 0, err
	}
	defer f.Close()
	var head [ingest.SniffLen]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Input{}, 0, err
	}
	h := sha256.New()
	lines := &lineCounter{w: h}
	format, gz := ingest.Sniff(head[:n])
	csv := format == ingest.CSV && !gz
	var w io.Writer = h
	if csv {
		w = lines
	}
	size, err := io.Copy(w, f)
	if err != nil {
		return Input{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	in := Input{Path: path, Bytes: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	switch {
	case csv:
		return in, lines.n + 1, nil
	case format == ingest.Parquet:
		n, err := ingest.ParquetRows(path)
		if err != nil {
			return in, -1, nil // ingest will say what is wrong with it
		}
		return in, n, nil
	}
	return in, -1, nil
}

// lineCounter counts newlines on their way to w.
type lineCounter struct {
	w io.Writer
	n int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	return c.w.Write(p)
}

// runID derives a run's identifier from everything that determines its
// ranked file (input contents, profile, model, plan), never from the clock:
// rerunning the same night gives the same run_id and the same bytes.
func runID(inputs []Input, profile, modelID string, p Plan) string {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "input %s %d\n", in.SHA256, in.Bytes)
	}
	fmt.Fprintf(h, "profile %s\nmodel %s\nbudget %s\nyellow %s\nexplore %s\nseed %d\nrank_by %s\n",
		profile, modelID, p.Budget, p.Yellow, p.Explore, p.Seed, p.RankBy)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// RunIDOf returns the run_id that Score gives a run of these inputs,
// profile, model and plan, for a pipeline that scores them elsewhere (the
// Beam pipeline, docs/beam.md): the same checksums and the same runID.
func RunIDOf(inputs []string, p *profile.Profile, modelID string, plan rank.Plan, by models.RankBy) (string, error) {
	ins := make([]Input, 0, len(inputs))
	for _, path := range inputs {
		in, _, err := checksum(path)
		if err != nil {
			return "", err
		}
		ins = append(ins, in)
	}
	return runID(ins, profileFingerprint(p), modelID,
		Plan{Budget: plan.Budget, Yellow: plan.Yellow, Explore: plan.Explore, Seed: plan.Seed, RankBy: string(rankBy(by))}), nil
}
