#!/usr/bin/python3
"""`make bench-suite`: risklane against the tools users would pick instead,
in one run, on the same generated data, on the same (shared) machine.

It builds risklane and the DuckDB helper (bench/duckdb, its own Go module,
fetched through the Go module proxy), generates the data once, trains the two
benchmark models, then measures, each pair one right after the other:

  score    risklane score vs bench/reference.py (pandas + XGBoost), both
           models: "default" (400 trees depth 10 + revenue head, what
           `risklane train` gives) and "small" (100 trees depth 6, no head),
           REPEAT rounds, medians
  predict  the native engine vs XGBoost inplace_predict of the same
           classifier (each model folder's model.json, the one score used) on
           the features of the night's first 100,000 rows, 1 and 2 threads
           (go test -bench BenchmarkModelEngines in models/riskmodel, which
           times both sides)
  ingest   risklane ingest CSV -> Parquet vs DuckDB COPY ... (FORMAT parquet),
           both on 2 threads, REPEAT alternating pairs, medians
  train    models/gbdt Train vs XGBoost hist (go test -bench 'Train$')

Processes run under /usr/bin/time -v (wall, CPU, peak RSS). It prints a table
of ratios and writes suite.json and suite.md into the work folder.
See docs/benchmarks.md.

usage: bench/suite.py [--rows N] [--work DIR] [--repeat R] [--only score,predict,ingest,train]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FEATURES = "hs,unitvalue,tax,risk,freq"  # the groups bench/reference.py implements
MODELS = {
    "default": ["--features", FEATURES],  # train's defaults: 400 x depth 10 + revenue head
    "small": ["--rounds", "100", "--max-depth", "6", "--eta", "0.1", "--no-revenue-head", "--features", FEATURES],
}


def log(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, out=None):
    """Runs cmd; returns its stdout (or writes it to out). Fails loudly."""
    e = dict(os.environ, **(env or {}))
    res = subprocess.run(cmd, cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    if out:
        with open(out, "w") as f:
            f.write(res.stdout)
    return res.stdout


def measured(work, name, cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns wall, cpu, rss and stdout."""
    tf = os.path.join(work, name + ".time")
    stdout = run(["/usr/bin/time", "-v", "-o", tf] + cmd, env=env, out=os.path.join(work, name + ".out"))
    t = open(tf).read()
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":")
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(clock)))
    cpu = float(re.search(r"User time \(seconds\): (\S+)", t).group(1)) + float(re.search(r"System time \(seconds\): (\S+)", t).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss, "stdout": stdout}


def load():
    return open("/proc/loadavg").read().split()[:3]


def build(work):
    bin_ = os.path.join(work, "risklane")
    log(f"building risklane and bench/duckdb into {work}")
    run(["go", "build", "-trimpath", "-o", bin_, "./cmd/risklane"], cwd=ROOT)
    duck = os.path.join(work, "duckdb-copy")
    if "ingest" in ONLY:
        run(["go", "build", "-trimpath", "-o", duck, "."], cwd=os.path.join(ROOT, "bench", "duckdb"))
    return bin_, duck


def data(work, bin_, rows):
    files = {
        "train": os.path.join(work, "train.parquet"),
        "parquet": os.path.join(work, f"night-{rows}.parquet"),
        "csv": os.path.join(work, f"night-{rows}.csv"),
        "date": os.path.join(work, f"date-{rows}.csv"),
    }
    gens = {"train": ["--rows", "100000", "--seed", "11"], "parquet": ["--rows", str(rows), "--seed", "2"],
            "csv": ["--rows", str(rows), "--seed", "2"], "date": ["--rows", str(rows), "--seed", "7", "--format", "date"]}
    # Only what the parts asked for (--only) need: ingest reads the DATE CSV alone.
    wanted = ({"train", "parquet", "csv"} if "score" in ONLY else set()) | ({"date"} if "ingest" in ONLY else set())
    for k, path in files.items():
        if k in wanted and not os.path.exists(path):
            log(f"generating {path}")
            run([bin_, "generate", "--out", path] + gens[k])
    for name, flags in MODELS.items():
        if "score" not in ONLY:
            break
        d = os.path.join(work, f"model-{name}")
        if not os.path.exists(os.path.join(d, "manifest.json")):
            log(f"training the {name} model")
            run([bin_, "train", "--in", files["train"], "--profile", "canonical", "--out", d] + flags)
    return files


