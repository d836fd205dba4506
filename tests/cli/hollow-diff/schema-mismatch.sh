. "$CLI_LIB"
samples || exit
printf 'Movie @PrimaryKey(id) { long id; string title; }\n' >other.hsl
echo '{"id": 1, "title": "x"}' | build -s other.hsl -o other.hollow - || exit
"$BIN/hollow-diff" v1.hollow other.hollow
