#!/usr/bin/env bash
# The scaling figure of docs/beam.md: risklane-beam's stages on Prism with 1
# and 2 workers on ROWS generated declarations (default 10,000,000), and
# where the time goes.
#
#   beam/scripts/scale.sh [ROWS] [WORKDIR]      (or: cd beam && make scale ROWS=...)
#
# Prism runs its workers as goroutines of the launching process (loopback),
# so on one machine "N workers" is GOMAXPROCS=N for the whole process
# (Prism runs up to 8 bundles at once; the cores are the limit). Per stage
# and worker count it prints wall time, CPU time (user + system) and peak
# RSS (/usr/bin/time), the 1-vs-2 ratios, and from the 2-worker run's CPU
# profile where the CPU went (beam/scripts/profsum.py). risklane score at the
# same GOMAXPROCS is the yardstick for the score stage. Needs go, python3 and
# GNU time; WORKDIR (default /tmp/risklane-scale-ROWS) holds ~0.5 GB per 10M
# rows of inputs and is kept for a rerun (delete it when done).
set -euo pipefail
ROWS=${1:-10000000}
WORK=${2:-/tmp/risklane-scale-$ROWS}
STAGES=${STAGES:-fit cluster score sample}
WORKERS=${WORKERS:-1 2}
here=$(cd "$(dirname "$0")" && pwd)
beam=$(dirname "$here")
root=$(dirname "$beam")
mkdir -p "$WORK/bin" "$WORK/out"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "scale.sh: needs GNU time at $TIME" >&2; exit 1; }

echo "== building risklane and risklane-beam"
(cd "$root" && go build -o "$WORK/bin/risklane" ./cmd/risklane)
(cd "$beam" && go build -o "$WORK/bin/risklane-beam" ./cmd/risklane-beam)
R=$WORK/bin/risklane
B=$WORK/bin/risklane-beam

in=()
for i in 0 1 2 3; do in+=(--in "$WORK/in$i.parquet"); done
if [ ! -f "$WORK/model/manifest.json" ] || [ ! -f "$WORK/in3.parquet" ]; then
  echo "== generating $ROWS rows in 4 Parquet files, and a model (20,000 rows, 20 rounds)"
  for i in 0 1 2 3; do "$R" generate --rows $((ROWS / 4)) --seed $((40 + i)) --out "$WORK/in$i.parquet" >/dev/null; done
  "$R" generate --rows 20000 --seed 11 --out "$WORK/history.parquet" >/dev/null
  rm -rf "$WORK/model"
  "$R" train --in "$WORK/history.parquet" --profile canonical --out "$WORK/model" --rounds 20 --max-depth 4 --seed 3 >/dev/null
fi

args() { # the stage's command line (outputs under $WORK/out/$2)
  local o=$WORK/out/$2
  case $1 in
    fit) echo fit "${in[@]}" --profile canonical --out "$o-features.json" ;;
    cluster) echo cluster "${in[@]}" --profile canonical --clusters "$o-clusters.json" --out "$o-assign.parquet" ;;
    score) echo score --model "$WORK/model" --profile canonical "${in[@]}" --out "$o-ranked.parquet" ;;
    sample) echo sample "${in[@]}" --profile canonical --out "$o-sample" --rate 0.2 ;;
    yardstick) echo score --model "$WORK/model" --profile canonical "${in[@]}" --out "$o-single.parquet" ;;
    *) echo "scale.sh: unknown stage $1" >&2; exit 2 ;;
  esac
}

results=$WORK/results.txt
: >"$results"
run() { # stage workers binary
  local st=$1 w=$2 bin=$3 tag=$1-w$2 prof=()
  rm -rf "$WORK/out/$tag"*
  [ "$bin" = "$B" ] && prof=(--cpuprofile "$WORK/out/$tag.prof")
  echo "== $st, $w worker(s): $(uptime | sed 's/.*load/load/')"
  # shellcheck disable=SC2046
  GOMAXPROCS=$w $TIME -f '%e %U %S %M' -o "$WORK/out/$tag.time" "$bin" $(args "$st" "$tag") "${prof[@]}" \
    >"$WORK/out/$tag.log" 2>&1 || { echo "scale.sh: $st with $w worker(s) failed; $WORK/out/$tag.log:" >&2; tail -20 "$WORK/out/$tag.log" >&2; exit 1; }
  read -r wall user sys rss <"$WORK/out/$tag.time"
  echo "$st $w $wall $(echo "$user + $sys" | bc) $((rss / 1024))" | tee -a "$results"
  rm -rf "$WORK/out/$tag"-sample "$WORK/out/$tag"-*.parquet
}

start=$(date +%s)
for st in $STAGES; do
  for w in $WORKERS; do
    run "$st" "$w" "$B"
    [ "$st" = score ] && run yardstick "$w" "$R"
  done
done

echo
echo "== $ROWS rows, $(nproc) cores, $(date -u +%FT%TZ), $(uptime | sed 's/.*load/load/')"
printf '%-10s %7s %9s %9s %9s %10s\n' stage workers wall_s cpu_s peak_MB rows/s
while read -r st w wall cpu rss; do
  printf '%-10s %7s %9.1f %9.1f %9s %10.0f\n' "$st" "$w" "$wall" "$cpu" "$rss" "$(echo "$ROWS / $wall" | bc -l)"
done <"$results"
echo
echo "1 vs 2 workers (wall time with 1 / with 2; CPU time with 2 / with 1):"
for st in $STAGES yardstick; do
  w1=$(awk -v s="$st" '$1 == s && $2 == 1 {print $3, $4}' "$results")
  w2=$(awk -v s="$st" '$1 == s && $2 == 2 {print $3, $4}' "$results")
  [ -n "$w1" ] && [ -n "$w2" ] || continue
  set -- $w1 $w2
  printf '  %-10s speed-up %5.2fx   CPU %5.2fx\n' "$st" "$(echo "$1 / $3" | bc -l)" "$(echo "$4 / $2" | bc -l)"
done
echo
for st in $STAGES; do
  w=$(echo $WORKERS | awk '{print $NF}')
  p=$WORK/out/$st-w$w.prof
  [ -f "$p" ] || continue
  echo "where the CPU went: $st, $w worker(s) (profile $p)"
  go tool pprof -traces "$B" "$p" 2>/dev/null | python3 "$here/profsum.py"
done
echo
echo "total $(( $(date +%s) - start )) s; results in $results"