def medians(ms, rows):
    """Summarises repeated runs of one command: median wall and CPU, the
    highest peak RSS, every wall."""
    wall = statistics.median(m["wall_s"] for m in ms)
    return {"wall_s": wall, "rows_per_s": rows / wall, "cpu_s": statistics.median(m["cpu_s"] for m in ms),
            "peak_rss_mb": max(m["peak_rss_mb"] for m in ms), "walls": [m["wall_s"] for m in ms]}


def bench_score(work, bin_, files, rows, repeat):
    out = {}
    for name in MODELS:
        model = os.path.join(work, f"model-{name}")
        runs = {}
        for i in range(repeat):
            log(f"score, {name} model, round {i + 1}/{repeat}: risklane (Parquet, CSV), then the Python reference")
            for ext in ("parquet", "csv"):
                cmd = [bin_, "score", "--model", model, "--profile", "canonical", "--in", files[ext],
                       "--out", os.path.join(work, f"score-{name}-{ext}.parquet"), "--log-format", "json"]
                if ext == "csv":
                    cmd.append("--csv")
                runs.setdefault(f"risklane_{ext}", []).append(measured(work, f"score-{name}-{ext}-{i}", cmd))
            check = os.path.join(work, f"score-{name}-csv.csv")
            cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "reference.py"), "--model", model, "--in", files["csv"],
                   "--out", os.path.join(work, f"python-{name}.csv"), "--threads", "2"]
            if os.path.exists(check):
                cmd += ["--check", check]
            runs.setdefault("python", []).append(measured(work, f"score-{name}-python-{i}", cmd))
        out[name] = {k: medians(ms, rows) for k, ms in runs.items()}
    return out


def bench_ingest(work, bin_, duck, files, rows, repeat):
    runs = {"risklane": [], "duckdb": []}
    env = {"GOMAXPROCS": "2"}
    for i in range(repeat):
        log(f"ingest pair {i + 1}/{repeat}: risklane, then DuckDB")
        o = os.path.join(work, "ingest-risklane.parquet")
        runs["risklane"].append(measured(work, f"ingest-risklane-{i}", [bin_, "ingest", "--in", files["date"], "--profile", "date", "--out", o], env))
        o = os.path.join(work, "ingest-duckdb.parquet")
        if os.path.exists(o):
            os.remove(o)
        m = measured(work, f"ingest-duckdb-{i}", [duck, "--in", files["date"], "--out", o, "--threads", "2"])
        m["duckdb"] = json.loads(m["stdout"])
        runs["duckdb"].append(m)
    out = {k: medians(ms, rows) for k, ms in runs.items()}
    out["duckdb"]["version"] = runs["duckdb"][0]["duckdb"]["duckdb"]
    out["duckdb"]["statement_s"] = statistics.median(m["duckdb"]["seconds"] for m in runs["duckdb"])
    out["input_mb"] = os.path.getsize(files["date"]) / 1e6
    return out


BENCH_LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$")


