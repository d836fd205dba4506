. "$CLI_LIB"
samples || exit
dump --key abc v2.hollow
