. "$CLI_LIB"
# dump --records | build -s <(dump --schema) gives back the same bytes.
samples || exit
dump --records v1.hollow | build -s <(dump --schema v1.hollow) -o r1.hollow || exit
cmp v1.hollow r1.hollow || exit
dump --records v2.hollow |
  build -s <(dump --schema v2.hollow) -b v1.hollow -o r2.hollow || exit
cmp v2.hollow r2.hollow
