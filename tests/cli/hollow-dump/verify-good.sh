. "$CLI_LIB"
samples || exit
dump --verify v1.hollow && dump --verify v2.hollow
