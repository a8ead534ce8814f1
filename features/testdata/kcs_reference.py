"""Independent pandas implementation of risklane's features on the KCS data.

Usage: kcs_reference.py train.csv valid.csv go_features.csv

go_features.csv holds, for every row of train.csv then valid.csv, its split,
its fold and the feature values risklane computed (training rows out of fold,
validation rows against the whole history). This script recomputes each
feature from the raw CSV files with pandas and numpy, and prints a JSON
summary of the comparison.
"""
import json
import sys

import numpy as np
import pandas as pd

M = 10.0  # smoothing
MINREF = 5  # values a unit-value reference needs
K = 5
Q = [k / 20 for k in range(21)]  # exactly as risklane's float64(k)/20

train_csv, valid_csv, go_csv = sys.argv[1:4]
tr = pd.read_csv(train_csv, dtype=str, keep_default_na=False)
va = pd.read_csv(valid_csv, dtype=str, keep_default_na=False)
go = pd.read_csv(go_csv)
n_tr = len(tr)
fold = go["fold"].values[:n_tr].astype(int)


def prep(d):
    o = pd.DataFrame(index=d.index)
    o["y"] = d["Fraud"].astype(int)
    o["price"] = d["Item Price"].astype(float)
    o["mass"] = d["Net Mass"].astype(float)
    o["rate"] = d["Tax Rate"].astype(float)
    hs = d["HS6 Code"]
    o["hs2"], o["hs4"], o["hs6"] = hs.str[:2], hs.str[:4], hs.str[:6]
    o["office"] = d["Office ID"]
    o["importer"] = d["Importer ID"]
    o["declarant"] = d["Declarant ID"]
    o["seller"] = d["Seller ID"]
    o["origin"] = d["Country of Origin"]
    o["departure"] = d["Country of Departure"]
    o["importer_hs6"] = o.importer + "\x00" + o.hs6
    o["hs6_origin"] = o.hs6 + "\x00" + o.origin
    o["declarant_importer"] = o.declarant + "\x00" + o.importer
    o["office_importer"] = o.office + "\x00" + o.importer
    for src, name in EXTRAS:
        o["extra_" + name] = d[src]
    ok = (o.price > 0) & (o.mass > 0)
    o["uv"] = np.where(ok, np.log(o.price.where(ok, 1) / o.mass.where(ok, 1)), np.nan)
    dt = pd.to_datetime(d["Date"])
    o["weekday"] = (dt.dt.dayofweek + 1) % 7  # Sunday = 0, as Go
    o["month"] = dt.dt.month
    o["day"] = dt.dt.day
    return o


EXTRAS = [("Process Type", "process_type"), ("Import Type", "import_type"), ("Import Use", "import_use"),
          ("Payment Type", "payment_type"), ("Mode of Transport", "mode_of_transport"), ("Courier ID", "courier_id"),
          ("Tax Type", "tax_type"), ("Country of Origin Indicator", "country_of_origin_indicator")]
KEYS = ["office", "importer", "declarant", "seller", "origin", "departure", "hs2", "hs4", "hs6",
        "importer_hs6", "hs6_origin", "declarant_importer", "office_importer"]
PARENT = {"hs4": "hs2", "hs6": "hs4"}

tr, va = prep(tr), prep(va)


def rates(fit, app, keys):
    """Smoothed fraud rate of every key for the rows of app, from the rows of fit."""
    prior = fit.y.mean()
    out = {}
    for k in keys:
        g = fit.groupby(k).y.agg(["sum", "count"])
        parent = out[PARENT[k]] if k in PARENT else np.full(len(app), prior)
        s = app[k].map(g["sum"]).fillna(0).values
        n = app[k].map(g["count"]).fillna(0).values
        out[k] = (s + M * parent) / (n + M)
    return out


def oof_rates(keys):
    out = {k: np.zeros(n_tr) for k in keys}
    for f in range(K):
        r = rates(tr[fold != f], tr[fold == f], keys)
        for k in keys:
            out[k][fold == f] = r[k]
    return out


def quantiles(x):
    """Type 7 quantiles (linear between order statistics) of sorted x."""
    out = []
    for p in Q:
        h = (len(x) - 1) * p
        lo = int(np.floor(h))
        out.append(x[-1] if lo >= len(x) - 1 else x[lo] + (h - lo) * (x[lo + 1] - x[lo]))
    return np.array(out)


