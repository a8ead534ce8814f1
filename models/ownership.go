package models

import (
	"os"
	"path/filepath"
)

// IsFolder recognises a model folder written before risklane marked the
// folders it writes (sink.Marker): its manifest has the model folder header
// and the folder holds nothing but the files that manifest lists.
// WriteFolder replaces such a folder; any other unmarked, non-empty folder
// it refuses (docs/reliability.md).
func IsFolder(dir string) bool {
	mb, err := readRegular(filepath.Join(dir, ManifestFile), MaxManifestBytes)
	if err != nil {
		return false
	}
	h, err := ParseHeader(mb)
	if err != nil {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, listed := h.Files[e.Name()]; !listed && e.Name() != ManifestFile || !e.Type().IsRegular() {
			return false
		}
	}
	return true
}
