. "$CLI_LIB"
dump --records
