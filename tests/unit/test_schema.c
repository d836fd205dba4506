/* test_schema.c - the schema language (spec/SCHEMA.md): parse, resolve,
 * layout, keys, every rejection rule with its position, canonical text. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

/* ---- helpers ---- */

static hf_schema *parse_ok(const char *text) {
  hf_schema *s = NULL;
  hf_error e;
  int rc = hf_schema_parse(text, strlen(text), &s, &e);
  cr_assert_eq(rc, HF_OK, "parse failed (%d): %s\n--- text:\n%s", rc, e.msg,
               text);
  cr_assert_not_null(s);
  return s;
}

/* Canonical text in a fresh heap buffer. */
static char *print_str(const hf_schema *s) {
  size_t n = hf_schema_print(s, NULL, 0);
  char *buf = malloc(n + 1);
  cr_assert_not_null(buf);
  cr_assert_eq(hf_schema_print(s, buf, n + 1), n);
  cr_assert_eq(strlen(buf), n);
  return buf;
}

static uint32_t type_id(const hf_schema *s, const char *name) {
  uint32_t t = HF_NO_TYPE;
  cr_assert_eq(hf_schema_type_find(s, name, strlen(name), &t), HF_OK,
               "no type %s", name);
  return t;
}

static const hf_field_def *field(const hf_schema *s, const char *type,
                                 const char *name) {
  uint32_t t = type_id(s, type), f;
  cr_assert_eq(hf_schema_field_find(s, t, name, strlen(name), &f), HF_OK,
               "no field %s.%s", type, name);
  return &s->types[t].fields[f];
}

/* Every type comes after each type it references, and topo is a
 * permutation of the ids (hf_internal.h). */
static void check_topo(const hf_schema *s) {
  uint32_t *rank = malloc(s->ntypes * sizeof *rank), k, t;
  cr_assert_not_null(rank);
  for (t = 0; t < s->ntypes; t++)
    rank[t] = UINT32_MAX;
  for (k = 0; k < s->ntypes; k++) {
    cr_assert_lt(s->topo[k], s->ntypes);
    cr_assert_eq(rank[s->topo[k]], UINT32_MAX, "type twice in topo");
    rank[s->topo[k]] = k;
  }
  for (t = 0; t < s->ntypes; t++) {
    const hf_type_def *td = &s->types[t];
    for (k = 0; k < td->nfields; k++)
      if (td->fields[k].type == HF_FT_REF)
        cr_assert_lt(rank[td->fields[k].ref_type], rank[t]);
    if (td->kind != HF_KIND_OBJECT)
      cr_assert_lt(rank[td->elem_type], rank[t]);
    if (td->kind == HF_KIND_MAP)
      cr_assert_lt(rank[td->value_type], rank[t]);
  }
  free(rank);
}

static uint32_t fsize(hf_ftype ft) {
  return ft == HF_FT_BOOLEAN                                       ? 1
         : ft == HF_FT_INT || ft == HF_FT_FLOAT || ft == HF_FT_REF ? 4
                                                                   : 8;
}

/* FORMAT.md §6.4 invariants, checked independently of the layout code:
 * sizes, size classes in order, declaration order within a class, no
 * overlap, bitmap after the values, width a multiple of the largest. */
static void check_layout(const hf_schema *s) {
  uint32_t t, k;
  for (t = 0; t < s->ntypes; t++) {
    const hf_type_def *td = &s->types[t];
    uint32_t expect = 0, maxsz = 0, sz;
    if (td->kind != HF_KIND_OBJECT) {
      cr_assert_eq(td->slot_width, 8);
      cr_assert_eq(td->nfields, 0);
      continue;
    }
    for (sz = 8; sz >= 1; sz = sz == 8 ? 4 : 0) {
      for (k = 0; k < td->nfields; k++) {
        if (fsize(td->fields[k].type) != sz)
          continue;
        cr_assert_eq(td->fields[k].size, sz);
        cr_assert_eq(td->fields[k].offset, expect, "%s.%s", td->name,
                     td->fields[k].name);
        expect += sz;
        maxsz = sz > maxsz ? sz : maxsz;
      }
      if (sz == 4) {
        for (k = 0; k < td->nfields; k++) {
          if (td->fields[k].type != HF_FT_BOOLEAN)
            continue;
          cr_assert_eq(td->fields[k].offset, expect);
          expect += 1;
          maxsz = maxsz ? maxsz : 1;
        }
      }
    }
    cr_assert_eq(td->present_off, expect);
    cr_assert_eq(td->present_len, (td->nfields + 7) / 8);
    cr_assert_geq(td->slot_width, td->present_off + td->present_len);
    cr_assert_eq(td->slot_width % maxsz, 0);
    cr_assert_lt(td->slot_width - (td->present_off + td->present_len), maxsz);
  }
}

/* print(parse(print(s))) == print(s), and the same for the text itself. */
static void check_fixed_point(const hf_schema *s) {
  char *p1 = print_str(s), *p2;
  hf_schema *s2 = parse_ok(p1);
  p2 = print_str(s2);
  cr_assert_str_eq(p2, p1);
  cr_assert_eq(s2->ntypes, s->ntypes);
  /* R-SCH-31: exactly one final LF, no blank line at the end */
  cr_assert_eq(p1[strlen(p1) - 1], '\n');
  cr_assert_neq(p1[strlen(p1) - 2], '\n');
  hf_schema_free(s2);
  free(p1);
  free(p2);
}

/* ---- the brief's example (SCHEMA.md §9.1) ---- */

static const char movie_text[] =
    "/* catalogue schema */\n"
    "Movie @PrimaryKey(id) {          // object type; annotation optional\n"
    "    long id;\n"
    "    string title;\n"
    "    int year;\n"
    "    double rating;\n"
    "    boolean kids;\n"
    "    bytes poster;\n"
    "    ListOfGenre genres;          // a reference to another type\n"
    "    Studio studio;\n"
    "}\n"
    "Genre { string name; }\n"
    "ListOfGenre List<Genre>;\n"
    "Studio { string name; }\n"
    "SetOfTag Set<Tag> @HashKey(value);\n"
    "Tag { string value; }\n"
    "MapOfStringToInt Map<String, Int> @HashKey(value);\n"
    "String { string value; }\n"
    "Int { int value; }\n"
    "Person @PrimaryKey(firstName, lastName, address.city) {\n"
    "    String firstName; String lastName; Address address;\n"
    "}\n"
    "Address { String city; string street; }\n";

