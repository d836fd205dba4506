. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" -s v1.hollow - <v2.hollow; "$BIN/hollow-diff" -s - v2.hollow <v1.hollow
