. "$CLI_LIB"
build -V | sed 's/[0-9][0-9.]*/N/g'; build --version | sed 's/[0-9][0-9.]*/N/g'
