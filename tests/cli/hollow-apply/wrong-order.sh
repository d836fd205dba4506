. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta -r 21.rdelta || exit
"$BIN/hollow-apply" v1.hollow 12.delta 21.rdelta -o back.hollow && cmp back.hollow v1.hollow && echo "there and back: identical"
"$BIN/hollow-apply" v1.hollow 21.rdelta 12.delta -o out.hollow
