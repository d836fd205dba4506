. "$CLI_LIB"
build -s "$SAMPLES/catalog.hsl" -o v1.hollow "$SAMPLES/v1.jsonl" || exit
build -s "$SAMPLES/catalog.hsl" -b v1.hollow -o v1again.hollow "$SAMPLES/v1.jsonl" || exit
"$BIN/hollow-delta" v1.hollow v1again.hollow -o same.delta || exit
# every removed/added section is empty
dump --header same.delta | awk '$2 ~ /^(removed|added|dslots|dheap|delements)/ && $(NF-1) != 0 { print "nonempty:", $0 }'
echo done
