. "$CLI_LIB"
"$BIN/hollow-diff" --help && "$BIN/hollow-diff" -h | head -n 1
