/*
 * test_regress.c - inputs found by the fuzz targets (fuzz/) that once broke
 * the library, kept under tests/regress/<target>/ and replayed here with
 * the property each one violated.  Blobs are resealed first (section
 * checksums, state, header checksum recomputed) because fuzzing builds skip
 * checksum comparisons: sealed, the same bytes reach the same code here.
 * `make fuzz-replay` also runs every file through its fuzz target.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

#define REGRESS_DIR "tests/regress/"

static unsigned char *load(const char *name, size_t *len) {
  char path[256];
  FILE *f;
  long size;
  unsigned char *buf;

  snprintf(path, sizeof path, REGRESS_DIR "%s", name);
  f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  cr_assert_eq(fseek(f, 0, SEEK_END), 0);
  size = ftell(f);
  cr_assert_geq(size, 0);
  rewind(f);
  buf = malloc((size_t)size + 1);
  cr_assert_not_null(buf);
  cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* Recomputes what FORMAT.md §4.8, §4.9 and §5.5 derive from the bytes, for
 * every section that lies inside the blob; leaves the rest as it is. */
static void reseal(unsigned char *p, size_t len) {
  uint32_t n, i;
  unsigned char *states;

  if (len < HF_HEADER_SIZE)
    return;
  n = hf_le32(p + HF_H_NSECTIONS);
  if (n > (len - HF_HEADER_SIZE) / HF_SECTION_ENTRY_SIZE)
    return;
  states = malloc((size_t)n * 8 + 1);
  cr_assert_not_null(states);
  for (i = 0; i < n; i++) {
    unsigned char *e = p + HF_HEADER_SIZE + (size_t)i * HF_SECTION_ENTRY_SIZE;
    const uint64_t off = hf_le64(e + 8), slen = hf_le64(e + 16);
    if (off <= len && slen <= len - off)
      hf_put64(e + 24, hf_xxh3(p + off, (size_t)slen));
    memcpy(states + (size_t)i * 8, e + 24, 8);
  }
  if (hf_le32(p + HF_H_KIND) == HF_BLOB_SNAPSHOT)
    hf_put64(p + HF_H_STATE, hf_xxh3(states, (size_t)n * 8));
  free(states);
  {
    const size_t tlen = (size_t)n * HF_SECTION_ENTRY_SIZE;
    unsigned char *h = malloc(HF_HEADER_CKSUM_OFF + tlen);
    cr_assert_not_null(h);
    memcpy(h, p, HF_HEADER_CKSUM_OFF);
    memcpy(h + HF_HEADER_CKSUM_OFF, p + HF_HEADER_SIZE, tlen);
    hf_put64(p + HF_H_CHECKSUM, hf_xxh3(h, HF_HEADER_CKSUM_OFF + tlen));
    free(h);
  }
}

/* The schema of fuzz_json and fuzz_roundtrip, from the fuzzers themselves. */
#include "../../fuzz/fuzz_schema_text.h"

/* Ingests a fuzz_json input (prefix byte, JSON lines); returns the number
 * of records of the top type in the written snapshot and the number of
 * lines accepted. */
