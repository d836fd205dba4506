. "$CLI_LIB"
# Blank lines still count; CR before LF is not part of the record.
printf '{"id": 1, "title": "a"}\r\n\r\n\n{"id": 2, "title": "b"}\r\n{"id": 3, "year": "1999"}\r\n' >in.jsonl
reject in.jsonl