Test(schema, movie_kinds_and_fields) {
  hf_schema *s = parse_ok(movie_text);
  static const char *const names[] = {
      "Movie",    "Genre",  "ListOfGenre",      "Studio",
      "SetOfTag", "Tag",    "MapOfStringToInt", "String",
      "Int",      "Person", "Address"};
  static const hf_kind kinds[] = {
      HF_KIND_OBJECT, HF_KIND_OBJECT, HF_KIND_LIST,  HF_KIND_OBJECT,
      HF_KIND_SET,    HF_KIND_OBJECT, HF_KIND_MAP,   HF_KIND_OBJECT,
      HF_KIND_OBJECT, HF_KIND_OBJECT, HF_KIND_OBJECT};
  uint32_t t;
  hf_type_info ti;
  hf_field_info fi;

  cr_assert_eq(hf_schema_type_count(s), 11);
  for (t = 0; t < 11; t++) { /* type ids are declaration order */
    cr_assert_eq(hf_schema_type(s, t, &ti), HF_OK);
    cr_assert_str_eq(ti.name, names[t]);
    cr_assert_eq(ti.kind, kinds[t], "%s", names[t]);
    cr_assert_eq(type_id(s, names[t]), t);
  }
  cr_assert_eq(hf_schema_type(s, 0, &ti), HF_OK);
  cr_assert_eq(ti.field_count, 8);
  cr_assert_eq(ti.elem_type, HF_NO_TYPE);
  cr_assert_eq(ti.key_count, 1);
  cr_assert_eq(hf_schema_type(s, 2, &ti), HF_OK);
  cr_assert_eq(ti.elem_type, 1);
  cr_assert_eq(ti.value_type, HF_NO_TYPE);
  cr_assert_eq(ti.field_count, 0);
  cr_assert_eq(ti.key_count, 0);
  cr_assert_eq(hf_schema_type(s, 6, &ti), HF_OK);
  cr_assert_eq(ti.elem_type, 7);
  cr_assert_eq(ti.value_type, 8);
  cr_assert_eq(ti.key_count, 1);

  {
    static const hf_ftype ft[] = {HF_FT_LONG,   HF_FT_STRING,  HF_FT_INT,
                                  HF_FT_DOUBLE, HF_FT_BOOLEAN, HF_FT_BYTES,
                                  HF_FT_REF,    HF_FT_REF};
    static const char *const fn[] = {"id",   "title",  "year",   "rating",
                                     "kids", "poster", "genres", "studio"};
    uint32_t f;
    for (f = 0; f < 8; f++) {
      cr_assert_eq(hf_schema_field(s, 0, f, &fi), HF_OK);
      cr_assert_str_eq(fi.name, fn[f]);
      cr_assert_eq(fi.type, ft[f]);
      cr_assert_eq(fi.ref_type, f == 6 ? 2 : f == 7 ? 3 : HF_NO_TYPE);
    }
  }
  hf_schema_free(s);
}

Test(schema, movie_layout) /* FORMAT.md §6.4 */ {
  hf_schema *s = parse_ok(movie_text);
  const hf_type_def *m = &s->types[0];
  static const uint32_t off[] = {0, 8, 32, 16, 44, 24, 36, 40};
  static const uint32_t size[] = {8, 8, 4, 8, 1, 8, 4, 4};
  uint32_t f;
  for (f = 0; f < 8; f++) {
    cr_assert_eq(m->fields[f].offset, off[f], "field %s", m->fields[f].name);
    cr_assert_eq(m->fields[f].size, size[f]);
  }
  cr_assert_eq(m->present_off, 45);
  cr_assert_eq(m->present_len, 1);
  cr_assert_eq(m->slot_width, 48);

  cr_assert_eq(s->types[type_id(s, "Genre")].slot_width, 16);  /* 8+1 -> 16 */
  cr_assert_eq(s->types[type_id(s, "Int")].slot_width, 8);     /* 4+1 -> 8 */
  cr_assert_eq(s->types[type_id(s, "Person")].slot_width, 16); /* 12+1 */
  cr_assert_eq(s->types[type_id(s, "Person")].present_off, 12);
  cr_assert_eq(field(s, "Address", "street")->offset, 0);
  cr_assert_eq(field(s, "Address", "city")->offset, 8);
  cr_assert_eq(s->types[type_id(s, "Address")].slot_width, 16);
  cr_assert_eq(s->types[2].slot_width, 8); /* collections */
  cr_assert_eq(s->types[6].slot_width, 8);
  check_layout(s);
  hf_schema_free(s);
}

Test(schema, movie_topo_order) /* SCHEMA.md §8.2 */ {
  hf_schema *s = parse_ok(movie_text);
  static const uint32_t expect[] = {1, 2, 3, 0, 5, 4, 7, 8, 6, 10, 9};
  uint32_t k;
  check_topo(s);
  for (k = 0; k < 11; k++)
    cr_assert_eq(s->topo[k], expect[k], "topo[%u]", k);
  hf_schema_free(s);
}

Test(schema, movie_keys) /* SCHEMA.md §4 */ {
  hf_schema *s = parse_ok(movie_text);
  const uint32_t person = type_id(s, "Person"), str = type_id(s, "String"),
                 addr = type_id(s, "Address");
  const hf_keypath *kp;
  const char *path;
  hf_ftype leaf;

  cr_assert_eq(hf_schema_key(s, 0, 0, &path, &leaf), HF_OK);
  cr_assert_str_eq(path, "id");
  cr_assert_eq(leaf, HF_FT_LONG);
  cr_assert_eq(s->types[0].keys[0].depth, 1);
  cr_assert_eq(s->types[0].keys[0].steps[0], 0);
  cr_assert_eq(s->types[0].keys[0].step_types[0], 0);
  cr_assert_eq(hf_schema_key(s, 0, 1, &path, &leaf), HF_E_ARG);

  /* composite key, single-field shorthand, dotted path */
  cr_assert_eq(s->types[person].nkeys, 3);
  kp = s->types[person].keys;
  cr_assert_str_eq(kp[0].text, "firstName.value");
  cr_assert_str_eq(kp[1].text, "lastName.value");
  cr_assert_str_eq(kp[2].text, "address.city.value");
  cr_assert_eq(kp[0].depth, 2);
  cr_assert_eq(kp[0].steps[0], 0);
  cr_assert_eq(kp[0].step_types[0], person);
  cr_assert_eq(kp[0].steps[1], 0);
  cr_assert_eq(kp[0].step_types[1], str);
  cr_assert_eq(kp[1].steps[0], 1);
  cr_assert_eq(kp[2].depth, 3);
  cr_assert_eq(kp[2].steps[0], 2);
  cr_assert_eq(kp[2].step_types[1], addr);
  cr_assert_eq(kp[2].steps[1], 0);
  cr_assert_eq(kp[2].step_types[2], str);
  cr_assert_eq(kp[2].leaf, HF_FT_STRING);

  /* @HashKey paths are relative to the element / map key type */
  kp = &s->types[type_id(s, "SetOfTag")].keys[0];
  cr_assert_str_eq(kp->text, "value");
  cr_assert_eq(kp->step_types[0], type_id(s, "Tag"));
  kp = &s->types[type_id(s, "MapOfStringToInt")].keys[0];
  cr_assert_eq(kp->step_types[0], str);
  cr_assert_eq(kp->leaf, HF_FT_STRING);
  hf_schema_free(s);
}

Test(schema, movie_canonical_fixed_point) /* R-SCH-31 */ {
  hf_schema *s = parse_ok(movie_text);
  char *p = print_str(s);
  cr_assert(strstr(p, "Person @PrimaryKey(firstName.value, lastName.value, "
                      "address.city.value) {\n") != NULL);
  cr_assert(strstr(p, "\nMapOfStringToInt Map<String, Int> "
                      "@HashKey(value);\n\n") != NULL);
  cr_assert(strstr(p, "//") == NULL && strstr(p, "/*") == NULL);
  check_fixed_point(s);
  free(p);
  hf_schema_free(s);
}

/* ---- canonical text (SCHEMA.md §5) ---- */

