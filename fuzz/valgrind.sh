#!/bin/sh
# valgrind.sh BIN WORKDIR - the tools' pipeline on samples/ under valgrind
# memcheck (`make valgrind`): build v1, build v2 on v1, every dump mode,
# verify, delta and reverse delta (plain and LZ4), apply both ways, diff in
# every format.  Any memcheck error or definite/indirect leak fails it.
set -u
BIN=$1
W=$2
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"
mkdir -p "$W"
fail=0
n=0
# run EXPECTED-EXIT TOOL ARGS...: the tool must exit as expected under memcheck
run() {
  want=$1
  shift
  n=$((n + 1))
  $VG "$BIN/$@" >"$W/out.$n" 2>"$W/err.$n"
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "valgrind: FAIL (exit $got, want $want): $*" >&2
    cat "$W/err.$n" >&2
    fail=1
  fi
}
S=samples/catalog.hsl
run 0 hollow-build -q -s $S -o "$W/v1.hollow" samples/v1.jsonl
run 0 hollow-build -q -s $S -b "$W/v1.hollow" -o "$W/v2.hollow" samples/v2.jsonl
for mode in --header --schema --stats --records --verify; do
  run 0 hollow-dump $mode "$W/v2.hollow"
done
run 0 hollow-dump -t Movie "$W/v2.hollow"
run 0 hollow-dump -t Movie -k 1000 "$W/v1.hollow"
run 1 hollow-dump -t Movie -k 999999 "$W/v1.hollow"
run 0 hollow-dump -t Movie -n 0 "$W/v1.hollow"
if [ -x "$BIN/hollow-delta" ]; then
  run 0 hollow-delta -q -o "$W/12.delta" -r "$W/21.rdelta" "$W/v1.hollow" "$W/v2.hollow"
  run 0 hollow-delta -q --lz4 -o "$W/12z.delta" "$W/v1.hollow" "$W/v2.hollow"
  run 0 hollow-dump --verify "$W/12.delta"
  run 0 hollow-dump --header "$W/12z.delta"
fi
if [ -x "$BIN/hollow-apply" ]; then
  run 0 hollow-apply -q -o "$W/v2a.hollow" "$W/v1.hollow" "$W/12.delta"
  run 0 hollow-apply -q -o "$W/v2z.hollow" "$W/v1.hollow" "$W/12z.delta"
  run 0 hollow-apply -q -o "$W/v1a.hollow" "$W/v2.hollow" "$W/21.rdelta"
  run 0 hollow-apply -q -o "$W/v1b.hollow" "$W/v1.hollow" "$W/12.delta" "$W/21.rdelta"
  for f in v2a v2z; do
    cmp -s "$W/v2.hollow" "$W/$f.hollow" || { echo "valgrind: $f differs from v2" >&2; fail=1; }
  done
  for f in v1a v1b; do
    cmp -s "$W/v1.hollow" "$W/$f.hollow" || { echo "valgrind: $f differs from v1" >&2; fail=1; }
  done
  run 2 hollow-apply -q -o "$W/bad.hollow" "$W/v2.hollow" "$W/12.delta"
fi
if [ -x "$BIN/hollow-diff" ]; then
  run 1 hollow-diff "$W/v1.hollow" "$W/v2.hollow"
  run 1 hollow-diff -f jsonl "$W/v1.hollow" "$W/v2.hollow"
  run 1 hollow-diff -s "$W/v1.hollow" "$W/v2.hollow"
  run 0 hollow-diff "$W/v1.hollow" "$W/v1.hollow"
  [ -f "$W/12.delta" ] && run 1 hollow-diff "$W/v1.hollow" "$W/12.delta"
fi
run 2 hollow-dump --verify samples/v1.jsonl
if [ $fail -eq 0 ]; then
  echo "valgrind: $n tool runs clean (memcheck, no definite or indirect leaks)"
fi
exit $fail
