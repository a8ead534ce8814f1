package riskmodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"risklane/features"
	"risklane/internal/version"
	"risklane/models"
	"risklane/models/gbdt"
	"risklane/models/metrics"
	"risklane/models/xgb"
)

// File names inside a model folder.
const (
	ManifestFile   = models.ManifestFile
	ModelFile      = "model.json"
	ModelBinFile   = "model.bin"
	RevenueFile    = "revenue.json"
	RevenueBinFile = "revenue.bin"
	FeaturesFile   = "features.json"
	MetricsFile    = models.MetricsFile
)

// Manifest describes a model folder.
type Manifest struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Kind is KindName; folders written before kinds existed have none.
	Kind string `json:"kind,omitempty"`
	// ID identifies the model (models.FolderID): the first 16 hex digits
	// of a SHA-256 over the hashes of the files that decide its scores
	// (trees and feature state, not metrics.json, which records timings),
	// so that the same model always has the same ID. Load computes it from
	// the bytes it reads.
	ID       string    `json:"model_id"`
	Risklane string    `json:"risklane_version"`
	Created  time.Time `json:"created"`
	Profile  string    `json:"profile,omitempty"`
	Inputs   []string  `json:"inputs,omitempty"`
	Groups   []string  `json:"feature_groups"`
	Features []string  `json:"features"`
	// Classifier and Revenue are the hyper-parameters, in XGBoost's names.
	Classifier Params  `json:"classifier_params"`
	Revenue    *Params `json:"revenue_params,omitempty"`
	// RowHalfLife is Config.RowHalfLife, the recency half-life in days
	// the training rows were weighted by; absent when they were not.
	RowHalfLife float64 `json:"row_half_life_days,omitempty"`
	// Files maps each file of the folder to its SHA-256, in hex.
	Files map[string]string `json:"files"`
}

// Params are gbdt.Params under XGBoost's parameter names.
type Params struct {
	Objective           string  `json:"objective"`
	NumRounds           int     `json:"num_boost_round"`
	MaxDepth            int     `json:"max_depth"`
	MaxBin              int     `json:"max_bin"`
	Eta                 float64 `json:"eta"`
	Lambda              float64 `json:"lambda"`
	Alpha               float64 `json:"alpha"`
	Gamma               float64 `json:"gamma"`
	MinChildWeight      float64 `json:"min_child_weight"`
	Subsample           float64 `json:"subsample"`
	ColsampleByTree     float64 `json:"colsample_bytree"`
	ColsampleByLevel    float64 `json:"colsample_bylevel"`
	ColsampleByNode     float64 `json:"colsample_bynode"`
	ScalePosWeight      float64 `json:"scale_pos_weight"`
	BaseScore           float64 `json:"base_score"`
	EarlyStoppingRounds int     `json:"early_stopping_rounds"`
	Seed                uint64  `json:"seed"`
}

func paramsOf(p gbdt.Params) Params {
	return Params{p.Objective, p.NumRounds, p.MaxDepth, p.MaxBin, p.Eta, p.Lambda, p.Alpha, p.Gamma,
		p.MinChildWeight, p.Subsample, p.ColsampleByTree, p.ColsampleByLevel, p.ColsampleByNode,
		p.ScalePosWeight, p.BaseScore, p.EarlyStoppingRounds, p.Seed}
}

// Metrics is the training report saved as metrics.json.
type Metrics struct {
	Train TrainSummary `json:"train"`
	// Training ranks the training rows by their in-sample probability (their
	// features are out of fold, the trees are not): an optimistic figure.
	Training *metrics.Report `json:"training,omitempty"`
	// Validation and ValidationByRevenue rank the validation set by
	// probability and by expected revenue.
	Validation          *metrics.Report `json:"validation,omitempty"`
	ValidationByRevenue *metrics.Report `json:"validation_by_expected_revenue,omitempty"`
	// ValidCurve is the classifier's validation metric (CurveMetric) after
	// each round.
	CurveMetric  string         `json:"curve_metric,omitempty"`
	ValidCurve   []float64      `json:"validation_curve,omitempty"`
	RevenueHead  RevenueSummary `json:"revenue_head"`
	Importance   []Importance   `json:"importance"`
	TrainSeconds float64        `json:"train_seconds"`
}

// TrainSummary counts the training data and the trees.
type TrainSummary struct {
	Rows          int `json:"rows"`
	Labelled      int `json:"labelled"`
	Illicit       int `json:"illicit"`
	Features      int `json:"features"`
	Trees         int `json:"trees"`
	BestIteration int `json:"best_iteration"`
}

