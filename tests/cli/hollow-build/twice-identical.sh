. "$CLI_LIB"
build -s "$SAMPLES/catalog.hsl" -o a.hollow "$SAMPLES/v1.jsonl" || exit
build -s "$SAMPLES/catalog.hsl" -o b.hollow "$SAMPLES/v1.jsonl" || exit
cmp a.hollow b.hollow
