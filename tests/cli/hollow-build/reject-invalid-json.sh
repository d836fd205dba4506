. "$CLI_LIB"
printf '{"id": 1, "title": "ok"}\n{"id": 2, "title": }\n' >in.jsonl
reject in.jsonl
