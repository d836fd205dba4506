# A corrupt base and a bad input line: the base is reported, as when it
# was verified before the input was read, with threads or without.
. "$CLI_LIB"
samples || exit 9
set -- $(section_of v1.hollow 4)
printf 'X' | dd of=v1.hollow bs=1 seek=$(($1 + 3)) conv=notrunc 2>/dev/null
{ cat "$SAMPLES/v2.jsonl"; printf '{"id": oops}\n'; } >bad.jsonl
reject bad.jsonl -b v1.hollow
echo "exit $?" >&2
reject bad.jsonl -b v1.hollow -j 1
