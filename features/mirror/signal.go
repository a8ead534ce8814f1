package mirror

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// Signal is the mirror evidence about one declaration: the gap statistics of
// its origin-by-HS-by-year flow. Fields are NaN when unknown.
type Signal struct {
	// Level is the HS level the statistics come from: 6 when the HS6 flow
	// has both sides, else 4 or 2 (the roll-up containing it), 0 when the
	// trade statistics say nothing about it.
	Level int8
	// RelGap is (partner exports - reporter imports) / partner exports,
	// both FOB; LogRatio is ln(partner exports / reporter imports).
	RelGap, LogRatio float64
	// UVRatio is the partner's export unit value over the reporter's
	// import unit value (FOB per kg).
	UVRatio float64
	// RevenueShare is the flow's revenue-gap estimate as a share of the
	// sum of all positive estimates.
	RevenueShare float64
}

// SignalNames are the feature names of the signal columns, in the order of
// SignalColumns' fields.
var SignalNames = []string{"mirror_level", "mirror_rel_gap", "mirror_log_ratio", "mirror_uv_ratio", "mirror_revenue_share"}

// noSignal is the signal of a flow the statistics do not cover.
var noSignal = Signal{RelGap: math.NaN(), LogRatio: math.NaN(), UVRatio: math.NaN(), RevenueShare: math.NaN()}

type sigKey struct {
	origin string
	hs     string
	year   int32
}

// Signals is a fitted dictionary of mirror signals for one reporter, keyed
// by origin country, HS code (6, 4 and 2 digits) and year. Build it once
// from a gap table (Gaps.Signals), save it with a model (WriteJSON,
// ReadSignals), and apply it to batches of declarations (Apply, ApplyBatch).
type Signals struct {
	Reporter string
	CIFFOB   float64
	table    map[sigKey]Signal
}

// Signals builds the signal dictionary: HS6 flows summed over the months
// of each year, and their HS4 and HS2 roll-ups per origin and year. A key is
// kept only when both sides report trade, so that a declaration whose HS6
// flow is one-sided falls back to its HS4 or HS2 flow.
func (g *Gaps) Signals() *Signals {
	type acc struct {
		imp, exp, rev Cents
		impKg, expKg  float64
	}
	sums := map[sigKey]*acc{}
	for i := range g.Flows {
		f := &g.Flows[i]
		for _, n := range [...]int{6, 4, 2} {
			k := sigKey{f.Partner, f.HS[:n], int32(f.Year)}
			a := sums[k]
			if a == nil {
				a = &acc{}
				sums[k] = a
			}
			a.imp += f.ImportFOB
			a.exp += f.ExportFOB
			a.rev += f.RevenueGap
			a.impKg = sumKg(a.impKg, f.ImportKg, f.ImportFOB)
			a.expKg = sumKg(a.expKg, f.ExportKg, f.ExportFOB)
		}
	}
	s := &Signals{Reporter: g.Summary.Reporter, CIFFOB: g.Config.CIFFOB, table: make(map[sigKey]Signal, len(sums))}
	total := g.Summary.RevenueGapPositive
	for k, a := range sums {
		if a.imp <= 0 || a.exp <= 0 {
			continue
		}
		sg := Signal{Level: int8(len(k.hs)), RelGap: float64(a.exp-a.imp) / float64(a.exp),
			LogRatio: math.Log(float64(a.exp) / float64(a.imp)), UVRatio: math.NaN(), RevenueShare: math.NaN()}
		if a.impKg > 0 && a.expKg > 0 {
			sg.UVRatio = (float64(a.exp) / a.expKg) / (float64(a.imp) / a.impKg)
		}
		if total > 0 {
			sg.RevenueShare = float64(a.rev) / float64(total)
		}
		s.table[k] = sg
	}
	return s
}

// Len returns the number of (origin, HS, year) entries.
func (s *Signals) Len() int { return len(s.table) }

// Lookup returns the signal for a declaration from origin (ISO3, ISO2 or
// numeric code) under an HS code (6 digits or more; the first 6 count) in a
// year: the HS6 flow's, else its HS4 or HS2 roll-up's, else a signal with
// Level 0 and NaN statistics.
func (s *Signals) Lookup(origin, hs string, year int) Signal {
	o := Country(origin)
	for _, n := range [...]int{6, 4, 2} {
		if len(hs) < n {
			continue
		}
		if sg, ok := s.table[sigKey{o, hs[:n], int32(year)}]; ok {
			return sg
		}
	}
	return noSignal
}

// SignalColumns holds one signal per declaration, column by column.
type SignalColumns struct {
	Level                                   []int8
	RelGap, LogRatio, UVRatio, RevenueShare []float64
}

func (c *SignalColumns) reset(n int) {
	c.Level = resize(c.Level, n)
	c.RelGap = resize(c.RelGap, n)
	c.LogRatio = resize(c.LogRatio, n)
	c.UVRatio = resize(c.UVRatio, n)
	c.RevenueShare = resize(c.RevenueShare, n)
}

func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

func (c *SignalColumns) set(i int, sg Signal) {
	c.Level[i], c.RelGap[i], c.LogRatio[i], c.UVRatio[i], c.RevenueShare[i] =
		sg.Level, sg.RelGap, sg.LogRatio, sg.UVRatio, sg.RevenueShare
}

