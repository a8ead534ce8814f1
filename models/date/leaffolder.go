package date

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"risklane/features"
	"risklane/models"
	"risklane/models/xgb"
)

// LeafManifest is manifest.json of a model folder whose kind is built on
// DATE's first stage (the feature state and the trees whose leaves are the
// cross features): the date kind and gbdtlr. C is the kind's Config.
type LeafManifest[C any] struct {
	Format  string            `json:"format"`
	Version int               `json:"version"`
	Kind    string            `json:"kind"`
	ID      string            `json:"model_id"`
	Files   map[string]string `json:"files"`
	Config  C                 `json:"config"`
}

// LeafFolder is what such a folder holds besides its manifest: features.json,
// trees.json, the kind's weights file (Weights names it) and metrics.json
// (History, not part of the ID).
type LeafFolder[C, H any] struct {
	Kind    string // "date", "gbdtlr": the manifest's kind and the prefix of errors
	Weights string // the weights file's name
	Config  C
	State   *features.State
	Trees   *xgb.Model
	History H
}

type leafMetrics[H any] struct {
	History H `json:"history"`
}

// Save writes the folder dir atomically (models.WriteFolder) with weights as
// the weights file, and returns the model ID.
func (f *LeafFolder[C, H]) Save(dir string, weights []byte) (string, error) {
	files := map[string][]byte{}
	st, err := f.State.MarshalJSON()
	if err != nil {
		return "", err
	}
	files[FeaturesFile] = st
	var b bytes.Buffer
	if err := xgb.WriteJSON(&b, f.Trees); err != nil {
		return "", fmt.Errorf("%s: %w", f.Kind, err)
	}
	files[TreesFile] = b.Bytes()
	files[f.Weights] = weights
	if files[MetricsFile], err = json.MarshalIndent(leafMetrics[H]{f.History}, "", "  "); err != nil {
		return "", fmt.Errorf("%s: %w", f.Kind, err)
	}
	id, err := models.WriteFolder(dir, files, func(id string, hashes map[string]string) ([]byte, error) {
		return json.MarshalIndent(LeafManifest[C]{Format: models.FolderFormat, Version: models.FolderVersion, Kind: f.Kind,
			ID: id, Files: hashes, Config: f.Config}, "", "  ")
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", f.Kind, err)
	}
	return id, nil
}

// Read fills f (Kind and Weights set by the caller) from the files of a
// folder whose hashes have been checked: manifest is manifest.json, files the
// others by name, dir for messages. It checks the manifest's format, version
// and kind, that the three model files are there, and reads the feature state,
// the trees and the history (a history that does not parse is left empty);
// it returns the weights file's bytes and the model ID.
func (f *LeafFolder[C, H]) Read(dir string, manifest []byte, files map[string][]byte) (weights []byte, id string, err error) {
	var man LeafManifest[C]
	if err := json.Unmarshal(manifest, &man); err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", f.Kind, filepath.Join(dir, ManifestFile), err)
	}
	if man.Format != models.FolderFormat || man.Version != models.FolderVersion || man.Kind != f.Kind {
		return nil, "", fmt.Errorf("%s: %s: format %q version %d kind %q; this reads %q version %d kind %q", f.Kind,
			filepath.Join(dir, ManifestFile), man.Format, man.Version, man.Kind, models.FolderFormat, models.FolderVersion, f.Kind)
	}
	for _, name := range []string{FeaturesFile, TreesFile, f.Weights} {
		if _, ok := files[name]; !ok {
			return nil, "", fmt.Errorf("%s: %s does not list %s, or it is missing", f.Kind, filepath.Join(dir, ManifestFile), name)
		}
	}
	f.Config = man.Config
	if f.State, err = features.Read(bytes.NewReader(files[FeaturesFile])); err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", f.Kind, filepath.Join(dir, FeaturesFile), err)
	}
	if f.Trees, err = xgb.ReadJSON(bytes.NewReader(files[TreesFile])); err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", f.Kind, filepath.Join(dir, TreesFile), err)
	}
	if b, ok := files[MetricsFile]; ok {
		var mf leafMetrics[H]
		if json.Unmarshal(b, &mf) == nil {
			f.History = mf.History
		}
	}
	return files[f.Weights], models.FolderID(man.Files), nil
}
