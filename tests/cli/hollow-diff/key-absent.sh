. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" --key 4 v1.hollow v2.hollow
