. "$CLI_LIB"
printf '{"id": 2, "title": "b"}\r\n{"id": 1, "title": "a"}\r\n' >crlf.jsonl
printf '{"id": 2, "title": "b"}\n{"id": 1, "title": "a"}\n' >lf.jsonl
build -s "$SAMPLES/catalog.hsl" -o a.hollow crlf.jsonl || exit
build -s "$SAMPLES/catalog.hsl" -o b.hollow lf.jsonl || exit
cmp a.hollow b.hollow
