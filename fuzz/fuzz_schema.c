/*
 * fuzz_schema.c - the schema-language parser (SCHEMA.md).  Any text must
 * parse or end in an error with a position; text that parses prints in
 * canonical form, and the canonical form reparses to itself (a fixed point).
 * Every accessor of the parsed schema answers within bounds.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print_all(const hf_schema *s, size_t *len) {
  char small[64];
  size_t n = hf_schema_print(s, small, sizeof small);
  char *buf = malloc(n + 1);
  FZ_CHECK(buf != NULL);
  FZ_CHECK(hf_schema_print(s, buf, n + 1) == n);
  FZ_CHECK(buf[n] == '\0');
  if (n < sizeof small)
    FZ_CHECK(memcmp(small, buf, n + 1) == 0);
  *len = n;
  return buf;
}

static void walk_schema(const hf_schema *s) {
  const uint32_t nt = hf_schema_type_count(s);
  uint32_t t, f, k, found;
  hf_type_info ti;
  hf_field_info fi;
  const char *path;
  hf_ftype leaf;

  for (t = 0; t < nt; t++) {
    FZ_CHECK(hf_schema_type(s, t, &ti) == HF_OK);
    FZ_CHECK(hf_schema_type_find(s, ti.name, strlen(ti.name), &found) == HF_OK);
    FZ_CHECK(found == t);
    for (f = 0; f < ti.field_count; f++) {
      FZ_CHECK(hf_schema_field(s, t, f, &fi) == HF_OK);
      FZ_CHECK(hf_schema_field_find(s, t, fi.name, strlen(fi.name), &found) ==
               HF_OK);
      FZ_CHECK(found == f);
      FZ_CHECK(fi.type >= HF_FT_INT && fi.type <= HF_FT_REF);
      FZ_CHECK(fi.type == HF_FT_REF ? fi.ref_type < nt
                                    : fi.ref_type == HF_NO_TYPE);
    }
    FZ_CHECK(hf_schema_field(s, t, ti.field_count, &fi) == HF_E_ARG);
    for (k = 0; k < ti.key_count; k++) {
      FZ_CHECK(hf_schema_key(s, t, k, &path, &leaf) == HF_OK);
      FZ_CHECK(leaf >= HF_FT_INT && leaf <= HF_FT_BYTES);
      fz_touch(path, strlen(path));
    }
    FZ_CHECK(hf_schema_key(s, t, ti.key_count, &path, &leaf) == HF_E_ARG);
    if (ti.kind != HF_KIND_OBJECT)
      FZ_CHECK(ti.elem_type < nt);
    if (ti.kind == HF_KIND_MAP)
      FZ_CHECK(ti.value_type < nt);
  }
  FZ_CHECK(hf_schema_type(s, nt, &ti) == HF_E_ARG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_schema *s = NULL, *s2 = NULL;
  hf_error err;
  char *text, *text2;
  size_t len, len2;
  int rc;

  rc = hf_schema_parse((const char *)data, size, &s, &err);
  if (rc != HF_OK) {
    fz_check_error(&err, rc);
    FZ_CHECK(s == NULL);
    FZ_CHECK(rc == HF_E_SCHEMA || rc == HF_E_LIMIT || rc == HF_E_NOMEM);
    return 0;
  }
  walk_schema(s);
  text = print_all(s, &len);
  rc = hf_schema_parse(text, len, &s2, &err);
  if (rc != HF_OK)
    fprintf(stderr, "canonical text does not parse: %s\n%s", err.msg, text);
  FZ_CHECK(rc == HF_OK);
  FZ_CHECK(hf_schema_type_count(s2) == hf_schema_type_count(s));
  text2 = print_all(s2, &len2);
  FZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
  free(text);
  free(text2);
  hf_schema_free(s2);
  hf_schema_free(s);
  return 0;
}
