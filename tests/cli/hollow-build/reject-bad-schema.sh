. "$CLI_LIB"
printf 'Movie @PrimaryKey(id) {\n    long id;\n    ListOfGenre genres;\n}\n' >bad.hsl
printf '{"id": 1}\n' >in.jsonl
SCHEMA=bad.hsl reject in.jsonl