Test(schema, canonical_text_exact) /* SCHEMA.md §5 example */ {
  hf_schema *s = parse_ok("// catalogue\n"
                          "Movie @PrimaryKey(id) { long id; string title; "
                          "ListOfGenre genres; }\n"
                          "ListOfGenre List<Genre>;   Genre{string name;}");
  char *p = print_str(s);
  cr_assert_str_eq(p, "Movie @PrimaryKey(id) {\n"
                      "    long id;\n"
                      "    string title;\n"
                      "    ListOfGenre genres;\n"
                      "}\n"
                      "\n"
                      "ListOfGenre List<Genre>;\n"
                      "\n"
                      "Genre {\n"
                      "    string name;\n"
                      "}\n");
  free(p);
  hf_schema_free(s);
}

Test(schema, print_truncates_like_snprintf) {
  hf_schema *s = parse_ok("A { int x; }");
  const char *full = "A {\n    int x;\n}\n";
  char buf[64];
  size_t cap;
  cr_assert_eq(hf_schema_print(s, NULL, 0), strlen(full));
  for (cap = 1; cap < sizeof buf; cap++) {
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(hf_schema_print(s, buf, cap), strlen(full));
    cr_assert_eq(strlen(buf), cap - 1 < strlen(full) ? cap - 1 : strlen(full));
    cr_assert_eq(strncmp(buf, full, strlen(buf)), 0);
    cr_assert_eq(buf[cap], 'Z', "wrote past cap %zu", cap);
  }
  hf_schema_free(s);
}

Test(schema, comments_and_whitespace_anywhere) /* SCHEMA.md §2.1 */ {
  const char *plain = "A @PrimaryKey(b.x) { B b; int y; }\n"
                      "M Map<A, B> @HashKey(y);\nB { int x; }\n";
  const char *noisy =
      "/**/A/* */@PrimaryKey/*x*/(/**/b/**/./**/x/**/)//\n{\tB\r\nb;int/*\n*/"
      "y\n;}M//\n Map\n<A/***/,B>@HashKey(y)/* /* */;B{int x;}// end";
  hf_schema *a = parse_ok(plain), *b = parse_ok(noisy);
  char *pa = print_str(a), *pb = print_str(b);
  cr_assert_str_eq(pa, pb);
  free(pa);
  free(pb);
  hf_schema_free(a);
  hf_schema_free(b);
}

Test(schema, forward_references) /* SCHEMA.md §3.2 */ {
  hf_schema *s = parse_ok("A { L l; M m; S s; }\nL List<B>;\n"
                          "M Map<B, C> @HashKey(x);\nS Set<C> @HashKey(y);\n"
                          "B { int x; }\nC { string y; }\n");
  cr_assert_eq(s->types[0].fields[0].ref_type, 1);
  cr_assert_eq(s->types[2].elem_type, 4);
  cr_assert_eq(s->types[2].value_type, 5);
  cr_assert_eq(s->types[3].elem_type, 5);
  check_topo(s);
  check_fixed_point(s);
  hf_schema_free(s);
}

Test(schema, keyword_case_and_field_names) /* R-SCH-07 */ {
  /* type names are case-sensitive; field names may be keywords */
  hf_schema *s = parse_ok("String { string string; } Int { int List; } "
                          "X { String int; Int Map; }");
  cr_assert_eq(field(s, "X", "int")->ref_type, 0);
  cr_assert_eq(field(s, "String", "string")->type, HF_FT_STRING);
  check_fixed_point(s);
  hf_schema_free(s);
}

Test(schema, implicit_continuation_chain) /* SCHEMA.md §4.2 step 4 */ {
  hf_schema *s = parse_ok("A @PrimaryKey(b, c.d) { B b; C c; }\n"
                          "B { C c; } C { D d; } D { long v; }");
  cr_assert_str_eq(s->types[0].keys[0].text, "b.c.d.v");
  cr_assert_eq(s->types[0].keys[0].depth, 4);
  cr_assert_eq(s->types[0].keys[0].leaf, HF_FT_LONG);
  cr_assert_str_eq(s->types[0].keys[1].text, "c.d.v");
  check_fixed_point(s);
  hf_schema_free(s);
}

Test(schema, key_depth_at_limit) /* R-SCH-19 */ {
  /* 8 steps: T0.f -> T1.f -> ... -> T7.f (int) */
  char text[512];
  size_t n = 0;
  int k;
  hf_schema *s;
  n += (size_t)snprintf(text + n, sizeof text - n,
                        "T0 @PrimaryKey(f) { T1 f; }\n");
  for (k = 1; k < 7; k++)
    n += (size_t)snprintf(text + n, sizeof text - n, "T%d { T%d f; }\n", k,
                          k + 1);
  snprintf(text + n, sizeof text - n, "T7 { int f; }\n");
  s = parse_ok(text);
  cr_assert_eq(s->types[0].keys[0].depth, HF_MAX_KEY_DEPTH);
  cr_assert_str_eq(s->types[0].keys[0].text, "f.f.f.f.f.f.f.f");
  hf_schema_free(s);
}

Test(schema, accessors_reject_bad_arguments) {
  hf_schema *s = parse_ok("A { int x; } L List<A>;");
  hf_type_info ti;
  hf_field_info fi;
  uint32_t id = 99;
  cr_assert_eq(hf_schema_type(s, 2, &ti), HF_E_ARG);
  cr_assert_eq(hf_schema_type(NULL, 0, &ti), HF_E_ARG);
  cr_assert_eq(hf_schema_field(s, 0, 1, &fi), HF_E_ARG);
  cr_assert_eq(hf_schema_field(s, 1, 0, &fi), HF_E_ARG);
  cr_assert_eq(hf_schema_field(s, 9, 0, &fi), HF_E_ARG);
  cr_assert_eq(hf_schema_key(s, 0, 0, NULL, NULL), HF_E_ARG);
  cr_assert_eq(hf_schema_type_find(s, "B", 1, &id), HF_NOTFOUND);
  cr_assert_eq(hf_schema_type_find(s, "AB", 1, &id), HF_OK); /* counted */
  cr_assert_eq(id, 0);
  cr_assert_eq(hf_schema_type_find(s, "A\0", 2, &id), HF_NOTFOUND);
  cr_assert_eq(hf_schema_type_find(s, "", 0, &id), HF_NOTFOUND);
  cr_assert_eq(hf_schema_field_find(s, 0, "x", 1, &id), HF_OK);
  cr_assert_eq(id, 0);
  cr_assert_eq(hf_schema_field_find(s, 0, "xy", 2, &id), HF_NOTFOUND);
  cr_assert_eq(hf_schema_field_find(s, 1, "x", 1, &id), HF_NOTFOUND);
  cr_assert_eq(hf_schema_field_find(s, 2, "x", 1, &id), HF_E_ARG);
  cr_assert_eq(hf_schema_type_count(NULL), 0);
  cr_assert_eq(hf_schema_parse("A { int x; }", 12, NULL, NULL), HF_E_ARG);
  hf_schema_free(NULL);
  hf_schema_free(s);
}

Test(schema, text_need_not_be_nul_terminated) {
  char text[] = "A { int x; }XXXX";
  hf_schema *s = NULL;
  cr_assert_eq(hf_schema_parse(text, 12, &s, NULL), HF_OK);
  hf_schema_free(s);
}

/* ---- rejections: every rule with its position (SCHEMA.md §9.2) ---- */

typedef struct reject {
  const char *text;
  int code;
  uint64_t line;
  uint32_t col;
  const char *msg; /* substring of the message */
} reject;

