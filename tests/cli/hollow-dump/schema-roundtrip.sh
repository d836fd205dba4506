. "$CLI_LIB"
# The printed schema is canonical: parsing and printing it again is identity.
samples || exit
dump --schema v1.hollow >s.hsl
build -s s.hsl -o again.hollow "$SAMPLES/v1.jsonl" && dump --schema again.hollow | cmp - s.hsl &&
  cmp v1.hollow again.hollow
