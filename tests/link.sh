#!/bin/sh
# Checks how the library and the tools link when LZ4 is bundled
# (Makefile, BUNDLE_LZ4): no program or library needs liblz4.so at exec,
# and no LZ4 symbol is visible outside hf_lz4.o, so a program can link its
# own LZ4 beside libhformat.
#
#   sh tests/link.sh BUILD BINDIR
set -u
build=$1
bindir=$2
pass=0
fail=0
check() { # NAME COMMAND...: passes when COMMAND succeeds
  name=$1
  shift
  if "$@"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: link: $name"
  fi
}
no_lz4_needed() { ! readelf -d "$1" | grep -q 'NEEDED.*liblz4'; }
no_lz4_dynsym() { ! nm -D --defined-only "$1" | grep -q ' LZ4'; }
no_lz4_global() { ! nm -g --defined-only "$1" | grep -q ' LZ4'; }
has_hf_lz4() { nm -g --defined-only "$1" | grep -q ' hf_lz4_decompress$'; }

for t in "$bindir"/hollow-*; do
  case $t in *.md) continue ;; esac
  check "$(basename "$t") needs no liblz4.so" no_lz4_needed "$t"
done
check "libhformat.so needs no liblz4.so" no_lz4_needed "$build/libhformat.so"
check "libhformat.so exports no LZ4_* symbol" no_lz4_dynsym "$build/libhformat.so"
check "libhformat.a defines no global LZ4_* symbol" no_lz4_global "$build/libhformat.a"
check "libhformat.a carries the LZ4 code (hf_lz4_*)" has_hf_lz4 "$build/libhformat.a"

echo "link: $pass passed, $fail failed"
[ -n "${TEST_TALLY:-}" ] && echo "$pass $fail" >> "$TEST_TALLY"
[ "$fail" = 0 ]
