. "$CLI_LIB"
samples || exit
# a write error on stdout names stdout, not an input
"$BIN/hollow-delta" v1.hollow v2.hollow > /dev/full
