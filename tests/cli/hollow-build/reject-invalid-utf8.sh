. "$CLI_LIB"
# "caf" then 0xC3 0x28: a lead byte followed by a non-continuation byte.
printf '{"id": 1, "title": "ok"}\n{"id": 2, "title": "caf\303\050"}\n' >in.jsonl
reject in.jsonl
