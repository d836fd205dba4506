# Helpers sourced by the CLI cases (bash).  The runner exports BIN, SAMPLES
# and CLI_LIB and runs each case in a fresh empty directory.

build() { "$BIN/hollow-build" "$@"; }
dump() { "$BIN/hollow-dump" "$@"; }

# v1.hollow and v2.hollow (v2 built on v1) from the samples, quietly.
samples() {
  build -s "$SAMPLES/catalog.hsl" -o v1.hollow "$SAMPLES/v1.jsonl" &&
    build -s "$SAMPLES/catalog.hsl" -b v1.hollow -o v2.hollow \
      "$SAMPLES/v2.jsonl"
}

# reject INPUT [hollow-build options...]
# Builds INPUT twice: over an existing out.hollow, which must stay untouched,
# and to a new path, which must not appear; neither may leave a temporary
# file.  Prints the first run's stderr and exits with its status.  Problems
# with the leftovers are reported on stdout (cases expect it empty).
reject() {
  local input=$1 rc
  shift
  printf 'previous contents\n' >out.hollow
  build -s "${SCHEMA:-$SAMPLES/catalog.hsl}" "$@" -o out.hollow "$input"
  rc=$?
  [ "$(cat out.hollow)" = "previous contents" ] || echo "out.hollow modified"
  build -s "${SCHEMA:-$SAMPLES/catalog.hsl}" "$@" -o new.hollow "$input" \
    2>/dev/null
  [ -e new.hollow ] && echo "new.hollow created"
  # The atomic writer's temporaries are named <dest>.tmp.XXXXXX (STYLE.md §7).
  ls -a | grep -q '\.tmp' && echo "temporary file left: $(ls -a | grep '\.tmp')"
  return $rc
}

# Offset (decimal) and length of section number N of FILE, from --header.
section_of() {
  dump --header "$1" | awk -v want="$2" '$1 == want { print $(NF-2), $(NF-1) }'
}
