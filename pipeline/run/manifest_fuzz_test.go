package run

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzReadManifest gives the run-manifest reader arbitrary bytes. A manifest
// it accepts must survive Write and ReadManifest unchanged (its shares,
// counts and checksums are what the nightly job and the report trust), and
// Write must never fail on what ReadManifest accepted.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"run_id":"r1","risklane_version":"devel","status":"ok","exit_code":0,"started":"2026-03-02T01:00:00Z","finished":"2026-03-02T01:00:09Z",` +
		`"inputs":[{"path":"in.csv","bytes":120,"sha256":"00"}],"profile":"date","model":{"id":"0123456789abcdef","dir":"m","features":["hs2","cif"]},` +
		`"plan":{"budget":"5%","yellow":"0.5","explore":"500","seed":7,"rank_by":"risk","max_reject_rate":0.02},` +
		`"counts":{"read":10,"accepted":9,"rejected":1},"lanes":{"red":1,"yellow":0,"green":8},"reasons":{"candidates":3,"repaired":0},` +
		`"timings":[{"name":"read","seconds":0.5,"rows":10,"rows_per_second":20,"cpu_seconds":0.1}],"outputs":[{"path":"r.parquet","format":"parquet","bytes":9,"sha256":"ff"}]}`))
	f.Add([]byte(`{"plan":{"budget":"0.07","yellow":"1e-1%"}}`))
	f.Add([]byte(`{"status":"failed","error":"x\u0000y","lanes":null,"counts":{"read":-1}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		in := filepath.Join(dir, "in.json")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(in)
		if err != nil {
			return
		}
		out := filepath.Join(dir, "out.json")
		if _, err := m.Write(out); err != nil {
			t.Fatalf("Write of an accepted manifest: %v", err)
		}
		back, err := ReadManifest(out)
		if err != nil {
			t.Fatalf("ReadManifest of Write: %v", err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed the manifest:\n%+v\n%+v", m, back)
		}
	})
}
