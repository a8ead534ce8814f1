#!/usr/bin/env bash
# The scoring benchmark: generates ROWS synthetic declarations (Parquet, and
# the same rows as CSV), trains a model on 100,000 other generated rows --
# SIZE small: 100 trees of depth 6, no revenue head (the default); SIZE
# default: risklane train's defaults, 400 trees of depth 10 and a 200-tree
# revenue head -- then times, in one go on the same machine:
#   risklane score on the Parquet file   (the headline number)
#   risklane score on the CSV file       (the same input as Python)
#   bench/reference.py on the CSV file   (pandas + XGBoost, 2 threads)
# with /usr/bin/time -v for wall time and peak memory, and prints every
# stage's rate from the manifests and the reference's own timings.
#
# usage: bench/score.sh [ROWS] [WORKDIR] [SIZE]   (default 1000000 rows, a temp dir, small)
# Generated files and the models are kept in WORKDIR and reused by later runs.
# The engine is risklane's default (native); ENGINE=leaves times leaves.
set -euo pipefail
rows=${1:-1000000}
work=${2:-$(mktemp -d)}
size=${3:-small}
engine=${ENGINE:-native}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
bin=$work/risklane
echo "== building risklane; working in $work" >&2
(cd "$root" && go build -trimpath -o "$bin" ./cmd/risklane)
model=$work/model-$size
case $size in
  small) train_flags=(--rounds 100 --max-depth 6 --eta 0.1 --no-revenue-head); desc="100 trees of depth 6" ;;
  default) train_flags=(); desc="400 trees of depth 10 + 200-tree revenue head (risklane train's defaults)" ;;
  *) echo "size $size: use small or default" >&2; exit 2 ;;
esac
if [ ! -f "$model/manifest.json" ]; then
  echo "== training the $size model ($desc)" >&2
  [ -f "$work/train.parquet" ] || "$bin" generate --rows 100000 --seed 11 --out "$work/train.parquet" >/dev/null
  "$bin" train --in "$work/train.parquet" --profile canonical --out "$model" "${train_flags[@]}" \
    --features hs,unitvalue,tax,risk,freq >/dev/null   # the groups bench/reference.py implements
fi
for ext in parquet csv; do
  if [ ! -f "$work/night-$rows.$ext" ]; then
    echo "== generating $rows rows ($ext)" >&2
    "$bin" generate --rows "$rows" --seed 2 --out "$work/night-$rows.$ext" >/dev/null
  fi
done

measure() { # name command...
  local name=$1; shift
  echo "== $name" >&2
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"
}
uptime >&2
measure go-parquet "$bin" score --model "$model" --engine "$engine" --profile canonical --in "$work/night-$rows.parquet" \
  --out "$work/go-parquet.parquet" --log-format json
measure go-csv "$bin" score --model "$model" --engine "$engine" --profile canonical --in "$work/night-$rows.csv" \
  --out "$work/go-csv.parquet" --csv --log-format json
measure python /usr/bin/python3 "$root/bench/reference.py" --model "$model" --in "$work/night-$rows.csv" \
  --out "$work/python.csv" --threads 2 --check "$work/go-csv.csv"

/usr/bin/python3 - "$work" "$rows" "$desc, engine $engine" <<'PY'
import json, re, sys
work, rows, desc = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def time_file(name):
    t = open(f"{work}/{name}.time").read()
    h, m, s = (["0"] + re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1).split(":"))[-3:]
    wall = int(h) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    cpu = float(re.search(r"User time \(seconds\): (\S+)", t).group(1)) + float(re.search(r"System time \(seconds\): (\S+)", t).group(1))
    return wall, rss, cpu
print(f"\n{rows:,} declarations, {desc}, 2 cores\n")
print("| run | wall s | declarations/s | CPU s | peak MB |")
print("|---|---:|---:|---:|---:|")
res = {}
for name in ["go-parquet", "go-csv", "python"]:
    wall, rss, cpu = time_file(name)
    res[name] = wall
    print(f"| {name} | {wall:.2f} | {rows / wall:,.0f} | {cpu:.1f} | {rss:.0f} |")
print(f"\nrisklane (Parquet) is {res['python'] / res['go-parquet']:.1f}x faster than the Python reference; "
      f"on the same CSV input {res['python'] / res['go-csv']:.1f}x.")
for name in ["go-parquet", "go-csv"]:
    m = json.load(open(f"{work}/{name}.manifest.json"))
    print(f"\n{name} stages (manifest):")
    for s in m["timings"]:
        rate = f"{s['rows_per_second']:,.0f} rows/s" if s.get("rows_per_second") else ""
        print(f"  {s['stage']:9s} {s['seconds']:8.2f} s  cpu {s['cpu_seconds']:7.2f} s  {rate}")
    print(f"  candidates {m['reasons']['candidates']:,}, repaired {m['reasons']['repaired']}")
py = json.loads(open(f"{work}/python.out").read().strip().splitlines()[-1])
print("\npython stages (its own clock):")
for k, v in py.items():
    if k not in ("rows",) and not k.startswith("check"):
        print(f"  {k:10s} {v:8.2f} s")
print(f"  probabilities vs risklane: max |diff| {py['check_max_abs_diff']:.2e}, rows over 1e-5: {py['check_rows_over_1e-5']}")
PY
