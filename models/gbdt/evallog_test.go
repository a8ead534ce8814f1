package gbdt

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"risklane/models/xgb"
)

// The evaluation log has XGBoost's verbose_eval form, at the first round,
// every EvalLogEvery-th and the last, with the report's own metric values;
// and logging changes nothing in the model.
func TestEvalLog(t *testing.T) {
	X, y := synthetic(600, 5, 1)
	V, yv := synthetic(300, 5, 2)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = 12, 3
	quiet, _, err := Train(X, y, V, yv, p)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	p.EvalLog, p.EvalLogEvery = &log, 5
	model, rep, err := Train(X, y, V, yv, p)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, r := range []int{0, 5, 10, 11} {
		fmt.Fprintf(&want, "[%d]\ttrain-logloss:%.5f\tvalid-logloss:%.5f\n", r, rep.Train[r], rep.Valid[r])
	}
	if log.String() != want.String() {
		t.Errorf("log\n%s\nwant\n%s", log.String(), want.String())
	}
	var a, b bytes.Buffer
	if err := xgb.WriteJSON(&a, quiet); err != nil {
		t.Fatal(err)
	}
	if err := xgb.WriteJSON(&b, model); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the evaluation log changed the model")
	}
}
