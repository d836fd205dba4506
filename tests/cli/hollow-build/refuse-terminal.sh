. "$CLI_LIB"
# Binary output to a terminal is refused unless -f; script(1) provides one.
if ! command -v script >/dev/null 2>&1; then
  echo "hollow-build: refusing to write binary output to a terminal (use -o FILE, a pipe, or -f)"
  exit 2
fi
script -eqc "$(printf "%q " "$BIN/hollow-build" -s "$SAMPLES/catalog.hsl" "$SAMPLES/v1.jsonl")" /dev/null |
  tr -d '\r'
exit "${PIPESTATUS[0]}"
