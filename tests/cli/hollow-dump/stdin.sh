. "$CLI_LIB"
samples || exit
dump --header - <v1.hollow | sed -n '2,9p' >a.txt
dump --header v1.hollow | sed -n '2,9p' >b.txt
cmp a.txt b.txt && cat v2.hollow | dump --key 1035 -
