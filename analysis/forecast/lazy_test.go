package forecast

import (
	"reflect"
	"testing"
)

// TestLazyAdmissibilitySameSearch: skipping the admissibility test where the
// simplex cannot use the value (nelderMead's below) must leave every fit
// bit for bit as the eager test, R's order, gives it: the same chosen model,
// parameters, states, likelihood and number of evaluations.
func TestLazyAdmissibilitySameSearch(t *testing.T) {
	series := workload(40)
	// Intermittent and short series take other branches of the search.
	series = append(series, Series{Group: "short", Values: []float64{5, 7, 6, 9, 8, 12, 11, 10, 14, 13, 15, 17, 16, 18, 20}})
	cfg := Config{Method: MethodETS, Horizon: 12, Season: 12, Workers: 1}
	lazy := Run(series, cfg)
	lazyAdmissible = false
	defer func() { lazyAdmissible = true }()
	eager := Run(series, cfg)
	for i := range series {
		l, e := lazy[i], eager[i]
		if (l.Err == nil) != (e.Err == nil) {
			t.Fatalf("%s: lazy error %v, eager %v", series[i].Group, l.Err, e.Err)
		}
		if l.Model == nil {
			continue
		}
		if l.Model.Name != e.Model.Name || !reflect.DeepEqual(l.Model.ETS, e.Model.ETS) {
			t.Fatalf("%s: lazy %s %+v, eager %s %+v", series[i].Group, l.Model.Name, l.Model.ETS, e.Model.Name, e.Model.ETS)
		}
		if !reflect.DeepEqual(l.Prediction, e.Prediction) {
			t.Fatalf("%s: forecasts differ", series[i].Group)
		}
	}
}

// TestSideBySideSameFits: fitting the candidate models of a series side by
// side (fitJobs advancing all their searches, runRecursions and
// rootsInDiskAll interleaving their arithmetic) must give every model bit for
// bit the fit it gets alone.
func TestSideBySideSameFits(t *testing.T) {
	series := workload(6)
	series = append(series, crossSeries()...)
	var f fitter
	checked := 0
	for _, s := range series {
		if _, err := f.auto(s.Values, 12); err != nil {
			t.Fatalf("%s: %v", s.Group, err)
		}
		for _, j := range f.todo {
			together, err1 := j.result(s.Values)
			alone, err2 := FitETS(s.Values, 12, j.sp)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s %s: side by side error %v, alone %v", s.Group, j.sp, err1, err2)
			}
			if err1 == nil && !reflect.DeepEqual(together, alone) {
				t.Fatalf("%s %s: side by side %+v, alone %+v", s.Group, j.sp, together, alone)
			}
			checked++
		}
	}
	if checked < 6*15 {
		t.Fatalf("only %d fits compared", checked)
	}
}
