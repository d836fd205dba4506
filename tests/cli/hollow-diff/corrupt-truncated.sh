. "$CLI_LIB"
samples || exit
head -c 1000 v2.hollow >cut.hollow
"$BIN/hollow-diff" v1.hollow cut.hollow
