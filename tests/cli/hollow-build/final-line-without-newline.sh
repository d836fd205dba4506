. "$CLI_LIB"
printf '\n{"id": 2, "title": "b"}\n\n   \n{"id": 1, "title": "a"}' >in.jsonl
build -s "$SAMPLES/catalog.hsl" -o out.hollow in.jsonl || exit
dump --records out.hollow
