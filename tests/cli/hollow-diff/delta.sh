. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o fwd.delta -r back.delta || exit
"$BIN/hollow-diff" v1.hollow v2.hollow >direct.txt
"$BIN/hollow-diff" v1.hollow fwd.delta | cmp - direct.txt && echo 'forward delta: same as the snapshots'
"$BIN/hollow-diff" -f jsonl v2.hollow back.delta | tail -n 1
