. "$CLI_LIB"
samples || exit
# The length of record 1's title (byte 15 of slot 1 of SLOTS(Movie), 40 bytes wide, FORMAT.md
# §6.4) made to overflow the heap.  The cheap open does not hash per-type
# sections, so the damage shows when the diff reads the record.
set -- $(section_of v1.hollow 3)
cp v1.hollow bad.hollow
printf '\377' | dd of=bad.hollow bs=1 seek=$(($1 + 40 + 15)) conv=notrunc 2>/dev/null
"$BIN/hollow-diff" bad.hollow v2.hollow