// Apply fills out with the signal of every declaration given by its origin,
// HS code and year (equal-length columns), reusing out's slices. Each
// distinct (origin, HS6, year) of the batch is resolved once with Lookup;
// every row then costs one map lookup.
func (s *Signals) Apply(origin, hs []string, year []int32, out *SignalColumns) error {
	n := len(origin)
	if len(hs) != n || len(year) != n {
		return fmt.Errorf("mirror signals: columns of different lengths (origin %d, hs %d, year %d)", n, len(hs), len(year))
	}
	out.reset(n)
	batch := map[sigKey]Signal{}
	for i := 0; i < n; i++ {
		out.set(i, s.cached(batch, origin[i], hs[i], year[i]))
	}
	return nil
}

// cached returns the signal of a declaration's origin, HS code (cut to
// HS6) and year, resolving each distinct key of a batch once with Lookup.
func (s *Signals) cached(batch map[sigKey]Signal, origin, hs string, year int32) Signal {
	if len(hs) > 6 {
		hs = hs[:6]
	}
	k := sigKey{origin, hs, year}
	sg, ok := batch[k]
	if !ok {
		sg = s.Lookup(k.origin, k.hs, int(k.year))
		batch[k] = sg
	}
	return sg
}

// ApplyBatch computes the signals of a batch of canonical declarations
// (columns origin_country, hs_code and date; see package decl). Rows with a
// null origin, code or date get no signal (Level 0).
func (s *Signals) ApplyBatch(rec arrow.RecordBatch, out *SignalColumns) error {
	origin, err := decl.Need[*array.String](rec, decl.OriginCountry)
	if err != nil {
		return fmt.Errorf("mirror signals: %w", err)
	}
	hs, err := decl.Need[*array.String](rec, decl.HSCode)
	if err != nil {
		return fmt.Errorf("mirror signals: %w", err)
	}
	date, err := decl.Need[*array.Date32](rec, decl.Date)
	if err != nil {
		return fmt.Errorf("mirror signals: %w", err)
	}
	n := int(rec.NumRows())
	out.reset(n)
	batch := map[sigKey]Signal{}
	for i := 0; i < n; i++ {
		if origin.IsNull(i) || hs.IsNull(i) || date.IsNull(i) {
			out.set(i, noSignal)
			continue
		}
		year := int32(time.Unix(int64(date.Value(i))*86400, 0).UTC().Year())
		out.set(i, s.cached(batch, origin.Value(i), hs.Value(i), year))
	}
	return nil
}

// signalsFormat names the JSON layout, so that a model directory written by
// a later version is refused rather than misread.
const signalsFormat = "risklane.mirror.signals/1"

type signalsJSON struct {
	Format   string      `json:"format"`
	Reporter string      `json:"reporter"`
	CIFFOB   float64     `json:"cif_fob"`
	Entries  []entryJSON `json:"entries"`
}

type entryJSON struct {
	Origin       string    `json:"origin"`
	HS           string    `json:"hs"`
	Year         int32     `json:"year"`
	RelGap       jsonFloat `json:"rel_gap"`
	LogRatio     jsonFloat `json:"log_ratio"`
	UVRatio      jsonFloat `json:"uv_ratio"`
	RevenueShare jsonFloat `json:"revenue_share"`
}

// jsonFloat writes NaN as null, which JSON can carry and float64 cannot.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

// WriteJSON saves the dictionary as JSON, entries sorted so that the same
// statistics always give the same file.
func (s *Signals) WriteJSON(w io.Writer) error {
	doc := signalsJSON{Format: signalsFormat, Reporter: s.Reporter, CIFFOB: s.CIFFOB, Entries: make([]entryJSON, 0, len(s.table))}
	for k, sg := range s.table {
		doc.Entries = append(doc.Entries, entryJSON{Origin: k.origin, HS: k.hs, Year: k.year, RelGap: jsonFloat(sg.RelGap),
			LogRatio: jsonFloat(sg.LogRatio), UVRatio: jsonFloat(sg.UVRatio), RevenueShare: jsonFloat(sg.RevenueShare)})
	}
	sort.Slice(doc.Entries, func(i, j int) bool {
		a, b := doc.Entries[i], doc.Entries[j]
		if a.Origin != b.Origin {
			return a.Origin < b.Origin
		}
		if a.Year != b.Year {
			return a.Year < b.Year
		}
		return a.HS < b.HS
	})
	return json.NewEncoder(w).Encode(doc)
}

// ReadSignals loads a dictionary saved by WriteJSON.
func ReadSignals(r io.Reader) (*Signals, error) {
	var doc signalsJSON
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("mirror signals: %w", err)
	}
	if doc.Format != signalsFormat {
		return nil, fmt.Errorf("mirror signals: format %q, expected %q; rebuild the signals with this version of risklane", doc.Format, signalsFormat)
	}
	s := &Signals{Reporter: doc.Reporter, CIFFOB: doc.CIFFOB, table: make(map[sigKey]Signal, len(doc.Entries))}
	for i, e := range doc.Entries {
		if l := len(e.HS); (l != 2 && l != 4 && l != 6) || !isDigits(e.HS) {
			return nil, fmt.Errorf("mirror signals: entry %d: HS %q is not a 2-, 4- or 6-digit code", i, e.HS)
		}
		s.table[sigKey{e.Origin, e.HS, e.Year}] = Signal{Level: int8(len(e.HS)), RelGap: float64(e.RelGap),
			LogRatio: float64(e.LogRatio), UVRatio: float64(e.UVRatio), RevenueShare: float64(e.RevenueShare)}
	}
	return s, nil
}
