. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" v1.hollow v1.hollow && "$BIN/hollow-diff" -f jsonl v2.hollow v2.hollow
