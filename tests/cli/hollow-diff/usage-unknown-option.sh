. "$CLI_LIB"
"$BIN/hollow-diff" --frobnicate a b
