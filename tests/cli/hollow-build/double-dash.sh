. "$CLI_LIB"
# After --, a name that looks like an option is a file.
cp "$SAMPLES/v1.jsonl" ./-v.jsonl
build -s "$SAMPLES/catalog.hsl" -o out.hollow -- -v.jsonl && dump --verify out.hollow
