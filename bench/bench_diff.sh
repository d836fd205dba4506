#!/bin/sh
# bench_diff.sh - hollow-diff against diff(1) of the sorted JSON Lines, on
# datagen data (version 2 = 5 % updated, 1 % deleted, 1 % added): time, peak
# RSS, output size, and what each output names.  Prints Markdown to stdout
# (also kept in WORK/report-diff.md).
#
#   sh bench/bench_diff.sh [-q] [-n N] [-r RUNS] [-b BINDIR] [-g DATAGEN]
#                          [-w WORKDIR]
#
#   -n N      records (default 1000000)
#   -r RUNS   timed runs per command, median reported (default 3)
#   -q        smoke mode: one run each; fails only if a program fails
#   -b DIR    where the hollow-* tools are (default bin)
#   -g PATH   datagen binary (default build/bench/snapshot-datagen)
#   -w DIR    scratch directory (default build/bench/data-diff)
set -eu

N=1000000 RUNS=3 QUICK=0 BINDIR=bin DATAGEN=build/bench/snapshot-datagen
WORK=build/bench/data-diff SCHEMA=bench/catalog.hsl
while getopts qn:r:b:g:w: opt; do
  case $opt in
  q) QUICK=1 ;;
  n) N=$OPTARG ;;
  r) RUNS=$OPTARG ;;
  b) BINDIR=$OPTARG ;;
  g) DATAGEN=$OPTARG ;;
  w) WORK=$OPTARG ;;
  *) echo "usage: $0 [-q] [-n N] [-r RUNS] [-b DIR] [-g PATH] [-w DIR]" >&2
     exit 2 ;;
  esac
done
[ "$QUICK" -eq 1 ] && RUNS=1
TIME=/usr/bin/time
for f in "$BINDIR/hollow-build" "$BINDIR/hollow-diff" "$DATAGEN" "$TIME"; do
  [ -x "$f" ] || { echo "bench_diff: $f: missing (make all bench-programs; apt-get install time)" >&2; exit 2; }
done
mkdir -p "$WORK"
REPORT=$WORK/report-diff.md
: >"$REPORT"
LC_ALL=C
export LC_ALL

out() { printf '%s\n' "$*" | tee -a "$REPORT"; }
# timed LABEL OUTFILE CMD...: runs CMD RUNS times with stdout to OUTFILE;
# records "LABEL|median s|min s|max s|peak RSS KiB (max)|exit".  Exit 0 and
# 1 are answers (diff(1), hollow-diff); 2 and more fail the bench.
timed() {
  label=$1 dest=$2
  shift 2
  : >"$WORK/times"
  i=0
  while [ "$i" -lt "$RUNS" ]; do
    rc=0
    "$TIME" -f '%e %M' -o "$WORK/time.out" "$@" >"$dest" 2>"$WORK/err.out" || rc=$?
    [ "$rc" -le 1 ] || { cat "$WORK/err.out" >&2; echo "bench_diff: '$*' failed (exit $rc)" >&2; exit 1; }
    tail -n 1 "$WORK/time.out" >>"$WORK/times"
    i=$((i + 1))
  done
  sort -g "$WORK/times" | awk -v l="$label" -v rc="$rc" '
    { t[NR] = $1; if ($2 > m) m = $2 }
    END { med = (NR % 2) ? t[(NR+1)/2] : (t[NR/2] + t[NR/2+1]) / 2
          printf "%s|%.2f|%.2f|%.2f|%d|%d\n", l, med, t[1], t[NR], m, rc }' \
    >>"$WORK/rows"
}
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

V1=$WORK/v1.jsonl V2=$WORK/v2.jsonl
"$DATAGEN" -n "$N" >"$V1"
"$DATAGEN" -n "$N" -v 2 >"$V2"
"$BINDIR/hollow-build" -q -s "$SCHEMA" -o "$WORK/v1.hollow" "$V1"
"$BINDIR/hollow-build" -q -s "$SCHEMA" -b "$WORK/v1.hollow" -o "$WORK/v2.hollow" "$V2"
"$BINDIR/hollow-build" -q -s "$SCHEMA" -o "$WORK/v2-alone.hollow" "$V2"

