. "$CLI_LIB"
build -s "$SAMPLES/catalog.hsl" -o v1.hollow "$SAMPLES/v1.jsonl" || exit
build -s "$SAMPLES/catalog.hsl" -o v2.hollow "$SAMPLES/v2.jsonl" || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta -r 21.rdelta
rc=$?
ls
exit $rc
