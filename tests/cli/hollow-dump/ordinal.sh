. "$CLI_LIB"
samples || exit
dump --ordinal 2 v2.hollow && dump --ordinal 0 --type Genre v2.hollow
dump --ordinal 999 v2.hollow
echo "absent: $?"
