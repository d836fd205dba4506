. "$CLI_LIB"
build --frobnicate -s "$SAMPLES/catalog.hsl" "$SAMPLES/v1.jsonl"
