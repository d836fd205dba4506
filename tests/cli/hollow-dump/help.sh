. "$CLI_LIB"
dump --help && dump -h | head -n 1
