. "$CLI_LIB"
build -s "$SAMPLES/catalog.hsl" --version=x1 -o out.hollow "$SAMPLES/v1.jsonl"