static const reject rejects[] = {
    /* R-SCH-06 */
    {"", HF_E_SCHEMA, 1, 1, "declares no type"},
    {"// only a comment\n", HF_E_SCHEMA, 2, 1, "R-SCH-06"},
    /* R-SCH-03 */
    {"A { int x; } /* x", HF_E_SCHEMA, 1, 14, "unterminated block comment"},
    {"A { int x; }\n  /* a\n */ /*/", HF_E_SCHEMA, 3, 5, "R-SCH-03"},
    /* R-SCH-02 */
    {"A { int x; } #", HF_E_SCHEMA, 1, 14, "unexpected character '#'"},
    {"A { int x\x01; }", HF_E_SCHEMA, 1, 10, "byte 0x01"},
    {"A { int x; }\nB @ PrimaryKey(x) { int x; }", HF_E_SCHEMA, 2, 3,
     "R-SCH-02"},
    {"A { int 1x; }", HF_E_SCHEMA, 1, 9, "'1'"},
    {"A { int x; } / B { int y; }", HF_E_SCHEMA, 1, 14, "'/'"},
    {"A { string \xc3\xa9; }", HF_E_SCHEMA, 1, 12, "byte 0xC3"},
    /* R-SCH-05 */
    {"A { int x }", HF_E_SCHEMA, 1, 11,
     "expected ';' after a field, found '}'"},
    {"A", HF_E_SCHEMA, 1, 2, "found end of input"},
    {"A { int x; };", HF_E_SCHEMA, 1, 13, "expected a type name, found ';'"},
    {"M Map<A>;", HF_E_SCHEMA, 1, 8, "expected ','"},
    {"A B { int x; }", HF_E_SCHEMA, 1, 3, "expected '{', '@PrimaryKey'"},
    {"A { int x;", HF_E_SCHEMA, 1, 11, "expected a field type or '}'"},
    {"L List<A> B;", HF_E_SCHEMA, 1, 11, "R-SCH-05"},
    {"A @PrimaryKey(x.) { int x; }", HF_E_SCHEMA, 1, 17, "key path"},
    {"A @PrimaryKey(x y) { int x; }", HF_E_SCHEMA, 1, 17, "',' or ')'"},
    /* R-SCH-07 */
    {"int { int x; }", HF_E_SCHEMA, 1, 1, "keyword"},
    {"A { int x; }\nList List<A>;", HF_E_SCHEMA, 2, 1, "R-SCH-07"},
    {"Map { int x; }", HF_E_SCHEMA, 1, 1, "R-SCH-07"},
    /* R-SCH-08 */
    {"A { int x; }\nA { int y; }", HF_E_SCHEMA, 2, 1, "duplicate type 'A'"},
    /* R-SCH-10 */
    {"A { }", HF_E_SCHEMA, 1, 5, "has no fields"},
    /* R-SCH-11 */
    {"A { int x; int x; }", HF_E_SCHEMA, 1, 16,
     "duplicate field 'x' in type 'A'"},
    {"A { int x; } B { int x; long y; string y; }", HF_E_SCHEMA, 1, 40,
     "R-SCH-11"},
    /* R-SCH-12 */
    {"A { B b; }", HF_E_SCHEMA, 1, 5, "unknown type 'B' in field 'b' of 'A'"},
    {"\nMovie {\n  ListOfGenre genres;\n  Genr genre; }\nListOfGenre "
     "List<Genre>; Genre { string n; }",
     HF_E_SCHEMA, 4, 3, "unknown type 'Genr' in field 'genre' of 'Movie'"},
    {"L List<Nope>;", HF_E_SCHEMA, 1, 8, "unknown type 'Nope'"},
    {"L List<List>;", HF_E_SCHEMA, 1, 8, "unknown type 'List'"},
    {"M Map<A, B>; A { int x; }", HF_E_SCHEMA, 1, 10, "as value type of 'M'"},
    /* R-SCH-13 */
    {"L List<int>;", HF_E_SCHEMA, 1, 8, "element type of 'L' must be a"},
    {"M Map<K, string>;\nK { int k; }", HF_E_SCHEMA, 1, 10,
     "value type of 'M'"},
    {"S Set<bytes>;", HF_E_SCHEMA, 1, 7, "R-SCH-13"},
    /* R-SCH-14 */
    {"A { B b; }\nB { A a; }", HF_E_SCHEMA, 2, 5,
     "types form a cycle: A -> B -> A"},
    {"A { A self; }", HF_E_SCHEMA, 1, 5, "types form a cycle: A -> A"},
    {"A { int x; L l; }\nL List<A>;", HF_E_SCHEMA, 2, 8,
     "types form a cycle: A -> L -> A"},
    {"X { A a; } A { B b; } B { int q; C c; } C { M m; }\n"
     "M Map<C, A>;",
     HF_E_SCHEMA, 2, 7, "types form a cycle: C -> M -> C"},
    /* R-SCH-15 */
    {"A @HashKey(x) { int x; }", HF_E_SCHEMA, 1, 3, "@HashKey is not allowed"},
    {"S Set<A> @PrimaryKey(x);\nA { int x; }", HF_E_SCHEMA, 1, 10,
     "@PrimaryKey is not allowed on set type 'S'"},
    {"L List<A> @HashKey(x);\nA { int x; }", HF_E_SCHEMA, 1, 11,
     "list type 'L' takes no annotation"},
    {"A @Key(x) { int x; }", HF_E_SCHEMA, 1, 3, "unknown annotation '@Key'"},
    {"A @PrimaryKey(x) @PrimaryKey(x) { int x; }", HF_E_SCHEMA, 1, 18,
     "more than one annotation"},
    {"S Set<A> @HashKey(x) @HashKey(x);\nA { int x; }", HF_E_SCHEMA, 1, 22,
     "more than one annotation"},
    /* R-SCH-16 */
    {"A @PrimaryKey() { int x; }", HF_E_SCHEMA, 1, 15, "lists no key path"},
    /* R-SCH-17 */
    {"A @PrimaryKey(y) { int x; }", HF_E_SCHEMA, 1, 15,
     "key path 'y' of 'A': no field 'y' in type 'A'"},
    {"A @PrimaryKey(x.y) { int x; }", HF_E_SCHEMA, 1, 15,
     "field 'x' of 'A' has type int, not a reference"},
    {"A @PrimaryKey(l.x) { L l; }\nL List<B>;\nB { int x; }", HF_E_SCHEMA, 1,
     17, "steps into list type 'L'"},
    {"S Set<L> @HashKey(x);\nL List<A>;\nA { int x; }", HF_E_SCHEMA, 1, 19,
     "steps into list type 'L'"},
    {"S Set<A> @HashKey(y);\nA { int x; }", HF_E_SCHEMA, 1, 19,
     "no field 'y' in type 'A'"},
    {"A @PrimaryKey(b.z) { B b; } B { int x; int y; }", HF_E_SCHEMA, 1, 17,
     "no field 'z' in type 'B'"},
    /* R-SCH-18 */
    {"A @PrimaryKey(l) { L l; }\nL List<B>;\nB { int x; }", HF_E_SCHEMA, 1, 15,
     "ends at list type 'L'"},
    {"A @PrimaryKey(b) { B b; }\nB { int x; int y; }", HF_E_SCHEMA, 1, 15,
     "which has 2 fields"},
    {"A @PrimaryKey(b) { B b; }\nB { M m; } M Map<C, C>; C { int x; }",
     HF_E_SCHEMA, 1, 15, "ends at map type 'M'"},
    /* R-SCH-20 */
    {"A @PrimaryKey(x, x) { int x; }", HF_E_SCHEMA, 1, 18,
     "duplicate key path 'x' in @PrimaryKey of 'A'"},
    {"A @PrimaryKey(s, s.v) { S s; }\nS { string v; }", HF_E_SCHEMA, 1, 18,
     "duplicate key path 's.v'"},
    {"S Set<A> @HashKey(x, x);\nA { int x; }", HF_E_SCHEMA, 1, 22,
     "in @HashKey of 'S'"},
    /* SCHEMA.md §3.4: phase 1 errors win over later phases */
    {"A { B b; }\nA { int x; }", HF_E_SCHEMA, 2, 1, "R-SCH-08"},
    {"A { B b; } C { A a; } B { C c; } D {", HF_E_SCHEMA, 1, 37, "R-SCH-05"},
    {"A @PrimaryKey(y) { A a; }", HF_E_SCHEMA, 1, 20, "R-SCH-14"},
    {"A @PrimaryKey(y) { B b; }", HF_E_SCHEMA, 1, 20, "R-SCH-12"},
};

