. "$CLI_LIB"
"$BIN/hollow-diff" v1.hollow
