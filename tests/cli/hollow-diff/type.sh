. "$CLI_LIB"
samples || exit
"$BIN/hollow-diff" --type Genre v1.hollow v2.hollow; echo "exit $?"; "$BIN/hollow-diff" -t CastMember -s v1.hollow v2.hollow
