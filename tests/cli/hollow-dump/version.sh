. "$CLI_LIB"
dump -V | sed 's/[0-9][0-9.]*/N/g'; dump --version | sed 's/[0-9][0-9.]*/N/g'
