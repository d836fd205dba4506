. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta || exit
"$BIN/hollow-apply" v2.hollow 12.delta -o out.hollow
rc=$?
[ -e out.hollow ] && echo "out.hollow created"
exit $rc
