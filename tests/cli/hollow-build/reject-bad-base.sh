. "$CLI_LIB"
printf 'not a hollow file, just text padded out to more than sixty-four bytes....\n' >base.hollow
reject "$SAMPLES/v1.jsonl" -b base.hollow
