package synth

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// Release-time behaviour (Config.Timestamps), in minutes. Every delay is
// lognormal (median, log-sd), which gives the long right tails the WCO Time
// Release Studies report. Customs works Monday to Friday 08:00-17:00 and
// Saturday 08:00-12:00: assessment, inspection and release wait for opening
// hours; arrival and the trader's payment do not.
var (
	// Arrival to lodgement, by mode (sea, air, road): the declarant's delay.
	lodgeDelay = [numModes][2]float64{{360, 0.9}, {120, 0.8}, {30, 0.7}}
	// Lodgement to assessment: the risk engine's queue, in working time.
	assessDelay = [2]float64{30, 0.8}
	// Assessment to inspection start, by lane (yellow, red), in working
	// time, times the mode factor for red (a container must be moved).
	inspQueue  = [2][2]float64{{60, 0.8}, {300, 0.9}}
	redModeFx  = [numModes]float64{1.5, 0.7, 1.0}
	inspLength = [2][2]float64{{45, 0.6}, {150, 0.7}}
	// The trader's payment after assessment or control: calendar time.
	payDelay = [2]float64{90, 1.2}
	// Payment to release, in working time.
	releaseDelay = [2]float64{20, 0.6}
	// Lanes: the chance of red and yellow, and the extra chance of red for a
	// fraudulent row (risk targeting works, partly).
	redShare, yellowShare, redFraudBoost = 0.08, 0.15, 0.35
	// A few declarations lack their payment record (a data gap the analysis
	// must reject, not average).
	missingPayment = 0.002
	// officeSpeedSD is the log-sd of an office's speed factor.
	officeSpeedSD = 0.35
)

// timestamps generates the release-time columns from their own random
// stream, so that the other columns are the same with or without them.
type timestamps struct {
	r      *rand.Rand
	office []float64               // speed factor per office
	cols   [7]*array.StringBuilder // decl.Timestamps
	lane   *array.StringBuilder
	buf    []byte
}

// timestampFields are the extra fields Config.Timestamps adds.
func timestampFields() []arrow.Field {
	f := []arrow.Field{{Name: decl.Lane, Type: arrow.BinaryTypes.String, Nullable: true}}
	for _, n := range decl.Timestamps {
		f = append(f, arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return f
}

func newTimestamps(seed uint64, offices int, rb *array.RecordBuilder, first int) *timestamps {
	t := &timestamps{r: rand.New(rand.NewPCG(seed, 5))}
	setup := rand.New(rand.NewPCG(seed, 6))
	t.office = make([]float64, offices)
	for i := range t.office {
		t.office[i] = math.Exp(officeSpeedSD * setup.NormFloat64())
	}
	t.lane = rb.Field(first).(*array.StringBuilder)
	for i := range t.cols {
		t.cols[i] = rb.Field(first + 1 + i).(*array.StringBuilder)
	}
	return t
}

func (t *timestamps) lognormal(p [2]float64) float64 {
	return p[0] * math.Exp(p[1]*t.r.NormFloat64())
}

// row appends the lane and milestones of one declaration lodged on day
// (days since 1970-01-01).
func (t *timestamps) row(day int32, mode, office int, fraud bool) {
	fx := t.office[office]
	// Arrival at the border on the declaration's date, at any hour (by day
	// for road).
	arr := float64(day)*1440 + t.r.Float64()*1440
	if mode == modeRoad {
		arr = float64(day)*1440 + 360 + t.r.Float64()*960
	}
	lodge := arr + t.lognormal(lodgeDelay[mode])
	assess := addWork(lodge, t.lognormal(assessDelay)*fx)
	red := redShare
	if fraud {
		red += redFraudBoost
	}
	lane := "green"
	u := t.r.Float64()
	switch {
	case u < red:
		lane = "red"
	case u < red+yellowShare:
		lane = "yellow"
	}
	done := assess
	var is, ie float64
	if lane != "green" {
		k := 0
		q := t.lognormal(inspQueue[0]) * fx
		if lane == "red" {
			k = 1
			q = t.lognormal(inspQueue[1]) * fx * redModeFx[mode]
		}
		is = addWork(assess, q)
		ie = addWork(is, t.lognormal(inspLength[k]))
		done = ie
	}
	pay := done + t.lognormal(payDelay)
	rel := addWork(pay, t.lognormal(releaseDelay)*fx)
	t.lane.Append(lane)
	for i, v := range [...]float64{arr, lodge, assess, is, ie, pay, rel} {
		b := t.cols[i]
		if (i == 3 || i == 4) && lane == "green" {
			b.AppendNull()
			continue
		}
		if i == 5 && t.r.Float64() < missingPayment {
			b.AppendNull()
			continue
		}
		t.buf = time.Unix(int64(math.Round(v))*60, 0).UTC().AppendFormat(t.buf[:0], "2006-01-02T15:04")
		b.BinaryBuilder.Append(t.buf)
	}
}

// Opening hours: minutes after midnight, by weekday (Sunday first).
var openFrom, openTo = [7]float64{0, 480, 480, 480, 480, 480, 480}, [7]float64{0, 1020, 1020, 1020, 1020, 1020, 720}

// addWork returns the time (minutes since 1970-01-01) at which d minutes
// of customs working time have passed after t.
func addWork(t, d float64) float64 {
	for {
		day := math.Floor(t / 1440)
		wd := (int(day)%7 + 11) % 7 // 1970-01-01 was a Thursday (4)
		from, to := day*1440+openFrom[wd], day*1440+openTo[wd]
		if t < from {
			t = from
		}
		if t < to {
			if t+d <= to {
				return t + d
			}
			d -= to - t
		}
		t = (day + 1) * 1440
	}
}
