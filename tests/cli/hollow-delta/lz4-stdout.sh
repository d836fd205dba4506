. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" --lz4 v1.hollow v2.hollow | "$BIN/hollow-apply" v1.hollow - > v2b.hollow || exit
cmp v2.hollow v2b.hollow && echo identical
