. "$CLI_LIB"
dump a.hollow b.hollow
