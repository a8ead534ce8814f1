package xgb_test

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"risklane/models/scorer"
	"risklane/models/xgb"
)

// Whatever a reader accepts must be safe for everything downstream: it
// validates, writes and reads back unchanged, and leaves loads and scores it
// without panicking.
func checkAccepted(t *testing.T, m *xgb.Model) {
	if err := m.Validate(); err != nil {
		t.Fatalf("reader returned an invalid model: %v", err)
	}
	var js bytes.Buffer
	if err := xgb.WriteJSON(&js, m); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	back, err := xgb.ReadJSON(&js)
	if err != nil {
		t.Fatalf("ReadJSON of WriteJSON: %v", err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatal("JSON round trip changed the model")
	}
	var bin bytes.Buffer
	if err := xgb.WriteLegacyBinary(&bin, m); err != nil {
		t.Fatalf("WriteLegacyBinary: %v", err)
	}
	if _, err := xgb.ReadLegacyBinary(&bin); err != nil {
		t.Fatalf("ReadLegacyBinary of WriteLegacyBinary: %v", err)
	}
	if len(m.Trees) == 0 {
		return
	}
	s, err := scorer.New(m)
	if err != nil {
		t.Fatalf("scorer.New: %v", err)
	}
	rows := make([]float64, 2*m.NumFeature)
	for j := range m.NumFeature {
		rows[j] = math.NaN()
	}
	out := make([]float64, 2)
	if err := s.Predict(rows, 2, out, 1); err != nil {
		t.Fatalf("Predict: %v", err)
	}
	for r := range 2 {
		want := m.Predict(rows[r*m.NumFeature : (r+1)*m.NumFeature])
		if math.Abs(out[r]-want) > 1e-4*max(1, math.Abs(want)) {
			t.Fatalf("row %d: leaves %v, reference %v", r, out[r], want)
		}
	}
}

// The seeds are whole models of a few kilobytes, and every accepted input
// goes through both writers and leaves, so minimizing a new input takes long:
// run the targets with a short -fuzzminimizetime, for example
//
//	go test -run '^$' -fuzz '^FuzzReadJSON$' -fuzztime 60s -fuzzminimizetime 5s ./models/xgb
func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readTestdata(f, name))
	}
}

func FuzzReadJSON(f *testing.F) {
	addSeeds(f, "python-1.7.4-logistic.json", "python-1.7.4-squarederror-pruned.json", "python-1.7.4-categorical.json")
	var small bytes.Buffer
	if err := xgb.WriteJSON(&small, smallModel()); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xgb.ReadJSON(bytes.NewReader(data))
		if err == nil {
			checkAccepted(t, m)
		}
	})
}

func FuzzReadUBJSON(f *testing.F) {
	addSeeds(f, "python-1.7.4-logistic.ubj", "python-1.7.4-categorical.ubj")
	f.Add([]byte("{i\x07version[$i#i\x03\x01\x07\x04}"))
	f.Add([]byte("{i\x01a[#U\x02d\x3f\x80\x00\x00D\x3f\xf0\x00\x00\x00\x00\x00\x00Hi\x031e9CxSi\x01yTFZ}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xgb.ReadUBJSON(bytes.NewReader(data))
		if err == nil {
			checkAccepted(t, m)
		}
	})
}

func FuzzReadLegacyBinary(f *testing.F) {
	addSeeds(f, "risklane-logistic.model", "python-1.7.4-logistic.model", "python-1.7.4-dump.json")
	f.Add(append([]byte("binf\x00\x00\x00\x3f\x0a\x00\x00\x00"), make([]byte, 160)...)) // XGBoost 0.4x
	var small bytes.Buffer
	if err := xgb.WriteLegacyBinary(&small, smallModel()); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xgb.ReadLegacyBinary(bytes.NewReader(data))
		if err == nil {
			checkAccepted(t, m)
		}
	})
}
