/* test_json.c - JSON Lines ingest and output (SCHEMA.md §6). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"
#include "helper_gen.h"

/* ---- helpers ------------------------------------------------------------ */

static const char M_SCHEMA[] =
    "M @PrimaryKey(id) { long id; int i; float f; double d; boolean b;\n"
    "  string s; bytes y; S one; LS list; SS set; MS map; MI mi; P p; W w; }\n"
    "S { string value; }\n"
    "I { int value; }\n"
    "LS List<S>;\n"
    "SS Set<S>;\n"
    "MS Map<S, I>;\n"
    "MI Map<I, S>;\n"
    "P { int x; int y; }\n"
    "W { P p; }\n";

static hf_schema *parse(const char *text) {
  hf_schema *s = NULL;
  hf_error err;
  int rc = hf_schema_parse(text, strlen(text), &s, &err);
  cr_assert_eq(rc, HF_OK, "schema: %s", err.msg);
  return s;
}

static uint32_t type_id(const hf_schema *s, const char *name) {
  uint32_t t;
  cr_assert_eq(hf_schema_type_find(s, name, strlen(name), &t), HF_OK);
  return t;
}

typedef struct sbuf {
  char *p;
  size_t n, cap;
  unsigned calls;
} sbuf;

static int sink(void *ctx, const void *p, size_t len) {
  sbuf *b = ctx;
  if (b->n + len + 1 > b->cap) {
    b->cap = (b->n + len + 1) * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, p, len);
  b->n += len;
  b->p[b->n] = '\0';
  b->calls++;
  return 0;
}

static int failing_sink(void *ctx, const void *p, size_t len) {
  (void)ctx, (void)p, (void)len;
  return -1;
}

