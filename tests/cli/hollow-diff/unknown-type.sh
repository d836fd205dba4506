. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" --type Nope v1.hollow v2.hollow
