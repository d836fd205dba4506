. "$CLI_LIB"
printf '{"id": 1, "year": 2147483648}\n' >in.jsonl
reject in.jsonl
