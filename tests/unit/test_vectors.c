/*
 * test_vectors.c - the golden vectors of spec/vectors/ (FORMAT.md App. B).
 *
 * Every vector is rebuilt from its sources through the public API
 * (hf_schema_parse, hf_builder_add_json per line, hf_builder_write_fd) and
 * must equal the committed .hollow byte for byte: the encoding is canonical
 * (FORMAT.md §6.8, R-ORD-01).  The minimal vector is also checked field by
 * field against the numbers of FORMAT.md Appendix A, so that a silent change
 * of the format fails here even if builder and vectors change together.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "hformat.h"

#define VEC_DIR "spec/vectors/"

typedef struct buf {
  unsigned char *p;
  size_t len;
} buf;

static buf slurp(const char *path) {
  buf b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  long n;
  cr_assert_not_null(f,
                     "cannot open %s (run the tests from the repository "
                     "root)",
                     path);
  cr_assert_eq(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  cr_assert_geq(n, 0);
  rewind(f);
  b.len = (size_t)n;
  b.p = malloc(b.len + 1);
  cr_assert_not_null(b.p);
  cr_assert_eq(fread(b.p, 1, b.len, f), b.len);
  b.p[b.len] = 0;
  fclose(f);
  return b;
}

static buf vec_file(const char *name, const char *ext) {
  char path[256];
  snprintf(path, sizeof path, VEC_DIR "%s.%s", name, ext);
  return slurp(path);
}

/* Reads everything written to f from the start. */
static buf read_back(FILE *f) {
  buf b = {NULL, 0};
  long n;
  cr_assert_eq(fflush(f), 0);
  cr_assert_eq(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  rewind(f);
  b.len = (size_t)n;
  b.p = malloc(b.len + 1);
  cr_assert_not_null(b.p);
  cr_assert_eq(fread(b.p, 1, b.len, f), b.len);
  return b;
}

/* Builds vector `name` (root type 0, one JSON text per line), optionally on
 * top of `base`, and returns the snapshot bytes. */
static buf build(const char *name, const hf_reader *base) {
  buf hsl = vec_file(name, "hsl"), jsonl = vec_file(name, "jsonl"), out;
  hf_schema *s = NULL;
  hf_builder *b = NULL;
  hf_build_opts opts;
  hf_error err;
  size_t pos = 0;
  uint64_t line = 0, state = 0;
  FILE *f;
  int rc;

  rc = hf_schema_parse((const char *)hsl.p, hsl.len, &s, &err);
  cr_assert_eq(rc, HF_OK, "%s.hsl: %s", name, err.msg);
  memset(&opts, 0, sizeof opts);
  opts.base = base;
  rc = hf_builder_new(s, &opts, &b, &err);
  cr_assert_eq(rc, HF_OK, "%s: %s", name, err.msg);
  while (pos < jsonl.len) {
    const char *p = (const char *)jsonl.p + pos;
    const char *nl = memchr(p, '\n', jsonl.len - pos);
    size_t n = nl ? (size_t)(nl - p) : jsonl.len - pos;
    line++;
    if (n > 0) {
      rc = hf_builder_add_json(b, 0, p, n, line, &err);
      cr_assert_eq(rc, HF_OK, "%s.jsonl:%llu: %s", name,
                   (unsigned long long)line, err.msg);
    }
    pos += n + (nl != NULL);
  }
  f = tmpfile();
  cr_assert_not_null(f);
  rc = hf_builder_write_fd(b, fileno(f), &state, &err);
  cr_assert_eq(rc, HF_OK, "%s: write: %s", name, err.msg);
  out = read_back(f);
  fclose(f);
  cr_assert_geq(out.len, 64);
  /* state_out reports the header's state field (FORMAT.md §4.9). */
  cr_assert_eq(state,
               (uint64_t)out.p[48] | (uint64_t)out.p[49] << 8 |
                   (uint64_t)out.p[50] << 16 | (uint64_t)out.p[51] << 24 |
                   (uint64_t)out.p[52] << 32 | (uint64_t)out.p[53] << 40 |
                   (uint64_t)out.p[54] << 48 | (uint64_t)out.p[55] << 56);
  hf_builder_free(b);
  hf_schema_free(s);
  free(hsl.p);
  free(jsonl.p);
  return out;
}

static void assert_same(const char *name, buf got) {
  buf want = vec_file(name, "hollow");
  size_t i = 0;
  while (i < got.len && i < want.len && got.p[i] == want.p[i])
    i++;
  cr_assert(got.len == want.len && i == got.len,
            "%s: rebuilt snapshot differs from %s.hollow at byte %zu "
            "(lengths %zu and %zu)",
            name, name, i, got.len, want.len);
  free(want.p);
}

static hf_reader *open_vector(const char *name, buf *keep) {
  hf_reader *r = NULL;
  hf_error err;
  hf_open_opts o = {HF_OPEN_VERIFY, 0};
  *keep = vec_file(name, "hollow");
  cr_assert_eq(hf_reader_open_mem(keep->p, keep->len, &o, &r, &err), HF_OK,
               "%s.hollow: %s", name, err.msg);
  return r;
}

Test(vectors, minimal_rebuilds_byte_for_byte) /* R-ORD-01 */ {
  buf got = build("minimal", NULL);
  assert_same("minimal", got);
  free(got.p);
}

Test(vectors, kinds_rebuilds_byte_for_byte) /* R-ORD-01 */ {
  buf got = build("kinds", NULL);
  assert_same("kinds", got);
  free(got.p);
}

Test(vectors, empty_rebuilds_byte_for_byte) /* R-ORD-01 */ {
  buf got = build("empty", NULL);
  assert_same("empty", got);
  free(got.p);
}

Test(vectors, reuse_v1_rebuilds_byte_for_byte) /* R-ORD-01 */ {
  buf got = build("reuse-v1", NULL);
  assert_same("reuse-v1", got);
  free(got.p);
}

Test(vectors, reuse_v2_rebuilds_on_its_base) /* R-ORD-06..08 */ {
  buf keep, got;
  hf_reader *base = open_vector("reuse-v1", &keep);
  got = build("reuse-v2", base);
  assert_same("reuse-v2", got);
  free(got.p);
  hf_reader_close(base);
  free(keep.p);
}

Test(vectors, every_vector_verifies) {
  static const char *const names[] = {"minimal", "kinds", "empty", "reuse-v1",
                                      "reuse-v2"};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    buf keep;
    hf_reader *r = open_vector(names[i], &keep);
    hf_reader_close(r);
    free(keep.p);
  }
}

