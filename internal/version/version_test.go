package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "unknown"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "6970d0e1234567890", "vcs.modified", "true")}, true, "devel-6970d0e12345-dirty"},
		{&debug.BuildInfo{Settings: vcs("vcs.revision", "abc")}, true, "devel-abc"},
	} {
		if got := fromBuildInfo(tc.info, tc.ok); got != tc.want {
			t.Errorf("fromBuildInfo(%+v) = %q, want %q", tc.info, got, tc.want)
		}
	}
}

// The stamp the linker sets wins over the build info.
func TestStamp(t *testing.T) {
	defer func(s string) { stamp = s }(stamp)
	stamp = "v0.3.0-12-g6970d0e"
	if got := String(); got != stamp {
		t.Errorf("String() = %q, want the stamp %q", got, stamp)
	}
}