// RevenueSummary describes the revenue head.
type RevenueSummary struct {
	Rows      int      `json:"rows"` // illicit training rows with a revenue
	ValidRMSE *float64 `json:"valid_rmse_log1p,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// Importance is one feature's share in the classifier's splits.
type Importance struct {
	Feature string  `json:"feature"`
	Group   string  `json:"group"`
	Gain    float64 `json:"gain"`  // total loss reduction of its splits
	Cover   float64 `json:"cover"` // total hessian of its splits
	Splits  int     `json:"splits"`
	Share   float64 `json:"gain_share"` // Gain / total gain
}

func newManifest(cfg Config, st *features.State, cp gbdt.Params, rp *gbdt.Params) Manifest {
	m := Manifest{
		Format: models.FolderFormat, Version: models.FolderVersion, Kind: KindName, Risklane: version.String(),
		Created: time.Now().UTC().Truncate(time.Second), Profile: cfg.Profile, Inputs: cfg.Inputs,
		Groups: st.Groups(), Features: st.Names(), Classifier: paramsOf(cp),
		RowHalfLife: cfg.RowHalfLife,
	}
	if rp != nil {
		p := paramsOf(*rp)
		m.Revenue = &p
	}
	return m
}

// Save writes the model folder dir atomically: into a temporary folder next
// to it, renamed into place when every file is written. An existing folder
// at dir is replaced only if risklane wrote it (see models.WriteFolder).
func (m *Model) Save(dir string) error {
	files, err := m.files()
	if err != nil {
		return err
	}
	man := m.Manifest
	id, err := models.WriteFolder(dir, files, func(id string, hashes map[string]string) ([]byte, error) {
		man.ID, man.Files = id, hashes
		return json.MarshalIndent(man, "", "  ")
	})
	if err != nil {
		return fmt.Errorf("riskmodel: %w", err)
	}
	m.Manifest = man
	m.Manifest.ID = id
	return nil
}

// files returns the contents of the model folder's files, the manifest
// aside.
func (m *Model) files() (map[string][]byte, error) {
	files := map[string][]byte{}
	var b bytes.Buffer
	if err := xgb.WriteJSON(&b, m.Classifier); err != nil {
		return nil, fmt.Errorf("riskmodel: %w", err)
	}
	files[ModelFile] = slices.Clone(b.Bytes())
	b.Reset()
	if err := xgb.WriteLegacyBinary(&b, m.Classifier); err != nil {
		return nil, fmt.Errorf("riskmodel: %w", err)
	}
	files[ModelBinFile] = slices.Clone(b.Bytes())
	if m.Revenue != nil {
		b.Reset()
		if err := xgb.WriteJSON(&b, m.Revenue); err != nil {
			return nil, fmt.Errorf("riskmodel: revenue head: %w", err)
		}
		files[RevenueFile] = slices.Clone(b.Bytes())
		b.Reset()
		if err := xgb.WriteLegacyBinary(&b, m.Revenue); err != nil {
			return nil, fmt.Errorf("riskmodel: revenue head: %w", err)
		}
		files[RevenueBinFile] = slices.Clone(b.Bytes())
	}
	st, err := m.State.MarshalJSON()
	if err != nil {
		return nil, err
	}
	files[FeaturesFile] = st
	mt, err := json.MarshalIndent(m.Metrics, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("riskmodel: metrics: %w", err)
	}
	files[MetricsFile] = mt
	return files, nil
}

// Load reads a gbdt model folder (models.ReadFolder checks its files),
// validates the trees and the feature state, and checks that the trees take
// exactly the state's features. Package risklane/models/kinds loads a
// folder of any kind.
func Load(dir string) (*Model, error) {
	f, err := models.ReadFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("riskmodel: %w", err)
	}
	if f.Kind != KindName {
		return nil, fmt.Errorf("riskmodel: %s holds a %s model, not a %s one", dir, f.Kind, KindName)
	}
	return load(f)
}

// load builds the model from a folder ReadFolder has checked.
func load(f *models.Folder) (*Model, error) {
	man, err := parseManifest(f.Manifest)
	if err != nil {
		return nil, fmt.Errorf("riskmodel: %s: %w", f.Path(ManifestFile), err)
	}
	man.ID = f.ID
	data := f.Files
	dir := f.Dir
	m := &Model{Manifest: man}
	if m.Classifier, err = xgb.ReadJSON(bytes.NewReader(data[ModelFile])); err != nil {
		return nil, fmt.Errorf("riskmodel: %s: %w", filepath.Join(dir, ModelFile), err)
	}
	if b, ok := data[RevenueFile]; ok {
		if m.Revenue, err = xgb.ReadJSON(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("riskmodel: %s: %w", filepath.Join(dir, RevenueFile), err)
		}
	}
	if m.State, err = features.Read(bytes.NewReader(data[FeaturesFile])); err != nil {
		return nil, fmt.Errorf("riskmodel: %s: %w", filepath.Join(dir, FeaturesFile), err)
	}
	if b, ok := data[MetricsFile]; ok {
		if err := json.Unmarshal(b, &m.Metrics); err != nil {
			return nil, fmt.Errorf("riskmodel: %s: %w", filepath.Join(dir, MetricsFile), err)
		}
	}
	if !slices.Equal(man.Features, m.State.Names()) {
		return nil, fmt.Errorf("riskmodel: %s: the manifest's features differ from the feature state's: %s", dir, firstDifference(man.Features, m.State.Names()))
	}
	if err := m.prepare(); err != nil {
		return nil, fmt.Errorf("%w (model folder %s)", err, dir)
	}
	return m, nil
}

// parseManifest reads manifest.json and checks what Load relies on: the
// common header (models.ParseHeader: format, version, file names and
// hashes), the kind, and the files a gbdt folder must list.
func parseManifest(b []byte) (Manifest, error) {
	h, err := models.ParseHeader(b)
	if err != nil {
		return Manifest{}, err
	}
	if h.Kind != KindName {
		return Manifest{}, fmt.Errorf("kind %q; a %s folder was expected", h.Kind, KindName)
	}
	var man Manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return Manifest{}, err
	}
	for _, need := range []string{ModelFile, FeaturesFile} {
		if _, ok := man.Files[need]; !ok {
			return Manifest{}, fmt.Errorf("the manifest does not list %s", need)
		}
	}
	return man, nil
}
