. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" --format jsonl v1.hollow v2.hollow
