. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o fwd.delta || exit
"$BIN/hollow-diff" v2.hollow fwd.delta
