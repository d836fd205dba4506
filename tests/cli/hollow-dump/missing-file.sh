. "$CLI_LIB"
dump --header nothing.hollow
