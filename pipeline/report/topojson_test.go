package report

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// The example of the TopoJSON specification, worked by hand: arc 1 decodes
// to (100,0) (100,1) (101,1) (101,0) (100,0) (deltas times the scale plus
// the translate), and the polygon [[-2]] is arc 1 reversed.
const specExample = `{"type":"Topology",
 "transform":{"scale":[0.0005000500050005,0.00010001000100010001],"translate":[100,0]},
 "objects":{"example":{"type":"GeometryCollection","geometries":[
   {"type":null,"properties":{"prop0":"value0"}},
   {"type":"Polygon","id":7,"properties":{"prop0":"value0","prop1":{"this":"that"}},"arcs":[[-2]]}]}},
 "arcs":[[[4000,0],[1999,9999],[2000,-9999],[2000,9999]],[[0,0],[0,9999],[2000,0],[0,-9999],[-2000,0]]]}`

func TestDecodeTopoJSONSpecExample(t *testing.T) {
	fc, err := DecodeTopoJSON([]byte(specExample), "example")
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 1 {
		t.Fatalf("%d features, want 1 (the null geometry is skipped)", len(fc.Features))
	}
	f := fc.Features[0]
	if f.ID != "7" || f.Multi {
		t.Errorf("id %q multi %v, want 7 and a Polygon", f.ID, f.Multi)
	}
	want := []Point{{100, 0}, {101, 0}, {101, 1}, {100, 1}, {100, 0}}
	got := f.Polygons[0][0]
	if len(got) != len(want) {
		t.Fatalf("ring %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i][0]-want[i][0]) > 1e-3 || math.Abs(got[i][1]-want[i][1]) > 1e-3 {
			t.Errorf("point %d = %v, want %v", i, got[i], want[i])
		}
	}
	b, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"type":"FeatureCollection","features":[{"type":"Feature","id":"7","properties":{"prop0":"value0","prop1":{"this":"that"}},` +
		`"geometry":{"type":"Polygon","coordinates":[[[100,0],[101,0],[101,1],[100,1],[100,0]]]}}]}`
	if string(b) != wantJSON {
		t.Errorf("GeoJSON\n%s\nwant\n%s", b, wantJSON)
	}
}

// Without a transform, arcs are absolute coordinates; rings of shared arcs
// keep the joining point once; short rings are padded to four points.
func TestDecodeTopoJSONUntransformed(t *testing.T) {
	doc := `{"type":"Topology","arcs":[[[0,0],[1,0]],[[1,0],[1,1]],[[1,1],[0,0]],[[5,5],[6,6]]],
	 "objects":{"o":{"type":"GeometryCollection","geometries":[
	   {"type":"MultiPolygon","id":"x","arcs":[[[0,1,2]],[[3]]]}]}}}`
	fc, err := DecodeTopoJSON([]byte(doc), "o")
	if err != nil {
		t.Fatal(err)
	}
	f := fc.Features[0]
	if !f.Multi || len(f.Polygons) != 2 {
		t.Fatalf("got %+v", f)
	}
	want := [][]Point{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, {{5, 5}, {6, 6}, {5, 5}, {5, 5}}}
	for p, w := range want {
		got := f.Polygons[p][0]
		if len(got) != len(w) {
			t.Fatalf("polygon %d: %v, want %v", p, got, w)
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("polygon %d point %d = %v, want %v", p, i, got[i], w[i])
			}
		}
	}
}

func TestDecodeTopoJSONErrors(t *testing.T) {
	for _, c := range []struct{ name, doc, object, want string }{
		{"not json", `{`, "o", "unexpected end"},
		{"not a topology", `{"type":"FeatureCollection"}`, "o", `want "Topology"`},
		{"no object", `{"type":"Topology","objects":{}}`, "o", `no object "o"`},
		{"bad arc index", `{"type":"Topology","arcs":[],"objects":{"o":{"type":"Polygon","arcs":[[0]]}}}`, "o", "arc index 0 is out of range"},
		{"bad reversed index", `{"type":"Topology","arcs":[[[0,0]]],"objects":{"o":{"type":"Polygon","arcs":[[-3]]}}}`, "o", "arc index -3 is out of range"},
		{"line", `{"type":"Topology","arcs":[[[0,0],[1,1]]],"objects":{"o":{"type":"LineString","arcs":[0]}}}`, "o", `"LineString" is not supported`},
		{"short point", `{"type":"Topology","arcs":[[[0]]],"objects":{"o":{"type":"Polygon","arcs":[[0]]}}}`, "o", "has 1 coordinates"},
		{"bad transform", `{"type":"Topology","transform":{"scale":[1]},"arcs":[],"objects":{"o":{"type":"Polygon","arcs":[]}}}`, "o", "transform needs"},
		{"overflow", `{"type":"Topology","transform":{"scale":[1e308,1],"translate":[0,0]},"arcs":[[[10,0]]],"objects":{"o":{"type":"Polygon","arcs":[[0]]}}}`, "o", "not a finite"},
		{"empty ring", `{"type":"Topology","arcs":[[]],"objects":{"o":{"type":"Polygon","arcs":[[0]]}}}`, "o", "no points"},
	} {
		_, err := DecodeTopoJSON([]byte(c.doc), c.object)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// The world outlines decode to the same polygons as topojson-client, the
// reference implementation (testdata/README.md says how the golden file was
// made).
func TestDecodeTopoJSONMatchesTopojsonClient(t *testing.T) {
	var golden struct {
		Features []struct {
			ID       string `json:"id"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Name string `json:"name"`
			} `json:"properties"`
		} `json:"features"`
	}
	b, err := os.ReadFile("testdata/topojson-client-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	fc, err := DecodeTopoJSON(worldAtlas, "countries")
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 177 {
		t.Errorf("%d countries, want the 177 of world-atlas 110m", len(fc.Features))
	}
	byID := map[string]*Feature{}
	for i := range fc.Features {
		if id := fc.Features[i].ID; id != "" {
			byID[id] = &fc.Features[i]
		}
	}
	if len(golden.Features) != 4 {
		t.Fatalf("golden file has %d features, want 4", len(golden.Features))
	}
	for _, g := range golden.Features {
		f := byID[g.ID]
		if f == nil {
			t.Errorf("country %s (%s) is missing", g.ID, g.Properties.Name)
			continue
		}
		var props struct{ Name string }
		if err := json.Unmarshal(f.Properties, &props); err != nil || props.Name != g.Properties.Name {
			t.Errorf("country %s: name %q, want %q (%v)", g.ID, props.Name, g.Properties.Name, err)
		}
		var polys [][][]Point
		if g.Geometry.Type == "Polygon" {
			var p [][]Point
			err = json.Unmarshal(g.Geometry.Coordinates, &p)
			polys = [][][]Point{p}
		} else {
			err = json.Unmarshal(g.Geometry.Coordinates, &polys)
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Multi != (g.Geometry.Type == "MultiPolygon") || len(f.Polygons) != len(polys) {
			t.Errorf("country %s: multi %v with %d polygons, want %s with %d", g.ID, f.Multi, len(f.Polygons), g.Geometry.Type, len(polys))
			continue
		}
		for p := range polys {
			if len(f.Polygons[p]) != len(polys[p]) {
				t.Errorf("country %s polygon %d: %d rings, want %d", g.ID, p, len(f.Polygons[p]), len(polys[p]))
				continue
			}
			for r := range polys[p] {
				got, want := f.Polygons[p][r], polys[p][r]
				if len(got) != len(want) {
					t.Errorf("country %s polygon %d ring %d: %d points, want %d", g.ID, p, r, len(got), len(want))
					continue
				}
				for i := range want {
					if math.Abs(got[i][0]-want[i][0]) > 1e-9 || math.Abs(got[i][1]-want[i][1]) > 1e-9 {
						t.Errorf("country %s polygon %d ring %d point %d = %v, want %v", g.ID, p, r, i, got[i], want[i])
						break
					}
				}
			}
		}
	}
}

func FuzzDecodeTopoJSON(f *testing.F) {
	f.Add([]byte(specExample), "example")
	f.Add([]byte(`{"type":"Topology","arcs":[[[0,0],[1,0]],[[1,0],[1,1]],[[1,1],[0,0]]],"objects":{"o":{"type":"MultiPolygon","arcs":[[[0,1,-3]]]}}}`), "o")
	f.Add([]byte(`{"type":"Topology","transform":{"scale":[1,1],"translate":[0,0]},"arcs":[[[0,0],[1,0],[0,1]]],"objects":{"o":{"type":"GeometryCollection","geometries":[{"type":"Polygon","id":"a","arcs":[[0,-1]]}]}}}`), "o")
	f.Fuzz(func(t *testing.T, doc []byte, object string) {
		fc, err := DecodeTopoJSON(doc, object)
		if err != nil {
			return
		}
		b, err := json.Marshal(fc)
		if err != nil {
			t.Fatalf("decoded collection does not marshal: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("GeoJSON output is not JSON: %v\n%s", err, b)
		}
		for _, f := range fc.Features {
			for _, p := range f.Polygons {
				for _, r := range p {
					if len(r) < 4 {
						t.Fatalf("ring of %d points", len(r))
					}
				}
			}
		}
	})
}