out ""
out "## Data"
out '```'
out "$N records; v2 from v1: 5 % updated, 1 % deleted, 1 % added (datagen defaults)"
out "v1.jsonl $(size_of "$V1") bytes, v2.jsonl $(size_of "$V2") bytes"
out "v1.hollow $(size_of "$WORK/v1.hollow") bytes, v2.hollow (built on v1) $(size_of "$WORK/v2.hollow"), v2-alone.hollow $(size_of "$WORK/v2-alone.hollow")"
out '```'

: >"$WORK/rows"
D=$BINDIR/hollow-diff
timed "hollow-diff v1 v2 (text)" "$WORK/out.txt" "$D" "$WORK/v1.hollow" "$WORK/v2.hollow"
timed "hollow-diff --format jsonl v1 v2" "$WORK/out.jsonl" "$D" -f jsonl "$WORK/v1.hollow" "$WORK/v2.hollow"
timed "hollow-diff --summary v1 v2" "$WORK/out.summary" "$D" --summary "$WORK/v1.hollow" "$WORK/v2.hollow"
timed "hollow-diff v1 v2-alone (no shared ordinals)" "$WORK/out-alone.txt" "$D" "$WORK/v1.hollow" "$WORK/v2-alone.hollow"
timed "hollow-diff -q v1 v1 (equal)" "$WORK/out.same" "$D" -q "$WORK/v1.hollow" "$WORK/v1.hollow"
timed "sort v1.jsonl" "$WORK/s1.jsonl" sort -S 25% "$V1"
timed "sort v2.jsonl" "$WORK/s2.jsonl" sort -S 25% "$V2"
timed "diff s1.jsonl s2.jsonl (sorted)" "$WORK/out.diff" diff "$WORK/s1.jsonl" "$WORK/s2.jsonl"

out ""
out "## Time and memory (median of $RUNS runs; RSS is the largest seen)"
out ""
out "| command | median s | min–max s | peak RSS | output bytes |"
out "|---|---|---|---|---|"
while IFS='|' read -r label med lo hi rss rc; do
  case $label in
  *text*) f=out.txt ;; *jsonl*v2) f=out.jsonl ;; *summary*) f=out.summary ;;
  *alone*) f=out-alone.txt ;; *equal*) f=out.same ;; "sort v1"*) f=s1.jsonl ;;
  "sort v2"*) f=s2.jsonl ;; diff*) f=out.diff ;; *) f= ;;
  esac
  out "| \`$label\` | $med | $lo–$hi | $((rss / 1024)) MiB | $(size_of "$WORK/$f") |"
done <"$WORK/rows"
awk -F'|' '/^sort|^diff/ { s += $2 } END { printf "\nsort + sort + diff, the whole JSON route: %.2f s\n", s }' "$WORK/rows" | tee -a "$REPORT"

# What each output names.  diff(1) prints whole lines: a changed record is a
# removed line and an added line with the same id; only pairing the ids
# tells changed from added or removed, and no field is named.
sed -n 's/^< {"id": *\([0-9]*\),.*/\1/p' "$WORK/out.diff" | sort >"$WORK/ids.old"
sed -n 's/^> {"id": *\([0-9]*\),.*/\1/p' "$WORK/out.diff" | sort >"$WORK/ids.new"
jc=$(comm -12 "$WORK/ids.old" "$WORK/ids.new" | wc -l)
jr=$(comm -23 "$WORK/ids.old" "$WORK/ids.new" | wc -l)
ja=$(comm -13 "$WORK/ids.old" "$WORK/ids.new" | wc -l)
out ""
out "## What the outputs say"
out '```'
out "hollow-diff:  $(cat "$WORK/out.summary")"
out "              $(grep -c '^    ' "$WORK/out.txt") field lines; changed fields by path (top 8, from --format jsonl):"
grep '"op":"change"' "$WORK/out.jsonl" |
  sed 's/.*"path":"//; s/[].[{"].*//' | sort | uniq -c | sort -rn | head -n 8 |
  while read -r n p; do out "                $n $p"; done
out "hollow-diff on v2-alone: $(tail -n 1 "$WORK/out-alone.txt") (same counts: ordinals do not matter)"
out "diff(1):      $(grep -c '^<' "$WORK/out.diff") '<' lines, $(grep -c '^>' "$WORK/out.diff") '>' lines, $(grep -c '^[0-9]' "$WORK/out.diff") hunks"
out "              pairing ids by hand: $ja added, $jr removed, $jc changed; fields: not named"
out '```'