Test(schema, rejections_with_positions) {
  size_t i;
  for (i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
    const reject *r = &rejects[i];
    hf_schema *s = (hf_schema *)(uintptr_t)1;
    hf_error e;
    char prefix[64];
    int rc = hf_schema_parse(r->text, strlen(r->text), &s, &e);
    cr_expect_eq(rc, r->code, "case %zu: rc %d for:\n%s\n(msg: %s)", i, rc,
                 r->text, e.msg);
    if (rc == HF_OK) {
      hf_schema_free(s);
      continue;
    }
    cr_expect_null(s, "case %zu: *out not reset", i);
    cr_expect_eq(e.code, r->code, "case %zu", i);
    cr_expect_eq(e.line, r->line, "case %zu: line %lu, want %lu: %s", i,
                 (unsigned long)e.line, (unsigned long)r->line, e.msg);
    cr_expect_eq(e.column, r->col, "case %zu: column %u, want %u: %s", i,
                 e.column, r->col, e.msg);
    cr_expect(strstr(e.msg, r->msg) != NULL,
              "case %zu: message '%s' lacks '%s'", i, e.msg, r->msg);
    snprintf(prefix, sizeof prefix,
             "line %lu, column %u: ", (unsigned long)r->line, r->col);
    cr_expect(strncmp(e.msg, prefix, strlen(prefix)) == 0,
              "case %zu: message '%s' should start with '%s'", i, e.msg,
              prefix);
  }
}

Test(schema, rejects_without_error_struct) {
  hf_schema *s = NULL;
  cr_assert_eq(hf_schema_parse("A { B b; }", 10, &s, NULL), HF_E_SCHEMA);
  cr_assert_null(s);
}

/* ---- limits (SCHEMA.md §7) ---- */

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

static void bput(buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  for (;;) {
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    cr_assert_geq(n, 0);
    if ((size_t)n < b->cap - b->len)
      break;
    b->cap = b->cap * 2 + (size_t)n + 64;
    b->p = realloc(b->p, b->cap);
    cr_assert_not_null(b->p);
  }
  b->len += (size_t)n;
}

static void bnew(buf *b) {
  b->cap = 256;
  b->len = 0;
  b->p = malloc(b->cap);
  cr_assert_not_null(b->p);
  b->p[0] = '\0';
}

static int parse_buf(const buf *b, hf_error *e) {
  hf_schema *s = NULL;
  int rc = hf_schema_parse(b->p, b->len, &s, e);
  hf_schema_free(s);
  return rc;
}

Test(schema, limit_types) /* R-SCH-09 */ {
  buf b;
  hf_error e;
  int t;
  bnew(&b);
  for (t = 0; t < HF_MAX_TYPES; t++)
    bput(&b, "T%d { int x; }\n", t);
  cr_assert_eq(parse_buf(&b, &e), HF_OK, "%s", e.msg);
  bput(&b, "Extra { int x; }\n");
  cr_assert_eq(parse_buf(&b, &e), HF_E_LIMIT);
  cr_assert_eq(e.line, HF_MAX_TYPES + 1);
  cr_assert_eq(e.column, 1);
  cr_assert(strstr(e.msg, "R-SCH-09") != NULL);
  free(b.p);
}

Test(schema, limit_fields) /* R-SCH-10 */ {
  buf b;
  hf_error e;
  hf_schema *s = NULL;
  int f;
  bnew(&b);
  bput(&b, "A {\n");
  for (f = 0; f < HF_MAX_FIELDS; f++)
    bput(&b, "%s f%d;\n", f % 3 ? "boolean" : "long", f);
  bput(&b, "}\n");
  cr_assert_eq(hf_schema_parse(b.p, b.len, &s, &e), HF_OK, "%s", e.msg);
  cr_assert_eq(s->types[0].present_len, HF_MAX_FIELDS / 8);
  check_layout(s);
  check_fixed_point(s);
  hf_schema_free(s);
  b.len -= 2;
  bput(&b, "  int extra;\n}\n");
  cr_assert_eq(parse_buf(&b, &e), HF_E_LIMIT);
  cr_assert_eq(e.line, HF_MAX_FIELDS + 2);
  cr_assert_eq(e.column, 3);
  free(b.p);
}

Test(schema, limit_name_length) /* R-SCH-04 */ {
  char text[400];
  hf_error e;
  hf_schema *s = NULL;
  memset(text, 'n', HF_MAX_NAME);
  snprintf(text + HF_MAX_NAME, sizeof text - HF_MAX_NAME, " { int x; }");
  cr_assert_eq(hf_schema_parse(text, strlen(text), &s, &e), HF_OK);
  cr_assert_eq(strlen(s->types[0].name), HF_MAX_NAME);
  hf_schema_free(s);
  memset(text, 'n', HF_MAX_NAME + 1);
  snprintf(text + HF_MAX_NAME + 1, sizeof text - HF_MAX_NAME - 1,
           " { int x; }");
  cr_assert_eq(hf_schema_parse(text, strlen(text), &s, &e), HF_E_LIMIT);
  cr_assert_eq(e.line, 1);
  cr_assert_eq(e.column, 1);
  snprintf(text, sizeof text, "A { int ");
  memset(text + 8, 'f', 200);
  snprintf(text + 208, sizeof text - 208, "; }");
  cr_assert_eq(hf_schema_parse(text, strlen(text), &s, &e), HF_E_LIMIT);
  cr_assert_eq(e.column, 9);
}

Test(schema, limit_key_paths) /* R-SCH-16 */ {
  buf b;
  hf_error e;
  int k;
  bnew(&b);
  bput(&b, "A @PrimaryKey(f0");
  for (k = 1; k < HF_MAX_KEYS; k++)
    bput(&b, ", f%d", k);
  bput(&b, ") {");
  for (k = 0; k <= HF_MAX_KEYS; k++)
    bput(&b, " int f%d;", k);
  bput(&b, " }");
  cr_assert_eq(parse_buf(&b, &e), HF_OK, "%s", e.msg);
  free(b.p);
  bnew(&b);
  bput(&b, "A @PrimaryKey(f0");
  for (k = 1; k <= HF_MAX_KEYS; k++)
    bput(&b, ", f%d", k);
  bput(&b, ") {");
  for (k = 0; k <= HF_MAX_KEYS; k++)
    bput(&b, " int f%d;", k);
  bput(&b, " }");
  cr_assert_eq(parse_buf(&b, &e), HF_E_LIMIT);
  cr_assert(strstr(e.msg, "R-SCH-16") != NULL, "%s", e.msg);
  cr_assert_eq(e.column, 15 + 4 * HF_MAX_KEYS + (HF_MAX_KEYS - 10));
  free(b.p);
}

