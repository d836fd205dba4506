. "$CLI_LIB"
printf '{"id": 1, "title": "a", "studio": "Acme"}\n' >in.jsonl
reject in.jsonl
