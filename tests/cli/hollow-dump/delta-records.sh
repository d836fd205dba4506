. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta -r 21.rdelta --lz4 || exit
dump --records 12.delta
echo "-- reverse, Movie only"
dump --records -t Movie 21.rdelta