Test(schema, limit_key_depth) /* R-SCH-19 */ {
  buf b;
  hf_error e;
  int k;
  /* implicit continuation past the limit */
  bnew(&b);
  bput(&b, "T0 @PrimaryKey(f) { T1 f; }\n");
  for (k = 1; k < 8; k++)
    bput(&b, "T%d { T%d f; }\n", k, k + 1);
  bput(&b, "T8 { int f; }\n");
  cr_assert_eq(parse_buf(&b, &e), HF_E_LIMIT);
  cr_assert_eq(e.line, 1);
  cr_assert_eq(e.column, 16);
  cr_assert(strstr(e.msg, "R-SCH-19") != NULL, "%s", e.msg);
  free(b.p);
  /* written path of 12 segments */
  bnew(&b);
  bput(&b, "T0 @PrimaryKey(f.f.f.f.f.f.f.f.f.f.f.f) { T1 f; }\n");
  for (k = 1; k < 12; k++)
    bput(&b, "T%d { T%d f; }\n", k, k + 1);
  bput(&b, "T12 { int f; }\n");
  cr_assert_eq(parse_buf(&b, &e), HF_E_LIMIT);
  cr_assert(strstr(e.msg, "R-SCH-19") != NULL, "%s", e.msg);
  free(b.p);
}

Test(schema, limit_text_size) /* R-SCH-01 */ {
  const size_t n = HF_MAX_SCHEMA_TEXT + 1;
  char *text = malloc(n);
  hf_error e;
  hf_schema *s = NULL;
  cr_assert_not_null(text);
  memset(text, ' ', n);
  memcpy(text, "A { int x; }", 12);
  cr_assert_eq(hf_schema_parse(text, n, &s, &e), HF_E_LIMIT);
  cr_assert(strstr(e.msg, "R-SCH-01") != NULL);
  cr_assert_eq(hf_schema_parse(text, n - 1, &s, &e), HF_OK);
  hf_schema_free(s);
  free(text);
}

/* ---- property tests: random valid schemas ---- */

typedef struct rng {
  uint64_t s;
} rng;

static uint32_t rnd(rng *r, uint32_t n) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return (uint32_t)((r->s >> 11) % n);
}

#define GEN_MAX_TYPES 40
#define GEN_MAX_FIELDS 12

typedef struct model {
  uint32_t n;
  hf_kind kind[GEN_MAX_TYPES];
  uint32_t nf[GEN_MAX_TYPES];
  hf_ftype ft[GEN_MAX_TYPES][GEN_MAX_FIELDS];
  uint32_t ref[GEN_MAX_TYPES][GEN_MAX_FIELDS];
  uint32_t elem[GEN_MAX_TYPES], value[GEN_MAX_TYPES];
  uint32_t rank[GEN_MAX_TYPES];
} model;

/* Token writer: separators are random whitespace and comments. */
typedef struct gen {
  buf b;
  rng *r;
  int noisy;
  int last_ident;
} gen;

static int is_word(const char *t) {
  return (t[0] >= 'A' && t[0] <= 'Z') || (t[0] >= 'a' && t[0] <= 'z') ||
         t[0] == '_';
}

static void tok(gen *g, const char *t) {
  static const char *const seps[] = {" ",       "\n",     "\t",   "\r\n  ",
                                     "/* c */", "// c\n", "/**/", " /*\n*/ "};
  const int word = is_word(t) || t[0] == '@';
  if (g->noisy) {
    if (rnd(g->r, 3) == 0 || (g->last_ident && is_word(t)))
      bput(&g->b, "%s", seps[rnd(g->r, 8)]);
  } else if (g->b.len > 0) {
    bput(&g->b, " ");
  }
  bput(&g->b, "%s", t);
  g->last_ident = word;
}

static void tokf(gen *g, const char *fmt, ...) {
  char t[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t, sizeof t, fmt, ap);
  va_end(ap);
  tok(g, t);
}

static const char *const prim[] = {NULL,     "int",     "long",   "float",
                                   "double", "boolean", "string", "bytes"};

/* A random valid schema: references go only to types of lower rank. */
static void gen_model(model *m, rng *r) {
  uint32_t i, j;
  m->n = 1 + rnd(r, GEN_MAX_TYPES);
  for (i = 0; i < m->n; i++)
    m->rank[i] = i;
  for (i = m->n - 1; i > 0; i--) {
    j = rnd(r, i + 1);
    uint32_t tmp = m->rank[i];
    m->rank[i] = m->rank[j];
    m->rank[j] = tmp;
  }
  for (i = 0; i < m->n; i++) {
    uint32_t lower[GEN_MAX_TYPES], nl = 0, f;
    for (j = 0; j < m->n; j++)
      if (m->rank[j] < m->rank[i])
        lower[nl++] = j;
    m->kind[i] =
        nl > 0 && rnd(r, 5) < 2 ? (hf_kind)(2 + rnd(r, 3)) : HF_KIND_OBJECT;
    m->nf[i] = 0;
    if (m->kind[i] != HF_KIND_OBJECT) {
      m->elem[i] = lower[rnd(r, nl)];
      m->value[i] = lower[rnd(r, nl)];
      continue;
    }
    m->nf[i] = 1 + rnd(r, GEN_MAX_FIELDS);
    for (f = 0; f < m->nf[i]; f++) {
      if (nl > 0 && rnd(r, 3) == 0) {
        m->ft[i][f] = HF_FT_REF;
        m->ref[i][f] = lower[rnd(r, nl)];
      } else {
        m->ft[i][f] = (hf_ftype)(1 + rnd(r, 7));
      }
    }
  }
}

/* A key path from object type t: a primitive field, or a reference to an
 * object type followed by such a path.  Fills text; 0 if none found. */
static int gen_path(const model *m, uint32_t t, rng *r, char *text, size_t cap,
                    uint32_t first) {
  const uint32_t f = first;
  int w;
  if (m->kind[t] != HF_KIND_OBJECT || first >= m->nf[t])
    return 0;
  w = snprintf(text, cap, "f%u", f);
  if (w < 0 || (size_t)w + 2 >= cap)
    return 0;
  if (m->ft[t][f] != HF_FT_REF)
    return 1;
  if (m->kind[m->ref[t][f]] != HF_KIND_OBJECT)
    return 0;
  text[w] = '.';
  return gen_path(m, m->ref[t][f], r, text + w + 1, cap - (size_t)w - 1,
                  rnd(r, m->nf[m->ref[t][f]]));
}

/* Written-out key list: distinct first fields give distinct resolutions. */
static void gen_keys(gen *g, const model *m, uint32_t keyed, const char *ann) {
  char paths[4][128];
  uint32_t np = 0, f;
  if (m->kind[keyed] != HF_KIND_OBJECT || rnd(g->r, 2) == 0)
    return;
  for (f = 0; f < m->nf[keyed] && np < 4; f++)
    if (rnd(g->r, 2) == 0 &&
        gen_path(m, keyed, g->r, paths[np], sizeof paths[np], f))
      np++;
  if (np == 0)
    return;
  tok(g, ann);
  tok(g, "(");
  for (f = 0; f < np; f++) {
    if (f > 0)
      tok(g, ",");
    tok(g, paths[f]);
  }
  tok(g, ")");
}