/* Every record of `type` in ordinal order as JSON Lines. */
static char *dump_all(const unsigned char *snap, size_t len,
                      const char *tname) {
  hf_reader *r;
  hf_error err;
  sbuf out = {0};
  uint32_t t, o;
  int rc = hf_reader_open_mem(snap, len, NULL, &r, &err);
  cr_assert_eq(rc, HF_OK, "open: %s", err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "verify: %s", err.msg);
  t = type_id(hf_reader_schema(r), tname);
  sink(&out, "", 0);
  for (o = hf_reader_next(r, t, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(r, t, o + 1)) {
    rc = hf_json_write_record(r, t, o, sink, &out, &err);
    cr_assert_eq(rc, HF_OK, "json_write: %s", err.msg);
    sink(&out, "\n", 1);
  }
  hf_reader_close(r);
  return out.p;
}

/* Builds a snapshot from JSON Lines text (one record per line). */
static int build_text(const hf_schema *s, const char *tname, const char *text,
                      uint32_t flags, unsigned char **snap, size_t *len,
                      hf_error *err) {
  hf_build_opts opts = {NULL, 1, flags};
  hf_builder *b;
  const char *p = text;
  uint64_t line = 1;
  int rc = hf_builder_new(s, &opts, &b, err);
  cr_assert_eq(rc, HF_OK);
  while (*p) {
    const char *nl = strchr(p, '\n');
    const size_t l = nl ? (size_t)(nl - p) : strlen(p);
    rc = hf_builder_add_json(b, type_id(s, tname), p, l, line++, err);
    if (rc < 0)
      break;
    p += l + (nl != NULL);
  }
  if (rc >= 0)
    rc = hf_gen_snapshot(b, snap, len, err);
  hf_builder_free(b);
  return rc;
}

/* One line in, the record written back out. */
static char *roundtrip(const char *schema_text, const char *tname,
                       const char *line) {
  hf_schema *s = parse(schema_text);
  unsigned char *snap;
  size_t len;
  hf_error err;
  char *out;
  int rc = build_text(s, tname, line, 0, &snap, &len, &err);
  cr_assert_eq(rc, HF_OK, "build %s: %s (line %llu col %u)", line, err.msg,
               (unsigned long long)err.line, err.column);
  out = dump_all(snap, len, tname);
  out[strlen(out) - 1] = '\0'; /* newline */
  free(snap);
  hf_schema_free(s);
  return out;
}

static void expect_out(const char *in, const char *want) {
  char *got = roundtrip(M_SCHEMA, "M", in);
  cr_expect_str_eq(got, want, "input %s", in);
  free(got);
}

#define NULLS_AFTER_ID                                                         \
  "\"i\":null,\"f\":null,\"d\":null,\"b\":null,\"s\":null,\"y\":null,"         \
  "\"one\":null,\"list\":null,\"set\":null,\"map\":null,\"mi\":null,"          \
  "\"p\":null,\"w\":null"

/* ---- mapping, both ways -------------------------------------------------- */

Test(json_map, every_field_kind_both_ways) {
  expect_out(
      "{\"id\":1,\"i\":-5,\"f\":1.5,\"d\":0.1,\"b\":true,"
      "\"s\":\"h\\u00e9\\\"\\\\\\n\\u0001/\\/\",\"y\":\"AAEC\",\"one\":\"x\","
      "\"list\":[\"a\",\"b\",\"a\"],\"set\":[\"b\",\"a\",\"b\"],"
      "\"map\":{\"k\":1,\"j\":2},\"mi\":[[1,\"one\"],[2,\"two\"]],"
      "\"p\":{\"x\":1,\"y\":2},\"w\":{\"p\":{\"x\":3,\"y\":4}}}",
      "{\"id\":1,\"i\":-5,\"f\":1.5,\"d\":0.1,\"b\":true,"
      "\"s\":\"h\xc3\xa9\\\"\\\\\\u000a\\u0001//"
      "\",\"y\":\"AAEC\",\"one\":\"x\","
      "\"list\":[\"a\",\"b\",\"a\"],\"set\":[\"a\",\"b\"],"
      "\"map\":{\"k\":1,\"j\":2},\"mi\":[[1,\"one\"],[2,\"two\"]],"
      "\"p\":{\"x\":1,\"y\":2},\"w\":{\"p\":{\"x\":3,\"y\":4}}}");
}

Test(json_map, absent_and_null_fields_are_null) {
  expect_out("{\"id\":2}", "{\"id\":2," NULLS_AFTER_ID "}");
  expect_out("{\"id\":2,\"i\":null,\"one\":null,\"w\":null, \"p\" : null }",
             "{\"id\":2," NULLS_AFTER_ID "}");
}

Test(json_map, one_field_types_bare_object_and_empty) {
  /* {"value": x} and bare x are the same record; {} has a null field */
  expect_out("{\"id\":3,\"one\":{\"value\":\"x\"}}",
             "{\"id\":3,\"i\":null,\"f\":null,\"d\":null,\"b\":null,"
             "\"s\":null,\"y\":null,\"one\":\"x\",\"list\":null,\"set\":null,"
             "\"map\":null,\"mi\":null,\"p\":null,\"w\":null}");
  expect_out("{\"id\":3,\"one\":{},\"w\":{}}",
             "{\"id\":3,\"i\":null,\"f\":null,\"d\":null,\"b\":null,"
             "\"s\":null,\"y\":null,\"one\":{},\"list\":null,\"set\":null,"
             "\"map\":null,\"mi\":null,\"p\":null,\"w\":{}}");
  expect_out("{\"id\":3,\"list\":[{},\"\",{\"value\":null}]}",
             "{\"id\":3,\"i\":null,\"f\":null,\"d\":null,\"b\":null,"
             "\"s\":null,\"y\":null,\"one\":null,\"list\":[{},\"\",{}],"
             "\"set\":null,\"map\":null,\"mi\":null,\"p\":null,\"w\":null}");
}

Test(json_map, map_forms) {
  /* pairs are accepted for every map; written as an object when the key
   * type is a one-string-field type */
  expect_out("{\"id\":4,\"map\":[[\"k\",1],[{\"value\":\"j\"},{}]],"
             "\"mi\":[],\"set\":[],\"list\":[]}",
             "{\"id\":4,\"i\":null,\"f\":null,\"d\":null,\"b\":null,"
             "\"s\":null,\"y\":null,\"one\":null,\"list\":[],\"set\":[],"
             "\"map\":{\"k\":1,\"j\":{}},\"mi\":[],\"p\":null,\"w\":null}");
  expect_out("{\"id\":4,\"map\":{}}",
             "{\"id\":4,\"i\":null,\"f\":null,\"d\":null,\"b\":null,"
             "\"s\":null,\"y\":null,\"one\":null,\"list\":null,\"set\":null,"
             "\"map\":{},\"mi\":null,\"p\":null,\"w\":null}");
}

Test(json_map, numbers_and_special_floats) {
  expect_out("{\"id\":-9223372036854775808,\"i\":-2147483648,"
             "\"f\":\"-Infinity\",\"d\":\"NaN\"}",
             "{\"id\":-9223372036854775808,\"i\":-2147483648,"
             "\"f\":\"-Infinity\",\"d\":\"NaN\",\"b\":null,\"s\":null,"
             "\"y\":null,\"one\":null,\"list\":null,\"set\":null,\"map\":null,"
             "\"mi\":null,\"p\":null,\"w\":null}");
  expect_out("{\"id\":9223372036854775807,\"i\":2147483647,\"f\":0.1,"
             "\"d\":\"Infinity\",\"b\":false}",
             "{\"id\":9223372036854775807,\"i\":2147483647,\"f\":0.1,"
             "\"d\":\"Infinity\",\"b\":false,\"s\":null,\"y\":null,"
             "\"one\":null,\"list\":null,\"set\":null,\"map\":null,"
             "\"mi\":null,\"p\":null,\"w\":null}");
  expect_out("{\"id\":0,\"f\":3,\"d\":-0.0e0}",
             "{\"id\":0,\"i\":null,\"f\":3,\"d\":-0,\"b\":null,\"s\":null,"
             "\"y\":null,\"one\":null,\"list\":null,\"set\":null,\"map\":null,"
             "\"mi\":null,\"p\":null,\"w\":null}");
}

Test(json_map, surrogate_pairs_combine) {
  expect_out("{\"id\":5,\"s\":\"\\ud83c\\udfac\\u20AC\"}",
             "{\"id\":5,\"i\":null,\"f\":null,\"d\":null,\"b\":null,"
             "\"s\":\"\xf0\x9f\x8e\xac\xe2\x82\xac\",\"y\":null,\"one\":null,"
             "\"list\":null,\"set\":null,\"map\":null,\"mi\":null,\"p\":null,"
             "\"w\":null}");
}

Test(json_map, collection_roots) {
  char *got = roundtrip(M_SCHEMA, "LS", "[\"a\", {} , \"b\"]");
  cr_expect_str_eq(got, "[\"a\",{},\"b\"]");
  free(got);
  got = roundtrip(M_SCHEMA, "MI", " [[7,\"x\"]] ");
  cr_expect_str_eq(got, "[[7,\"x\"]]");
  free(got);
}

Test(json_map, shortest_float_text_reads_back_exactly) {
  /* property: for many bit patterns, output text -> same bits */
  uint64_t x = 12345;
  int k;
  for (k = 0; k < 2000; k++) {
    char line[256], *got, *p;
    double d, back;
    float f, fback;
    uint32_t fb;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    memcpy(&d, &x, sizeof d);
    fb = (uint32_t)(x >> 17);
    memcpy(&f, &fb, sizeof f);
    if (!isfinite(d) || !isfinite(f))
      continue;
    snprintf(line, sizeof line, "{\"id\":1,\"d\":%.17g,\"f\":%.9g}", d,
             (double)f);
    got = roundtrip(M_SCHEMA, "M", line);
    p = strstr(got, "\"f\":");
    fback = strtof(p + 4, NULL);
    p = strstr(got, "\"d\":");
    back = strtod(p + 4, NULL);
    cr_assert(memcmp(&back, &d, 8) == 0, "%s -> %s", line, got);
    cr_assert(memcmp(&fback, &f, 4) == 0, "%s -> %s", line, got);
    cr_assert(strlen(p) < 40 + strlen(strstr(got, ",\"b\"")), "%s", got);
    free(got);
  }
}

/* ---- rejections: code, line, column, message ----------------------------- */

typedef struct bad_case {
  const char *json;
  int code;
  uint32_t col;
  const char *msg; /* exact message */
} bad_case;

static void expect_bad(const char *schema_text, const char *tname,
                       const bad_case *c, uint32_t flags) {
  hf_schema *s = parse(schema_text);
  hf_build_opts opts = {NULL, 1, flags};
  hf_builder *b;
  hf_error err;
  int rc = hf_builder_new(s, &opts, &b, &err);
  cr_assert_eq(rc, HF_OK);
  rc = hf_builder_add_json(b, type_id(s, tname), c->json, strlen(c->json), 7,
                           &err);
  cr_expect_eq(rc, c->code, "%s: rc %d (%s)", c->json, rc, err.msg);
  cr_expect_eq(err.code, c->code, "%s", c->json);
  cr_expect_eq(err.line, 7, "%s", c->json);
  if (c->col != 0)
    cr_expect_eq(err.column, c->col, "%s: column %u, want %u (%s)", c->json,
                 err.column, c->col, err.msg);
  if (c->msg != NULL)
    cr_expect_str_eq(err.msg, c->msg, "%s: got '%s'", c->json, err.msg);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(json_reject, table) {
  static const bad_case cases[] = {
      {"{\"id\":1,", HF_E_INPUT, 0, NULL},
      {"{\"id\":1 \"i\":2}", HF_E_INPUT, 9,
       "M: invalid JSON: expected ',' or '}'"},
      {"{\"id\":1,}", HF_E_INPUT, 9, "M: invalid JSON: expected a string key"},
      {"{\"id\":1,\"s\": }", HF_E_INPUT, 14,
       "M: invalid JSON: expected a value"},
      {"{\"id\":1,\"list\":[\"a\",]}", HF_E_INPUT, 21,
       "M.list: invalid JSON: expected a value"},
      {"[1 2]", HF_E_INPUT, 0, NULL},
      {"", HF_E_INPUT, 1, "M: invalid JSON: unexpected end of input"},
      {"{\"id\":tru}", HF_E_INPUT, 7, "M.id: invalid JSON: bad literal 'tru'"},
      {"{\"id\":01}", HF_E_INPUT, 0, NULL},
      {"{\"id\":1.}", HF_E_INPUT, 0, NULL},
      {"{\"id\":-}", HF_E_INPUT, 0, NULL},
      {"{\"id\":1,\"s\":\"a\tb\"}", HF_E_INPUT, 15,
       "M.s: invalid JSON: control character 0x09 in string"},
      {"{\"id\":1} x", HF_E_INPUT, 0, NULL},
      {"{\"id\":1}}", HF_E_INPUT, 9, NULL},
      {"{\"id\":1} {\"id\":2}", HF_E_INPUT, 10,
       "M: invalid JSON: trailing characters after the JSON value"},
      {"null", HF_E_INPUT, 1, "M: record is null"},
      {"[]", HF_E_INPUT, 1, "M: expected object, got array"},
      {"{\"i\":1}", HF_E_INPUT, 1, "M.id: primary key is null"},
      {"{\"id\":null}", HF_E_INPUT, 1, "M.id: primary key is null"},
      {"{\"id\":1,\"s\":5}", HF_E_INPUT, 13,
       "M.s: expected string, got number"},
      {"{\"id\":\"1\"}", HF_E_INPUT, 7, "M.id: expected integer, got string"},
      {"{\"id\":1,\"b\":1}", HF_E_INPUT, 13,
       "M.b: expected boolean, got number"},
      {"{\"id\":1,\"d\":\"nan\"}", HF_E_INPUT, 13, NULL},
      {"{\"id\":1,\"d\":1e999}", HF_E_INPUT, 13,
       "M.d: number 1e999 out of range for double"},
      {"{\"id\":1,\"f\":1e39}", HF_E_INPUT, 13,
       "M.f: number 1e39 out of range for float"},
      {"{\"id\":1,\"list\":[\"a\",5]}", HF_E_INPUT, 21,
       "M.list[1]: expected string, got number"},
      {"{\"id\":1,\"list\":[\"a\",null]}", HF_E_INPUT, 21,
       "M.list[1]: null element"},
      {"{\"id\":1,\"list\":{}}", HF_E_INPUT, 16,
       "M.list: expected array, got object"},
      {"{\"id\":1,\"mi\":{\"1\":\"x\"}}", HF_E_INPUT, 14,
       "M.mi: expected array, got object"},
      {"{\"id\":1,\"mi\":[[1]]}", HF_E_INPUT, 15,
       "M.mi[0]: map entry must be a [key, value] pair"},
      {"{\"id\":1,\"mi\":[[1,\"a\"],[1,\"b\"]]}", HF_E_INPUT, 0, NULL},
      {"{\"id\":1,\"mi\":[[null,\"a\"]]}", HF_E_INPUT, 16,
       "M.mi[0][0]: null map key"},
      {"{\"id\":1,\"map\":{\"k\":null}}", HF_E_INPUT, 20,
       "M.map[\"k\"]: null map value"},
      {"{\"id\":1,\"p\":{\"x\":1,\"z\":2}}", HF_E_INPUT, 20,
       "M.p: unknown field 'z'"},
      {"{\"id\":1,\"p\":5}", HF_E_INPUT, 13,
       "M.p: expected object, got number"},
      {"{\"id\":1,\"w\":{\"x\":1}}", HF_E_INPUT, 14, "M.w: unknown field 'x'"},
      {"{\"id\":1,\"i\":3000000000}", HF_E_INPUT, 13,
       "M.i: integer 3000000000 out of range for int"},
      {"{\"id\":1,\"i\":2147483648}", HF_E_INPUT, 13,
       "M.i: integer 2147483648 out of range for int"},
      {"{\"id\":1,\"i\":-2147483649}", HF_E_INPUT, 13,
       "M.i: integer -2147483649 out of range for int"},
      {"{\"id\":1,\"i\":1.0}", HF_E_INPUT, 13,
       "M.i: expected integer, got 1.0"},
      {"{\"id\":1,\"i\":1e2}", HF_E_INPUT, 13,
       "M.i: expected integer, got 1e2"},
      {"{\"id\":9223372036854775808}", HF_E_INPUT, 7,
       "M.id: integer 9223372036854775808 out of range for long"},
      {"{\"id\":-9223372036854775809}", HF_E_INPUT, 7,
       "M.id: integer -9223372036854775809 out of range for long"},
      {"{\"id\":99999999999999999999}", HF_E_INPUT, 7, NULL},
      {"{\"id\":1,\"titel\":\"x\"}", HF_E_INPUT, 9, "M: unknown field 'titel'"},
      {"{\"id\":1,\"i\":1,\"i\":2}", HF_E_INPUT, 15, "M: repeated field 'i'"},
      {"{\"id\":1,\"s\":\"ok\xff\"}", HF_E_INPUT, 16,
       "M.s: invalid UTF-8 in string"},
      {"{\"id\":1,\"s\":\"\xc0\xaf\"}", HF_E_INPUT, 14, NULL},
      {"{\"id\":1,\"s\":\"\xed\xa0\x80\"}", HF_E_INPUT, 14, NULL},
      {"{\"id\":1,\"s\":\"a\\ud800\"}", HF_E_INPUT, 15,
       "M.s: lone surrogate \\uD800 in string"},
      {"{\"id\":1,\"s\":\"\\udc00x\"}", HF_E_INPUT, 14,
       "M.s: lone surrogate \\uDC00 in string"},
      {"{\"id\":1,\"s\":\"\\ud800\\u0041\"}", HF_E_INPUT, 14, NULL},
      {"{\"id\":1,\"s\":\"\\x\"}", HF_E_INPUT, 0, NULL},
      {"{\"id\":1,\"y\":\"AAE\"}", HF_E_INPUT, 13,
       "M.y: invalid base64 in bytes value"},
      {"{\"id\":1,\"y\":\"A===\"}", HF_E_INPUT, 13, NULL},
      {"{\"id\":1,\"y\":\"AB==\"}", HF_E_INPUT, 13, NULL},
      {"{\"id\":1,\"y\":\"AA=A\"}", HF_E_INPUT, 13, NULL},
      {"{\"id\":1,\"y\":\"A A=\"}", HF_E_INPUT, 13, NULL},
      {"{\"id\":1,\"y\":5}", HF_E_INPUT, 13,
       "M.y: expected base64 string, got number"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_bad(M_SCHEMA, "M", &cases[i], 0);
}

Test(json_reject, nul_byte) {
  hf_schema *s = parse(M_SCHEMA);
  hf_builder *b;
  hf_error err;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_expect_eq(hf_builder_add_json(b, 0, "{\"id\":1}\0", 9, 3, &err),
               HF_E_INPUT);
  cr_expect_eq(err.column, 9);
  cr_expect(strstr(err.msg, "NUL byte") != NULL, "%s", err.msg);
  {
    /* A NUL is named before any other fault, wherever it is: after a bad
     * character, inside a string, a number or an escape, or between
     * values of a complete text. */
    static const struct {
      const char *text;
      size_t len;
      unsigned col;
    } cases[] = {
        {"{\"id\":1 x}\0", 11, 11},     {"{\"id\":\"a\0b\"}", 12, 9},
        {"{\"id\":1\0}", 9, 8},         {"{\"s\":\"\\\0\"}", 10, 8},
        {"{\"s\":\"\\u0\0\"}", 12, 10}, {"\0{\"id\":1}", 9, 1},
        {"{\"id\":1}  \0  ", 13, 11},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      cr_expect_eq(
          hf_builder_add_json(b, 0, cases[i].text, cases[i].len, 3, &err),
          HF_E_INPUT, "case %zu", i);
      cr_expect(strstr(err.msg, "NUL byte") != NULL, "case %zu: %s", i,
                err.msg);
      cr_expect_eq(err.column, cases[i].col, "case %zu: column %u", i,
                   err.column);
    }
  }
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(json_reject, unknown_fields_ignored_with_flag) {
  /* skipped values are still checked for JSON grammar */
  static const bad_case bad = {"{\"id\":1,\"x\":[1,}]}", HF_E_INPUT, 0, NULL};
  hf_schema *s = parse(M_SCHEMA);
  unsigned char *snap;
  size_t len;
  hf_error err;
  char *out;
  int rc = build_text(s, "M",
                      "{\"zz\":{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"},"
                      "\"id\":1,\"titel\":\"x\",\"p\":{\"x\":1,\"q\":true}}",
                      HF_BUILD_IGNORE_UNKNOWN, &snap, &len, &err);
  cr_assert_eq(rc, HF_OK, "%s", err.msg);
  out = dump_all(snap, len, "M");
  cr_expect(strstr(out, "\"p\":{\"x\":1,\"y\":null}") != NULL, "%s", out);
  free(out);
  free(snap);
  hf_schema_free(s);
  expect_bad(M_SCHEMA, "M", &bad, HF_BUILD_IGNORE_UNKNOWN);
}

static char *nested(int depth) {
  char *p = malloc((size_t)depth * 2 + 64);
  int i, o = 0;
  o += sprintf(p, "{\"id\":1,\"zz\":");
  for (i = 0; i < depth; i++)
    p[o++] = '[';
  for (i = 0; i < depth; i++)
    p[o++] = ']';
  strcpy(p + o, "}");
  return p;
}

Test(json_reject, too_deep) {
  /* inside an ignored field: the object is level 1 */
  char *ok = nested(HF_MAX_JSON_DEPTH - 1), *deep = nested(HF_MAX_JSON_DEPTH);
  bad_case c = {deep, HF_E_LIMIT, 77, "M.zz: nesting deeper than 64"};
  hf_schema *s = parse(M_SCHEMA);
  unsigned char *snap;
  size_t len;
  hf_error err;
  cr_expect_eq(
      build_text(s, "M", ok, HF_BUILD_IGNORE_UNKNOWN, &snap, &len, &err), HF_OK,
      "%s", err.msg);
  free(snap);
  expect_bad(M_SCHEMA, "M", &c, HF_BUILD_IGNORE_UNKNOWN);
  free(ok);
  free(deep);
  hf_schema_free(s);
}

Test(json_reject, too_deep_through_the_schema) {
  /* L0 List<L1>; ... L66 List<E>; E { int v; } and 67 nested arrays */
  char schema[8192], *json = malloc(300);
  size_t o = 0;
  int i;
  bad_case c = {NULL, HF_E_LIMIT, 65, NULL};
  for (i = 0; i < 66; i++)
    o += (size_t)sprintf(schema + o, "L%d List<L%d>;\n", i, i + 1);
  sprintf(schema + o, "L66 List<E>;\nE { int v; }\n");
  for (i = 0; i < 67; i++)
    json[i] = '[';
  for (i = 0; i < 67; i++)
    json[67 + i] = ']';
  json[134] = '\0';
  c.json = json;
  expect_bad(schema, "L0", &c, 0);
  free(json);
}

Test(json_reject, duplicate_key_names_line) {
  hf_schema *s = parse(M_SCHEMA);
  unsigned char *snap = NULL;
  size_t len;
  hf_error err;
  int rc = build_text(s, "M", "{\"id\":1}\n{\"id\":2}\n{\"id\":1}", 0, &snap,
                      &len, &err);
  cr_expect_eq(rc, HF_E_DUPKEY, "%s", err.msg);
  cr_expect_eq(err.line, 3);
  cr_expect(strstr(err.msg, "M") == err.msg, "%s", err.msg);
  free(snap);
  hf_schema_free(s);
}

Test(json_reject, failed_record_leaves_nothing) {
  /* a rejected line's nested records must not reach the snapshot */
  hf_schema *s = parse(M_SCHEMA);
  hf_build_opts opts = {NULL, 1, 0};
  hf_builder *b;
  hf_error err;
  unsigned char *a, *c;
  size_t alen, clen;
  const char *good = "{\"id\":1,\"list\":[\"a\"]}";
  const char *bad = "{\"id\":2,\"list\":[\"zzz\",\"b\"],\"p\":{\"x\":1},"
                    "\"s\":5}";
  cr_assert_eq(build_text(s, "M", good, 0, &a, &alen, &err), HF_OK);
  cr_assert_eq(hf_builder_new(s, &opts, &b, &err), HF_OK);
  cr_assert_eq(hf_builder_add_json(b, 0, good, strlen(good), 1, &err), HF_OK);
  cr_assert_eq(hf_builder_add_json(b, 0, bad, strlen(bad), 2, &err),
               HF_E_INPUT);
  cr_assert_eq(hf_gen_snapshot(b, &c, &clen, &err), HF_OK, "%s", err.msg);
  cr_expect(alen == clen && memcmp(a, c, alen) == 0);
  hf_builder_free(b);
  free(a);
  free(c);
  hf_schema_free(s);
}

/* ---- output ---------------------------------------------------------------
 */

Test(json_out, chunks_and_sink_failure) {
  /* a long string goes out in several sink calls, and a failing sink is an
   * I/O error */
  hf_schema *s = parse(M_SCHEMA);
  size_t n = 20000, i, len;
  char *line = malloc(n + 64);
  unsigned char *snap;
  hf_reader *r;
  hf_error err;
  sbuf out = {0};
  i = (size_t)sprintf(line, "{\"id\":1,\"s\":\"");
  memset(line + i, 'q', n);
  strcpy(line + i + n, "\"}");
  cr_assert_eq(build_text(s, "M", line, 0, &snap, &len, &err), HF_OK);
  cr_assert_eq(hf_reader_open_mem(snap, len, NULL, &r, &err), HF_OK);
  cr_assert_eq(hf_json_write_record(r, 0, 0, sink, &out, &err), HF_OK);
  cr_expect_gt(out.calls, 1);
  cr_expect_lt(out.calls, 10);
  cr_expect_eq(out.n, n + 250 - 250 +
                          strlen("{\"id\":1,\"i\":null,\"f\":null,"
                                 "\"d\":null,\"b\":null,\"s\":\"\""
                                 ",\"y\":null,\"one\":null,\"list"
                                 "\":null,\"set\":null,\"map\":nul"
                                 "l,\"mi\":null,\"p\":null,\"w\":n"
                                 "ull}"));
  cr_expect_eq(hf_json_write_record(r, 0, 0, failing_sink, NULL, &err),
               HF_E_IO);
  hf_reader_close(r);
  free(out.p);
  free(snap);
  free(line);
  hf_schema_free(s);
}

/* ---- base64 -----------------------------------------------------------------
 */

Test(base64, round_trip_property_and_vectors) {
  static const char *const vec[][2] = {{"", ""},
                                       {"f", "Zg=="},
                                       {"fo", "Zm8="},
                                       {"foo", "Zm9v"},
                                       {"foob", "Zm9vYg=="},
                                       {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};
  unsigned char in[300], dec[300];
  char enc[400];
  size_t i, k, n, dlen;
  uint64_t x = 99;
  for (i = 0; i < 7; i++) {
    n = hf_base64_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]),
                         enc);
    cr_expect(n == strlen(vec[i][1]) && memcmp(enc, vec[i][1], n) == 0);
  }
  for (k = 0; k < 500; k++) {
    n = k % 300;
    for (i = 0; i < n; i++) {
      x = x * 6364136223846793005ull + 1;
      in[i] = (unsigned char)(x >> 56);
    }
    i = hf_base64_encode(in, n, enc);
    cr_assert_eq(hf_base64_decode(enc, i, dec, &dlen), HF_OK);
    cr_assert(dlen == n && memcmp(in, dec, n) == 0);
  }
}

/* ---- round trip property
 * ------------------------------------------------------ */

/* Generated records (built through the stack API) -> A; dump A -> build B;
 * dump B -> build C.  B and C are byte-identical and dump the same text, and
 * A and B hold the same number of records of every type.  (A's ordinals may
 * differ from B's: they follow the generator's order of creation, and set
 * elements and map entries are written in ordinal order.) */
Test(json_roundtrip, generated_records, .timeout = 60) {
  hf_schema *s = parse(hf_gen_schema);
  uint64_t seed;
  for (seed = 1; seed <= 12; seed++) {
    hf_build_opts opts = {NULL, 1, 0};
    hf_builder *b;
    hf_error err;
    unsigned char *a, *bb, *c;
    size_t alen, blen, clen;
    char *ja, *jb, *jc;
    hf_reader *ra, *rb;
    uint32_t t;
    int rc;
    cr_assert_eq(hf_builder_new(s, &opts, &b, &err), HF_OK);
    rc = hf_gen_roots(b, s, seed, 40, &err);
    cr_assert_eq(rc, HF_OK, "gen: %s", err.msg);
    cr_assert_eq(hf_gen_snapshot(b, &a, &alen, &err), HF_OK, "%s", err.msg);
    hf_builder_free(b);
    ja = dump_all(a, alen, "Root");
    rc = build_text(s, "Root", ja, 0, &bb, &blen, &err);
    cr_assert_eq(rc, HF_OK, "seed %llu line %llu col %u: %s",
                 (unsigned long long)seed, (unsigned long long)err.line,
                 err.column, err.msg);
    jb = dump_all(bb, blen, "Root");
    cr_assert_eq(build_text(s, "Root", jb, 0, &c, &clen, &err), HF_OK);
    jc = dump_all(c, clen, "Root");
    cr_assert(blen == clen && memcmp(bb, c, blen) == 0, "seed %llu",
              (unsigned long long)seed);
    cr_assert_str_eq(jb, jc, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(hf_reader_open_mem(a, alen, NULL, &ra, &err), HF_OK);
    cr_assert_eq(hf_reader_open_mem(bb, blen, NULL, &rb, &err), HF_OK);
    for (t = 0; t < hf_schema_type_count(s); t++)
      cr_assert_eq(hf_reader_record_count(ra, t), hf_reader_record_count(rb, t),
                   "seed %llu type %u", (unsigned long long)seed, t);
    hf_reader_close(ra);
    hf_reader_close(rb);
    free(ja);
    free(jb);
    free(jc);
    free(a);
    free(bb);
    free(c);
  }
  hf_schema_free(s);
}

/* Strings are scanned eight bytes at a time: a control character, a
 * backslash escape or a non-ASCII byte at every position of strings of
 * every length up to 40 is found, at its column, and unescaped exactly. */
Test(json_reject, string_scan_at_every_position) {
  hf_schema *s = parse("S { string value; }\n");
  size_t n, k;
  for (n = 1; n <= 40; n++) {
    for (k = 0; k < n; k++) {
      char line[64], want[64];
      hf_builder *b;
      hf_error err;
      size_t i;
      int rc;
      /* a control character at k: refused, at column k + 2 */
      for (i = 0; i < n; i++)
        line[i + 1] = (char)('a' + i % 26);
      line[0] = '"';
      line[k + 1] = '\t';
      line[n + 1] = '"';
      cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
      rc = hf_builder_add_json(b, 0, line, n + 2, 1, &err);
      cr_assert_eq(rc, HF_E_INPUT, "n %zu k %zu", n, k);
      cr_assert_eq(err.column, k + 2, "n %zu k %zu: column %lu", n, k,
                   (unsigned long)err.column);
      /* an escape at k: the value has the unescaped byte there */
      line[k + 1] = '\\';
      memmove(line + k + 3, line + k + 2, n - k);
      line[k + 2] = 'n';
      for (i = 0; i < n; i++)
        want[i] = (char)('a' + i % 26);
      want[k] = '\n';
      rc = hf_builder_add_json(b, 0, line, n + 3, 2, &err);
      cr_assert_eq(rc, HF_OK, "n %zu k %zu: %s", n, k, err.msg);
      {
        unsigned char *snap;
        size_t len;
        hf_reader *r;
        hf_record rec;
        hf_view v;
        cr_assert_eq(hf_gen_snapshot(b, &snap, &len, &err), HF_OK);
        cr_assert_eq(hf_reader_open_mem(snap, len, NULL, &r, &err), HF_OK);
        cr_assert_eq(hf_reader_record(r, 0, 0, &rec), HF_OK);
        cr_assert_eq(hf_record_string(&rec, 0, &v), HF_OK);
        cr_assert_eq(v.len, n);
        cr_assert(memcmp(v.ptr, want, n) == 0, "n %zu k %zu", n, k);
        hf_reader_close(r);
        free(snap);
      }
      hf_builder_free(b);
      /* a lone continuation byte at k: invalid UTF-8 at column k + 2 */
      for (i = 0; i < n; i++)
        line[i + 1] = (char)('a' + i % 26);
      line[k + 1] = (char)0x80;
      line[n + 1] = '"';
      cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
      rc = hf_builder_add_json(b, 0, line, n + 2, 1, &err);
      cr_assert_eq(rc, HF_E_INPUT, "n %zu k %zu", n, k);
      cr_assert_eq(err.column, k + 2, "utf-8 n %zu k %zu", n, k);
      hf_builder_free(b);
    }
  }
  hf_schema_free(s);
}
