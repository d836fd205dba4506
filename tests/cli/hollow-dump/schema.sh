. "$CLI_LIB"
samples || exit
dump --schema v1.hollow
