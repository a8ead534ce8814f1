package score

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"risklane/decl"
	"risklane/models"
	"risklane/models/explain"
	"risklane/models/xgb"
	"risklane/pipeline/rank"
)

// sliceSource replays record batches.
type sliceSource struct {
	recs []arrow.RecordBatch
	i    int
	err  error
}

func (s *sliceSource) Next() bool {
	if s.i >= len(s.recs) {
		return false
	}
	s.i++
	return true
}
func (s *sliceSource) RecordBatch() arrow.RecordBatch { return s.recs[s.i-1] }
func (s *sliceSource) Err() error                     { return s.err }

// declarations builds n rows in the canonical schema, in batches of size bs.
func declarations(t testing.TB, n, bs int, seed uint64) []arrow.RecordBatch {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	schema := decl.Schema()
	var recs []arrow.RecordBatch
	for lo := 0; lo < n; lo += bs {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := lo; i < min(lo+bs, n); i++ {
			for c, f := range schema.Fields() {
				fb := b.Field(c)
				switch f.Name {
				case decl.DeclarationID:
					fb.(*array.StringBuilder).Append(fmt.Sprintf("D%08d", i))
				case decl.HSCode:
					fb.(*array.StringBuilder).Append(fmt.Sprintf("%02d0323", 10+r.IntN(80)))
				case decl.OriginCountry:
					fb.(*array.StringBuilder).Append([]string{"CN", "DE", "US"}[r.IntN(3)])
				case decl.FOBValue:
					fb.(*array.Float64Builder).Append(math.Round(r.ExpFloat64()*1000) / 4) // many ties
				case decl.Quantity:
					if r.IntN(10) == 0 {
						fb.AppendNull()
					} else {
						fb.(*array.Float64Builder).Append(float64(1 + r.IntN(20)))
					}
				default:
					fb.AppendNull()
				}
			}
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	return recs
}

// fakeModel: features are fob_value, quantity (NaN when null) and the HS
// chapter; the probability comes from a random ensemble over them.
type fakeModel struct {
	trees    *xgb.Model
	ex       *explain.Explainer
	failRows int // Features fails on a batch holding this row count, if > 0
}

func newFakeModel(seed uint64) *fakeModel {
	r := rand.New(rand.NewPCG(seed, 2))
	m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.2, NumFeature: 3}
	for range 20 {
		m.Trees = append(m.Trees, randomTree(r, 4))
	}
	ex, err := explain.New(m)
	if err != nil {
		panic(err)
	}
	return &fakeModel{trees: m, ex: ex}
}

// randomTree grows a full tree with thresholds in the features' ranges.
func randomTree(r *rand.Rand, depth int) xgb.Tree {
	var t xgb.Tree
	var grow func(d int) (int32, float32)
	grow = func(d int) (int32, float32) {
		id := int32(len(t.Left))
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.SplitIndex = append(t.SplitIndex, 0)
		t.SplitCondition = append(t.SplitCondition, 0)
		t.DefaultLeft = append(t.DefaultLeft, r.IntN(2) == 0)
		t.SumHessian = append(t.SumHessian, 0)
		if d == depth {
			t.SplitCondition[id] = float32(r.NormFloat64() * 0.3)
			t.SumHessian[id] = float32(1 + r.IntN(30))
			return id, t.SumHessian[id]
		}
		f := r.IntN(3)
		t.SplitIndex[id] = int32(f)
		t.SplitCondition[id] = float32([]float64{r.ExpFloat64() * 250, float64(r.IntN(20)), float64(10 + r.IntN(80))}[f])
		l, hl := grow(d + 1)
		rr, hr := grow(d + 1)
		t.Left[id], t.Right[id], t.SumHessian[id] = l, rr, hl+hr
		return id, hl + hr
	}
	grow(0)
	return t
}

func (m *fakeModel) Kind() string     { return "fake" }
func (m *fakeModel) HasRevenue() bool { return true }
func (m *fakeModel) Contributions(x, contrib []float64) float64 {
	return m.ex.Contributions(x, contrib)
}
func (m *fakeModel) ID() string             { return "fake-1" }
func (m *fakeModel) FeatureNames() []string { return []string{"fob_value", "quantity", "hs_chapter"} }
func (m *fakeModel) Trees() *xgb.Model      { return m.trees }
func (m *fakeModel) Columns() []string {
	return []string{decl.DeclarationID, decl.FOBValue, decl.Quantity, decl.HSCode}
}
func (m *fakeModel) Check(s *arrow.Schema) error {
	for _, c := range []string{decl.FOBValue, decl.Quantity, decl.HSCode} {
		if len(s.FieldIndices(c)) == 0 {
			return fmt.Errorf("input lacks column %s", c)
		}
	}
	return nil
}

func col[T any](rec arrow.RecordBatch, name string) T {
	return rec.Column(rec.Schema().FieldIndices(name)[0]).(T)
}

func (m *fakeModel) Features(rec arrow.RecordBatch, feats []float64) error {
	n := int(rec.NumRows())
	if n == m.failRows {
		return errors.New("feature state broken")
	}
	fob := col[*array.Float64](rec, decl.FOBValue)
	qty := col[*array.Float64](rec, decl.Quantity)
	hs := col[*array.String](rec, decl.HSCode)
	for i := range n {
		feats[i*3] = fob.Value(i)
		feats[i*3+1] = math.NaN()
		if qty.IsValid(i) {
			feats[i*3+1] = qty.Value(i)
		}
		feats[i*3+2] = float64(int(hs.Value(i)[0]-'0')*10 + int(hs.Value(i)[1]-'0'))
	}
	return nil
}

func (m *fakeModel) Predict(_ arrow.RecordBatch, feats []float64, prob, expRev []float64) error {
	for i := range prob {
		x := feats[i*3 : i*3+3]
		p := 1 / (1 + math.Exp(-margin(m.trees, x)))
		prob[i], expRev[i] = p, p*x[0]*0.3
	}
	return nil
}

func margin(m *xgb.Model, x []float64) float64 {
	s := math.Log(float64(m.BaseScore) / (1 - float64(m.BaseScore)))
	for i := range m.Trees {
		t := &m.Trees[i]
		n := int32(0)
		for t.Left[n] != -1 {
			v := x[t.SplitIndex[n]]
			switch {
			case math.IsNaN(v) && t.DefaultLeft[n], !math.IsNaN(v) && float32(v) < t.SplitCondition[n]:
				n = t.Left[n]
			default:
				n = t.Right[n]
			}
		}
		s += float64(t.SplitCondition[n])
	}
	return s
}

// runAll runs the whole stage: score, rank, join, write to Parquet, and
// reads the ranked file back.
func runAll(t *testing.T, recs []arrow.RecordBatch, m models.Model, plan rank.Plan, cfg Config, afterScore ...func(*Scored)) ([]rank.Row, rank.Lanes, *Spill) {
	t.Helper()
	ctx := context.Background()
	cfg.Model = m
	if cfg.Explained == nil {
		cfg.Explained = plan.Explained
	}
	cfg.TempDir = t.TempDir()
	s, err := Score(ctx, &sliceSource{recs: recs}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	for _, f := range afterScore {
		f(s)
	}
	ranked := rank.Sort(s.Keys, make([]rank.Key, len(s.Keys)))
	lanes, err := plan.Apply(ranked)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := s.Join(ctx, ranked, lanes, func() (Source, error) { return &sliceSource{recs: recs}, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Remove()
	path := filepath.Join(t.TempDir(), "ranked.parquet")
	w, err := rank.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := sp.Write(s, ranked, lanes, RunInfo{ModelID: m.ID(), RunID: "run-1"}, []*rank.Writer{w}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.ReadFile[rank.Row](path)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(cfg.TempDir); len(left) > 0 {
		s.Remove()
		if left, _ = os.ReadDir(cfg.TempDir); len(left) > 0 {
			t.Fatalf("spill files left: %v", left)
		}
	}
	return rows, lanes, sp
}

// The ranked file agrees with a plain computation: every row scored one by
// one, sorted by descending float32 probability with ties by input order.
func TestRankedFileMatchesPlainComputation(t *testing.T) {
	const n = 3*bucketRows/2 + 77 // two spill buckets, uneven batches
	recs := declarations(t, n, 10007, 1)
	m := newFakeModel(1)
	plan := rank.Plan{Budget: rank.Percent(5), Yellow: rank.Percent(10), Explore: rank.Percent(10), Seed: 9}
	rows, lanes, _ := runAll(t, recs, m, plan, Config{Workers: 3})

	type ref struct {
		id   string
		prob float32
		rev  float64
		ord  int
	}
	var all []ref
	feats := make([]float64, 3*10007)
	for _, rec := range recs {
		k := int(rec.NumRows())
		m.Features(rec, feats[:3*k])
		ids := col[*array.String](rec, decl.DeclarationID)
		for i := range k {
			x := feats[i*3 : i*3+3]
			p := 1 / (1 + math.Exp(-margin(m.trees, x)))
			all = append(all, ref{ids.Value(i), float32(p), p * x[0] * 0.3, len(all)})
		}
	}
	order := slices.Clone(all)
	slices.SortStableFunc(order, func(a, b ref) int { return cmp.Compare(b.prob, a.prob) })

	if len(rows) != n {
		t.Fatalf("%d ranked rows, want %d", len(rows), n)
	}
	// By hand: red round(393293*5%) = 19665, of which round(19665*10%) = 1967
	// draws; yellow round(393293*10%) = 39329.
	wantLanes := rank.Lanes{Scored: n, Red: 19665, Explore: 1967, Yellow: 39329, Green: 334299}
	if lanes != wantLanes {
		t.Fatalf("lanes %+v, want %+v", lanes, wantLanes)
	}
	exploit := lanes.Red - lanes.Explore
	drawn := map[string]bool{}
	for i, r := range rows {
		if r.Rank != int64(i+1) || r.ModelID != "fake-1" || r.RunID != "run-1" || r.Lane != lanes.Lane(i) {
			t.Fatalf("row %d: %+v", i, r)
		}
		if i >= exploit && i < lanes.Red {
			drawn[r.DeclarationID] = true
			if r.Reasons != ExplorationReason {
				t.Fatalf("exploration row %d has reasons %q", i, r.Reasons)
			}
		}
	}
	// Outside the draws, the ranked file is the plain order.
	j := 0
	for i, r := range rows {
		if i >= exploit && i < lanes.Red {
			continue
		}
		for drawn[order[j].id] {
			j++
		}
		w := order[j]
		if r.DeclarationID != w.id || r.Score != w.prob || math.Abs(r.ExpectedRevenue-w.rev) > 1e-9*w.rev {
			t.Fatalf("rank %d: %s %v %v, plain computation %s %v %v", i+1, r.DeclarationID, r.Score, r.ExpectedRevenue, w.id, w.prob, w.rev)
		}
		explained := i < lanes.Red+lanes.Yellow
		if explained != (r.Reasons != "") {
			t.Fatalf("rank %d (%s): reasons %q", i+1, r.Lane, r.Reasons)
		}
		j++
	}
	// The draws come from outside the top and are in score order.
	for i := exploit + 1; i < lanes.Red; i++ {
		if rows[i].Score > rows[i-1].Score {
			t.Fatalf("draws out of score order at rank %d", i+1)
		}
	}
	for _, w := range order[:exploit] {
		if drawn[w.id] {
			t.Fatalf("draw %s is in the top", w.id)
		}
	}
}

// Workers and batch sizes change nothing in the ranked file.
func TestSameOutputWhateverTheParallelism(t *testing.T) {
	const n = 20000
	m := newFakeModel(2)
	plan := rank.DefaultPlan()
	a, _, _ := runAll(t, declarations(t, n, 5000, 3), m, plan, Config{Workers: 1})
	b, _, _ := runAll(t, declarations(t, n, 777, 3), m, plan, Config{Workers: 4})
	if !slices.Equal(a, b) {
		t.Fatal("different ranked rows with other workers and batch sizes")
	}
}

// When the first pass lacks the reasons of red or yellow rows (here: its
// reasons spill is emptied), Join reads the input again for them, and the
// ranked file is the same.
func TestRepairGivesTheSameFile(t *testing.T) {
	const n = 30000
	recs := declarations(t, n, 4000, 8)
	m := newFakeModel(8)
	plan := rank.DefaultPlan()
	want, _, sp := runAll(t, recs, m, plan, Config{})
	if sp.Repaired != 0 {
		t.Fatalf("a normal run repaired %d rows", sp.Repaired)
	}
	got, lanes, sp := runAll(t, recs, m, plan, Config{}, forget)
	if want := lanes.Red + lanes.Yellow - lanes.Explore; sp.Repaired != want {
		t.Fatalf("repaired %d rows, want all %d red and yellow ones", sp.Repaired, want)
	}
	if !slices.Equal(got, want) {
		t.Fatal("the repaired run differs")
	}
}

// With every row red, rows below the average still get a reason.
func TestEveryRowRed(t *testing.T) {
	recs := declarations(t, 3000, 1000, 10)
	rows, _, _ := runAll(t, recs, newFakeModel(10), rank.Plan{Budget: rank.Percent(100)}, Config{})
	none := 0
	for _, r := range rows {
		if r.Lane != rank.Red || r.Reasons == "" {
			t.Fatalf("rank %d: lane %s, reasons %q", r.Rank, r.Lane, r.Reasons)
		}
		if r.Reasons == NoReason {
			none++
		}
	}
	if none == 0 {
		t.Error("no row below the average")
	}
}

func TestReasonsNameTheStrongestFeatures(t *testing.T) {
	recs := declarations(t, 2000, 2000, 4)
	m := newFakeModel(4)
	rows, _, _ := runAll(t, recs, m, rank.Plan{Budget: rank.Percent(10), Yellow: rank.Percent(0), Explore: rank.Percent(0)}, Config{})
	for _, r := range rows[:200] {
		if r.Reasons == "" {
			t.Fatalf("red row %s without reasons", r.DeclarationID)
		}
		for _, s := range strings.Split(r.Reasons, "; ") {
			if !strings.HasSuffix(s, "raises the risk") {
				t.Fatalf("unexpected sentence %q", s)
			}
		}
	}
}

// forget empties the candidate spill, so that Join must repair every red and
// yellow row.
func forget(s *Scored) {
	if err := s.candidates.Truncate(0); err != nil {
		panic(err)
	}
}

func TestInputChangedBeforeRepair(t *testing.T) {
	ctx := context.Background()
	m := newFakeModel(5)
	recs := declarations(t, 30000, 10000, 5)
	plan := rank.DefaultPlan()
	s, err := Score(ctx, &sliceSource{recs: recs}, Config{Model: m, Explained: plan.Explained, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	forget(s)
	ranked := rank.Sort(s.Keys, make([]rank.Key, len(s.Keys)))
	lanes, _ := plan.Apply(ranked)
	other := declarations(t, 10000, 10000, 6)
	for name, recs := range map[string][]arrow.RecordBatch{
		"other ids":  {recs[0], recs[1], other[0]},
		"fewer rows": recs[:2],
		"reordered":  {recs[1], recs[0], recs[2]},
	} {
		_, err := s.Join(ctx, ranked, lanes, func() (Source, error) { return &sliceSource{recs: recs}, nil })
		if !errors.Is(err, errInputChanged) {
			t.Errorf("%s: err = %v, want the input-changed error", name, err)
		}
	}
}

func TestErrorsStopThePass(t *testing.T) {
	ctx := context.Background()
	recs := declarations(t, 5000, 1000, 7)
	m := newFakeModel(7)
	m.failRows = 1000
	cfg := func(m models.Model) Config {
		return Config{Model: m, Explained: rank.DefaultPlan().Explained, TempDir: t.TempDir(), Workers: 2}
	}
	if _, err := Score(ctx, &sliceSource{recs: recs}, cfg(m)); err == nil || !strings.Contains(err.Error(), "feature state broken") {
		t.Errorf("feature error: %v", err)
	}
	srcErr := errors.New("disk on fire")
	if _, err := Score(ctx, &sliceSource{recs: recs, err: srcErr}, cfg(newFakeModel(7))); !errors.Is(err, srcErr) {
		t.Errorf("source error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Score(cctx, &sliceSource{recs: recs}, cfg(newFakeModel(7))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// Ranked by expected revenue: the order follows float32 expected revenue,
// and the score column still holds the probability.
func TestRankByRevenue(t *testing.T) {
	recs := declarations(t, 20000, 3000, 9)
	m := newFakeModel(9)
	rows, lanes, _ := runAll(t, recs, m, rank.Plan{Budget: rank.Percent(5), Yellow: rank.Percent(5)}, Config{RankBy: models.ByExpectedRevenue})
	want := map[string][2]float64{}
	feats := make([]float64, 3*3000)
	for _, rec := range recs {
		k := int(rec.NumRows())
		m.Features(rec, feats[:3*k])
		ids := col[*array.String](rec, decl.DeclarationID)
		for i := range k {
			x := feats[i*3 : i*3+3]
			p := 1 / (1 + math.Exp(-margin(m.trees, x)))
			want[ids.Value(i)] = [2]float64{p, p * x[0] * 0.3}
		}
	}
	for i, r := range rows {
		w := want[r.DeclarationID]
		if r.Score != float32(w[0]) || r.ExpectedRevenue != w[1] {
			t.Fatalf("rank %d: score %v revenue %v, want %v %v", i+1, r.Score, r.ExpectedRevenue, float32(w[0]), w[1])
		}
		if i > 0 && float32(r.ExpectedRevenue) > float32(rows[i-1].ExpectedRevenue) {
			t.Fatalf("rank %d: expected revenue %v above rank %d's %v", i+1, r.ExpectedRevenue, i, rows[i-1].ExpectedRevenue)
		}
	}
	if lanes.Red != 1000 || lanes.Yellow != 1000 {
		t.Fatalf("lanes %+v", lanes)
	}
}
