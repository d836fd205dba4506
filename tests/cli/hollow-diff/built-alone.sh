. "$CLI_LIB"
samples || exit
build -s "$SAMPLES/catalog.hsl" -o alone.hollow "$SAMPLES/v2.jsonl" || exit
cmp -s v2.hollow alone.hollow && echo 'same bytes (unexpected)'
"$BIN/hollow-diff" v2.hollow alone.hollow && "$BIN/hollow-diff" v1.hollow alone.hollow | tail -n 1
