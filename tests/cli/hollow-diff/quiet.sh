. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" -q v1.hollow v2.hollow; echo "exit $?"; "$BIN/hollow-diff" -q v1.hollow v1.hollow