static void gen_text(gen *g, const model *m) {
  uint32_t i, f;
  for (i = 0; i < m->n; i++) {
    tokf(g, "T%u", i);
    switch (m->kind[i]) {
    case HF_KIND_OBJECT:
      gen_keys(g, m, i, "@PrimaryKey");
      tok(g, "{");
      for (f = 0; f < m->nf[i]; f++) {
        if (m->ft[i][f] == HF_FT_REF)
          tokf(g, "T%u", m->ref[i][f]);
        else
          tok(g, prim[m->ft[i][f]]);
        tokf(g, "f%u", f);
        tok(g, ";");
      }
      tok(g, "}");
      break;
    case HF_KIND_LIST:
      tok(g, "List");
      tok(g, "<");
      tokf(g, "T%u", m->elem[i]);
      tok(g, ">");
      tok(g, ";");
      break;
    case HF_KIND_SET:
    case HF_KIND_MAP:
      tok(g, m->kind[i] == HF_KIND_SET ? "Set" : "Map");
      tok(g, "<");
      tokf(g, "T%u", m->elem[i]);
      if (m->kind[i] == HF_KIND_MAP) {
        tok(g, ",");
        tokf(g, "T%u", m->value[i]);
      }
      tok(g, ">");
      gen_keys(g, m, m->elem[i], "@HashKey");
      tok(g, ";");
      break;
    }
  }
  if (g->noisy && rnd(g->r, 2))
    bput(&g->b, "%s", rnd(g->r, 2) ? "// trailing" : "\n\n");
}

static void check_against_model(const hf_schema *s, const model *m) {
  uint32_t i, f;
  cr_assert_eq(s->ntypes, m->n);
  for (i = 0; i < m->n; i++) {
    const hf_type_def *td = &s->types[i];
    cr_assert_eq(td->kind, m->kind[i]);
    cr_assert_eq(td->nfields, m->nf[i]);
    for (f = 0; f < m->nf[i]; f++) {
      cr_assert_eq(td->fields[f].type, m->ft[i][f]);
      if (m->ft[i][f] == HF_FT_REF)
        cr_assert_eq(td->fields[f].ref_type, m->ref[i][f]);
    }
    if (m->kind[i] != HF_KIND_OBJECT)
      cr_assert_eq(td->elem_type, m->elem[i]);
    for (f = 0; f < td->nkeys; f++) {
      const hf_keypath *kp = &td->keys[f];
      const hf_field_def *leaf = &s->types[kp->step_types[kp->depth - 1]]
                                      .fields[kp->steps[kp->depth - 1]];
      cr_assert_eq(kp->leaf, leaf->type);
      cr_assert_neq(kp->leaf, HF_FT_REF);
      cr_assert_eq(kp->step_types[0],
                   td->kind == HF_KIND_OBJECT ? i : td->elem_type);
    }
  }
}

Test(schema, property_random_round_trip) /* R-SCH-31 */ {
  uint64_t seed;
  unsigned nkeys = 0, ndotted = 0, nhash = 0;
  for (seed = 1; seed <= 400; seed++) {
    rng r = {seed * 0x9E3779B97F4A7C15ull};
    model m;
    gen g = {{0}, NULL, 1, 0};
    hf_schema *a, *b;
    char *pa, *pb;
    g.r = &r;
    gen_model(&m, &r);
    bnew(&g.b);
    gen_text(&g, &m);
    a = parse_ok(g.b.p);
    check_against_model(a, &m);
    check_topo(a);
    check_layout(a);
    pa = print_str(a);
    b = parse_ok(pa);
    check_against_model(b, &m);
    for (uint32_t t = 0; t < b->ntypes; t++)
      for (uint32_t k = 0; k < b->types[t].nkeys; k++) {
        nkeys++;
        ndotted += b->types[t].keys[k].depth > 1;
        nhash += b->types[t].kind != HF_KIND_OBJECT;
      }
    pb = print_str(b);
    cr_assert_str_eq(pa, pb, "seed %lu", (unsigned long)seed);
    free(pa);
    free(pb);
    free(g.b.p);
    hf_schema_free(a);
    hf_schema_free(b);
  }
  /* the generator exercises keys, dotted paths and hash keys */
  cr_assert_gt(nkeys, 400);
  cr_assert_gt(ndotted, 40);
  cr_assert_gt(nhash, 40);
}

/* Every prefix either parses or is rejected with a position; never a
 * crash or leak (run under ASan: SCHEMA.md §0.4). */
static void check_prefixes(const char *text) {
  size_t n = strlen(text), k;
  for (k = 0; k <= n; k++) {
    char *copy = malloc(k ? k : 1); /* exact size: ASan sees overreads */
    hf_schema *s = NULL;
    hf_error e;
    int rc;
    cr_assert_not_null(copy);
    memcpy(copy, text, k);
    rc = hf_schema_parse(copy, k, &s, &e);
    if (rc == HF_OK) {
      cr_assert_not_null(s);
      check_fixed_point(s);
      hf_schema_free(s);
    } else {
      cr_assert_eq(rc, HF_E_SCHEMA, "prefix %zu: %d %s", k, rc, e.msg);
      cr_assert_null(s);
      cr_assert_geq(e.line, 1);
      cr_assert_geq(e.column, 1);
      cr_assert(strncmp(e.msg, "line ", 5) == 0);
    }
    free(copy);
  }
}

Test(schema, truncation_at_every_byte) {
  uint64_t seed;
  check_prefixes(movie_text);
  for (seed = 1; seed <= 20; seed++) {
    rng r = {seed * 0x2545F4914F6CDD1Dull};
    model m;
    gen g = {{0}, NULL, 1, 0};
    g.r = &r;
    gen_model(&m, &r);
    bnew(&g.b);
    gen_text(&g, &m);
    check_prefixes(g.b.p);
    free(g.b.p);
  }
}

Test(schema, byte_mutations_never_crash) {
  const size_t n = strlen(movie_text);
  static const unsigned char subst[] = {0,   ' ', '{', '}', ';', '.',  '@', 'A',
                                        '/', '*', '<', '>', ',', 0xff, '\n'};
  char *copy = malloc(n);
  size_t k, j;
  cr_assert_not_null(copy);
  for (k = 0; k < n; k++) {
    for (j = 0; j < sizeof subst; j++) {
      hf_schema *s = NULL;
      hf_error e;
      int rc;
      memcpy(copy, movie_text, n);
      copy[k] = (char)subst[j];
      rc = hf_schema_parse(copy, n, &s, &e);
      cr_assert(rc == HF_OK || rc == HF_E_SCHEMA || rc == HF_E_LIMIT, "rc %d",
                rc);
      if (rc == HF_OK)
        check_fixed_point(s);
      else
        cr_assert_geq(e.line, 1);
      hf_schema_free(s);
    }
  }
  free(copy);
}

/* The field-name table starts small and grows with the type (at 32 and 64
 * fields, and on): duplicates are found in types of every size, and types
 * that share field names do not collide, before or after it grew. */
