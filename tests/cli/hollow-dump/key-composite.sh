. "$CLI_LIB"
cat >people.hsl <<'HSL'
Person @PrimaryKey(lastName, firstName) {
    string firstName;
    string lastName;
    int born;
}
HSL
cat >people.jsonl <<'JSON'
{"firstName": "Ada", "lastName": "Lovelace", "born": 1815}
{"firstName": "Charles", "lastName": "Babbage", "born": 1791}
{"firstName": "Annabella", "lastName": "Lovelace", "born": 1792}
JSON
build -s people.hsl -o people.hollow people.jsonl || exit
dump --key Lovelace --key Ada people.hollow || exit
dump --key Lovelace,Annabella people.hollow || exit
dump --key Babbage --key Ada people.hollow
echo "absent: $?"
dump --key Lovelace people.hollow
echo "one part: $?"
