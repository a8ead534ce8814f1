// Package demo holds the small data set embedded in the risklane binary, so
// that `risklane demo` runs with no files at all: 20,000 synthetic
// declarations with planted fraud (canonical CSV), the matching trade
// statistics (UN Comtrade layout), the truth file of the under-declared flows
// and the tariff table, all produced by package synth from Config.
//
// The files are regenerated with `go generate ./datasets/demo`; a test checks
// that regenerating gives byte-identical files.
package demo

//go:generate go run ./gen

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"risklane/datasets/synth"
	"risklane/sink"
)

// Names of the demo files, as WriteTo writes them.
const (
	DeclarationsFile = "declarations.csv"
	TradeFile        = "trade.csv"
	TruthFile        = "truth.csv"
	TariffsFile      = "tariffs.csv"
)

// Files lists the demo files in the order WriteTo writes them.
var Files = []string{DeclarationsFile, TradeFile, TruthFile, TariffsFile}

// Larger files are embedded gzip-compressed under their name plus ".gz".
var compressed = map[string]bool{DeclarationsFile: true, TradeFile: true}

//go:embed data
var data embed.FS

// Config returns the configuration the demo files are generated from.
func Config() synth.Config {
	cfg := synth.DefaultConfig()
	cfg.Rows = 20_000
	cfg.Seed = 20240101
	cfg.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.End = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	cfg.NumHS = 150
	cfg.NumImporters = 1500
	cfg.NumDeclarants = 120
	cfg.NumSellers = 1000
	cfg.UnderdeclaredFlows = 12
	return cfg
}

// File returns the content of one demo file (uncompressed).
func File(name string) ([]byte, error) {
	if !known(name) {
		return nil, fmt.Errorf("demo: no file %q; the files are %s", name, strings.Join(Files, ", "))
	}
	if !compressed[name] {
		return data.ReadFile("data/" + name)
	}
	gz, err := data.ReadFile("data/" + name + ".gz")
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	return io.ReadAll(zr)
}

func known(name string) bool {
	for _, f := range Files {
		if f == name {
			return true
		}
	}
	return false
}

// Declarations returns the name and content of the declarations CSV
// (canonical columns, read it with the "canonical" profile).
func Declarations() (name string, content []byte) { return mustFile(DeclarationsFile) }

// Trade returns the name and content of the trade statistics CSV.
func Trade() (name string, content []byte) { return mustFile(TradeFile) }

// Truth returns the name and content of the truth file of the planted
// under-declared flows.
func Truth() (name string, content []byte) { return mustFile(TruthFile) }

// Tariffs returns the name and content of the tariff table (hs,rate in
// percent).
func Tariffs() (name string, content []byte) { return mustFile(TariffsFile) }

// mustFile reads an embedded file; the files are compiled in and checked by
// the tests, so failing here means the binary itself is broken.
func mustFile(name string) (string, []byte) {
	b, err := File(name)
	if err != nil {
		panic(err)
	}
	return name, b
}

// WriteTo writes the demo files, uncompressed, into dir (created if needed),
// each atomically, and returns their paths in the order of Files.
func WriteTo(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var paths []string
	for _, name := range Files {
		b, err := File(name)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, name)
		if err := sink.WriteFileAtomic(p, b); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Generate writes the files to embed into dir, as they are stored: the
// declarations and trade statistics gzip-compressed (with an empty gzip
// header, so the bytes depend on the content only), the others plain.
func Generate(dir string) error {
	g, err := synth.New(Config())
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, ".demo-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	plain := filepath.Join(tmp, DeclarationsFile)
	w, err := sink.Create(plain, g.Schema())
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := synth.Stream(g, w.Write); err != nil {
		return err
	}
	if err := w.Commit(); err != nil {
		return err
	}
	b, err := os.ReadFile(plain)
	if err != nil {
		return err
	}
	contents := map[string]*bytes.Buffer{DeclarationsFile: bytes.NewBuffer(b), TradeFile: {}, TruthFile: {}, TariffsFile: {}}
	if err := g.TradeStatistics(contents[TradeFile]); err != nil {
		return err
	}
	if err := g.Truth(contents[TruthFile]); err != nil {
		return err
	}
	if err := g.Tariffs(contents[TariffsFile]); err != nil {
		return err
	}
	for _, name := range Files {
		out, stored := contents[name].Bytes(), name
		if compressed[name] {
			var z bytes.Buffer
			zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
			if err != nil {
				return err
			}
			if _, err := zw.Write(out); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			out, stored = z.Bytes(), name+".gz"
		}
		if err := sink.WriteFileAtomic(filepath.Join(dir, stored), out); err != nil {
			return err
		}
	}
	return nil
}
