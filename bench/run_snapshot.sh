#!/bin/sh
# run_snapshot.sh - measures the snapshot path: build from JSON Lines, sizes,
# open + first lookup (fresh process and in-process), warm lookups, field
# access, allocations.  Prints Markdown to stdout (also kept in WORK/report.md).
#
#   sh bench/run_snapshot.sh [-q] [-n N] [-m M] [-r RUNS] [-b BINDIR]
#                            [-p PROGDIR] [-g DATAGEN] [-w WORKDIR]
#
#   -n N      records in the large dataset (default 1000000)
#   -m M      records in the small dataset for the open comparison (10000)
#   -r RUNS   builds timed per dataset (default 5)
#   -q        smoke mode: one run of everything, few iterations; fails only
#             if a program fails, never on timing
#   -b DIR    where hollow-build is (default bin)
#   -p DIR    where bench_lookup and bench_open are (default build/bench)
#   -g PATH   datagen binary (default PROGDIR/snapshot-datagen)
#   -w DIR    scratch directory for data (default PROGDIR/data)
set -eu

N=1000000 M=10000 RUNS=5 QUICK=0 BINDIR=bin PROGDIR=build/bench
DATAGEN= WORK= SEED=42 SCHEMA=bench/catalog.hsl
while getopts qn:m:r:b:p:g:w: opt; do
  case $opt in
  q) QUICK=1 ;;
  n) N=$OPTARG ;;
  m) M=$OPTARG ;;
  r) RUNS=$OPTARG ;;
  b) BINDIR=$OPTARG ;;
  p) PROGDIR=$OPTARG ;;
  g) DATAGEN=$OPTARG ;;
  w) WORK=$OPTARG ;;
  *) echo "usage: $0 [-q] [-n N] [-m M] [-r RUNS] [-b DIR] [-p DIR] [-g PATH] [-w DIR]" >&2
     exit 2 ;;
  esac
done
DATAGEN=${DATAGEN:-$PROGDIR/snapshot-datagen}
WORK=${WORK:-$PROGDIR/data}
if [ "$QUICK" -eq 1 ]; then
  RUNS=1 LOOKUP_OPS=$N LOOKUP_RUNS=1 INPROC_RUNS=50 SPAWN_RUNS=5
else
  LOOKUP_OPS=1000000 LOOKUP_RUNS=5 INPROC_RUNS=1000 SPAWN_RUNS=200
fi
BUILD_TOOL=$BINDIR/hollow-build
LOOKUP=$PROGDIR/bench_lookup
OPEN=$PROGDIR/bench_open
TIME=/usr/bin/time
for f in "$BUILD_TOOL" "$LOOKUP" "$OPEN" "$DATAGEN" "$TIME"; do
  [ -x "$f" ] || { echo "run_snapshot: $f: missing (run make bench-programs all; apt-get install time)" >&2; exit 2; }
done
command -v lz4 >/dev/null || { echo "run_snapshot: lz4 CLI missing" >&2; exit 2; }
mkdir -p "$WORK"
REPORT=$WORK/report.md
: >"$REPORT"

out() { printf '%s\n' "$*" | tee -a "$REPORT"; }
# Runs a command, echoing it (as it would be typed) into the report.
run() {
  out "\$ $*"
  rc=0
  "$@" >"$WORK/run.out" 2>&1 || rc=$?
  tee -a "$REPORT" <"$WORK/run.out"
  [ "$rc" -eq 0 ] || { echo "run_snapshot: '$*' failed (exit $rc)" >&2; exit 1; }
}
# median, min, max of the numbers on stdin, one per line
stats() { sort -g | awk '{v[NR]=$1} END {
  if (NR == 0) { print "n/a"; exit }
  m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
  printf "median %.3f  min %.3f  max %.3f  (%d runs)\n", m, v[1], v[NR], NR }'; }
size_of() { wc -c <"$1" | tr -d ' '; }

out "## Machine"
out '```'
out "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
out "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- libhformat tools bench 2>/dev/null || echo ' (+ uncommitted changes)')"
out "nproc:    $(nproc)"
out "cpu:      $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
out "compiler: $(${CC:-cc} --version | head -n 1)"
out "load:     $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average at start)"
out '```'

# ---- data ----------------------------------------------------------------
for n in $M $N; do
  j=$WORK/catalog-$n.jsonl
  [ -s "$j" ] || "$DATAGEN" -n "$n" -s "$SEED" >"$j"
done

# ---- build throughput, sizes -----------------------------------------------
out ""
out "## Build (hollow-build, JSON Lines -> snapshot)"
for n in $M $N; do
  j=$WORK/catalog-$n.jsonl s=$WORK/catalog-$n.hollow
  jb=$(size_of "$j")
  cat "$j" >/dev/null # page cache warm: measure parsing, not the disk
  out ""
  out "\$ $TIME -f '%e %M' $BUILD_TOOL -q -s $SCHEMA -o $s $j   # x$RUNS, $n records, $jb bytes of JSON"
  : >"$WORK/build-$n.times"
  i=0
  while [ "$i" -lt "$RUNS" ]; do
    "$TIME" -o "$WORK/time.out" -f '%e %M' "$BUILD_TOOL" -q -s "$SCHEMA" -o "$s" "$j"
    cat "$WORK/time.out" >>"$WORK/build-$n.times"
    i=$((i + 1))
  done
  out "  seconds:    $(awk '{print $1}' "$WORK/build-$n.times" | stats)"
  out "  MB/s JSON:  $(awk -v b="$jb" '$1 > 0 {print b / 1e6 / $1}' "$WORK/build-$n.times" | stats)"
  out "  records/s:  $(awk -v n="$n" '$1 > 0 {print n / $1}' "$WORK/build-$n.times" | stats)"
  out "  peak RSS MiB: $(awk '{print $2 / 1024}' "$WORK/build-$n.times" | stats)"
done

out ""
out "## Sizes"
out ""
out "| records | JSON Lines | lz4 -1 of JSON | snapshot | snapshot / JSON | lz4 -1 of snapshot |"
out "|---|---|---|---|---|---|"
for n in $M $N; do
  j=$WORK/catalog-$n.jsonl s=$WORK/catalog-$n.hollow
  jb=$(size_of "$j") sb=$(size_of "$s")
  lj=$(lz4 -1 -c "$j" | wc -c | tr -d ' ')
  ls=$(lz4 -1 -c "$s" | wc -c | tr -d ' ')
  out "| $n | $jb | $lj | $sb | $(awk -v a="$sb" -v b="$jb" 'BEGIN{printf "%.3f", a/b}') | $ls |"
done

# ---- open + first lookup -----------------------------------------------------
out ""
out "## Open + first primary-key lookup"
for n in $M $N; do
  s=$WORK/catalog-$n.hollow
  cat "$s" >/dev/null
  out ""
  run "$OPEN" spawn -n "$SPAWN_RUNS" "$s"
  run "$OPEN" inproc -n "$INPROC_RUNS" "$s"
done

# ---- warm lookups, field access, allocations -----------------------------------
out ""
out "## Warm lookups and field access ($N records)"
out ""
run "$LOOKUP" -n "$LOOKUP_OPS" -r "$LOOKUP_RUNS" -s "$SEED" "$WORK/catalog-$N.hollow"
out ""
out "Cache-resident working set (1000 distinct keys of the same file):"
out ""
run "$LOOKUP" -n "$LOOKUP_OPS" -r "$LOOKUP_RUNS" -s "$SEED" -k 1000 "$WORK/catalog-$N.hollow"
out ""
out "load at end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
