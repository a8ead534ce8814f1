package releasetime

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// stamps builds one row's milestones from "YYYY-MM-DDTHH:MM" strings; ""
// is missing. Order: arrival, lodgement, assessment, inspection start and
// end, payment, release.
func stamps(t *testing.T, v ...string) *milestones {
	t.Helper()
	var m milestones
	for i, s := range v {
		if s == "" {
			continue
		}
		x, ok := parseStamp(s)
		if !ok {
			t.Fatalf("bad stamp %q", s)
		}
		m.t[i], m.has[i] = x, true
	}
	return &m
}

// TestStageRules works every stage rule by hand. 2024-01-05 is a Friday.
func TestStageRules(t *testing.T) {
	cal := &DefaultCalendar
	for _, c := range []struct {
		name   string
		m      []string
		stages [NumStages]int64 // minutes
		total  int64
		work   int64
		reason string
	}{
		{name: "green, same day",
			m:      []string{"2024-01-05T09:00", "2024-01-05T09:30", "2024-01-05T10:00", "", "", "2024-01-05T11:00", "2024-01-05T11:15"},
			stages: [NumStages]int64{30, 30, 0, 0, 60, 15}, total: 135, work: 135},
		{name: "red, overnight and over the weekend",
			// Arrives Friday 16:00, assessed 16:30, inspected Monday 09:00-11:00,
			// paid 12:00, released 12:30: 68.5 h calendar; working time Fri 1 h,
			// Sat 4 h, Mon 08:00-12:30 4.5 h.
			m:      []string{"2024-01-05T16:00", "2024-01-05T16:10", "2024-01-05T16:30", "2024-01-08T09:00", "2024-01-08T11:00", "2024-01-08T12:00", "2024-01-08T12:30"},
			stages: [NumStages]int64{10, 20, 3870, 120, 60, 30}, total: 4110, work: 60 + 240 + 270},
		{name: "pre-arrival lodgement",
			// Lodged the day before arrival, assessed before arrival: both
			// stages are zero on the critical path, the rest is counted
			// from arrival.
			m:      []string{"2024-01-05T10:00", "2024-01-04T15:00", "2024-01-04T16:00", "", "", "2024-01-05T10:20", "2024-01-05T10:30"},
			stages: [NumStages]int64{0, 0, 0, 0, 20, 10}, total: 30, work: 30},
		{name: "paid before the inspection ended",
			m:      []string{"2024-01-05T08:00", "2024-01-05T08:00", "2024-01-05T08:30", "2024-01-05T09:00", "2024-01-05T10:00", "2024-01-05T08:45", "2024-01-05T10:10"},
			stages: [NumStages]int64{0, 30, 30, 60, 0, 10}, total: 130, work: 130},
		{name: "missing release", m: []string{"2024-01-05T08:00", "2024-01-05T08:00", "2024-01-05T08:30", "", "", "2024-01-05T08:45", ""},
			reason: "missing release_time"},
		{name: "missing payment", m: []string{"2024-01-05T08:00", "2024-01-05T08:00", "2024-01-05T08:30", "", "", "", "2024-01-05T09:00"},
			reason: "missing payment_time"},
		{name: "inspection end without start", m: []string{"2024-01-05T08:00", "2024-01-05T08:00", "2024-01-05T08:30", "", "2024-01-05T09:00", "2024-01-05T09:10", "2024-01-05T09:20"},
			reason: "only one of its start and end"},
		{name: "released before assessment", m: []string{"2024-01-05T08:00", "2024-01-05T08:10", "2024-01-05T09:30", "", "", "2024-01-05T08:45", "2024-01-05T09:00"},
			reason: "release_time is before assessment_time"},
		{name: "inspection ends before it starts", m: []string{"2024-01-05T08:00", "2024-01-05T08:00", "2024-01-05T08:30", "2024-01-05T10:00", "2024-01-05T09:00", "2024-01-05T10:10", "2024-01-05T10:20"},
			reason: "inspection_end_time is before inspection_start_time"},
		{name: "assessed before lodgement", m: []string{"2024-01-05T08:00", "2024-01-05T09:00", "2024-01-05T08:30", "", "", "2024-01-05T10:10", "2024-01-05T10:20"},
			reason: "assessment_time is before lodgement_time"},
	} {
		m, _, reason := measure(stamps(t, c.m...), cal)
		if c.reason != "" {
			if !strings.Contains(reason, c.reason) {
				t.Errorf("%s: reason %q, want %q", c.name, reason, c.reason)
			}
			continue
		}
		if reason != "" {
			t.Errorf("%s: rejected: %s", c.name, reason)
			continue
		}
		var sum int64
		for _, s := range m.Stages {
			sum += s
		}
		if m.Stages != c.stages || m.Total != c.total || sum != m.Total || m.Working != c.work {
			t.Errorf("%s: stages %v total %d (sum %d) working %d; want %v total %d working %d", c.name, m.Stages, m.Total, sum, m.Working, c.stages, c.total, c.work)
		}
	}
}

