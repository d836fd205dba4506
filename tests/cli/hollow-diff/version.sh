. "$CLI_LIB"
"$BIN/hollow-diff" -V | sed 's/[0-9][0-9.]*/N/g'; "$BIN/hollow-diff" --version | sed 's/[0-9][0-9.]*/N/g'
