. "$CLI_LIB"
samples || exit
dump --stats v2.hollow
