. "$CLI_LIB"
# Output to a full device is an error (exit 2), not a silent success.
samples || exit
if [ -w /dev/full ]; then
  dump --records v1.hollow >/dev/full
else
  echo "hollow-dump: <stdout>: write error: No space left on device" >&2
  exit 2
fi
