#!/bin/sh
# demo.sh - a short tour of the hollow tools on samples/, each command shown
# with a "$ " prefix and followed by its output.  Usage: sh scripts/demo.sh BIN
#
# To extend: add `run '<command>'` lines below; the command runs with the
# tools on PATH, in a scratch directory holding a copy of samples/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/bin}" && pwd)
dir=${DEMO_DIR:-$root/build/demo}
rm -rf "$dir"
mkdir -p "$dir"
cp "$root"/samples/* "$dir"/
cd "$dir"
PATH=$bin:$PATH
export PATH

# Echoes a command, runs it, and stops the demo if it fails (a command that
# is expected to fail carries its own `|| echo ...`).
run() {
  printf '\n$ %s\n' "$1"
  sh -c "$1" 2>&1 || { echo "demo: command failed: $1" >&2; exit 1; }
}
note() { printf '\n# %s\n' "$1"; }

note "Build version 1 from JSON Lines, then version 2 on top of it (-b keeps ordinals)"
run 'head -n 2 v1.jsonl'
run 'hollow-build -v -s catalog.hsl -o v1.hollow v1.jsonl'
run 'hollow-build -v -s catalog.hsl -b v1.hollow -o v2.hollow v2.jsonl'
run 'ls -l v1.jsonl v1.hollow v2.hollow | awk '"'"'{ print $5, $NF }'"'"

note "Inspect: header, statistics, schema"
run 'hollow-dump v2.hollow'
run 'hollow-dump --stats v2.hollow'
run 'hollow-dump --schema v2.hollow'

note "Look records up by primary key (exit 1 when absent)"
run 'hollow-dump --key 1035 v1.hollow'
run 'hollow-dump --key 1035 v2.hollow'
run 'hollow-dump --key 1014 v2.hollow || echo "exit status $?"'

note "Records are JSON Lines: plain shell tools work on them"
run 'hollow-dump --records v2.hollow | grep -c Sci-Fi'
run 'hollow-dump --records v2.hollow | grep -o '"'"'"year":[0-9]*'"'"' | cut -d: -f2 | sort | uniq -c | sort -k1,1nr -k2,2n | head -n 3'

note "The same data built again gives the same bytes; the dump round-trips"
run 'hollow-build -s catalog.hsl -b v1.hollow -o again.hollow v2.jsonl && cmp v2.hollow again.hollow && echo identical'
run 'hollow-dump --records v2.hollow | hollow-build -s catalog.hsl -b v1.hollow | cmp - v2.hollow && echo identical'

note "Verify every checksum; then damage one byte and verify again"
run 'hollow-dump --verify v2.hollow'
run 'cp v2.hollow bad.hollow && printf X | dd of=bad.hollow bs=1 seek=1000 conv=notrunc 2>/dev/null; hollow-dump --verify bad.hollow || echo "exit status $?"'

note "Bad input is rejected with its line, field and reason; nothing is written"
run 'printf '"'"'{"id": 1, "title": "ok"}\n{"id": 2, "year": "1999"}\n'"'"' | hollow-build -s catalog.hsl -o v3.hollow - || echo "exit status $?"'

note "What changed from v1 to v2: by primary key, down to the field (exit 1: they differ)"
run 'hollow-diff v1.hollow v2.hollow || echo "exit status $?"'
run 'hollow-diff --format jsonl --key 1070 v1.hollow v2.hollow || echo "exit status $?"'
run 'hollow-build -s catalog.hsl -o alone.hollow v2.jsonl && hollow-diff --summary v2.hollow alone.hollow && echo "equal: built alone, same records"'

note "Ship only what changed: a delta and a reverse delta; applying them reproduces each version byte for byte"
run 'hollow-delta -v v1.hollow v2.hollow -o 12.delta -r 21.rdelta --lz4'
run 'hollow-apply v1.hollow 12.delta -o v2-applied.hollow && cmp v2.hollow v2-applied.hollow && echo identical'
run 'hollow-apply v2.hollow 21.rdelta | cmp - v1.hollow && echo "rolled back: identical"'
run 'hollow-apply v2.hollow 12.delta -o x.hollow || echo "exit status $?"'
