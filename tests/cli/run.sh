#!/bin/sh
# Runs every tests/cli/<tool>/<case>.sh and compares what it printed and how
# it exited with <case>.stdout, <case>.stderr and <case>.exit beside it.
# An absent .stdout/.stderr is not compared; an absent .exit means 0.
#
#   sh tests/cli/run.sh BINDIR [CASE-PATTERN]
#
# Each case runs under bash in a fresh empty directory (its cwd) with BIN
# (the tools), SAMPLES (samples/) and CLI_LIB (helpers to source) exported.
# CLI_UPDATE=1 rewrites the expectation files that exist (and .exit) from
# the actual results: review the diff before committing.
set -u
bindir=${1:-bin}
pattern=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(cd "$bindir" 2>/dev/null && pwd) || { echo "cli: no $bindir" >&2; exit 2; }
SAMPLES=$root/samples
CLI_LIB=$root/tests/cli/lib.sh
export BIN SAMPLES CLI_LIB
# Messages and sorting must not depend on the caller's locale.
LC_ALL=C
export LC_ALL

work=$(mktemp -d "${TMPDIR:-/tmp}/hollow-cli.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
pass=0
fail=0
failed=""

for script in "$root"/tests/cli/*/*.sh; do
  [ -f "$script" ] || continue
  base=${script%.sh}
  name=$(basename "$(dirname "$script")")/$(basename "$base")
  case $name in *"$pattern"*) ;; *) continue ;; esac
  dir=$work/$(printf '%s' "$name" | tr / _)
  mkdir -p "$dir/cwd"
  (cd "$dir/cwd" && exec bash "$script") >"$dir/stdout" 2>"$dir/stderr" </dev/null
  rc=$?
  want_rc=0
  [ -f "$base.exit" ] && want_rc=$(cat "$base.exit")
  ok=1
  why=""
  if [ "$rc" != "$want_rc" ]; then
    ok=0
    why="exit $rc, expected $want_rc"
  fi
  for stream in stdout stderr; do
    if [ -f "$base.$stream" ] && ! cmp -s "$base.$stream" "$dir/$stream"; then
      ok=0
      why="${why:+$why; }$stream differs"
    fi
  done
  if [ "${CLI_UPDATE:-0}" = 1 ]; then
    for stream in stdout stderr; do
      [ -f "$base.$stream" ] && cp "$dir/$stream" "$base.$stream"
    done
    if [ "$rc" = 0 ]; then rm -f "$base.exit"; else echo "$rc" >"$base.exit"; fi
  fi
  if [ "$ok" = 1 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed="$failed $name"
    echo "FAIL: $name: $why"
    for stream in stdout stderr; do
      if [ -f "$base.$stream" ]; then
        diff -u "$base.$stream" "$dir/$stream" | head -n 30 | sed 's/^/    /'
      elif [ -s "$dir/$stream" ]; then
        echo "  $stream:"; head -n 10 "$dir/$stream" | sed 's/^/    /'
      fi
    done
  fi
done

echo "cli: $pass passed, $fail failed"
[ -n "${TEST_TALLY:-}" ] && echo "$pass $fail" >> "$TEST_TALLY"
[ "$fail" -eq 0 ]
