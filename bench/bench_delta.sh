#!/bin/sh
# bench_delta.sh - measures deltas on generated data: delta and reverse
# delta sizes with and without LZ4 against the snapshot and against
# `xdelta3 -e -s v1.jsonl v2.jsonl`; compute time; apply time against a
# rebuild from JSON (hollow-build -b); peak RSS of each.  Markdown on stdout.
#
#   sh bench/bench_delta.sh [-n N] [-b BINDIR] [-g DATAGEN] [-w WORKDIR]
#
#   -n N      records (default 1000000); version 2 is derived with datagen's
#             defaults: 5% updated, 1% deleted, 1% added
#   -b DIR    where the hollow-* tools are (default bin)
#   -g PATH   datagen binary (default build/bench/snapshot-datagen)
#   -w DIR    scratch directory (default build/bench/delta)
set -eu
N=1000000 BINDIR=bin DATAGEN=build/bench/snapshot-datagen WORK=build/bench/delta
SCHEMA=bench/catalog.hsl SEED=42
while getopts n:b:g:w: opt; do
  case $opt in
  n) N=$OPTARG ;;
  b) BINDIR=$OPTARG ;;
  g) DATAGEN=$OPTARG ;;
  w) WORK=$OPTARG ;;
  *) echo "usage: $0 [-n N] [-b DIR] [-g PATH] [-w DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK"
B=$BINDIR
T="$WORK/time.out"

# run LABEL CMD...: runs CMD under /usr/bin/time; prints "LABEL secs MB".
run() {
  label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$T" "$@"
  set -- $(cat "$T")
  printf '| %s | %s s | %s MB |\n' "$label" "$1" "$(($2 / 1024))"
}
size() { stat -c %s "$1"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f%%", 100 * a / b }'; }

[ -f "$WORK/v1.jsonl" ] || "$DATAGEN" -n "$N" -s "$SEED" -v 1 >"$WORK/v1.jsonl"
[ -f "$WORK/v2.jsonl" ] || "$DATAGEN" -n "$N" -s "$SEED" -v 2 >"$WORK/v2.jsonl"

echo "## Deltas, $N records (datagen -s $SEED, v1 -> v2: 5% updated, 1% deleted, 1% added)"
echo
echo "Machine: $(uname -m), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $(${CC:-cc} --version | head -1)"
echo
echo "| step | time | peak RSS |"
echo "|---|---|---|"
run "build v1 from JSON" "$B/hollow-build" -q -s "$SCHEMA" -o "$WORK/v1.hollow" "$WORK/v1.jsonl"
run "rebuild v2 from JSON with -b v1" "$B/hollow-build" -q -s "$SCHEMA" -b "$WORK/v1.hollow" -o "$WORK/v2.hollow" "$WORK/v2.jsonl"
run "hollow-delta v1 v2 (+ reverse)" "$B/hollow-delta" -q "$WORK/v1.hollow" "$WORK/v2.hollow" -o "$WORK/12.delta" -r "$WORK/21.rdelta"
run "hollow-delta --lz4 (+ reverse)" "$B/hollow-delta" -q --lz4 "$WORK/v1.hollow" "$WORK/v2.hollow" -o "$WORK/12.lz4.delta" -r "$WORK/21.lz4.rdelta"
run "hollow-apply v1 delta" "$B/hollow-apply" "$WORK/v1.hollow" "$WORK/12.delta" -o "$WORK/v2.applied"
run "hollow-apply v1 delta (LZ4)" "$B/hollow-apply" "$WORK/v1.hollow" "$WORK/12.lz4.delta" -o "$WORK/v2.applied.lz4"
run "hollow-apply v2 reverse" "$B/hollow-apply" "$WORK/v2.hollow" "$WORK/21.rdelta" -o "$WORK/v1.applied"
cmp "$WORK/v2.hollow" "$WORK/v2.applied"
cmp "$WORK/v2.hollow" "$WORK/v2.applied.lz4"
cmp "$WORK/v1.hollow" "$WORK/v1.applied"
if command -v xdelta3 >/dev/null 2>&1; then
  run "xdelta3 -e -s v1.jsonl v2.jsonl" xdelta3 -f -e -s "$WORK/v1.jsonl" "$WORK/v2.jsonl" "$WORK/12.xd3"
  run "xdelta3 -d (apply)" xdelta3 -f -d -s "$WORK/v1.jsonl" "$WORK/12.xd3" "$WORK/v2.xd3.jsonl"
fi
echo
S2=$(size "$WORK/v2.hollow")
J2=$(size "$WORK/v2.jsonl")
echo "| blob | bytes | of the v2 snapshot ($S2 B) | of v2.jsonl ($J2 B) |"
echo "|---|---|---|---|"
for f in 12.delta 21.rdelta 12.lz4.delta 21.lz4.rdelta 12.xd3; do
  [ -f "$WORK/$f" ] || continue
  s=$(size "$WORK/$f")
  echo "| $f | $s | $(pct "$s" "$S2") | $(pct "$s" "$J2") |"
done
