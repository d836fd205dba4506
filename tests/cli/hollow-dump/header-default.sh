. "$CLI_LIB"
samples || exit
dump v2.hollow
