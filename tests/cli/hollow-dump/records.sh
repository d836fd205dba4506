. "$CLI_LIB"
samples || exit
dump --records v2.hollow
