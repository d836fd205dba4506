. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta -r 21.rdelta || exit
"$BIN/hollow-apply" v1.hollow 12.delta -o v2b.hollow && cmp v2.hollow v2b.hollow && echo "forward: identical"
"$BIN/hollow-apply" v2.hollow 21.rdelta -o v1b.hollow && cmp v1.hollow v1b.hollow && echo "reverse: identical"
dump --header 12.delta | grep -E '^(kind|dataset version)'
dump --header 21.rdelta | grep -E '^kind'
