package rank

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseShare(t *testing.T) {
	tests := []struct {
		in   string
		want Share
		err  bool
	}{
		{"5%", Percent(5), false},
		{" 2.5 %", Percent(2.5), false},
		{"0%", Percent(0), false},
		{"100%", Percent(100), false},
		{"500", Rows(500), false},
		{"0", Rows(0), false},
		{"101%", Share{}, true},
		{"-1%", Share{}, true},
		{"NaN%", Share{}, true},
		{"-3", Share{}, true},
		{"0.05", Percent(5), false},
		{"0.07", Percent(7), false},
		{"0.5", Percent(50), false},
		{"1.0", Percent(100), false},
		{"1.5", Share{}, true},
		{"5.", Share{}, true},
		{"NaN", Share{}, true},
		{"2.5e-2", Percent(2.5), false},
		{"", Share{}, true},
		{"5 percent", Share{}, true},
	}
	for _, tc := range tests {
		got, err := ParseShare(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseShare(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil {
			back, _ := ParseShare(got.String())
			if back != got {
				t.Errorf("ParseShare(%q).String() = %q does not read back", tc.in, got.String())
			}
		}
	}
}

// ParseRate: a share only, as a fraction; a whole number is no count here.
func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  bool
	}{
		{"2%", 0.02, false}, {"0.02", 0.02, false}, {"1", 1, false}, {"0", 0, false}, {"100%", 1, false},
		{"5", 0, true}, {"500", 0, true}, {"1.5", 0, true}, {"-1%", 0, true}, {"", 0, true},
	} {
		got, err := ParseRate(tc.in)
		if (err != nil) != tc.err || (err == nil && math.Abs(got-tc.want) > 1e-15) {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// A count of 1 to 100 rows under 1% of the scored rows is flagged; shares and
// large counts are not.
func TestSmallCount(t *testing.T) {
	for _, tc := range []struct {
		s    Share
		n    int
		want bool
	}{
		{Rows(5), 100000, true}, {Rows(100), 10000, true}, {Rows(100), 9999, false}, {Rows(500), 100000, false},
		{Rows(0), 100000, false}, {Percent(5), 100000, false}, {Rows(5), 400, false},
	} {
		msg, got := tc.s.SmallCount(tc.n)
		if got != tc.want {
			t.Errorf("%v.SmallCount(%d) = %q, %v; want %v", tc.s, tc.n, msg, got, tc.want)
		}
	}
	if msg, _ := Rows(5).SmallCount(100000); msg != "5 means 5 rows (0.005% of the 100000 scored); write 5% for a share" {
		t.Errorf("message %q", msg)
	}
}

// The rows a share takes, worked by hand from docs/DESIGN.md's
// k = max(1, round(N*n/100)).
func TestShareOf(t *testing.T) {
	tests := []struct {
		s    Share
		n    int
		want int
	}{
		{Percent(5), 1000, 50},
		{Percent(5), 10, 1},  // round(0.5) = 1
		{Percent(5), 9, 1},   // round(0.45) = 0, then max(1, 0)
		{Percent(5), 30, 2},  // round(1.5) = 2
		{Percent(10), 25, 3}, // round(2.5) = 3 (halves away from zero)
		{Percent(0), 1000, 0},
		{Percent(100), 7, 7},
		{Percent(5), 0, 0},
		{Rows(500), 1000, 500},
		{Rows(500), 200, 200},
		{Rows(0), 200, 0},
	}
	for _, tc := range tests {
		if got := tc.s.Of(tc.n); got != tc.want {
			t.Errorf("%v.Of(%d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
	// A share of a lane has no minimum of one row.
	if got := Percent(10).part(3); got != 0 {
		t.Errorf("10%% of a 3-row lane = %d, want 0", got)
	}
	if got := Percent(10).part(15); got != 2 {
		t.Errorf("10%% of a 15-row lane = %d, want 2", got)
	}
}

// reference ranks scores the plain way: a stable sort of the ordinals by
// descending score, NaN last.
func reference(scores []float32) []uint32 {
	ords := make([]uint32, len(scores))
	for i := range ords {
		ords[i] = uint32(i)
	}
	slices.SortStableFunc(ords, func(a, b uint32) int {
		x, y := scores[a], scores[b]
		xn, yn := x != x, y != y
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return cmp.Compare(y, x)
	})
	return ords
}

func randomScores(r *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1, -1, 0.5, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}
	s := make([]float32, n)
	for i := range s {
		switch r.IntN(4) {
		case 0:
			s[i] = special[r.IntN(len(special))]
		case 1:
			s[i] = float32(r.IntN(5)) / 4 // many ties
		case 2:
			s[i] = float32(r.NormFloat64() * 1000)
		default:
			s[i] = r.Float32()
		}
	}
	return s
}

func keysOf(scores []float32) []Key {
	keys := make([]Key, len(scores))
	for i, s := range scores {
		keys[i] = MakeKey(s, uint32(i))
	}
	return keys
}

func TestSortMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 10, 1000, 50000} {
		scores := randomScores(r, n)
		keys := keysOf(scores)
		got := Sort(keys, make([]Key, n))
		want := reference(scores)
		for i := range want {
			if got[i].Ord() != want[i] {
				t.Fatalf("n=%d: rank %d holds ordinal %d, want %d", n, i, got[i].Ord(), want[i])
			}
		}
	}
	// All scores equal: every pass is skipped and input order is kept.
	keys := keysOf(make([]float32, 100))
	got := Sort(keys, make([]Key, 100))
	for i, k := range got {
		if k.Ord() != uint32(i) {
			t.Fatalf("equal scores: rank %d holds ordinal %d", i, k.Ord())
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range randomScores(r, 10000) {
		ord := r.Uint32()
		k := MakeKey(s, ord)
		got := k.Score()
		if k.Ord() != ord {
			t.Fatalf("ordinal %d came back as %d", ord, k.Ord())
		}
		if s != s {
			if got == got {
				t.Fatalf("NaN came back as %v", got)
			}
			continue
		}
		if got != s {
			t.Fatalf("score %v came back as %v", s, got)
		}
	}
}

func TestApplyHandWorked(t *testing.T) {
	// 20 rows scored 20, 19, ..., 1: rank order is input order.
	scores := make([]float32, 20)
	for i := range scores {
		scores[i] = float32(20 - i)
	}
	keys := Sort(keysOf(scores), make([]Key, 20))
	p := Plan{Budget: Percent(25), Yellow: Rows(4), Explore: Rows(2), Seed: 7}
	l, err := p.Apply(keys)
	if err != nil {
		t.Fatal(err)
	}
	want := Lanes{Scored: 20, Red: 5, Explore: 2, Yellow: 4, Green: 11}
	if l != want {
		t.Fatalf("lanes %+v, want %+v", l, want)
	}
	// The top 3 stay; 2 draws from ordinals 3..19 follow in score order; the
	// others keep their order.
	for i := range 3 {
		if keys[i].Ord() != uint32(i) {
			t.Errorf("rank %d: ordinal %d, want %d", i, keys[i].Ord(), i)
		}
	}
	d1, d2 := keys[3].Ord(), keys[4].Ord()
	if d1 < 3 || d2 <= d1 {
		t.Errorf("draws %d, %d: want two distinct ordinals >= 3 in score order", d1, d2)
	}
	rest := keys[5:]
	for i := 1; i < len(rest); i++ {
		if rest[i].Ord() <= rest[i-1].Ord() || rest[i].Ord() == d1 || rest[i].Ord() == d2 {
			t.Fatalf("rest out of order or holds a draw: %v", rest)
		}
	}
	if len(rest) != 15 {
		t.Fatalf("%d rows after the red lane, want 15", len(rest))
	}
	wantLane := []Lane{Red, Red, Red, Red, Red, Yellow, Yellow, Yellow, Yellow, Green}
	for rnk, lane := range wantLane {
		if got := l.Lane(rnk); got != lane {
			t.Errorf("Lane(%d) = %s, want %s", rnk, got, lane)
		}
	}
	for rnk := range 20 {
		explo := rnk == 3 || rnk == 4
		if l.Exploration(rnk) != explo {
			t.Errorf("Exploration(%d) = %v", rnk, !explo)
		}
		if l.Explained(rnk) != (rnk < 9 && !explo) {
			t.Errorf("Explained(%d) wrong", rnk)
		}
	}
}

func TestApplyDeterministicAndSeeded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	scores := randomScores(r, 5000)
	run := func(seed uint64) []Key {
		keys := Sort(keysOf(scores), make([]Key, len(scores)))
		p := Plan{Budget: Percent(5), Yellow: Percent(10), Explore: Percent(20), Seed: seed}
		if _, err := p.Apply(keys); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different order")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same draw")
	}
	// Every row is still there exactly once.
	seen := make([]bool, len(scores))
	for _, k := range a {
		if seen[k.Ord()] {
			t.Fatalf("ordinal %d twice", k.Ord())
		}
		seen[k.Ord()] = true
	}
}

// The draw is uniform over the rows outside the top: over many seeds each
// candidate position is drawn about k/m of the time.
func TestDrawUniform(t *testing.T) {
	const lo, hi, k, trials = 10, 50, 4, 20000
	m := hi - lo
	hits := make([]int, hi)
	for seed := range uint64(trials) {
		pos := drawPositions(lo, hi, k, seed)
		if len(pos) != k {
			t.Fatalf("%d draws, want %d", len(pos), k)
		}
		for i, p := range pos {
			if p < lo || p >= hi || (i > 0 && p <= pos[i-1]) {
				t.Fatalf("draws %v: out of range or not distinct", pos)
			}
			hits[p]++
		}
	}
	want := float64(trials) * k / float64(m)
	chi2 := 0.0
	for p := lo; p < hi; p++ {
		d := float64(hits[p]) - want
		chi2 += d * d / want
	}
	// 39 degrees of freedom: the 99.9th percentile of chi-square is about 72.
	if chi2 > 72 {
		t.Errorf("draw frequencies far from uniform: chi2 = %.1f, hits %v", chi2, hits[lo:])
	}
}

func TestApplyEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		n    int
		p    Plan
		want Lanes
	}{
		{0, DefaultPlan(), Lanes{}},
		{1, DefaultPlan(), Lanes{Scored: 1, Red: 1}},
		{3, Plan{Budget: Percent(100), Yellow: Percent(50), Explore: Percent(50)}, Lanes{Scored: 3, Red: 3, Explore: 2}},
		{10, Plan{Budget: Rows(4), Yellow: Rows(100), Explore: Rows(4)}, Lanes{Scored: 10, Red: 4, Explore: 4, Yellow: 6}},
		{10, Plan{Budget: Percent(0), Yellow: Percent(0), Explore: Percent(10)}, Lanes{Scored: 10, Green: 10}},
	} {
		keys := keysOf(make([]float32, tc.n))
		got, err := tc.p.Apply(keys)
		if err != nil || got != tc.want {
			t.Errorf("n=%d %+v: %+v, %v; want %+v", tc.n, tc.p, got, err, tc.want)
		}
	}
}

func BenchmarkSort(b *testing.B) {
	const n = 1 << 22
	r := rand.New(rand.NewPCG(1, 1))
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = r.Float32()
	}
	keys := keysOf(scores)
	work := make([]Key, n)
	buf := make([]Key, n)
	b.ResetTimer()
	for b.Loop() {
		copy(work, keys)
		Sort(work, buf)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
