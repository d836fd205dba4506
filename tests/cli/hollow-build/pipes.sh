. "$CLI_LIB"
# stdin to stdout ('-' and no argument), the same bytes as a file build.
build -s "$SAMPLES/catalog.hsl" -o file.hollow "$SAMPLES/v1.jsonl" || exit
cat "$SAMPLES/v1.jsonl" | build -s "$SAMPLES/catalog.hsl" -o - - | cat >pipe1.hollow
cat "$SAMPLES/v1.jsonl" | build -s "$SAMPLES/catalog.hsl" | cat >pipe2.hollow
cmp file.hollow pipe1.hollow && cmp file.hollow pipe2.hollow &&
  cat "$SAMPLES/v1.jsonl" | build -s "$SAMPLES/catalog.hsl" - | dump --verify -
