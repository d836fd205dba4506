# A base that opens but fails verification (a heap byte changed, so its
# checksum no longer matches) is refused, whether it is verified beside the
# ingest (default) or before it (-j 1), and nothing is written.
. "$CLI_LIB"
samples || exit 9
set -- $(section_of v1.hollow 4)
printf 'X' | dd of=v1.hollow bs=1 seek=$(($1 + 3)) conv=notrunc 2>/dev/null
reject "$SAMPLES/v2.jsonl" -b v1.hollow
echo "exit $?" >&2
reject "$SAMPLES/v2.jsonl" -b v1.hollow -j 1
