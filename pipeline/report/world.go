package report

// The world outlines and chart library of the report are risklane's one
// home for them: package choropleth (risklane map) draws with the same
// (World, and Frame for the chart library).

// World returns the world-atlas country outlines the fraud map draws, as
// GeoJSON features whose ids are ISO 3166 numeric codes (Antarctica left
// out, rings that cross the antimeridian unwrapped). Callers must not
// modify it.
func World() (*FeatureCollection, error) { return worldMap() }

// OutlineNames returns the name of every outline of World by its ISO 3166
// numeric code (a fresh map the caller may keep).
func OutlineNames() (map[int]string, error) {
	names, err := atlasNames()
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(names))
	for k, v := range names {
		out[k] = v
	}
	return out, nil
}
