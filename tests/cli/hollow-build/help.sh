. "$CLI_LIB"
build --help && build -h | head -n 1
