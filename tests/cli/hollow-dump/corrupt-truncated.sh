. "$CLI_LIB"
samples || exit
head -c 100 v1.hollow >cut.hollow
dump cut.hollow
