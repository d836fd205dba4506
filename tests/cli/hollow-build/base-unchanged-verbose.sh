. "$CLI_LIB"
samples || exit
build -v -s "$SAMPLES/catalog.hsl" -b v2.hollow -o v3.hollow "$SAMPLES/v2.jsonl" 2>&1 |
  sed 's/; [0-9.]* s$/; ELAPSED s/'
dump --header v2.hollow | grep -E '^(state|dataset version)'
dump --header v3.hollow | grep -E '^(state|dataset version)'
