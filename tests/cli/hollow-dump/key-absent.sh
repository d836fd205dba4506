. "$CLI_LIB"
samples || exit
dump --key 1014 v2.hollow
