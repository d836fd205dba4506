. "$CLI_LIB"
samples || exit
dump --type Film v1.hollow
