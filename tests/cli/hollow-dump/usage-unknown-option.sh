. "$CLI_LIB"
dump --everything a.hollow