def refs(level):
    d = tr[[level, "uv"]].dropna()
    out = {}
    for key, g in d.groupby(level):
        x = np.sort(g.uv.values)
        if len(x) >= MINREF:
            med = np.median(x)
            out[key] = (med, np.median(np.abs(x - med)), quantiles(x))
    return out


def pct(q, x):
    tol = 1e-9 * max(1.0, abs(x))  # values within tol are equal
    lo = np.searchsorted(q, x - tol, "left")
    hi = np.searchsorted(q, x + tol, "right")
    if hi > lo:
        return 5.0 * (lo + hi - 1) / 2
    if lo == 0:
        return 0.0
    if lo == len(q):
        return 100.0
    return 5.0 * ((lo - 1) + (x - q[lo - 1]) / (q[lo] - q[lo - 1]))


REF = {lvl: refs(lvl) for lvl in ["hs6", "hs4", "hs2", "hs6_origin"]}
allx = np.sort(tr.uv.dropna().values)
gmed = np.median(allx)
GLOBAL = (gmed, np.median(np.abs(allx - gmed)), quantiles(allx))


def uv_features(d):
    z, p, ratio, zo = [], [], [], []
    for x, h6, h4, h2, ho in zip(d.uv, d.hs6, d.hs4, d.hs2, d.hs6_origin):
        if np.isnan(x):
            z.append(np.nan); p.append(np.nan); ratio.append(np.nan); zo.append(np.nan)
            continue
        r = REF["hs6"].get(h6) or REF["hs4"].get(h4) or REF["hs2"].get(h2) or GLOBAL
        z.append((x - r[0]) / (1.4826 * r[1] + 0.05))
        p.append(pct(r[2], x))
        ratio.append(np.exp(x - r[0]))
        ro = REF["hs6_origin"].get(ho) or r
        zo.append((x - ro[0]) / (1.4826 * ro[1] + 0.05))
    return z, p, ratio, zo


def features(d, training):
    f = {}
    f["hs2"] = d.hs2.astype(int)
    f["hs4"] = d.hs4.astype(int)
    f["hs6"] = d.hs6.astype(int)
    f["log_value"] = np.log1p(d.price)
    f["log_net_mass"] = np.log1p(d.mass)
    f["log_uv_kg"] = d.uv
    f["uv_kg_z_hs6"], f["uv_kg_pct_hs6"], f["uv_kg_ratio_hs6"], f["uv_kg_z_hs6_origin"] = uv_features(d)
    f["tax_rate"] = d.rate
    f["log_duty"] = np.log1p(d.price * d.rate / 100)
    xkeys = ["extra_" + n for _, n in EXTRAS]
    r = oof_rates(KEYS + xkeys) if training else rates(tr, d, KEYS + xkeys)
    for k in KEYS + xkeys:
        counts = tr[k].value_counts()
        c = d[k].map(counts).fillna(0).values
        freq = c if training else c + 1
        if k.startswith("extra_"):
            codes = {v: i for i, v in enumerate(sorted(tr[k].unique()))}
            f["code_" + k] = d[k].map(codes).astype(float)
            f["freq_" + k] = freq
            f["risk_" + k] = r[k]
        else:
            f["risk_" + k] = r[k]
            f["freq_" + k] = freq
    f["weekday"], f["month"], f["day_of_month"] = d.weekday, d.month, d.day
    return {k: np.asarray(v, dtype=float) for k, v in f.items()}


mism, checked, worst = [], 0, {}
names = [c for c in go.columns if c not in ("split", "fold")]
missing = []
for split, d, training in [("train", tr, True), ("valid", va, False)]:
    py = features(d, training)
    g = go[go.split == split]
    for name in names:
        if name not in py:
            if name not in missing:
                missing.append(name)
            continue
        a, b = g[name].values.astype(float), py[name]
        both_nan = np.isnan(a) & np.isnan(b)
        err = np.abs(a - b) / np.maximum(1, np.abs(b))
        bad = ~both_nan & ~(err <= 1e-9)
        checked += len(a)
        worst[split + ":" + name] = float(np.nanmax(np.where(both_nan, 0, err))) if len(a) else 0.0
        for i in np.flatnonzero(bad)[:3]:
            mism.append({"split": split, "feature": name, "row": int(i), "go": float(a[i]), "python": float(b[i])})
print(json.dumps({"checked": checked, "rows": len(go), "missing": missing, "mismatches": mism[:50],
                  "worst": max(worst.values())}))
