. "$CLI_LIB"
build -s "$SAMPLES/catalog.hsl" "$SAMPLES/v1.jsonl" "$SAMPLES/v2.jsonl"
