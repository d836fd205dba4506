#!/bin/sh
# Runs each Criterion test binary; prints one closing line for all of them.
pass=0; fail=0
for t in "$@"; do
  out=$("$t" --jobs 2 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^\[====\] Synthesis:' | tail -n 1)
  p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
  f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
  c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
  p=${p:-0}; f=${f:-0}; c=${c:-0}
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ "$c" -ne 0 ] || [ -z "$line" ]; then
    printf '%s\n' "$out" | grep -vE '^\[----\]|^\[RUN \]|^\[PASS\]' | tail -n 40
    echo "FAIL: $t (exit $rc)"
    [ "$f" -eq 0 ] && [ "$c" -eq 0 ] && f=1
  else
    echo "ok: $(basename "$t"): $p passed"
  fi
  pass=$((pass + p)); fail=$((fail + f + c))
done
echo "unit: $pass passed, $fail failed"
[ -n "${TEST_TALLY:-}" ] && echo "$pass $fail" >> "$TEST_TALLY"
[ "$fail" -eq 0 ]
