. "$CLI_LIB"
printf '{"id": 1, "title": "ok"}\n\n{"title": "no id"}\n' >in.jsonl
reject in.jsonl
