. "$CLI_LIB"
samples || exit
dump --key 1035 v2.hollow && dump -k 1210 v2.hollow
