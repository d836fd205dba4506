. "$CLI_LIB"
build "$SAMPLES/v1.jsonl"
