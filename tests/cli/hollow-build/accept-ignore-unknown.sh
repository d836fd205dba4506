. "$CLI_LIB"
printf '{"id": 1, "title": "a", "studio": "Acme", "extra": {"x": [1, 2]}}\n' >in.jsonl
build -s "$SAMPLES/catalog.hsl" --ignore-unknown -o out.hollow in.jsonl || exit
dump --records out.hollow
