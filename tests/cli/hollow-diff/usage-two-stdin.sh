. "$CLI_LIB"
"$BIN/hollow-diff" - -
