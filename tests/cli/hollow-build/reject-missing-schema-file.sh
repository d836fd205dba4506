. "$CLI_LIB"
printf '{"id": 1}\n' >in.jsonl
SCHEMA=no-such.hsl reject in.jsonl
