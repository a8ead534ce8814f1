#!/usr/bin/env python3
"""Times Python XGBoost's inplace_predict on a model and rows, for the
benchmark suite: the yardstick of risklane's native tree engine
(docs/scoring-engine.md).

usage: bench/predict.py --model MODEL.json --rows ROWS.f64 --features F
                        [--threads 1,2] [--repeat 5]

ROWS.f64 is row-major little-endian float64, F values per row, NaN missing
(what `RISKLANE_BENCH_EXPORT=DIR go test -bench BenchmarkEngines
./models/scorer` writes: DIR/default.json, DIR/small.json, DIR/rows.f64 with
38 features). Prints one JSON object on stdout:

  {"model": ..., "rows": N, "trees": T, "xgboost": "1.7.4",
   "rows_per_second": {"1": R1, "2": R2}, "seconds": {"1": S1, "2": S2}}

each rate the median of --repeat timed runs after one warm-up.
"""
import argparse
import json
import time

import numpy as np
import xgboost as xgb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--features", type=int, required=True)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    X = np.fromfile(a.rows, dtype="<f8").reshape(-1, a.features)
    bst = xgb.Booster(model_file=a.model)
    out = {"model": a.model, "rows": int(X.shape[0]), "trees": len(bst.get_dump()),
           "xgboost": xgb.__version__, "rows_per_second": {}, "seconds": {}}
    for n in [int(t) for t in a.threads.split(",")]:
        bst.set_param({"nthread": n})
        bst.inplace_predict(X, missing=np.nan)
        times = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            bst.inplace_predict(X, missing=np.nan)
            times.append(time.perf_counter() - t0)
        med = sorted(times)[len(times) // 2]
        out["rows_per_second"][str(n)] = X.shape[0] / med
        out["seconds"][str(n)] = med
    print(json.dumps(out))


if __name__ == "__main__":
    main()