static uint32_t ingest_count(const unsigned char *p, size_t len,
                             uint64_t *accepted) {
  hf_schema *s = NULL;
  hf_builder *b = NULL;
  hf_reader *r = NULL;
  hf_error err;
  hf_build_opts o = {NULL, 0, 0};
  uint32_t type, count;
  const char *q, *end;
  uint64_t line = 0;
  FILE *f;

  cr_assert_eq(
      hf_schema_parse(fz_schema_text, sizeof fz_schema_text - 1, &s, &err),
      HF_OK, "%s", err.msg);
  cr_assert_geq(len, 1);
  type = (uint32_t)(p[0] & 0x7f) % hf_schema_type_count(s);
  o.flags = p[0] & 0x80 ? HF_BUILD_IGNORE_UNKNOWN : 0;
  cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_OK);
  *accepted = 0;
  q = (const char *)p + 1;
  end = (const char *)p + len;
  while (q < end) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    const size_t n = (size_t)((nl != NULL ? nl : end) - q);
    if (hf_builder_add_json(b, type, q, n, ++line, &err) == HF_OK)
      (*accepted)++;
    q = nl != NULL ? nl + 1 : end;
  }
  f = tmpfile();
  cr_assert_not_null(f);
  cr_assert_eq(hf_builder_write_fd(b, fileno(f), NULL, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_open_fd(fileno(f), NULL, &r, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "%s", err.msg);
  count = hf_reader_record_count(r, type);
  hf_reader_close(r);
  fclose(f);
  hf_builder_free(b);
  hf_schema_free(s);
  return count;
}

/* hf_json.c checked for text after the value only after the root record
 * was closed, so a refused line still added its record. */
Test(regress, json_trailing_text_keeps_nothing) {
  const char *files[] = {"json/trailing-text-keeps-root",
                         "json/trailing-text-keeps-root-min"};
  size_t i;
  for (i = 0; i < sizeof files / sizeof *files; i++) {
    size_t len;
    uint64_t accepted;
    unsigned char *p = load(files[i], &len);
    cr_expect_eq(ingest_count(p, len, &accepted), 0, "%s", files[i]);
    cr_expect_eq(accepted, 0, "%s", files[i]);
    free(p);
  }
}

/* Opens, verifies and reads every record of a resealed regression blob: it
 * must end in an error or pass, never crash (run under `make asan`). */
static void open_walk(const char *name) {
  size_t len;
  unsigned char *p = load(name, &len);
  hf_reader *r = NULL;
  hf_error err;

  reseal(p, len);
  if (hf_reader_open_mem(p, len, NULL, &r, &err) == HF_OK) {
    const hf_schema *s = hf_reader_schema(r);
    uint32_t t, o;
    (void)hf_reader_verify(r, &err);
    for (t = 0; t < hf_schema_type_count(s); t++)
      for (o = hf_reader_next(r, t, 0); o != HF_NO_ORDINAL;
           o = hf_reader_next(r, t, o + 1)) {
        hf_record rec;
        hf_coll c;
        (void)hf_reader_record(r, t, o, &rec);
        (void)hf_reader_coll(r, t, o, &c);
      }
    hf_reader_close(r);
  }
  free(p);
}

Test(regress, reseal_keeps_valid_vector) {
  size_t len;
  unsigned char *p = load("../../spec/vectors/kinds.hollow", &len);
  unsigned char *q = malloc(len);
  cr_assert_not_null(q);
  memcpy(q, p, len);
  reseal(q, len);
  cr_expect_eq(memcmp(p, q, len), 0);
  free(p);
  free(q);
  open_walk("../../spec/vectors/minimal.hollow");
}

/* A delta whose TYPES gives a map type an ordinal_limit of 2^29 + 1 with one
 * record (fuzz_delta).  hf_apply.c once sized the result from TYPES before
 * checking that ordinal_limit - 1 is populated (R-DLT-09), allocating 4 GiB
 * for a 3.6 KB delta (R-SEC-09); it must be refused before that. */
Test(regress, delta_huge_ordinal_limit_is_refused) {
  size_t blen, dlen;
  unsigned char *b = load("../../fuzz/corpus/delta/base.hollow", &blen);
  unsigned char *d = load("delta/apply-huge-ordinal-limit", &dlen);
  hf_reader *rb = NULL, *rd = NULL;
  const hf_reader *ds[1];
  hf_error err;
  void *out = NULL;
  size_t len = 0;
  int rc;

  reseal(d, dlen);
  cr_assert_eq(hf_reader_open_mem(b, blen, NULL, &rb, &err), HF_OK, "%s",
               err.msg);
  rc = hf_reader_open_mem(d, dlen, NULL, &rd, &err);
  if (rc == HF_OK) {
    ds[0] = rd;
    rc = hf_apply_mem(rb, ds, 1, &out, &len, &err);
  }
  cr_expect(rc < 0, "apply accepted the delta (%d)", rc);
  cr_expect_null(out);
  hf_reader_close(rd);
  hf_reader_close(rb);
  free(d);
  free(b);
}

/* Builds a snapshot of Root records from JSON lines on top of base (may be
 * NULL); returns it in *out (malloc'd) and its reader in *r. */
static void build_json(const hf_schema *s, const hf_reader *base,
                       const char *const *lines, size_t n, unsigned char **out,
                       size_t *len, hf_reader **r) {
  hf_build_opts o = {base, 0, 0};
  hf_builder *b = NULL;
  hf_error err;
  uint32_t root;
  size_t i;
  FILE *f;
  long size;

  cr_assert_eq(hf_schema_type_find(s, "Root", 4, &root), HF_OK);
  cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_OK, "%s", err.msg);
  for (i = 0; i < n; i++)
    cr_assert_eq(
        hf_builder_add_json(b, root, lines[i], strlen(lines[i]), i + 1, &err),
        HF_OK, "%s", err.msg);
  f = tmpfile();
  cr_assert_not_null(f);
  cr_assert_eq(hf_builder_write_fd(b, fileno(f), NULL, &err), HF_OK, "%s",
               err.msg);
  size = ftell(f);
  cr_assert_gt(size, 0);
  *out = malloc((size_t)size);
  cr_assert_not_null(*out);
  rewind(f);
  cr_assert_eq(fread(*out, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  *len = (size_t)size;
  cr_assert_eq(hf_reader_open_mem(*out, *len, NULL, r, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_verify(*r, &err), HF_OK, "%s", err.msg);
  hf_builder_free(b);
}

/* hf_finish.c matched an unkeyed record with empty content (an empty list)
 * against the base with memcmp(NULL, p, 0), undefined behaviour that UBSan
 * reports (fuzz_roundtrip; tests/regress/roundtrip/).  The empty list keeps
 * its ordinal. */
Test(regress, empty_content_keeps_its_base_ordinal) {
  static const char *const v1[] = {
      "{\"id\": 1, \"code\": \"a\", \"items\": [], \"grid\": [[]]}",
      "{\"id\": 2, \"code\": \"b\", \"items\": [{\"n\": 1}]}"};
  static const char *const v2[] = {
      "{\"id\": 1, \"code\": \"a\", \"items\": [], \"grid\": [[]]}"};
  hf_schema *s = NULL;
  hf_error err;
  unsigned char *b1, *b2;
  size_t l1, l2;
  hf_reader *r1, *r2;
  uint32_t list;

  cr_assert_eq(
      hf_schema_parse(fz_schema_text, sizeof fz_schema_text - 1, &s, &err),
      HF_OK);
  build_json(s, NULL, v1, 2, &b1, &l1, &r1);
  build_json(s, r1, v2, 1, &b2, &l2, &r2);
  cr_assert_eq(hf_schema_type_find(s, "ListOfInner", 11, &list), HF_OK);
  {
    hf_value key[2];
    hf_record a, b;
    uint32_t f, oa, ob;
    key[0].type = HF_FT_LONG;
    key[0].u.l = 1;
    key[1].type = HF_FT_STRING;
    key[1].u.s.ptr = "a";
    key[1].u.s.len = 1;
    cr_assert_eq(hf_reader_find(r1, 0, key, 2, &a), HF_OK);
    cr_assert_eq(hf_reader_find(r2, 0, key, 2, &b), HF_OK);
    cr_assert_eq(hf_schema_field_find(s, 0, "items", 5, &f), HF_OK);
    cr_assert_eq(hf_record_ref(&a, f, &oa), HF_OK);
    cr_assert_eq(hf_record_ref(&b, f, &ob), HF_OK);
    cr_expect_eq(oa, ob, "the empty list moved from %u to %u", oa, ob);
  }
  hf_reader_close(r2);
  hf_reader_close(r1);
  free(b2);
  free(b1);
  hf_schema_free(s);
}

/* Streams a fuzz_jsonl input (prefix byte, JSON Lines) with `threads`;
 * returns the return code, the lines added and the state of what was
 * kept. */
static int stream_ingest(const unsigned char *p, size_t len, uint32_t threads,
                         uint64_t *records, uint64_t *state) {
  hf_schema *s = NULL;
  hf_builder *b = NULL;
  hf_error err;
  hf_jsonl_opts o;
  FILE *in = tmpfile(), *out = tmpfile();
  int rc;

  cr_assert(in != NULL && out != NULL);
  cr_assert_eq(fwrite(p + 1, 1, len - 1, in), len - 1);
  cr_assert_eq(fflush(in), 0);
  rewind(in);
  cr_assert_eq(
      hf_schema_parse(fz_schema_text, sizeof fz_schema_text - 1, &s, &err),
      HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  memset(&o, 0, sizeof o);
  o.type = (uint32_t)(p[0] & 0x0f) % hf_schema_type_count(s);
  o.threads = threads;
  rc = hf_builder_add_jsonl(b, fileno(in), &o, records, &err);
  cr_assert_eq(hf_builder_write_fd(b, fileno(out), state, &err), HF_OK, "%s",
               err.msg);
  fclose(in);
  fclose(out);
  hf_builder_free(b);
  hf_schema_free(s);
  return rc;
}

/* A bare scalar line is parsed from a copy of itself (hf_json.c): an empty
 * string there went onto the tape as an arena view of a tape that had no
 * arena yet, a null pointer plus zero (UBSan). */
Test(regress, jsonl_empty_string_in_bare_scalar_copy) {
  size_t len;
  unsigned char *p = load("jsonl/empty-string-in-bare-scalar-copy", &len);
  uint64_t n1, n2, s1, s2;
  const int rc1 = stream_ingest(p, len, 1, &n1, &s1);
  const int rc2 = stream_ingest(p, len, 2, &n2, &s2);
  cr_assert_eq(rc1, rc2);
  cr_assert_eq(n1, n2);
  cr_assert_eq(s1, s2);
  cr_assert_gt(n1, 0, "the input has lines that are accepted");
  free(p);
}
