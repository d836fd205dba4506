. "$CLI_LIB"
build -q -s "$SAMPLES/catalog.hsl" -o v1.hollow "$SAMPLES/v1.jsonl"
