. "$CLI_LIB"
samples || exit
cp "$SAMPLES/v1.jsonl" v1.jsonl
"$BIN/hollow-diff" v1.hollow v1.jsonl
