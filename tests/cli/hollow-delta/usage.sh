. "$CLI_LIB"
"$BIN/hollow-delta" only-one.hollow
