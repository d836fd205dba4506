. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" --summary v1.hollow v2.hollow && echo unexpected; "$BIN/hollow-diff" -s -f jsonl v2.hollow v1.hollow
