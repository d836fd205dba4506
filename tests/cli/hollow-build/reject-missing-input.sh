. "$CLI_LIB"
reject no-such-file.jsonl
