. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta || exit
# a write error on stdout names stdout, not an input
"$BIN/hollow-apply" v1.hollow 12.delta > /dev/full
