. "$CLI_LIB"
samples || exit
dump --verify --key 1000 --schema v1.hollow
