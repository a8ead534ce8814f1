package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// TopoJSON stores every border once, as an arc shared by the two countries on
// either side, with quantized, delta-encoded coordinates; ECharts wants
// GeoJSON, where each polygon lists its own points. The decoder below does
// what topojson-client's feature() does for the polygons a world map needs.

// topology is the part of a TopoJSON document the decoder reads.
type topology struct {
	Type      string                     `json:"type"`
	Transform *transform                 `json:"transform"`
	Arcs      [][][]float64              `json:"arcs"`
	Objects   map[string]json.RawMessage `json:"objects"`
}

type transform struct {
	Scale     []float64 `json:"scale"`
	Translate []float64 `json:"translate"`
}

type topoGeometry struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties json.RawMessage `json:"properties"`
	Arcs       json.RawMessage `json:"arcs"`
	Geometries []topoGeometry  `json:"geometries"`
}

// Point is a longitude, latitude pair.
type Point [2]float64

// Feature is one GeoJSON feature with polygon geometry.
type Feature struct {
	// ID is the TopoJSON id as text (a string id unquoted, a number as
	// written); "" when the geometry has none.
	ID string
	// Properties is the TopoJSON properties object, passed through.
	Properties json.RawMessage
	// Multi says whether the geometry is a MultiPolygon (else a Polygon,
	// and Polygons has one element).
	Multi bool
	// Polygons are lists of closed rings: the outer ring, then any holes.
	Polygons [][][]Point
}

// FeatureCollection is a GeoJSON FeatureCollection.
type FeatureCollection struct {
	Features []Feature
}

// maxPoints bounds the points a decoded collection may hold: arcs can be
// referenced any number of times, so a small hostile document could
// otherwise ask for an enormous output.
const maxPoints = 1 << 22

// DecodeTopoJSON converts the GeometryCollection (or single geometry) named
// object of a TopoJSON topology into GeoJSON features. Arcs are decoded with
// the topology's transform (quantized, delta-encoded) when it has one.
// Polygon and MultiPolygon geometries are converted; null geometries (type
// null or absent) are skipped; any other type is an error.
func DecodeTopoJSON(data []byte, object string) (*FeatureCollection, error) {
	var t topology
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("topojson: %w", err)
	}
	if t.Type != "Topology" {
		return nil, fmt.Errorf("topojson: type is %q, want \"Topology\"", t.Type)
	}
	raw, ok := t.Objects[object]
	if !ok {
		return nil, fmt.Errorf("topojson: no object %q in the topology", object)
	}
	var root topoGeometry
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("topojson: object %q: %w", object, err)
	}
	arcs, err := decodeArcs(t.Arcs, t.Transform)
	if err != nil {
		return nil, err
	}
	d := decoder{arcs: arcs}
	fc := &FeatureCollection{}
	geoms := []topoGeometry{root}
	if root.Type == "GeometryCollection" {
		geoms = root.Geometries
	}
	for i := range geoms {
		f, ok, err := d.feature(&geoms[i])
		if err != nil {
			return nil, fmt.Errorf("topojson: object %q, geometry %d: %w", object, i, err)
		}
		if ok {
			fc.Features = append(fc.Features, f)
		}
	}
	return fc, nil
}

