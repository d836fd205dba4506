. "$CLI_LIB"
dump --ordinal -3 a.hollow
