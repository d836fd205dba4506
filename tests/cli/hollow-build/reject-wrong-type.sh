. "$CLI_LIB"
printf '{"id": 1, "title": 42}\n' >in.jsonl
reject in.jsonl