/* ---- Ordinal assignment, read back through the API (FORMAT.md §6.8) ---- */

static uint32_t ordinal_of_movie(const hf_reader *r, int64_t id) {
  hf_value k;
  hf_record rec;
  k.type = HF_FT_LONG;
  k.u.l = id;
  if (hf_reader_find(r, 0, &k, 1, &rec) != HF_OK)
    return HF_NO_ORDINAL;
  return rec.ordinal;
}

Test(vectors, reuse_v2_keeps_and_reuses_ordinals) /* R-ORD-06, R-ORD-08 */ {
  buf k1, k2;
  hf_reader *v1 = open_vector("reuse-v1", &k1);
  hf_reader *v2 = open_vector("reuse-v2", &k2);
  hf_info info;
  int64_t id;

  /* v1: ids 1..5 take ordinals 0..4 in input order. */
  for (id = 1; id <= 5; id++)
    cr_expect_eq(ordinal_of_movie(v1, id), (uint32_t)(id - 1));
  /* v2: 1, 3, 5 keep 0, 2, 4; 2 and 4 are deleted; 6 takes the lowest
   * freed ordinal, 1; ordinal 3 stays a hole. */
  cr_expect_eq(ordinal_of_movie(v2, 1), 0u);
  cr_expect_eq(ordinal_of_movie(v2, 3), 2u);
  cr_expect_eq(ordinal_of_movie(v2, 5), 4u);
  cr_expect_eq(ordinal_of_movie(v2, 6), 1u);
  cr_expect_eq(ordinal_of_movie(v2, 2), HF_NO_ORDINAL);
  cr_expect_eq(ordinal_of_movie(v2, 4), HF_NO_ORDINAL);
  cr_expect_eq(hf_reader_ordinal_limit(v2, 0), 5u);
  cr_expect_eq(hf_reader_record_count(v2, 0), 4u);
  cr_expect_eq(hf_reader_next(v2, 0, 3), 4u);
  /* Genre (unkeyed): "animation" is new and takes "crime"'s freed 2;
   * "comedy"'s 4 stays a hole below drama's kept 5. */
  cr_expect_eq(hf_reader_ordinal_limit(v2, 1), 6u);
  cr_expect_eq(hf_reader_record_count(v2, 1), 5u);
  cr_expect_eq(hf_reader_next(v2, 1, 4), 5u);
  /* ListOfGenre: [drama] keeps 4, [horror, scifi] keeps 0, the new
   * [family, animation] (given twice, stored once) takes 1. */
  cr_expect_eq(hf_reader_ordinal_limit(v2, 2), 5u);
  cr_expect_eq(hf_reader_record_count(v2, 2), 3u);
  hf_reader_info(v2, &info);
  cr_expect_eq(info.dataset_version, 2u); /* base + 1 (FORMAT.md §4.7) */
  hf_reader_close(v1);
  hf_reader_close(v2);
  free(k1.p);
  free(k2.p);
}

