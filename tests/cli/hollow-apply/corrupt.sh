. "$CLI_LIB"
samples || exit
"$BIN/hollow-delta" v1.hollow v2.hollow -o 12.delta || exit
# flip the last byte of the first non-empty per-type section
set -- $(dump --header 12.delta | awk '$1 ~ /^[0-9]+$/ && $1 >= 2 && $(NF-1) > 0 { print $(NF-2), $(NF-1); exit }')
off=$(($1 + $2 - 1))
printf '\377' | dd of=12.delta bs=1 seek=$off conv=notrunc status=none
"$BIN/hollow-apply" v1.hollow 12.delta -o out.hollow
rc=$?
[ -e out.hollow ] && echo "out.hollow created"
head -c 1000 12.delta > short.delta
"$BIN/hollow-apply" v1.hollow short.delta -o out.hollow
exit $rc
