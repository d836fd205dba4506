. "$CLI_LIB"
# The output directory does not exist: nothing may be created anywhere.
build -s "$SAMPLES/catalog.hsl" -o missing-dir/out.hollow "$SAMPLES/v1.jsonl"
rc=$?
ls -A
exit $rc
