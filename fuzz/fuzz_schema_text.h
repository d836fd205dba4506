/*
 * fuzz_schema_text.h - the schema every structured fuzz target builds
 * against (fuzz_json, fuzz_roundtrip), shared with tests/unit/test_regress.c
 * so that replayed findings meet the same schema the fuzzer used.
 */
#ifndef FUZZ_SCHEMA_TEXT_H
#define FUZZ_SCHEMA_TEXT_H

/* Every field kind, references, one-field wrappers, lists, sets, maps with
 * scalar and object keys, nested collections, composite and dotted primary
 * keys, a hash-keyed set; keyed types with references whose keys are their
 * own fields (Ticket, the last type a prefix byte can pick, and Seat in
 * it), which the threaded ingest renders on its parsing threads. */
static const char fz_schema_text[] =
    "Root @PrimaryKey(id, code) {\n"
    "  long id; String code; int i; long l; float f; double d;\n"
    "  boolean b; string s; bytes y; Inner inner; ListOfInner items;\n"
    "  SetOfString tags; MapOfStringToInner byName; MapOfIntToString byNum;\n"
    "  Wrap wrap; Grid grid; Person owner; SetOfPerson people;\n"
    "}\n"
    "String { string value; }\n"
    "Int { int value; }\n"
    "Float { float value; }\n"
    "Bytes { bytes value; }\n"
    "Wrap { Float value; }\n"
    "Inner { int n; string label; Bytes blob; double x; }\n"
    "ListOfInner List<Inner>;\n"
    "SetOfString Set<String>;\n"
    "MapOfStringToInner Map<String, Inner>;\n"
    "MapOfIntToString Map<Int, String>;\n"
    "ListOfInt List<Int>;\n"
    "Grid List<ListOfInt>;\n"
    "Person @PrimaryKey(name.value) { String name; int age; }\n"
    "SetOfPerson Set<Person> @HashKey(name.value);\n"
    "Ticket @PrimaryKey(no) { long no; string note; Inner inner; Seat seat;\n"
    "  Person holder; ListOfInner items; }\n"
    "Seat @PrimaryKey(row, n) { int row; int n; Wrap at; }\n";

#endif /* FUZZ_SCHEMA_TEXT_H */
