. "$CLI_LIB"
printf 'plain text, not a hollow file at all; long enough to hold a header ....\n' >x.hollow
dump --header x.hollow
