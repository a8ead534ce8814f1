package rank

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Lane is an inspection lane.
type Lane string

// The lanes, from most to least scrutiny.
const (
	Red    Lane = "red"    // physical inspection, within the budget
	Yellow Lane = "yellow" // documentary check
	Green  Lane = "green"  // release
)

// Plan says how a night's scored rows are cut into lanes.
type Plan struct {
	// Budget is the red lane: a share of the scored rows (docs/DESIGN.md's top n%)
	// or a number of rows.
	Budget Share
	// Yellow is the band after the red lane, a share of the scored rows.
	Yellow Share
	// Explore is the part of the red lane given to declarations drawn at
	// random from outside the top: a share of the red lane (rounded, so a
	// small lane may have none) or a number of rows.
	Explore Share
	// Seed makes the exploration draw reproducible.
	Seed uint64
}

// DefaultPlan is the plan the CLI starts from: 5% red, the next 10% yellow,
// a tenth of the red lane explored, seed 1.
func DefaultPlan() Plan {
	return Plan{Budget: Percent(5), Yellow: Percent(10), Explore: Percent(10), Seed: 1}
}

// Explained returns how many of n ranked rows the red and yellow lanes hold:
// the rows that get reasons (exploration draws aside).
func (p Plan) Explained(n int) int {
	red := p.Budget.Of(n)
	return red + min(p.Yellow.Of(n), n-red)
}

// Lanes records where each lane starts and ends in rank order (0-based ranks).
type Lanes struct {
	Scored int `json:"scored"`
	// Red is the number of red rows: ranks [0, Red).
	Red int `json:"red"`
	// Explore is the number of exploration draws among them: ranks
	// [Red-Explore, Red).
	Explore int `json:"explore"`
	// Yellow is the number of yellow rows: ranks [Red, Red+Yellow).
	Yellow int `json:"yellow"`
	// Green is the rest.
	Green int `json:"green"`
}

// Lane returns the lane of a 0-based rank.
func (l Lanes) Lane(rank int) Lane {
	switch {
	case rank < l.Red:
		return Red
	case rank < l.Red+l.Yellow:
		return Yellow
	}
	return Green
}

// Exploration reports whether the row at a 0-based rank is an exploration
// draw.
func (l Lanes) Exploration(rank int) bool { return rank >= l.Red-l.Explore && rank < l.Red }

// Explained reports whether the row at a 0-based rank gets reasons: red and
// yellow rows the model chose (exploration draws get their own reason).
func (l Lanes) Explained(rank int) bool {
	return rank < l.Red+l.Yellow && !l.Exploration(rank)
}

// Apply cuts keys, sorted by Sort, into lanes and moves the exploration draws
// into the red lane, in place. The first Red-Explore ranks are the model's top
// choices; then come the draws, picked uniformly without replacement from all
// the other rows with a generator seeded by p.Seed, in score order; then the
// rest in score order, the yellow band first. The result depends only on the
// keys and the plan.
func (p Plan) Apply(keys []Key) (Lanes, error) {
	lanes, draws, err := p.Cut(len(keys))
	if err != nil {
		return Lanes{}, err
	}
	if len(draws.pos) > 0 {
		moveToFront(keys[draws.exploit:], draws.pos, draws.exploit)
	}
	return lanes, nil
}

// Draws are the sorted positions a plan moves into the red lane as
// exploration draws.
type Draws struct {
	exploit int
	pos     []int // ascending
}

// Cut returns the lanes of n ranked rows and the exploration draws: what
// Apply does to a sorted slice, for a caller whose sorted rows are spread
// over many machines (docs/beam.md), which places each row with Draws.Rank.
func (p Plan) Cut(n int) (Lanes, Draws, error) {
	red := p.Budget.Of(n)
	explore := p.Explore.part(red)
	exploit := red - explore
	if explore > n-exploit {
		return Lanes{}, Draws{}, fmt.Errorf("exploration draws %d exceed the %d rows outside the top", explore, n-exploit)
	}
	yellow := min(p.Yellow.Of(n), n-red)
	d := Draws{exploit: exploit}
	if explore > 0 {
		d.pos = drawPositions(exploit, n, explore, p.Seed)
	}
	return Lanes{Scored: n, Red: red, Explore: explore, Yellow: yellow, Green: n - red - yellow}, d, nil
}

// Rank returns the 0-based rank Apply gives the row at 0-based position pos
// of the sorted keys: the top stays, a draw moves to the end of the red
// lane, and the rows it passes move down by one.
func (d Draws) Rank(pos int) int {
	if pos < d.exploit {
		return pos
	}
	k, found := slices.BinarySearch(d.pos, pos)
	if found {
		return d.exploit + k
	}
	return pos + len(d.pos) - k
}

// drawPositions picks k distinct positions in [lo, hi) uniformly (Floyd's
// algorithm: k draws whatever hi-lo is) and returns them ascending.
func drawPositions(lo, hi, k int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x726973686c616e65)) // "rishlane": a fixed stream per seed
	m := hi - lo
	chosen := make(map[int]struct{}, k)
	out := make([]int, 0, k)
	for j := m - k; j < m; j++ {
		t := r.IntN(j + 1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		out = append(out, lo+t)
	}
	slices.Sort(out)
	return out
}

// moveToFront stably moves the elements of s at the given ascending absolute
// positions (s starts at absolute position base) to the front of s, keeping
// the order of both groups.
func moveToFront(s []Key, positions []int, base int) {
	picked := make([]Key, len(positions))
	for i, p := range positions {
		picked[i] = s[p-base]
	}
	w := len(s) - 1
	next := len(positions) - 1
	for i := len(s) - 1; i >= 0; i-- {
		if next >= 0 && positions[next]-base == i {
			next--
			continue
		}
		s[w] = s[i]
		w--
	}
	copy(s, picked)
}
