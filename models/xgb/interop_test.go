package xgb_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/models/scorer"
	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// reg:logistic predicts as binary:logistic, binary:logitraw gives the margin
// (its base_score a margin too): both trained in Python XGBoost, read from
// JSON and UBJSON, and scored by the reference predictor and both engines
// as XGBoost scores them.
func TestObjectivesLogisticAndLogitRawAgainstXGBoost(t *testing.T) {
	python := xgbtest.Python(t)
	const nrows, nfeat = 2000, 7
	rows := xgbtest.Rows(11, nrows, nfeat, 0.1)
	labels := xgbtest.Labels(12, rows, nrows, nfeat, xgb.BinaryLogistic)
	for _, objective := range []string{xgb.RegLogistic, xgb.BinaryLogitRaw} {
		t.Run(objective, func(t *testing.T) {
			dir := t.TempDir()
			stem := filepath.Join(dir, strings.ReplaceAll(objective, ":", "-"))
			params := map[string]any{"objective": objective, "max_depth": 4, "eta": 0.3, "base_score": 0.3, "tree_method": "hist"}
			xgbtest.Train(t, python, params, 12, rows, labels, nfeat, nil, stem+".json", stem+".ubj")
			want := xgbtest.Predict(t, python, rows, nfeat, stem+".json")[0]
			for _, path := range []string{stem + ".json", stem + ".ubj"} {
				m, err := xgb.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if m.Objective != objective || m.Sigmoid() != (objective == xgb.RegLogistic) {
					t.Fatalf("%s: objective %q, sigmoid %v", path, m.Objective, m.Sigmoid())
				}
				ref := make([]float64, nrows)
				for i := range ref {
					ref[i] = m.Predict(rows[i*nfeat : (i+1)*nfeat])
				}
				xgbtest.Compare(t, filepath.Base(path)+" reference predictor", ref, want.Pred, 1e-6)
				for _, engine := range []scorer.Engine{scorer.Native, scorer.Leaves} {
					s, err := scorer.NewEngine(m, engine)
					if err != nil {
						t.Fatal(err)
					}
					got := make([]float64, nrows)
					if err := s.Predict(rows, nrows, got, 2); err != nil {
						t.Fatal(err)
					}
					xgbtest.Compare(t, filepath.Base(path)+" "+string(engine), got, want.Pred, 1e-5)
				}
			}
		})
	}
}

// Categorical models of XGBoost 1.5 to 3.x hold NaN thresholds; the reader
// says that categorical splits are the problem. The fixtures are XGBoost
// 1.7.4's (testdata/README.md).
func TestCategoricalModelsRefused(t *testing.T) {
	for _, file := range []string{"python-1.7.4-categorical.json", "python-1.7.4-categorical.ubj"} {
		_, err := xgb.ReadFile(filepath.Join("testdata", file))
		if !errors.Is(err, xgb.ErrCategorical) {
			t.Errorf("%s: got %v, want ErrCategorical", file, err)
			continue
		}
		for _, want := range []string{file, "categorical splits are not supported"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", file, err, want)
			}
		}
		if strings.Contains(err.Error(), "NaN") {
			t.Errorf("%s: error %q still blames NaN", file, err)
		}
	}
}

// Files that are not models are named for what they are, never given an
// XGBoost version read from their bytes.
func TestNotAModelNamed(t *testing.T) {
	dump, err := os.ReadFile("testdata/python-1.7.4-dump.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data string
		want string
	}{
		{"dump_model JSON", string(dump), "tree dump"},
		{"dump_model text", "booster[0]:\n0:[f0<0.5] yes=1,no=2,missing=1\n\t1:leaf=0.1\n\t2:leaf=-0.1\n" + strings.Repeat(" ", 200), "text tree dump"},
		{"XGBoost4J-Spark metadata", `{"class":"ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel","timestamp":1700000000000,"sparkVersion":"3.4.1","uid":"xgbc_1","paramMap":{}}`, "XGBoost4J-Spark metadata"},
		{"CSV", "declaration_id,date,hs_code\n" + strings.Repeat("D1,2024-01-01,847130\n", 10), "a text file"},
	} {
		path := filepath.Join(t.TempDir(), "model.json")
		if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := xgb.ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "version") {
			t.Errorf("%s: error %q gives a version", c.name, err)
		}
	}
}

// XGBoost 0.4x wrote "binf" before learner parameters whose version fields
// were still reserved: such a file is an old model, not a new one.
func TestBinf04xNamed(t *testing.T) {
	data := make([]byte, 4+136+64)
	copy(data, "binf")
	// base_score 0.5, num_feature 10; the reserved fields stay zero.
	copy(data[4:], []byte{0, 0, 0, 0x3f, 10, 0, 0, 0})
	path := filepath.Join(t.TempDir(), "xgb-0.4.model")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := xgb.ReadFile(path)
	if !errors.Is(err, xgb.ErrOldBinary) || errors.Is(err, xgb.ErrNewerBinary) {
		t.Fatalf("got %v, want ErrOldBinary", err)
	}
	if strings.Contains(err.Error(), "1.1 or later") {
		t.Errorf("error %q calls a 0.4x model new", err)
	}
}