// decodeArcs turns the arcs into absolute coordinates.
func decodeArcs(arcs [][][]float64, tr *transform) ([][]Point, error) {
	if tr != nil && (len(tr.Scale) != 2 || len(tr.Translate) != 2) {
		return nil, errors.New("topojson: transform needs a scale and a translate of two numbers each")
	}
	out := make([][]Point, len(arcs))
	total := 0
	for i, arc := range arcs {
		total += len(arc)
		if total > maxPoints {
			return nil, fmt.Errorf("topojson: more than %d arc points", maxPoints)
		}
		pts := make([]Point, len(arc))
		var x, y float64
		for j, p := range arc {
			if len(p) < 2 {
				return nil, fmt.Errorf("topojson: arc %d, point %d has %d coordinates, want at least 2", i, j, len(p))
			}
			if tr == nil {
				pts[j] = Point{p[0], p[1]}
				continue
			}
			x += p[0]
			y += p[1]
			pts[j] = Point{x*tr.Scale[0] + tr.Translate[0], y*tr.Scale[1] + tr.Translate[1]}
		}
		for j, p := range pts {
			if !finite(p[0]) || !finite(p[1]) {
				return nil, fmt.Errorf("topojson: arc %d, point %d is not a finite coordinate", i, j)
			}
		}
		out[i] = pts
	}
	return out, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

type decoder struct {
	arcs   [][]Point
	points int
}

func (d *decoder) feature(g *topoGeometry) (Feature, bool, error) {
	f := Feature{Properties: g.Properties}
	if len(f.Properties) == 0 || string(f.Properties) == "null" {
		f.Properties = json.RawMessage("{}")
	}
	if len(g.ID) > 0 && string(g.ID) != "null" {
		var s string
		if err := json.Unmarshal(g.ID, &s); err == nil {
			f.ID = s
		} else {
			f.ID = string(bytes.TrimSpace(g.ID))
		}
	}
	switch g.Type {
	case "", "null":
		return f, false, nil
	case "Polygon":
		var rings [][]int
		if err := json.Unmarshal(g.Arcs, &rings); err != nil {
			return f, false, fmt.Errorf("Polygon arcs: %w", err)
		}
		p, err := d.polygon(rings)
		if err != nil {
			return f, false, err
		}
		f.Polygons = [][][]Point{p}
	case "MultiPolygon":
		var polys [][][]int
		if err := json.Unmarshal(g.Arcs, &polys); err != nil {
			return f, false, fmt.Errorf("MultiPolygon arcs: %w", err)
		}
		f.Multi = true
		for _, rings := range polys {
			p, err := d.polygon(rings)
			if err != nil {
				return f, false, err
			}
			f.Polygons = append(f.Polygons, p)
		}
	default:
		return f, false, fmt.Errorf("geometry type %q is not supported (Polygon and MultiPolygon are)", g.Type)
	}
	return f, true, nil
}

func (d *decoder) polygon(rings [][]int) ([][]Point, error) {
	out := make([][]Point, 0, len(rings))
	for _, r := range rings {
		ring, err := d.ring(r)
		if err != nil {
			return nil, err
		}
		out = append(out, ring)
	}
	return out, nil
}

// ring joins arcs end to end: each arc starts where the previous one ended,
// so the shared point is kept once. A negative index ~i is arc i reversed.
// Like topojson-client, a ring of fewer than four points (degenerate after
// quantization) is padded by repeating its first point so that it stays a
// valid closed GeoJSON ring.
func (d *decoder) ring(indices []int) ([]Point, error) {
	var ring []Point
	for _, ix := range indices {
		i, rev := ix, false
		if ix < 0 {
			i, rev = ^ix, true
		}
		if i >= len(d.arcs) {
			return nil, fmt.Errorf("arc index %d is out of range (the topology has %d arcs)", ix, len(d.arcs))
		}
		arc := d.arcs[i]
		if len(ring) > 0 {
			ring = ring[:len(ring)-1]
		}
		d.points += len(arc)
		if d.points > maxPoints {
			return nil, fmt.Errorf("the geometries need more than %d points", maxPoints)
		}
		if rev {
			for k := len(arc) - 1; k >= 0; k-- {
				ring = append(ring, arc[k])
			}
		} else {
			ring = append(ring, arc...)
		}
	}
	if len(ring) == 0 {
		return nil, errors.New("a ring has no points")
	}
	for len(ring) < 4 {
		ring = append(ring, ring[0])
	}
	return ring, nil
}

// MarshalJSON writes the collection as GeoJSON, coordinates rounded to
// 1/1000 of a degree (about 100 m, far finer than the 1:110m outlines).
func (fc *FeatureCollection) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range fc.Features {
		if i > 0 {
			b.WriteByte(',')
		}
		f := &fc.Features[i]
		b.WriteString(`{"type":"Feature"`)
		if f.ID != "" {
			id, err := json.Marshal(f.ID)
			if err != nil {
				return nil, err
			}
			b.WriteString(`,"id":`)
			b.Write(id)
		}
		b.WriteString(`,"properties":`)
		var props bytes.Buffer
		if err := json.Compact(&props, f.Properties); err != nil {
			return nil, fmt.Errorf("feature %d properties: %w", i, err)
		}
		b.Write(props.Bytes())
		typ := "Polygon"
		if f.Multi {
			typ = "MultiPolygon"
		}
		b.WriteString(`,"geometry":{"type":"` + typ + `","coordinates":`)
		if f.Multi {
			b.WriteByte('[')
		}
		for p, poly := range f.Polygons {
			if p > 0 {
				b.WriteByte(',')
			}
			writeRings(&b, poly)
		}
		if f.Multi {
			b.WriteByte(']')
		}
		b.WriteString("}}")
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func writeRings(b *bytes.Buffer, rings [][]Point) {
	b.WriteByte('[')
	for r, ring := range rings {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for k, p := range ring {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			b.WriteString(coord(p[0]))
			b.WriteByte(',')
			b.WriteString(coord(p[1]))
			b.WriteByte(']')
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
}

func coord(v float64) string {
	r := math.Round(v*1000) / 1000
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}