Test(schema, duplicate_fields_at_every_size) /* R-SCH-11 */ {
  static const int sizes[] = {1,  2,  3,  7,  8,  9,  15,  16, 17,
                              31, 32, 33, 40, 64, 65, 100, 600};
  size_t k;
  for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    buf b;
    hf_error e;
    hf_schema *s = NULL;
    int f;
    bnew(&b);
    bput(&b, "B { int f0; int f1; }\nA {\n");
    for (f = 0; f < sizes[k]; f++)
      bput(&b, "int f%d;\n", f);
    bput(&b, "}\nC { int f1; int f0; }\n");
    cr_assert_eq(hf_schema_parse(b.p, b.len, &s, &e), HF_OK, "%d: %s", sizes[k],
                 e.msg);
    hf_schema_free(s);
    b.len -= strlen("}\nC { int f1; int f0; }\n");
    bput(&b, "int f%d;\n}\n", sizes[k] / 2);
    cr_assert_eq(parse_buf(&b, &e), HF_E_SCHEMA, "%d fields", sizes[k]);
    cr_assert(strstr(e.msg, "R-SCH-11") != NULL, "%s", e.msg);
    cr_assert_eq(e.line, (uint64_t)sizes[k] + 3, "%d: %s", sizes[k], e.msg);
    free(b.p);
  }
}

/* More types, fields and key paths than the parser's first chunks (on the
 * stack) hold: the arrays, the type-name table and the search stack grow,
 * and every name, reference and key path comes through. */
Test(schema, grows_past_first_chunks) {
  static const int sizes[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 65, 300};
  size_t k;
  for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    const int n = sizes[k];
    buf b;
    hf_error e;
    hf_schema *s = NULL;
    char name[32], want[64];
    int i;
    bnew(&b);
    for (i = 0; i < n; i++)
      bput(&b,
           "T%d @PrimaryKey(id%d, n.v) { long id%d; string name; N%d n; }\n"
           "N%d { int v; }\n",
           i, i, i, i, i);
    cr_assert_eq(hf_schema_parse(b.p, b.len, &s, &e), HF_OK, "%d: %s", n,
                 e.msg);
    cr_assert_eq(s->ntypes, (uint32_t)(2 * n));
    for (i = 0; i < n; i++) {
      const hf_type_def *td;
      snprintf(name, sizeof name, "T%d", i);
      cr_assert_eq(type_id(s, name), (uint32_t)(2 * i));
      td = &s->types[2 * i];
      cr_assert_str_eq(td->name, name);
      cr_assert_eq(td->nfields, 3);
      snprintf(want, sizeof want, "id%d", i);
      cr_assert_str_eq(td->fields[0].name, want);
      cr_assert_str_eq(td->fields[1].name, "name");
      snprintf(name, sizeof name, "N%d", i);
      cr_assert_eq(td->fields[2].ref_type, type_id(s, name));
      cr_assert_str_eq(s->types[2 * i + 1].fields[0].name, "v");
      cr_assert_eq(td->nkeys, 2);
      cr_assert_str_eq(td->keys[0].text, want);
      cr_assert_eq(td->keys[0].leaf, HF_FT_LONG);
      cr_assert_eq(td->keys[0].depth, 1);
      cr_assert_str_eq(td->keys[1].text, "n.v");
      cr_assert_eq(td->keys[1].leaf, HF_FT_INT);
      cr_assert_eq(td->keys[1].depth, 2);
      cr_assert_eq(td->keys[1].step_types[1], (uint32_t)(2 * i + 1));
    }
    check_topo(s);
    check_layout(s);
    check_fixed_point(s);
    hf_schema_free(s);
    /* a duplicate found through the grown name table */
    bput(&b, "N%d { int w; }\n", n / 2);
    cr_assert_eq(parse_buf(&b, &e), HF_E_SCHEMA);
    cr_assert_eq(e.line, (uint64_t)(2 * n + 1), "%d: %s", n, e.msg);
    snprintf(want, sizeof want, "duplicate type 'N%d' (R-SCH-08)", n / 2);
    cr_assert(strstr(e.msg, want) != NULL, "%s", e.msg);
    free(b.p);
  }
}

/* A cycle through more types than the first chunk of the search stack,
 * entered from a chain of other types, is named from where it closes, and
 * cut with "..." once it is long (SCHEMA.md §3.3). */
Test(schema, long_cycles_named_in_order) /* R-SCH-14 */ {
  static const int sizes[] = {1, 2, 17, 20, 100};
  size_t k;
  for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    const int n = sizes[k];
    buf b, path;
    hf_error e;
    char want[300];
    int i, col;
    bnew(&b);
    bnew(&path);
    for (i = 0; i < 20; i++)
      bput(&b, "P%d { P%d p; }\n", i, i + 1);
    bput(&b, "P20 { C0 c; }\n");
    for (i = 0; i < n; i++) {
      bput(&b, "C%d { int x; C%d r; }\n", i, (i + 1) % n);
      bput(&path, "C%d -> ", i);
    }
    bput(&path, "C0");
    if (path.len > 199)
      memcpy(path.p + 196, "...", 4);
    col = snprintf(want, sizeof want, "C%d { int x; ", n - 1) + 1;
    snprintf(want, sizeof want,
             "line %d, column %d: types form a cycle: %s (R-SCH-14)", 21 + n,
             col, path.p);
    cr_assert_eq(parse_buf(&b, &e), HF_E_SCHEMA, "%d", n);
    cr_assert_str_eq(e.msg, want);
    cr_assert_eq(e.line, (uint64_t)(21 + n));
    cr_assert_eq(e.column, (uint32_t)col);
    free(b.p);
    free(path.p);
  }
}

/* Names of the longest length come through whole into the schema and its
 * key texts; a message that names them is cut to fit, not overrun. */
Test(schema, longest_names_in_key_paths) /* R-SCH-04, R-SCH-20 */ {
  char t[HF_MAX_NAME + 1], f[HF_MAX_NAME + 1], key[2 * HF_MAX_NAME + 2];
  char text[1024], want[64];
  hf_schema *s = NULL;
  hf_error e;
  memset(t, 'T', HF_MAX_NAME);
  memset(f, 'f', HF_MAX_NAME);
  t[HF_MAX_NAME] = f[HF_MAX_NAME] = '\0';
  snprintf(key, sizeof key, "%s.%s", f, f);
  snprintf(text, sizeof text,
           "K @PrimaryKey(%s) { %s %s; }\n%s { string %s; }\n", f, t, f, t, f);
  s = parse_ok(text);
  cr_assert_str_eq(s->types[1].name, t);
  cr_assert_str_eq(s->types[1].fields[0].name, f);
  cr_assert_eq(s->types[0].keys[0].depth, 2);
  cr_assert_str_eq(s->types[0].keys[0].text, key);
  check_fixed_point(s);
  hf_schema_free(s);
  snprintf(text, sizeof text,
           "K @PrimaryKey(%s, %s) { %s %s; }\n%s { string %s; }\n", f, key, t,
           f, t, f);
  cr_assert_eq(hf_schema_parse(text, strlen(text), &s, &e), HF_E_SCHEMA);
  cr_assert_null(s);
  cr_assert_eq(e.column, 15 + HF_MAX_NAME + 2);
  snprintf(want, sizeof want, "line 1, column %d: duplicate key path 'fff",
           15 + HF_MAX_NAME + 2);
  cr_assert(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
  cr_assert_eq(strlen(e.msg), sizeof e.msg - 1);
}
