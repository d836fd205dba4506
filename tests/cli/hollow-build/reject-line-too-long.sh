. "$CLI_LIB"
# line 2 is 61 bytes; with --max-line 60 it is refused, with 61 it is accepted
printf '{"id": 1}\n{"id": 2, "title": "012345678901234567890123456789012345678"}\n' >in.jsonl
reject in.jsonl --max-line 60
rc=$?
build -s "$SAMPLES/catalog.hsl" --max-line 61 -o ok.hollow in.jsonl && echo "accepted at 61"
exit $rc
