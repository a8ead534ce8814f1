package run

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/gbdt"
	"risklane/models/riskmodel"
	"risklane/sink"
)

// generate returns rows synthetic declarations (the generator's schema:
// canonical columns, mode_of_transport, fraud_type).
func generate(t testing.TB, rows int64, seed uint64) []arrow.RecordBatch {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.BatchSize = rows, seed, 4096
	cfg.NumImporters, cfg.NumSellers = 800, 500
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for {
		rec, err := g.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

var (
	trainOnce  sync.Once
	trainedMod models.Model
	trainErr   error
)

// trainedModel is a small real model: features fitted on 20,000 synthetic
// rows (seed 1), 30 trees of depth 4 trained by gbdt. Trained once per test
// binary.
func trainedModel(t testing.TB) models.Model {
	t.Helper()
	trainOnce.Do(func() {
		batches := generate(t, 20000, 1)
		st, mat, err := features.Fit(batches, features.Config{Seed: 1})
		if err != nil {
			trainErr = err
			return
		}
		var labels []int8
		for _, b := range batches {
			if labels, err = features.ReadLabels(b, labels); err != nil {
				trainErr = err
				return
			}
		}
		y := make([]float64, len(labels))
		for i, l := range labels {
			y[i] = float64(max(l, 0))
		}
		p := gbdt.DefaultParams()
		p.NumRounds, p.MaxDepth, p.EvalTrain, p.Eta = 30, 4, false, 0.3
		m, _, err := gbdt.Train(&gbdt.Matrix{Rows: mat.Rows, Cols: mat.Cols, Names: mat.Names}, y, nil, nil, p)
		if err != nil {
			trainErr = err
			return
		}
		trainedMod, trainErr = riskmodel.New(st, m, nil)
	})
	if trainErr != nil {
		t.Fatal(trainErr)
	}
	return trainedMod
}

// writeInput writes batches to path (format from the extension).
func writeInput(t testing.TB, path string, batches []arrow.RecordBatch) {
	t.Helper()
	w, err := sink.Create(path, batches[0].Schema())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func canonical(t testing.TB) *profile.Profile {
	t.Helper()
	p, ok := profile.Builtin("canonical")
	if !ok {
		t.Fatal("no canonical profile")
	}
	return p
}

func sha(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

type arrowBatch = arrow.RecordBatch

// dropColumn returns rec without the named column.
func dropColumn(t testing.TB, rec arrow.RecordBatch, name string) arrow.RecordBatch {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		t.Fatalf("no column %s", name)
	}
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range rec.Schema().Fields() {
		if i != idx[0] {
			fields = append(fields, f)
			cols = append(cols, rec.Column(i))
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
