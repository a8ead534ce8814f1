#!/usr/bin/python3
"""The benchmark's plain Python reference for `risklane score`.

It does what a Python analyst would write with Debian's pandas and XGBoost
(no pyarrow there, so it reads CSV): read the night's declarations, compute
the model's features from the model folder's saved state (features.json),
predict with the model's XGBoost JSON (model.json), rank (score descending,
ties in input order), cut red / yellow / green lanes with a seeded
exploration draw, give the red and yellow rows reasons (XGBoost's
approx_contribs, the same attribution risklane uses, named by feature), and
write the ranked list as CSV. It prints its stage timings as JSON.

The features are a port of risklane's feature layer (package features:
fraud rates and counts per key with HS parent fallback, unit value against
the HS6 / HS4 / HS2 / global reference, robust z-score, percentile, ratio,
tax and date features), vectorised with pandas and numpy; --check compares
its probabilities with a risklane ranked file.

Every default feature group is ported, the cluster group included.

Usage: reference.py --model DIR --in night.csv --out ranked.csv [--budget 5]
       [--yellow 10] [--explore 10] [--seed 1] [--threads 2] [--check ranked.csv]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb

MAD_SCALE, MAD_FLOOR = 1.4826, 0.05
STRINGS = ["declaration_id", "office_id", "importer_id", "declarant_id", "seller_id",
           "hs_code", "origin_country", "departure_country"]
KEY_COLUMN = {"office": "office_id", "importer": "importer_id", "declarant": "declarant_id",
              "seller": "seller_id", "origin": "origin_country", "departure": "departure_country"}
HS_PARENT = {"hs4": "hs2", "hs6": "hs4"}


def read(path, extras):
    dtype = {c: str for c in STRINGS + extras}
    df = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    return df


def features(df, state):
    n = len(df)
    num = lambda c: df[c].to_numpy(dtype=np.float64) if c in df else np.full(n, np.nan)
    cif, fob = num("cif_value"), num("fob_value")
    net, gross, qty = num("net_mass_kg"), num("gross_weight_kg"), num("quantity")
    value = np.where(np.isnan(cif), fob, cif)
    mass = np.where(np.isnan(net), gross, net)
    digits = df["hs_code"].fillna("").str.replace(r"[. ]", "", regex=True)
    digits = digits.where(digits.str.fullmatch(r"[0-9]*"), "")

    clusters = None
    # Codes of every key, -1 when the history never had the value.
    codes, rates, counts = {}, {}, {}
    for k in state["keys"]:
        name = k["name"]
        if "values" in k:
            if name in ("hs2", "hs4", "hs6"):
                src = digits.str[: int(name[2])].where(digits.str.len() >= int(name[2]))
            elif name.startswith("extra_"):
                src = df[name[len("extra_"):]]
            else:
                src = df[KEY_COLUMN[name]]
            index = pd.Series(np.arange(len(k["values"]), dtype=np.int64), index=k["values"])
            codes[name] = src.map(index).fillna(-1).to_numpy(dtype=np.int64)
        else:
            a, b = codes[pair_parts(state, name)[0]], codes[pair_parts(state, name)[1]]
            index = pd.Series(np.arange(len(k["a"]), dtype=np.int64),
                              index=np.asarray(k["a"], dtype=np.int64) * (1 << 32) + np.asarray(k["b"], dtype=np.int64))
            key = np.where((a >= 0) & (b >= 0), a * (1 << 32) + b, -1)
            codes[name] = pd.Series(key).map(index).fillna(-1).to_numpy(dtype=np.int64)
        rates[name] = np.asarray(k["rate"])
        counts[name] = np.asarray(k["count"], dtype=np.float64)

    risk = {}
    for k in state["keys"]:  # parents come first
        name, c = k["name"], codes[k["name"]]
        fallback = risk[HS_PARENT[name]] if name in HS_PARENT else np.full(n, state["prior"])
        risk[name] = np.where(c >= 0, rates[name][np.maximum(c, 0)], fallback)

    uv = {"kg": log_ratio(value, mass), "unit": log_ratio(value, qty)}
    refs = {(r["basis"], r["level"]): r for r in state["unit_value_references"]}

    out = {}
    for f in state["features"]:
        if f in ("hs2", "hs4", "hs6"):
            d = int(f[2])
            out[f] = pd.to_numeric(digits.str[:d].where(digits.str.len() >= d), errors="coerce").to_numpy(dtype=np.float64)
        elif f in ("log_value", "log_net_mass", "log_gross_weight", "log_quantity", "log_total_taxes"):
            src = {"log_value": value, "log_net_mass": net, "log_gross_weight": gross,
                   "log_quantity": qty, "log_total_taxes": num("total_taxes")}[f]
            out[f] = np.log1p(src)
        elif f == "cif_fob_ratio":
            out[f] = ratio(cif, fob)
        elif f in CLUSTER_FEATURES:
            if clusters is None:
                clusters = cluster_features(state, digits, cif, fob, net, gross, qty)
            out[f] = clusters[f]
        elif f.startswith("log_uv_"):
            out[f] = uv[f[len("log_uv_"):]]
        elif f.startswith("uv_"):
            basis, kind = f.split("_")[1], f.split("_")[2]
            out[f] = unit_value_position(uv[basis], basis, kind, f.endswith("_origin"), refs, codes)
        elif f == "tax_rate":
            out[f] = num("tax_rate")
        elif f == "log_duty":
            out[f] = np.log1p(value * num("tax_rate") / 100)
        elif f == "tax_to_value":
            out[f] = ratio(num("total_taxes"), value)
        elif f.startswith("risk_"):
            out[f] = risk[f[len("risk_"):]]
        elif f.startswith("freq_"):
            key = f[len("freq_"):]
            c = codes[key]
            out[f] = np.where(c >= 0, counts[key][np.maximum(c, 0)] + 1, 1.0)
        elif f.startswith("code_extra_"):
            c = codes["extra_" + f[len("code_extra_"):]]
            out[f] = np.where(c >= 0, c, np.nan).astype(np.float64)
        elif f in ("weekday", "month", "day_of_month"):
            d = pd.to_datetime(df["date"], errors="coerce")
            out[f] = {"weekday": (d.dt.dayofweek + 1) % 7, "month": d.dt.month, "day_of_month": d.dt.day}[f].to_numpy(dtype=np.float64)
        else:
            sys.exit(f"reference.py: no port of feature {f}")
    return np.column_stack([out[f] for f in state["features"]])


def pair_parts(state, name):
    for a in (k["name"] for k in state["keys"] if "values" in k):
        if name.startswith(a + "_") and name[len(a) + 1:] in {k["name"] for k in state["keys"]}:
            return a, name[len(a) + 1:]
    sys.exit(f"reference.py: cannot split pair key {name}")


def log_ratio(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((a > 0) & (b > 0), np.log(a / b), np.nan)


def ratio(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


def unit_value_position(x, basis, kind, by_origin, refs, codes):
    """The reference entry of each row: HS6, else HS4, else HS2, else global
    (the HS6 x origin one first for the z-score by origin)."""
    n = len(x)
    median, mad = np.full(n, np.nan), np.full(n, np.nan)
    q = np.full((n, 21), np.nan) if kind == "pct" else None
    chosen = np.zeros(n, dtype=bool)
    levels = [("hs6", "hs6"), ("hs4", "hs4"), ("hs2", "hs2"), ("global", None)]
    if by_origin:
        levels.insert(0, ("hs6_origin", "hs6_origin"))
    for level, key in levels:
        r = refs.get((basis, level))
        if r is None:
            continue
        if key is None:
            entry = np.zeros(n, dtype=np.int64)
        else:
            look = np.full(max(len(codes[key]) and int(codes[key].max()) + 1, max(r["codes"]) + 1), -1)
            look[np.asarray(r["codes"])] = np.arange(len(r["codes"]))
            c = codes[key]
            entry = np.where(c >= 0, look[np.clip(c, 0, len(look) - 1)], -1)
        take = (~chosen) & (entry >= 0)
        e = entry[take]
        median[take] = np.asarray(r["median"])[e]
        mad[take] = np.asarray(r["mad"])[e]
        if q is not None:
            q[take] = np.asarray(r["quantiles"]).reshape(-1, 21)[e]
        chosen |= take
    x = np.where(chosen, x, np.nan)
    if kind == "z":
        return (x - median) / (MAD_SCALE * mad + MAD_FLOOR)
    if kind == "ratio":
        return np.exp(x - median)
    return percentile(q, x)


def percentile(q, x):
    """stats.Percentile of each x among its row of 21 quantiles q."""
    n = len(x)
    lo = (q < x[:, None]).sum(1)
    hi = (q <= x[:, None]).sum(1)
    rows = np.arange(n)
    below = q[rows, np.clip(lo - 1, 0, 20)]
    above = q[rows, np.clip(lo, 0, 20)]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = 5 * ((lo - 1) + (x - below) / (above - below))
    p = np.where(hi > lo, 5 * (lo + hi - 1) / 2, np.where(lo == 0, 0.0, np.where(lo == 21, 100.0, inside)))
    return np.where(np.isnan(x), np.nan, p)


CLUSTER_FEATURES = ("uv_cluster_rank", "uv_low_cluster", "uv_log_dist_median", "uv_percentile")


def cluster_features(state, digits, cif, fob, net, gross, qty):
    """The cluster group (package features/pricecluster, Model.Apply): each
    row's log unit value (customs value per kg, else per unit) is placed in
    its price group (its HS6, else its HS4, else the global group of its
    basis) at the nearest cluster centre; rank, low-cluster flag, distance to
    the group median and percentile among the group's 21 quantiles."""
    model = next(sg["state"] for sg in state["signals"] if sg["name"] == "cluster")
    if model["dims"] != 1:
        sys.exit("reference.py: no port of the value-and-mass clusters (value_mass)")
    n = len(digits)
    value = np.where(~(cif > 0) & ~np.isnan(fob), fob, cif)
    mass = np.where(~(net > 0) & ~np.isnan(gross), gross, net)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_kg = (value > 0) & np.isfinite(value) & (mass > 0) & np.isfinite(mass)
        per_unit = (value > 0) & np.isfinite(value) & ~per_kg & (qty > 0) & np.isfinite(qty)
        lu = np.where(per_kg, np.log(value) - np.log(mass), np.where(per_unit, np.log(value) - np.log(qty), np.nan))
    basis = np.where(per_kg, "kg", np.where(per_unit, "unit", ""))
    hs6 = pd.to_numeric(digits.str[:6].where(digits.str.len() >= 6), errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    where = {(g["basis"], g["level"], g["code"]): i for i, g in enumerate(model["groups"])}
    group = np.array([where.get((b, "hs6", h), where.get((b, "hs4", h // 100), where.get((b, "all", 0), -1)))
                      if b and h >= 0 else (where.get((b, "all", 0), -1) if b else -1)
                      for b, h in zip(basis, hs6)], dtype=np.int64)
    out = {f: np.full(n, np.nan) for f in CLUSTER_FEATURES}
    q = np.full((n, 21), np.nan)
    for i in np.flatnonzero(group >= 0):
        g = model["groups"][group[i]]
        c = g["centres"]
        r = 0
        while r < g["k"] - 1 and lu[i] > (c[r] + c[r + 1]) / 2:
            r += 1
        out["uv_cluster_rank"][i] = r
        out["uv_low_cluster"][i] = 1.0 if r < g["num_low"] else 0.0
        out["uv_log_dist_median"][i] = lu[i] - g["log_uv_quantiles"][10]
        q[i] = g["log_uv_quantiles"]
    out["uv_percentile"] = np.where(group >= 0, percentile(q, np.where(group >= 0, lu, np.nan)), np.nan)
    return out


def lanes(n, budget, yellow, explore, seed):
    red = max(1, round(n * budget / 100)) if budget > 0 else 0
    draws = round(red * explore / 100)
    yel = min(max(1, round(n * yellow / 100)) if yellow > 0 else 0, n - red)
    return red, draws, yel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--in", dest="input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=5)
    ap.add_argument("--yellow", type=float, default=10)
    ap.add_argument("--explore", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", help="a risklane ranked CSV to compare probabilities with")
    a = ap.parse_args()
    times, t = {}, time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        times[name] = now - t
        t = now

    state = json.load(open(os.path.join(a.model, "features.json")))
    booster = xgb.Booster(model_file=os.path.join(a.model, "model.json"))
    booster.set_param({"nthread": a.threads})
    lap("load_model")
    df = read(a.input, state.get("extras") or [])
    lap("read")
    X = features(df, state)
    lap("features")
    names = state["features"]
    dm = xgb.DMatrix(X, missing=np.nan, feature_names=names)
    prob = booster.predict(dm)
    lap("predict")

    n = len(df)
    order = np.lexsort((np.arange(n), -prob.astype(np.float32)))
    red, draws, yel = lanes(n, a.budget, a.yellow, a.explore, a.seed)
    exploit = red - draws
    rng = np.random.default_rng(a.seed)
    picked = np.sort(rng.choice(np.arange(exploit, n), size=draws, replace=False))
    rest = np.setdiff1d(np.arange(exploit, n), picked, assume_unique=True)
    order = np.concatenate([order[:exploit], order[picked], order[rest]])
    lane = np.full(n, "green", dtype=object)
    lane[:red], lane[red:red + yel] = "red", "yellow"
    reasons = np.full(n, "", dtype=object)
    reasons[exploit:red] = "random exploration draw"
    explained = np.concatenate([np.arange(exploit), np.arange(red, red + yel)])
    lap("rank")
    contrib = booster.predict(xgb.DMatrix(X[order[explained]], missing=np.nan, feature_names=names), pred_contribs=True, approx_contribs=True)[:, :-1]
    names = np.asarray(names)
    top = np.argsort(-contrib, axis=1, kind="stable")[:, :3]
    reasons[explained] = ["; ".join(f"{names[f]} = {X[order[i], f]:.4g}" for f in row if c[f] > 0)
                          for i, row, c in zip(explained, top, contrib)]
    lap("reasons")
    pd.DataFrame({"rank": np.arange(1, n + 1), "declaration_id": df["declaration_id"].to_numpy()[order],
                  "score": prob[order], "lane": lane, "reasons": reasons}).to_csv(a.out, index=False)
    lap("write")
    times["total"] = sum(times.values())
    times["rows"] = n
    if a.check:
        go = pd.read_csv(a.check, dtype={"declaration_id": str}, usecols=["declaration_id", "score"])
        mine = pd.Series(prob, index=df["declaration_id"].to_numpy())
        diff = np.abs(go["score"].to_numpy() - mine.reindex(go["declaration_id"]).to_numpy())
        times["check_max_abs_diff"] = float(np.nanmax(diff))
        times["check_rows_over_1e-5"] = int((diff > 1e-5).sum())
    print(json.dumps(times))


if __name__ == "__main__":
    main()
