. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" v1.hollow v2.hollow