def gobench(pkg, pattern, benchtime, env=None):
    """Runs go test -bench; returns {name: {unit: value}}."""
    outp = run(["go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, pkg], cwd=ROOT, env=env)
    res = {}
    for line in outp.splitlines():
        m = BENCH_LINE.match(line)
        if m:
            vals = m.group(2).split()
            res[m.group(1)] = {vals[i + 1]: float(vals[i]) for i in range(0, len(vals) - 1, 2)}
    return res, outp


def bench_predict(work, files):
    # Hook: models/riskmodel's BenchmarkModelEngines times the native engine
    # on the very classifier `risklane score` walked (the model folder's
    # model.json) and the features of the night's first 100,000 rows and,
    # through Python, XGBoost's inplace_predict of the same model.json on the
    # same rows. Every sub-benchmark ".../ENGINE/threads=N" is paired with
    # ".../xgboost/threads=N" under the same prefix (the model folder).
    # PREDICT_BENCH (a -bench pattern for ./models/scorer, e.g.
    # BenchmarkEngines) times the synthetic benchmark models there instead.
    benchtime = os.environ.get("PREDICT_BENCHTIME", "3x")
    env = {"OMP_WAIT_POLICY": "PASSIVE"}
    res, outs = {}, []
    if os.environ.get("PREDICT_BENCH"):
        pattern = os.environ["PREDICT_BENCH"]
        log(f"predict: go test -bench '{pattern}' ./models/scorer")
        r, outp = gobench("./models/scorer", pattern, benchtime, env)
        res.update(r)
        outs.append(outp)
    else:
        for name in MODELS:
            model = os.path.join(work, f"model-{name}")
            log(f"predict, {name} model's classifier: go test -bench BenchmarkModelEngines ./models/riskmodel")
            r, outp = gobench("./models/riskmodel", "BenchmarkModelEngines", benchtime,
                              dict(env, RISKLANE_BENCH_MODEL=model, RISKLANE_BENCH_IN=files["parquet"]))
            res.update(r)
            outs.append(outp)
    open(os.path.join(work, "predict.out"), "w").write("\n".join(outs))
    rates = {k: v["rows/s"] for k, v in res.items() if "rows/s" in v}
    pairs = []
    for name, rate in sorted(rates.items()):
        m = re.match(r"(.*)/([^/]+)/threads=(\d+)$", name)
        if not m or m.group(2) == "xgboost":
            continue
        ref = f"{m.group(1)}/xgboost/threads={m.group(3)}"
        if ref in rates:
            pairs.append({"name": name, "rows_per_s": rate, "xgboost_rows_per_s": rates[ref], "ratio": rate / rates[ref],
                          "cpu_ns_per_row": res[name].get("cpu-ns/row")})
    return {"rates": rates, "pairs": pairs}


def bench_train(work):
    log("train: go test -bench 'Train$' ./models/gbdt (risklane, then XGBoost hist)")
    res, outp = gobench("./models/gbdt", "Train$", "1x", {"OMP_WAIT_POLICY": "PASSIVE"})
    open(os.path.join(work, "train.out"), "w").write(outp)
    go, xgb = res.get("BenchmarkTrain", {}), res.get("BenchmarkXGBoostTrain", {})
    out = {"risklane_s": go.get("s/train"), "xgboost_s": xgb.get("s/train")}
    if out["risklane_s"] and out["xgboost_s"]:
        out["ratio"] = out["xgboost_s"] / out["risklane_s"]
    return out


def report(res):
    rows = res["rows"]
    lines = [f"risklane bench-suite: {rows:,} rows, {res['cpus']} CPUs, load before {' '.join(res['load_before'])}, "
             f"after {' '.join(res['load_after'])} ({res['date']})", "",
             "| comparison | risklane | yardstick | ratio | peak MB (risklane / yardstick) |",
             "|---|---:|---:|---:|---:|"]
    for name, r in res.get("score", {}).items():
        py = r["python"]
        for ext in ("parquet", "csv"):
            g = r[f"risklane_{ext}"]
            lines.append(f"| score {name} model, {ext} in, vs Python reference (CSV), median of {len(g['walls'])} | {g['rows_per_s']:,.0f} decl/s | "
                         f"{py['rows_per_s']:,.0f} decl/s | {py['wall_s'] / g['wall_s']:.2f}x | {g['peak_rss_mb']:.0f} / {py['peak_rss_mb']:.0f} |")
    # The yardstick: end to end (reading, features, both heads,
    # ranking, reasons, writing) against XGBoost merely predicting the same
    # classifier on 2 threads.
    rates = res.get("predict", {}).get("rates", {})
    for name, r in res.get("score", {}).items():
        xr = rates.get(f"BenchmarkModelEngines/model-{name}/xgboost/threads=2")
        if xr:
            g = r["risklane_parquet"]
            lines.append(f"| score {name} model end to end (parquet in) vs XGBoost predicting its classifier, 2 threads | "
                         f"{g['rows_per_s']:,.0f} decl/s | {xr:,.0f} rows/s | {g['rows_per_s'] / xr:.2f}x | |")
    for p in res.get("predict", {}).get("pairs", []):
        lines.append(f"| predict {p['name'].removeprefix('Benchmark')} vs XGBoost inplace_predict | {p['rows_per_s']:,.0f} rows/s | "
                     f"{p['xgboost_rows_per_s']:,.0f} rows/s | {p['ratio']:.2f}x | |")
    if "ingest" in res:
        i = res["ingest"]
        g, d = i["risklane"], i["duckdb"]
        lines.append(f"| ingest CSV -> Parquet vs DuckDB {d['version']} COPY, 2 threads (median of {len(g['walls'])}) | "
                     f"{g['rows_per_s']:,.0f} rows/s | {d['rows_per_s']:,.0f} rows/s | {d['wall_s'] / g['wall_s']:.2f}x | "
                     f"{g['peak_rss_mb']:.0f} / {d['peak_rss_mb']:.0f} |")
        # CPU seconds are steadier than wall time on a shared machine.
        lines.append(f"| ingest, CPU seconds (user + system) vs DuckDB | {g['cpu_s']:.2f} s | {d['cpu_s']:.2f} s | "
                     f"{d['cpu_s'] / g['cpu_s']:.2f}x | |")
    if "train" in res and res["train"].get("ratio"):
        t = res["train"]
        lines.append(f"| train 100 trees depth 6, 200k x 30, vs XGBoost hist, 2 threads | {t['risklane_s']:.2f} s | "
                     f"{t['xgboost_s']:.2f} s | {t['ratio']:.2f}x | |")
    lines += ["", "ratio: how many times faster risklane is than the yardstick (the yardstick's time over risklane's), "
              "measured one right after the other in this run. Wall times include process start and reading input."]
    for name, r in res.get("score", {}).items():
        lines.append(f"score {name} walls: " + "; ".join(f"{k} " + ", ".join(f"{w:.2f}" for w in v["walls"]) for k, v in r.items()) + " s")
    if "ingest" in res:
        i = res["ingest"]
        lines.append(f"ingest input {i['input_mb']:.0f} MB; walls risklane {', '.join(f'{w:.2f}' for w in i['risklane']['walls'])}, "
                     f"DuckDB {', '.join(f'{w:.2f}' for w in i['duckdb']['walls'])} s")
    return "\n".join(lines) + "\n"


def main():
    global ONLY
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--work", default="")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="score,predict,ingest,train")
    a = ap.parse_args()
    ONLY = set(a.only.split(","))
    work = os.path.abspath(a.work or tempfile.mkdtemp(prefix="risklane-suite-"))
    os.makedirs(work, exist_ok=True)
    res = {"rows": a.rows, "cpus": os.cpu_count(), "load_before": load(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "go": run(["go", "version"]).strip()}
    bin_, duck = build(work)
    files = data(work, bin_, a.rows)
    if "score" in ONLY:
        res["score"] = bench_score(work, bin_, files, a.rows, a.repeat)
    if "predict" in ONLY:
        res["predict"] = bench_predict(work, files)
    if "ingest" in ONLY:
        res["ingest"] = bench_ingest(work, bin_, duck, files, a.rows, a.repeat)
    if "train" in ONLY:
        res["train"] = bench_train(work)
    res["load_after"] = load()
    for r in res.get("score", {}).values():
        for v in r.values():
            v.pop("stdout", None)
    md = report(res)
    with open(os.path.join(work, "suite.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(work, "suite.md"), "w") as f:
        f.write(md)
    print(md)
    print(f"wrote {work}/suite.json and {work}/suite.md")


ONLY = set()
if __name__ == "__main__":
    main()
