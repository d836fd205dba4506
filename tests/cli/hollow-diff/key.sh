. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" --key 1070 v1.hollow v2.hollow; echo "exit $?"; "$BIN/hollow-diff" -k 1210 -f jsonl v1.hollow v2.hollow; echo "exit $?"; "$BIN/hollow-diff" -k 1000 v1.hollow v2.hollow
