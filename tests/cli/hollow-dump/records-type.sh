. "$CLI_LIB"
samples || exit
dump --type Genre v1.hollow
