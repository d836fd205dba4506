. "$CLI_LIB"
"$BIN/hollow-diff" --format xml a b
