. "$CLI_LIB"
printf '{"id": 1, "title": "a"}\n{"id": 2, "title": "b"}\n{"id": 1, "title": "c"}\n' >in.jsonl
reject in.jsonl
