package stage

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"risklane/features/mirror"
	"risklane/sink"
)

// MirrorConfig is one mirror analysis, as risklane mirror takes it.
type MirrorConfig struct {
	Trade    []string // Comtrade files (bulk or API layout, .gz accepted)
	Reporter string
	// CIFFOB, MinValue and DutyBase are risklane mirror's --cif-fob,
	// --min-value and --duty-base (zero: mirror.DefaultConfig's).
	CIFFOB, MinValue float64
	DutyBase         mirror.DutyBase
	Tariffs          string // tariff table (CSV hs,rate); "" for none
	Out              string // the gap table: .parquet, .csv or .arrow
	Rejects          string // rejected rows (CSV); "" for none
	Signals          string // the per-declaration signal dictionary (JSON); "" for none
}

// Mirror adds the mirror analysis to the pipeline:
//
//	files -> read in parallel (mirror.ReadPart): the reporter's mirror,
//	         its imports and its partners' exports to it, kept; every
//	         other reporter's rows only counted
//	      -> one worker: the parts added in file order (mirror.AddPart),
//	         then pairing by partner, HS6 and period, the robust z-scores,
//	         ranking, misclassification pairs and roll-ups (mirror.Builder)
//
// Reading is the bulk of the work over Comtrade bulk files (every reporter,
// partner, commodity and period); one reporter's mirror is a small share of
// it, and its statistics (a median over all its flows, a global ranking)
// are global. The gap table, rejects and signals are byte-identical to
// risklane mirror's (TestMirrorEqualsRisklaneMirror).
func Mirror(s beam.Scope, cfg MirrorConfig) error {
	s = s.Scope("mirror")
	if _, err := sink.FormatOf(cfg.Out); err != nil {
		return fmt.Errorf("mirror: --out %w", err)
	}
	in := beam.CreateList(s, filesOf(cfg.Trade))
	parts := beam.ParDo(s, &readPartFn{Reporter: cfg.Reporter}, in)
	beam.ParDo0(s, &analyzeFn{Config: cfg}, beam.GroupByKey(s, beam.AddFixedKey(s, parts)))
	return nil
}

// filePart is a file's mirror.Part, gob-encoded (its quantities may be
// NaN), with the file's place in the input order.
type filePart struct {
	File int
	Part []byte
}

type readPartFn struct {
	Reporter string
}

func (f *readPartFn) ProcessElement(in fileIn, emit func(filePart)) error {
	r, err := os.Open(in.Path)
	if err != nil {
		return fmt.Errorf("trade statistics: %w", err)
	}
	defer r.Close()
	p, err := mirror.ReadPart(r, in.Path, f.Reporter)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(p); err != nil {
		return err
	}
	emit(filePart{File: in.Index, Part: buf.Bytes()})
	return nil
}

type analyzeFn struct {
	Config MirrorConfig
}

func (f *analyzeFn) ProcessElement(_ int, parts func(*filePart) bool) error {
	c := f.Config
	g, err := gapsOf(c, nil, parts)
	if err != nil {
		return err
	}
	if err := g.WriteTable(c.Out); err != nil {
		return err
	}
	if c.Rejects != "" {
		if err := g.WriteRejects(c.Rejects); err != nil {
			return err
		}
	}
	if c.Signals != "" {
		var buf bytes.Buffer
		if err := g.Signals().WriteJSON(&buf); err != nil {
			return err
		}
		return sink.WriteFileAtomic(c.Signals, buf.Bytes())
	}
	return nil
}

// gapsOf adds the parts to a mirror.Builder in file order and computes the
// gaps, with c's settings (risklane mirror's flags) and effective rates eff
// (nil for none).
func gapsOf(c MirrorConfig, eff *mirror.Tariffs, parts func(*filePart) bool) (*mirror.Gaps, error) {
	cfg := mirror.DefaultConfig(c.Reporter)
	if c.CIFFOB != 0 {
		cfg.CIFFOB = c.CIFFOB
	}
	if c.MinValue != 0 {
		cfg.MinValue = c.MinValue
	}
	cfg.DutyBase = c.DutyBase
	cfg.EffectiveRates = eff
	if c.Tariffs != "" {
		r, err := os.Open(c.Tariffs)
		if err != nil {
			return nil, fmt.Errorf("tariffs: %w", err)
		}
		cfg.Tariffs, _, err = mirror.ReadTariffs(r, c.Tariffs)
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	var all []filePart
	var p filePart
	for parts(&p) {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b filePart) int { return a.File - b.File })
	b, err := mirror.NewBuilder(cfg)
	if err != nil {
		return nil, err
	}
	for _, fp := range all {
		var part mirror.Part
		if err := gob.NewDecoder(bytes.NewReader(fp.Part)).Decode(&part); err != nil {
			return nil, err
		}
		b.AddPart(&part)
	}
	return b.Gaps()
}

func init() {
	register.DoFn2x1[fileIn, func(filePart), error](&readPartFn{})
	register.DoFn2x1[int, func(*filePart) bool, error](&analyzeFn{})
	register.Emitter1[filePart]()
	register.Iter1[filePart]()
}