/* ---- The minimal vector against FORMAT.md Appendix A --------------------- */

static uint64_t le(const unsigned char *p, int n) {
  uint64_t v = 0;
  while (n-- > 0)
    v = v << 8 | p[n];
  return v;
}

/* Section table entry i of the minimal vector. */
static void expect_entry(const buf *b, int i, uint32_t kind, uint32_t type,
                         uint64_t off, uint64_t len) {
  const unsigned char *e = b->p + 64 + 32 * i;
  cr_expect_eq(le(e, 4), kind, "section %d kind", i);
  cr_expect_eq(le(e + 4, 4), type, "section %d type", i);
  cr_expect_eq(le(e + 8, 8), off, "section %d offset", i);
  cr_expect_eq(le(e + 16, 8), len, "section %d length", i);
  cr_expect_eq(le(e + 24, 8), XXH3_64bits(b->p + off, (size_t)len),
               "section %d checksum", i);
}

Test(vectors, minimal_matches_appendix_a) /* FORMAT.md §4, §5, App. A */ {
  static const unsigned char magic[8] = {0x89, 'H',  'L',  'W',
                                         '\r', '\n', 0x1a, '\n'};
  static const char schema[] = "Item @PrimaryKey(id) {\n    int id;\n}\n";
  buf b = vec_file("minimal", "hollow");
  const unsigned char *p = b.p;
  unsigned char sums[6 * 8];
  uint64_t h, bucket;
  XXH3_state_t st;
  int i;

  cr_assert_eq(b.len, 344u);
  cr_expect_eq(memcmp(p, magic, 8), 0);
  cr_expect_eq(le(p + 8, 2), 1u);    /* format_major */
  cr_expect_eq(le(p + 10, 2), 0u);   /* format_minor */
  cr_expect_eq(p[12], 1u);           /* kind: snapshot */
  cr_expect_eq(le(p + 13, 3), 0u);   /* reserved */
  cr_expect_eq(le(p + 16, 4), 6u);   /* section_count */
  cr_expect_eq(le(p + 20, 4), 0u);   /* reserved */
  cr_expect_eq(le(p + 24, 8), 344u); /* file_size */
  cr_expect_eq(le(p + 32, 8), 1u);   /* dataset_version */
  cr_expect_eq(le(p + 40, 8), 0u);   /* base_state */

  expect_entry(&b, 0, 0x0001, 0xFFFFFFFFu, 256, 37); /* SCHEMA */
  expect_entry(&b, 1, 0x0002, 0xFFFFFFFFu, 296, 16); /* TYPES */
  expect_entry(&b, 2, 0x0010, 0, 312, 8);            /* BITMAP(0) */
  expect_entry(&b, 3, 0x0011, 0, 320, 8);            /* SLOTS(0) */
  expect_entry(&b, 4, 0x0012, 0, 328, 0);            /* HEAP(0) */
  expect_entry(&b, 5, 0x0014, 0, 328, 16);           /* PKINDEX(0) */
  cr_expect_eq(le(p + 64 + 4 * 32 + 24, 8), UINT64_C(0x2D06800538D394C2));

  cr_expect_eq(memcmp(p + 256, schema, 37), 0);
  cr_expect_eq(le(p + 293, 3), 0u); /* padding */
  cr_expect_eq(le(p + 296, 4), 1u); /* ordinal_limit */
  cr_expect_eq(le(p + 300, 4), 1u); /* record_count */
  cr_expect_eq(le(p + 304, 4), 8u); /* slot_width */
  cr_expect_eq(le(p + 308, 4), 0u); /* reserved */
  cr_expect_eq(le(p + 312, 8), 1u); /* bitmap: ordinal 0 */
  cr_expect_eq(le(p + 320, 4), 7u); /* id = 7 */
  cr_expect_eq(p[324], 1u);         /* presence: field 0 */
  cr_expect_eq(le(p + 325, 3), 0u); /* slot padding */

  /* PKINDEX: nb = 2; key encoding of id 7 is 07 00 00 00 (§6.7.1). */
  h = XXH3_64bits("\x07\x00\x00\x00", 4);
  for (i = 0; i < 2; i++) {
    bucket = le(p + 328 + 8 * (size_t)i, 8);
    if ((uint64_t)i == (h & 1))
      cr_expect_eq(bucket, (h >> 32) << 32, "occupied bucket %d", i);
    else
      cr_expect_eq(bucket, UINT64_C(0xFFFFFFFF), "empty bucket %d", i);
  }

  /* state (§4.9) and header checksum (§4.8). */
  for (i = 0; i < 6; i++)
    memcpy(sums + 8 * i, p + 64 + 32 * i + 24, 8);
  cr_expect_eq(le(p + 48, 8), XXH3_64bits(sums, sizeof sums));
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, p, 56);
  XXH3_64bits_update(&st, p + 64, 6 * 32);
  cr_expect_eq(le(p + 56, 8), XXH3_64bits_digest(&st));
  free(b.p);
}

Test(vectors, empty_has_every_section_and_one_bucket) /* §5.4, §6.7 */ {
  buf keep;
  hf_reader *r = open_vector("empty", &keep);
  hf_section_info si;
  hf_info info;
  uint32_t i;

  hf_reader_info(r, &info);
  /* SCHEMA, TYPES, Item x4, Tag x3, ListOfTag x3. */
  cr_assert_eq(info.section_count, 12u);
  for (i = 2; i < info.section_count; i++) {
    cr_assert_eq(hf_reader_section(r, i, &si), HF_OK);
    if (si.kind == 0x0014)
      cr_expect_eq(si.length, 8u, "PKINDEX of 0 records has 1 bucket");
    else
      cr_expect_eq(si.length, 0u, "section %u is empty", i);
  }
  for (i = 0; i < 3; i++) {
    cr_expect_eq(hf_reader_ordinal_limit(r, i), 0u);
    cr_expect_eq(hf_reader_record_count(r, i), 0u);
  }
  hf_reader_close(r);
  free(keep.p);
}
