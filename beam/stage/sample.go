package stage

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"risklane/decl"
	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/sink"
)

// SampleConfig is one training sample: every illicit row, and each other
// row (clean or not inspected) with probability Rate.
type SampleConfig struct {
	Inputs  []string
	Profile string
	// OutDir receives one Parquet file per input (sample-00000.parquet,
	// ...), in the canonical schema (risklane train --profile canonical).
	OutDir string
	Rate   float64 // share of the other rows kept, in (0, 1]
	Seed   uint64
	// BatchSize is the rows per record batch read (0: ingest's default).
	BatchSize int
}

// Sample adds the sample stage to the pipeline: each file is read (through
// the profile) and written filtered by one worker, so the stage scales with
// the number of files. A row is kept when it is illicit, or when a hash of
// Seed and its declaration_id (FNV-1a, then splitmix64's finaliser) falls
// below Rate: the items of one
// declaration stay together, and the sample does not depend on how the
// files are split or scheduled.
//
// A kept clean row stands for 1/Rate clean rows. risklane train has no row
// weights; its --scale-pos-weight Rate weighs the illicit rows down by the
// same factor, which gives the classifier the class balance of the whole
// history. The feature state is fitted on the sample, so its fraud rates
// are the sample's (docs/beam.md measures the cost).
func Sample(s beam.Scope, cfg SampleConfig) error {
	s = s.Scope("sample")
	if !(cfg.Rate > 0 && cfg.Rate <= 1) {
		return fmt.Errorf("sample: rate %v; give a share in (0, 1]", cfg.Rate)
	}
	in := beam.CreateList(s, filesOf(cfg.Inputs))
	beam.ParDo0(s, &sampleFileFn{Profile: cfg.Profile, OutDir: cfg.OutDir, Rate: cfg.Rate, Seed: cfg.Seed, BatchSize: cfg.BatchSize}, in)
	return nil
}

// keep reports whether a row that is not illicit is in the sample.
func keep(seed uint64, id string, rate float64) bool {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(id))
	// FNV-1a barely moves its top bits when only the last bytes differ
	// (sequential ids); splitmix64's finaliser spreads every bit.
	z := h.Sum64()
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11)/(1<<53) < rate
}

type sampleFileFn struct {
	Profile   string
	OutDir    string
	Rate      float64
	Seed      uint64
	BatchSize int
	prof      *profile.Profile
}

func (f *sampleFileFn) Setup() error {
	var err error
	f.prof, err = profile.Resolve(f.Profile)
	return err
}

func (f *sampleFileFn) ProcessElement(in fileIn) error {
	out := filepath.Join(f.OutDir, SampleFile(in.Index))
	var w *sink.Writer
	defer func() {
		if w != nil {
			w.Abort()
		}
	}()
	var labels []int8
	err := readDecl(f.prof, in, ingest.Options{BatchSize: f.BatchSize, RequireLabels: true}, nil, func(rec arrow.RecordBatch) error {
		if w == nil {
			var err error
			if w, err = sink.Create(out, rec.Schema()); err != nil {
				return err
			}
		}
		ids, ok, err := decl.Strings(rec, decl.DeclarationID)
		if err != nil || !ok {
			return fmt.Errorf("%s: sample needs %s (%v)", in.Path, decl.DeclarationID, err)
		}
		if labels, err = features.ReadLabels(rec, labels[:0]); err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		// Runs of kept rows are written as slices of the batch.
		start := -1
		flush := func(end int) error {
			if start < 0 {
				return nil
			}
			part := rec.NewSlice(int64(start), int64(end))
			defer part.Release()
			start = -1
			return w.Write(part)
		}
		for i, y := range labels {
			id, _ := ids.Value(i)
			if y == 1 || keep(f.Seed, id, f.Rate) {
				if start < 0 {
					start = i
				}
				continue
			}
			if err := flush(i); err != nil {
				return err
			}
		}
		return flush(len(labels))
	})
	if err != nil {
		return err
	}
	if w == nil {
		return fmt.Errorf("%s: no accepted row to sample", in.Path)
	}
	err = w.Commit()
	w = nil
	return err
}

// SampleFile names the sample of the input at index i in the output folder.
func SampleFile(i int) string { return fmt.Sprintf("sample-%05d.parquet", i) }

func init() {
	register.DoFn1x1[fileIn, error](&sampleFileFn{})
}