func TestParseStamp(t *testing.T) {
	for _, s := range []string{"2024-01-05T16:00", "2024-01-05 16:00:59", "1969-12-31T23:59", "2024-02-29T00:00"} {
		got, ok := parseStamp(s)
		layout := "2006-01-02T15:04"
		if len(s) == 19 {
			layout = "2006-01-02 15:04:05"
		}
		want, err := time.Parse(layout, s)
		if !ok || err != nil || got != floorDiv(want.Unix(), 60) {
			t.Errorf("%s: %d %v, want %d", s, got, ok, want.Unix()/60)
		}
	}
	for _, s := range []string{"2023-02-29T00:00", "2024-01-05T24:00", "2024-1-05T16:00", "2024-01-05T16:00Z", "", "2024-01-05"} {
		if _, ok := parseStamp(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

// TestAnalyzer runs rows through the Analyzer: items of one declaration are
// counted once, a bad row is rejected with its reason and left out.
func TestAnalyzer(t *testing.T) {
	names := append([]string{decl.DeclarationID, decl.Lane}, decl.Timestamps...)
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	rows := [][]string{
		{"D1", "green", "2024-01-05T09:00", "2024-01-05T09:30", "2024-01-05T10:00", "", "", "2024-01-05T11:00", "2024-01-05T11:15"},
		{"D1", "green", "2024-01-05T09:00", "2024-01-05T09:30", "2024-01-05T10:00", "", "", "2024-01-05T11:00", "2024-01-05T11:15"},
		{"D2", "red", "2024-01-05T09:00", "2024-01-05T09:00", "2024-01-05T09:30", "2024-01-05T10:00", "2024-01-05T12:00", "2024-01-05T12:30", "2024-01-05T13:00"},
		{"D3", "green", "2024-01-05T09:00", "soon", "2024-01-05T10:00", "", "", "2024-01-05T11:00", "2024-01-05T11:15"},
	}
	for _, r := range rows {
		for i, v := range r {
			sb := b.Field(i).(*array.StringBuilder)
			if v == "" {
				sb.AppendNull()
			} else {
				sb.Append(v)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var rejects []Reject
	a := New(Config{Rejects: func(r Reject) error { rejects = append(rejects, r); return nil }})
	if err := a.Add(rec); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st != (Stats{Rows: 4, Items: 1, Measured: 2, Rejected: 1}) {
		t.Fatalf("stats %+v", st)
	}
	if len(rejects) != 1 || rejects[0].ID != "D3" || rejects[0].Column != decl.LodgementTime || rejects[0].Row != 4 {
		t.Fatalf("rejects %+v", rejects)
	}
	tab := a.Table()
	all := tab[0]
	// D1: 135 min, D2: 240 min.
	if all.Dimension != All || all.N != 2 || math.Abs(all.Mean-187.5/60) > 1e-12 || all.Median != 135.0/60 || all.P95 != 4 || all.Within[0] != 1 {
		t.Fatalf("all: %+v", all)
	}
	var sum float64
	for _, s := range all.Stages {
		sum += s
	}
	if math.Abs(sum-all.Mean) > 1e-12 {
		t.Fatalf("stages add to %g, mean %g", sum, all.Mean)
	}
}
