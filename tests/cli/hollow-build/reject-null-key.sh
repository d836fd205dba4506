. "$CLI_LIB"
printf '{"id": null, "title": "null id"}\n' >in.jsonl
reject in.jsonl
