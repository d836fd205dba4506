. "$CLI_LIB"
build -s "$SAMPLES/catalog.hsl" -o v1.hollow "$SAMPLES/v1.jsonl" || exit
build -v -s "$SAMPLES/catalog.hsl" -b v1.hollow --version 7 -o v2.hollow "$SAMPLES/v2.jsonl" 2>&1 |
  sed 's/; [0-9.]* s$/; ELAPSED s/'
dump --header v2.hollow | grep -E '^dataset version'
