. "$CLI_LIB"
cp "$SAMPLES/catalog.hsl" .
SCHEMA=catalog.hsl reject "$SAMPLES/v1.jsonl" -t Film
