/* test_reader.c - hf_reader open, accessors, lookup and verify on snapshots
 * assembled by hand from FORMAT.md (reader_fixture.h). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "hf_internal.h"
#include "reader_fixture.h"

/* Opens buf and returns the code; closes on success. */
static int open_code(const void *buf, size_t len) {
  hf_reader *r = NULL;
  hf_error err;
  int rc = hf_reader_open_mem(buf, len, NULL, &r, &err);
  if (rc == HF_OK) {
    cr_assert_not_null(r);
    hf_reader_close(r);
  } else {
    cr_assert_null(r);
    cr_assert_eq(err.code, rc);
    cr_assert_neq(err.msg[0], '\0');
  }
  return rc;
}

/* Opens buf, which must open, and returns verify's code. */
static int verify_code(const void *buf, size_t len, hf_error *err) {
  hf_reader *r = NULL;
  int rc = hf_reader_open_mem(buf, len, NULL, &r, err);
  cr_assert_eq(rc, HF_OK, "open: %s", err->msg);
  rc = hf_reader_verify(r, err);
  hf_reader_close(r);
  return rc;
}

/* ---- The fixture itself ---------------------------------------------- */

Test(fixture, schema_text_is_canonical_and_layout_matches_spec_example) {
  hf_schema *s;
  hf_error err;
  char buf[256];
  cr_assert_eq(hf_schema_parse(FX_SCHEMA, strlen(FX_SCHEMA), &s, &err), HF_OK,
               "%s", err.msg);
  cr_assert_eq(hf_schema_print(s, buf, sizeof buf), strlen(FX_SCHEMA));
  cr_assert_str_eq(buf, FX_SCHEMA);
  /* FORMAT.md §6.4 example. */
  cr_assert_eq(s->types[0].slot_width, FX_WIDTH);
  cr_assert_eq(s->types[0].present_off, FX_PRESENT);
  cr_assert_eq(s->types[0].fields[FX_ID].offset, FX_OFF_ID);
  cr_assert_eq(s->types[0].fields[FX_TITLE].offset, FX_OFF_TITLE);
  cr_assert_eq(s->types[0].fields[FX_YEAR].offset, FX_OFF_YEAR);
  cr_assert_eq(s->types[0].fields[FX_KIDS].offset, FX_OFF_KIDS);
  hf_schema_free(s);
}

Test(fixture, empty_string_hash_matches_spec) { /* FORMAT.md §3.3 */
  cr_assert_eq(hf_xxh3("", 0), UINT64_C(0x2D06800538D394C2));
}

/* ---- Open and accessors on the valid fixture -------------------------- */

static unsigned char *g_blob;
static size_t g_len;
static hf_reader *g_r;

static void open_fixture(void) {
  fx f;
  hf_error err;
  fx_init(&f);
  g_blob = fx_blob(&f, &g_len);
  cr_assert_eq(hf_reader_open_mem(g_blob, g_len, NULL, &g_r, &err), HF_OK, "%s",
               err.msg);
}
static void close_fixture(void) {
  hf_reader_close(g_r);
  free(g_blob);
}

TestSuite(handbuilt, .init = open_fixture, .fini = close_fixture);

Test(handbuilt, info_and_sections) {
  hf_info in;
  hf_section_info si;
  hf_reader_info(g_r, &in);
  cr_assert_eq(in.format_major, 1);
  cr_assert_eq(in.kind, HF_BLOB_SNAPSHOT);
  cr_assert_eq(in.section_count, 6);
  cr_assert_eq(in.file_size, g_len);
  cr_assert_eq(in.dataset_version, 7);
  cr_assert_eq(in.base_state, 0);
  cr_assert_eq(in.state, hf_le64(g_blob + HF_H_STATE));
  cr_assert_eq(hf_reader_section(g_r, 3, &si), HF_OK);
  cr_assert_eq(si.kind, HF_SEC_SLOTS);
  cr_assert_eq(si.type, 0);
  cr_assert_eq(si.length, FX_LIMIT * FX_WIDTH);
  cr_assert_eq(si.offset % 8, 0);
  cr_assert_eq(hf_reader_section(g_r, 6, &si), HF_E_ARG);
  cr_assert_str_eq(hf_section_kind_name(HF_SEC_PKINDEX), "pkindex");
  cr_assert_str_eq(hf_section_kind_name(0x8001), "unknown");
  cr_assert_eq(hf_schema_type_count(hf_reader_schema(g_r)), 1);
}

Test(handbuilt, verify_accepts) {
  hf_error err;
  cr_assert_eq(hf_reader_verify(g_r, &err), HF_OK, "%s", err.msg);
}

Test(handbuilt, counts_and_iteration) {
  uint32_t o, seen[8], n = 0;
  cr_assert_eq(hf_reader_ordinal_limit(g_r, 0), FX_LIMIT);
  cr_assert_eq(hf_reader_record_count(g_r, 0), FX_COUNT);
  cr_assert_eq(hf_reader_ordinal_limit(g_r, 1), 0);
  for (o = hf_reader_next(g_r, 0, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(g_r, 0, o + 1))
    seen[n++] = o;
  cr_assert_eq(n, 3);
  cr_assert_eq(seen[0], 0);
  cr_assert_eq(seen[1], 1);
  cr_assert_eq(seen[2], 3);
  cr_assert_eq(hf_reader_next(g_r, 0, 2), 3);
  cr_assert_eq(hf_reader_next(g_r, 0, 4), HF_NO_ORDINAL);
  cr_assert_eq(hf_reader_next(g_r, 0, UINT32_MAX), HF_NO_ORDINAL);
  cr_assert_eq(hf_reader_next(g_r, 5, 0), HF_NO_ORDINAL);
}

Test(handbuilt, field_values_nulls_and_errors) {
  hf_record rec;
  int64_t id;
  int32_t year;
  int kids;
  hf_view v;
  float fl;
  uint32_t ref;
  cr_assert_eq(hf_reader_record(g_r, 0, 2, &rec), HF_NOTFOUND);
  cr_assert_eq(hf_reader_record(g_r, 0, 4, &rec), HF_NOTFOUND);
  cr_assert_eq(hf_reader_record(g_r, 1, 0, &rec), HF_E_ARG);
  cr_assert_eq(hf_reader_record(g_r, 0, 3, &rec), HF_OK);
  cr_assert_eq(rec.ordinal, 3);
  cr_assert_eq(hf_record_long(&rec, FX_ID, &id), HF_OK);
  cr_assert_eq(id, 30);
  cr_assert_eq(hf_record_string(&rec, FX_TITLE, &v), HF_OK);
  cr_assert_eq(v.len, 7);
  cr_assert_eq(memcmp(v.ptr, "Am\xc3\xa9lie", 7), 0);
  year = -1;
  cr_assert_eq(hf_record_int(&rec, FX_YEAR, &year), HF_NULL);
  cr_assert_eq(year, -1, "a null leaves *out untouched");
  cr_assert_eq(hf_record_bool(&rec, FX_KIDS, &kids), HF_OK);
  cr_assert_eq(kids, 0);
  cr_assert_eq(hf_record_int(&rec, FX_ID, &year), HF_E_TYPE);
  cr_assert_eq(hf_record_float(&rec, FX_YEAR, &fl), HF_E_TYPE);
  cr_assert_eq(hf_record_bytes(&rec, FX_TITLE, &v), HF_E_TYPE);
  cr_assert_eq(hf_record_ref(&rec, FX_ID, &ref), HF_E_TYPE);
  cr_assert_eq(hf_record_long(&rec, 4, &id), HF_E_ARG);

  cr_assert_eq(hf_reader_record(g_r, 0, 1, &rec), HF_OK);
  cr_assert_eq(hf_record_string(&rec, FX_TITLE, &v), HF_OK);
  cr_assert_eq(v.len, 0);
  cr_assert_eq(hf_record_int(&rec, FX_YEAR, &year), HF_OK);
  cr_assert_eq(year, 2001);
  cr_assert_eq(hf_record_bool(&rec, FX_KIDS, &kids), HF_OK);
  cr_assert_eq(kids, 1);
}

Test(handbuilt, find_every_key_and_not_absent_ones) {
  hf_record rec;
  hf_value k = {.type = HF_FT_LONG};
  for (unsigned o = 0; o < FX_LIMIT; o++) {
    if (o == 2)
      continue;
    k.u.l = fx_ids[o];
    cr_assert_eq(hf_reader_find(g_r, 0, &k, 1, &rec), HF_OK);
    cr_assert_eq(rec.ordinal, o);
    cr_assert_eq(rec.type, 0);
  }
  for (int64_t x = -50; x < 200; x++) {
    if (x == 10 || x == 20 || x == 30)
      continue;
    k.u.l = x;
    cr_assert_eq(hf_reader_find(g_r, 0, &k, 1, &rec), HF_NOTFOUND);
  }
  cr_assert_eq(hf_reader_find(g_r, 0, &k, 0, &rec), HF_E_ARG);
  cr_assert_eq(hf_reader_find(g_r, 0, &k, 2, &rec), HF_E_ARG);
  k.type = HF_FT_INT;
  k.u.i = 10;
  cr_assert_eq(hf_reader_find(g_r, 0, &k, 1, &rec), HF_E_TYPE);
}

Test(handbuilt, find_text_converts_and_rejects) {
  hf_record rec;
  hf_error err;
  const char *p[1];
  p[0] = "20";
  cr_assert_eq(hf_reader_find_text(g_r, 0, p, 1, &rec, &err), HF_OK);
  cr_assert_eq(rec.ordinal, 1);
  p[0] = "+30";
  cr_assert_eq(hf_reader_find_text(g_r, 0, p, 1, &rec, &err), HF_OK);
  cr_assert_eq(rec.ordinal, 3);
  p[0] = "21";
  cr_assert_eq(hf_reader_find_text(g_r, 0, p, 1, &rec, &err), HF_NOTFOUND);
  const char *bad[] = {"",    "x", "12x", " 12", "1.5", "99999999999999999999",
                       "0x10"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    p[0] = bad[i];
    cr_assert_eq(hf_reader_find_text(g_r, 0, p, 1, &rec, &err), HF_E_INPUT,
                 "'%s'", bad[i]);
    cr_assert_neq(err.msg[0], '\0');
  }
  p[0] = "-9223372036854775808";
  cr_assert_eq(hf_reader_find_text(g_r, 0, p, 1, &rec, &err), HF_NOTFOUND);
  cr_assert_eq(hf_reader_find_text(g_r, 0, p, 2, &rec, &err), HF_E_ARG);
}

/* ---- Opening from files and pipes ------------------------------------- */

Test(files, open_path_fd_and_pipe) {
  fx f;
  size_t len;
  unsigned char *b;
  char path[] = "/tmp/hf_reader_testXXXXXX";
  int fd, pfd[2];
  hf_reader *r;
  hf_error err;
  hf_info in;
  fx_init(&f);
  b = fx_blob(&f, &len);
  fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, b, len), (ssize_t)len);
  cr_assert_eq(hf_reader_open(path, NULL, &r, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "%s", err.msg);
  hf_reader_close(r);
  hf_open_opts o = {.flags = HF_OPEN_VERIFY, .max_file_size = len};
  cr_assert_eq(hf_reader_open_fd(fd, &o, &r, &err), HF_OK, "%s", err.msg);
  hf_reader_close(r);
  o.max_file_size = len - 1;
  cr_assert_eq(hf_reader_open(path, &o, &r, &err), HF_E_LIMIT);
  cr_assert_null(r);
  close(fd);
  unlink(path);
  cr_assert_eq(hf_reader_open(path, NULL, &r, &err), HF_E_IO);

  /* An empty file is no hollow blob. */
  strcpy(path, "/tmp/hf_reader_testXXXXXX");
  fd = mkstemp(path);
  cr_assert_eq(hf_reader_open(path, NULL, &r, &err), HF_E_MAGIC);
  close(fd);
  unlink(path);

  /* Pipes are read to the end. */
  cr_assert_eq(pipe(pfd), 0);
  cr_assert_eq(write(pfd[1], b, len), (ssize_t)len);
  close(pfd[1]);
  cr_assert_eq(hf_reader_open_fd(pfd[0], NULL, &r, &err), HF_OK, "%s", err.msg);
  hf_reader_info(r, &in);
  cr_assert_eq(in.file_size, len);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "%s", err.msg);
  hf_reader_close(r);
  close(pfd[0]);

  cr_assert_eq(pipe(pfd), 0);
  cr_assert_eq(write(pfd[1], b, len), (ssize_t)len);
  close(pfd[1]);
  o.flags = 0;
  o.max_file_size = 100;
  cr_assert_eq(hf_reader_open_fd(pfd[0], &o, &r, &err), HF_E_LIMIT);
  close(pfd[0]);
  free(b);
  hf_reader_close(NULL);
}

/* ---- Open rejections, one rule at a time (FORMAT.md §9) --------------- */

Test(open, tiny_and_foreign_files) { /* R-HDR-01, R-HDR-02 */
  unsigned char b[100];
  memset(b, 'x', sizeof b);
  cr_assert_eq(open_code("", 0), HF_E_MAGIC);
  cr_assert_eq(open_code(HF_MAGIC, 5), HF_E_MAGIC);
  cr_assert_eq(open_code(b, sizeof b), HF_E_MAGIC);
  memcpy(b, HF_MAGIC, 8);
  cr_assert_eq(open_code(b, 8), HF_E_TRUNCATED);
  cr_assert_eq(open_code(b, 63), HF_E_TRUNCATED);
}

/* Applies `mut` to a fresh fixture blob, reseals header and state, and
 * returns the open code. */
static int open_mutated(void (*mut)(unsigned char *b, size_t *len),
                        int reseal) {
  fx f;
  size_t len;
  unsigned char *b;
  int rc;
  fx_init(&f);
  b = fx_blob_extra(&f, 0, &len);
  b = realloc(b, len + 64);
  memset(b + len, 0, 64);
  mut(b, &len);
  if (reseal)
    fx_reseal(b);
  rc = open_code(b, len);
  free(b);
  return rc;
}

/* The same for a mutation open does not see: the blob must open, and
 * verify's code is returned. */
static int verify_mutated(void (*mut)(unsigned char *b, size_t *len)) {
  fx f;
  size_t len;
  unsigned char *b;
  hf_error err;
  int rc;
  fx_init(&f);
  b = fx_blob_extra(&f, 0, &len);
  mut(b, &len);
  fx_reseal(b);
  rc = verify_code(b, len, &err);
  if (rc != HF_OK)
    cr_assert_eq(err.code, rc);
  free(b);
  return rc;
}

static void m_major(unsigned char *b, size_t *len) {
  (void)len;
  hf_put16(b + HF_H_MAJOR, 2);
}
static void m_minor(unsigned char *b, size_t *len) {
  (void)len;
  hf_put16(b + HF_H_MINOR, 9);
}
static void m_res13(unsigned char *b, size_t *len) {
  (void)len;
  b[13] = 1;
}
static void m_res15(unsigned char *b, size_t *len) {
  (void)len;
  b[15] = 0x80;
}
static void m_res22(unsigned char *b, size_t *len) {
  (void)len;
  b[22] = 1;
}
static void m_kind0(unsigned char *b, size_t *len) {
  (void)len;
  b[HF_H_KIND] = 0;
}
static void m_kind4(unsigned char *b, size_t *len) {
  (void)len;
  b[HF_H_KIND] = 4;
}
static void m_short(unsigned char *b, size_t *len) {
  (void)b;
  *len -= 8;
}
static void m_long(unsigned char *b, size_t *len) {
  (void)b;
  *len += 8;
}
static void m_nsec(unsigned char *b, size_t *len) {
  hf_put32(b + HF_H_NSECTIONS, (uint32_t)((*len - 64) / 32 + 1));
}
static void m_hcksum(unsigned char *b, size_t *len) {
  (void)len;
  b[HF_H_CHECKSUM + 3] ^= 1;
}
static void m_version0(unsigned char *b, size_t *len) {
  (void)len;
  hf_put64(b + HF_H_VERSION, 0);
}
static void m_base(unsigned char *b, size_t *len) {
  (void)len;
  hf_put64(b + HF_H_BASE_STATE, 1);
}
static void m_state(unsigned char *b, size_t *len) {
  (void)len;
  b[HF_H_STATE] ^= 0x40;
}

Test(open, header_rules) {
  cr_assert_eq(open_mutated(m_major, 1), HF_E_VERSION);    /* R-HDR-03 */
  cr_assert_eq(open_mutated(m_minor, 1), HF_OK);           /* R-VER-01 */
  cr_assert_eq(open_mutated(m_res13, 1), HF_E_CORRUPT);    /* R-HDR-04 */
  cr_assert_eq(open_mutated(m_res15, 1), HF_E_CORRUPT);    /* R-HDR-04 */
  cr_assert_eq(open_mutated(m_res22, 1), HF_E_CORRUPT);    /* R-HDR-04 */
  cr_assert_eq(open_mutated(m_kind0, 1), HF_E_CORRUPT);    /* R-HDR-05 */
  cr_assert_eq(open_mutated(m_kind4, 1), HF_E_CORRUPT);    /* R-HDR-05 */
  cr_assert_eq(open_mutated(m_short, 1), HF_E_TRUNCATED);  /* R-HDR-06 */
  cr_assert_eq(open_mutated(m_long, 1), HF_E_CORRUPT);     /* R-HDR-06 */
  cr_assert_eq(open_mutated(m_nsec, 1), HF_E_CORRUPT);     /* R-HDR-07 */
  cr_assert_eq(open_mutated(m_hcksum, 0), HF_E_CHECKSUM);  /* R-HDR-09 */
  cr_assert_eq(open_mutated(m_version0, 1), HF_E_CORRUPT); /* R-HDR-10 */
  cr_assert_eq(open_mutated(m_base, 1), HF_E_CORRUPT);     /* R-HDR-11 */
  cr_assert_eq(open_mutated(m_state, 0), HF_E_CHECKSUM);   /* R-HDR-12 */
}

static void m_sec_kind(unsigned char *b, size_t *len) {
  (void)len;
  hf_put32(b + fx_entry(4), 0x15);
}
static void m_sec_kind_delta(unsigned char *b, size_t *len) {
  (void)len;
  hf_put32(b + fx_entry(4), 0x20);
}
static void m_sec_misalign(unsigned char *b, size_t *len) {
  (void)len;
  hf_put64(b + fx_entry(3) + 8, hf_le64(b + fx_entry(3) + 8) + 4);
}
static void m_sec_overlong(unsigned char *b, size_t *len) {
  hf_put64(b + fx_entry(5) + 16, *len);
}
static void m_sec_gap(unsigned char *b, size_t *len) {
  (void)len;
  hf_put64(b + fx_entry(5) + 8, hf_le64(b + fx_entry(5) + 8) + 8);
}
static void m_padding(unsigned char *b, size_t *len) {
  (void)len;
  /* HEAP is 12 bytes: 4 bytes of padding follow it. */
  b[fx_data(b, 4) + 13] = 1;
}
static void m_none(unsigned char *b, size_t *len) {
  (void)b;
  (void)len;
}
static void m_swap(unsigned char *b, size_t *len) {
  (void)len;
  hf_put32(b + fx_entry(2), HF_SEC_SLOTS);
  hf_put32(b + fx_entry(3), HF_SEC_BITMAP);
}
static void m_global_type(unsigned char *b, size_t *len) {
  (void)len;
  hf_put32(b + fx_entry(1) + 4, 0);
}
static void m_bad_type(unsigned char *b, size_t *len) {
  (void)len;
  hf_put32(b + fx_entry(3) + 4, 1);
}

Test(open, section_table_rules) {
  cr_assert_eq(open_mutated(m_sec_kind, 1), HF_E_CORRUPT);       /* R-SEC-01 */
  cr_assert_eq(open_mutated(m_sec_kind_delta, 1), HF_E_CORRUPT); /* R-SEC-01 */
  cr_assert_eq(open_mutated(m_sec_misalign, 1), HF_E_CORRUPT);   /* R-SEC-03 */
  cr_assert_eq(open_mutated(m_sec_overlong, 1), HF_E_CORRUPT);   /* R-SEC-04 */
  cr_assert_eq(open_mutated(m_sec_gap, 1), HF_E_CORRUPT);        /* R-SEC-03 */
  cr_assert_eq(open_mutated(m_padding, 1), HF_OK); /* R-GEN-01: verify's */
  cr_assert_eq(verify_mutated(m_padding), HF_E_CORRUPT); /* R-GEN-01 */
  cr_assert_eq(open_mutated(m_none, 1), HF_OK);
  cr_assert_eq(open_mutated(m_swap, 1), HF_E_CORRUPT);        /* R-SEC-06 */
  cr_assert_eq(open_mutated(m_global_type, 1), HF_E_CORRUPT); /* R-SEC-05 */
  cr_assert_eq(open_mutated(m_bad_type, 1), HF_E_CORRUPT);    /* R-SEC-05 */
}

Test(open, ancillary_sections_are_skipped) { /* R-SEC-02, R-SEC-07 */
  fx f;
  size_t len;
  unsigned char *b;
  hf_error err;
  fx_init(&f);
  b = fx_blob_extra(&f, 2, &len);
  cr_assert_eq(verify_code(b, len, &err), HF_OK, "%s", err.msg);
  /* Padding after the 3-byte last section must be zero too (verify). */
  b[len - 1] = 1;
  cr_assert_eq(open_code(b, len), HF_OK);
  cr_assert_eq(verify_code(b, len, &err), HF_E_CORRUPT);
  cr_assert(strstr(err.msg, "R-GEN-01") != NULL, "%s", err.msg);
  b[len - 1] = 0;
  /* An ancillary section before a required one. */
  hf_put32(b + fx_entry(5), 0x8000);
  hf_put32(b + fx_entry(6), HF_SEC_PKINDEX);
  fx_reseal(b);
  cr_assert_eq(open_code(b, len), HF_E_CORRUPT);
  free(b);
}

/* Builds the fixture after `mut` changed its payloads (all checksums
 * right) and returns the open code. */
static int open_fx(void (*mut)(fx *f)) {
  fx f;
  size_t len;
  unsigned char *b;
  int rc;
  fx_init(&f);
  mut(&f);
  b = fx_blob(&f, &len);
  rc = open_code(b, len);
  free(b);
  return rc;
}

static void p_schema_spaces(fx *f) {
  memcpy(f->schema, "Movie  @", 8); /* still parses, not canonical */
  memmove(f->schema + 8, &FX_SCHEMA[7], sizeof FX_SCHEMA - 8);
  f->schema_len = sizeof FX_SCHEMA;
}
static void p_schema_garbage(fx *f) {
  memcpy(f->schema, "Movie {{", 8);
}
static void p_schema_nul(fx *f) {
  f->schema[3] = '\0';
}
static void p_limit_huge(fx *f) {
  hf_put32(f->types, 0x80000000u);
}
static void p_count_big(fx *f) {
  hf_put32(f->types + 4, 5);
}
static void p_width(fx *f) {
  hf_put32(f->types + 8, 32);
}
static void p_types_reserved(fx *f) {
  f->types[13] = 1;
}
static void p_slots_len(fx *f) {
  f->slots_len -= FX_WIDTH;
}
static void p_pk_len(fx *f) {
  f->pk_len = 16;
}
static void p_limit_small(fx *f) {
  hf_put32(f->types, 3); /* bitmap length still 8: slots length differs */
}
static void p_limit_bitmap(fx *f) {
  hf_put32(f->types, 65); /* bitmap length must be 16 now */
}

Test(open, schema_and_types_rules) {
  cr_assert_eq(open_fx(p_schema_spaces), HF_E_CORRUPT);  /* R-SCM-02 */
  cr_assert_eq(open_fx(p_schema_garbage), HF_E_CORRUPT); /* R-SCM-01 */
  cr_assert_eq(open_fx(p_schema_nul), HF_E_CORRUPT);     /* R-SCM-01 */
  cr_assert_eq(open_fx(p_limit_huge), HF_E_LIMIT);       /* R-TYP-02 */
  cr_assert_eq(open_fx(p_count_big), HF_E_CORRUPT);      /* R-TYP-03 */
  cr_assert_eq(open_fx(p_width), HF_E_CORRUPT);          /* R-TYP-04 */
  cr_assert_eq(open_fx(p_types_reserved), HF_E_CORRUPT); /* R-TYP-05 */
  cr_assert_eq(open_fx(p_slots_len), HF_E_CORRUPT);      /* R-SLT-01 */
  cr_assert_eq(open_fx(p_pk_len), HF_E_CORRUPT);         /* R-PK-01 */
  cr_assert_eq(open_fx(p_limit_small), HF_E_CORRUPT);    /* R-SLT-01 */
  cr_assert_eq(open_fx(p_limit_bitmap), HF_E_CORRUPT);   /* R-BMP-01 */
}

Test(open, error_names_section_type_and_rule) {
  fx f;
  size_t len;
  unsigned char *b;
  hf_reader *r;
  hf_error err;
  fx_init(&f);
  f.slots_len -= FX_WIDTH;
  b = fx_blob(&f, &len);
  cr_assert_eq(hf_reader_open_mem(b, len, NULL, &r, &err), HF_E_CORRUPT);
  cr_assert_str_eq(err.msg,
                   "section 3 (slots of type 'Movie'): length 72 is not "
                   "ordinal_limit 4 x slot_width 24 (FORMAT.md §6.5, "
                   "R-SLT-01)");
  cr_assert_eq(err.offset, fx_entry(3) + 16);
  free(b);
}

Test(open, schema_section_checksum_checked_at_open) {
  fx f;
  size_t len;
  unsigned char *b;
  fx_init(&f);
  b = fx_blob(&f, &len);
  b[fx_data(b, 0) + 2] ^= 0x20; /* "Movie" -> "MoVie", checksum stale */
  fx_reseal(b);
  cr_assert_eq(open_code(b, len), HF_E_CHECKSUM);
  free(b);
}

Test(open, snapshot_relabelled_as_delta_is_rejected) { /* R-DLT-03 */
  /* A delta's sections follow FORMAT.md §8.2; a real delta opening and
   * refusing record access is tested in test_delta.c (R-HDR-13). */
  fx f;
  size_t len;
  unsigned char *b;
  hf_reader *r;
  hf_error err;
  fx_init(&f);
  b = fx_blob(&f, &len);
  b[HF_H_KIND] = HF_BLOB_DELTA;
  hf_put64(b + HF_H_BASE_STATE, 1234);
  fx_reseal(b);
  cr_assert_eq(hf_reader_open_mem(b, len, NULL, &r, &err), HF_E_CORRUPT);
  cr_assert(strstr(err.msg, "R-DLT-03") != NULL, "%s", err.msg);
  free(b);
}

/* ---- Verify rejections (FORMAT.md §9, "verify" rows) ------------------- */

static int verify_fx(void (*mut)(fx *f), hf_error *err) {
  fx f;
  size_t len;
  unsigned char *b;
  int rc;
  fx_init(&f);
  mut(&f);
  b = fx_blob(&f, &len);
  rc = verify_code(b, len, err);
  free(b);
  return rc;
}

static void v_bit_past_limit(fx *f) {
  f->bitmap[0] |= 0x10; /* reported before the popcount */
}
static void v_popcount(fx *f) {
  hf_put32(f->types + 4, 2);
}
static void v_last_unpopulated(fx *f) {
  f->bitmap[0] = 0x03; /* 3 unpopulated, its slot non-zero */
  hf_put32(f->types + 4, 2);
}
static void v_hole_nonzero(fx *f) {
  f->slots[2 * FX_WIDTH + 5] = 1;
}
static void v_bool2(fx *f) {
  f->slots[FX_OFF_KIDS] = 2;
}
static void v_null_nonzero(fx *f) {
  f->slots[3 * FX_WIDTH + FX_OFF_YEAR] = 7;
}
static void v_presence_high(fx *f) {
  f->slots[FX_PRESENT] |= 0x80;
}
static void v_slot_padding(fx *f) {
  f->slots[FX_WIDTH + 23] = 1;
}
static void v_heap_order(fx *f) {
  /* Swap the titles of 0 and 3 in the heap: offsets no longer ascend. */
  uint64_t a = hf_le64(f->slots + FX_OFF_TITLE);
  uint64_t c = hf_le64(f->slots + 3 * FX_WIDTH + FX_OFF_TITLE);
  hf_put64(f->slots + FX_OFF_TITLE, c);
  hf_put64(f->slots + 3 * FX_WIDTH + FX_OFF_TITLE, a);
}
static void v_heap_extra(fx *f) {
  f->heap[f->heap_len++] = 'x';
}
static void v_utf8(fx *f) {
  f->heap[7] = 0xFF; /* inside "Amélie" */
}
static void v_pk_wrong(fx *f) {
  unsigned char t[8];
  memcpy(t, f->pk, 8);
  memcpy(f->pk, f->pk + 8, 8);
  memcpy(f->pk + 8, t, 8);
}
static void v_pk_dup(fx *f) {
  hf_put64(f->slots + 3 * FX_WIDTH + FX_OFF_ID, 10);
  fx_build_pk(f);
}
static void v_pk_null(fx *f) {
  memset(f->slots + 3 * FX_WIDTH + FX_OFF_ID, 0, 8);
  f->slots[3 * FX_WIDTH + FX_PRESENT] &= (unsigned char)~1u;
  fx_build_pk(f);
}

Test(verify, slot_heap_bitmap_and_index_rules) {
  struct {
    void (*mut)(fx *);
    const char *rule;
  } cases[] = {
      {v_bit_past_limit, "R-BMP-02"},
      {v_popcount, "R-BMP-03"},
      {v_last_unpopulated, "R-BMP-04"},
      {v_hole_nonzero, "R-SLT-06"},
      {v_bool2, "R-SLT-02"},
      {v_null_nonzero, "R-SLT-03"},
      {v_presence_high, "R-SLT-04"},
      {v_slot_padding, "R-SLT-04"},
      {v_heap_order, "R-HEAP-01"},
      {v_heap_extra, "R-HEAP-01"},
      {v_utf8, "R-HEAP-03"},
      {v_pk_wrong, "R-PK-02"},
      {v_pk_dup, "R-PK-04"},
      {v_pk_null, "R-PK-03"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    hf_error err;
    cr_assert_eq(verify_fx(cases[i].mut, &err), HF_E_CORRUPT, "case %s: %s",
                 cases[i].rule, err.msg);
    cr_assert_not_null(strstr(err.msg, cases[i].rule), "case %s: %s",
                       cases[i].rule, err.msg);
    cr_assert_neq(err.offset, UINT64_MAX);
  }
}

Test(verify, section_checksum) { /* R-SEC-08 */
  fx f;
  size_t len;
  unsigned char *b;
  hf_error err;
  fx_init(&f);
  b = fx_blob(&f, &len);
  b[fx_data(b, 4) + 1] ^= 0x01; /* heap byte; checksum now stale */
  cr_assert_eq(open_code(b, len), HF_OK);
  cr_assert_eq(verify_code(b, len, &err), HF_E_CHECKSUM);
  cr_assert_eq(err.offset, fx_data(b, 4));
  cr_assert_eq(hf_reader_open_mem(b, len,
                                  &(hf_open_opts){.flags = HF_OPEN_VERIFY},
                                  &(hf_reader *){NULL}, &err),
               HF_E_CHECKSUM);
  free(b);
}

/* Accessors stay in bounds on bytes that pass open but not verify. */
Test(verify, accessors_safe_on_unverified_corruption) {
  fx f;
  size_t len;
  unsigned char *b;
  hf_reader *r;
  hf_error err;
  hf_record rec;
  hf_view v;
  int kids;
  hf_value k = {.type = HF_FT_LONG, .u.l = 30};
  fx_init(&f);
  /* Title of 3 points past the heap; kids of 0 is 9; index bucket points
   * at the hole. */
  hf_put64(f.slots + 3 * FX_WIDTH + FX_OFF_TITLE,
           (uint64_t)10 | ((uint64_t)7 << HF_STR_OFF_BITS));
  f.slots[FX_OFF_KIDS] = 9;
  b = fx_blob(&f, &len);
  cr_assert_eq(hf_reader_open_mem(b, len, NULL, &r, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_record(r, 0, 3, &rec), HF_OK);
  cr_assert_eq(hf_record_string(&rec, FX_TITLE, &v), HF_E_CORRUPT);
  cr_assert_eq(hf_reader_find(r, 0, &k, 1, &rec), HF_OK);
  cr_assert_eq(hf_reader_record(r, 0, 0, &rec), HF_OK);
  cr_assert_eq(hf_record_bool(&rec, FX_KIDS, &kids), HF_E_CORRUPT);
  cr_assert_eq(hf_reader_verify(r, &err), HF_E_CORRUPT);
  hf_reader_close(r);
  free(b);

  fx_init(&f);
  for (unsigned i = 0; i < 4; i++)
    if (hf_le32(f.pk + 8 * i) != HF_PK_EMPTY)
      hf_put32(f.pk + 8 * i, 2 + 100 * (i & 1)); /* hole / out of range */
  b = fx_blob(&f, &len);
  cr_assert_eq(hf_reader_open_mem(b, len, NULL, &r, &err), HF_OK);
  for (unsigned o = 0; o < 4; o++) {
    k.u.l = fx_ids[o];
    int rc = hf_reader_find(r, 0, &k, 1, &rec);
    cr_assert(rc == HF_E_CORRUPT || rc == HF_NOTFOUND, "rc %d", rc);
  }
  hf_reader_close(r);
  free(b);
}

/* ---- Round trips through the builder ---------------------------------- */

static const char *view_str(hf_view v, char *buf, size_t cap) {
  size_t n = v.len < cap - 1 ? v.len : cap - 1;
  memcpy(buf, v.ptr, n);
  buf[n] = '\0';
  return buf;
}

/* String field 0 of record o of an object type `type`. */
static hf_view name_of(const hf_reader *r, uint32_t type, uint32_t o,
                       uint32_t field) {
  hf_record rec;
  hf_view v = {NULL, 0};
  cr_assert_eq(hf_reader_record(r, type, o, &rec), HF_OK);
  cr_assert_eq(hf_record_string(&rec, field, &v), HF_OK);
  return v;
}

static void check_movie(const hf_reader *r, const rt_model *md,
                        const rt_movie *m) {
  const uint32_t *t = md->types;
  hf_value k = {.type = HF_FT_LONG, .u.l = m->id};
  hf_record rec;
  int64_t id;
  int32_t year;
  double rating;
  float score;
  int kids;
  hf_view v;
  uint32_t ref;
  hf_coll c;
  char buf[64];
#define NULLF(f) (m->null_mask & (1u << (f)))
  cr_assert_eq(hf_reader_find(r, t[T_MOVIE], &k, 1, &rec), HF_OK, "id %lld",
               (long long)m->id);
  cr_assert_eq(hf_record_long(&rec, RT_ID, &id), HF_OK);
  cr_assert_eq(id, m->id);
  if (NULLF(RT_TITLE)) {
    cr_assert_eq(hf_record_string(&rec, RT_TITLE, &v), HF_NULL);
  } else {
    const char *p;
    size_t len;
    rt_title(md, m, &p, &len);
    cr_assert_eq(hf_record_string(&rec, RT_TITLE, &v), HF_OK);
    cr_assert_eq(v.len, len);
    cr_assert(len == 0 || memcmp(v.ptr, p, len) == 0);
  }
  cr_assert_eq(hf_record_int(&rec, RT_YEAR, &year),
               NULLF(RT_YEAR) ? HF_NULL : HF_OK);
  if (!NULLF(RT_YEAR))
    cr_assert_eq(year, m->year);
  cr_assert_eq(hf_record_double(&rec, RT_RATING, &rating),
               NULLF(RT_RATING) ? HF_NULL : HF_OK);
  if (!NULLF(RT_RATING))
    cr_assert_eq(memcmp(&rating, &m->rating, 8), 0);
  cr_assert_eq(hf_record_float(&rec, RT_SCORE, &score),
               NULLF(RT_SCORE) ? HF_NULL : HF_OK);
  if (!NULLF(RT_SCORE))
    cr_assert_eq(score, m->score);
  cr_assert_eq(hf_record_bool(&rec, RT_KIDS, &kids),
               NULLF(RT_KIDS) ? HF_NULL : HF_OK);
  if (!NULLF(RT_KIDS))
    cr_assert_eq(kids, m->kids);
  cr_assert_eq(hf_record_bytes(&rec, RT_POSTER, &v),
               NULLF(RT_POSTER) ? HF_NULL : HF_OK);
  if (!NULLF(RT_POSTER)) {
    cr_assert_eq(v.len, m->poster_len);
    cr_assert(v.len == 0 || memcmp(v.ptr, m->poster, v.len) == 0);
  }
  /* List: order and repeats as given. */
  cr_assert_eq(hf_record_ref(&rec, RT_GENRES, &ref),
               NULLF(RT_GENRES) ? HF_NULL : HF_OK);
  if (!NULLF(RT_GENRES)) {
    cr_assert_eq(hf_reader_coll(r, t[T_LIST], ref, &c), HF_OK);
    cr_assert_eq(c.kind, HF_KIND_LIST);
    cr_assert_eq(c.n, m->ngenres);
    for (unsigned i = 0; i < m->ngenres; i++)
      cr_assert_str_eq(view_str(name_of(r, t[T_GENRE], hf_coll_elem(&c, i), 0),
                                buf, sizeof buf),
                       rt_genres[m->genres[i]]);
    cr_assert_eq(hf_coll_elem(&c, c.n), HF_NO_ORDINAL);
    cr_assert_eq(hf_coll_key(&c, 0), HF_NO_ORDINAL);
  }
  /* Set: ascending ordinals, the same labels. */
  cr_assert_eq(hf_record_ref(&rec, RT_TAGS, &ref),
               NULLF(RT_TAGS) ? HF_NULL : HF_OK);
  if (!NULLF(RT_TAGS)) {
    unsigned got = 0;
    cr_assert_eq(hf_reader_coll(r, t[T_SET], ref, &c), HF_OK);
    cr_assert_eq(c.n, (uint64_t)__builtin_popcount(m->tags));
    for (uint64_t i = 0; i < c.n; i++) {
      unsigned tag;
      if (i > 0)
        cr_assert_lt(hf_coll_elem(&c, i - 1), hf_coll_elem(&c, i));
      view_str(name_of(r, t[T_TAG], hf_coll_elem(&c, i), 0), buf, sizeof buf);
      cr_assert_eq(sscanf(buf, "tag%u", &tag), 1);
      got |= 1u << tag;
    }
    cr_assert_eq(got, m->tags);
  }
  /* Map: ascending key ordinals, each person with its role. */
  cr_assert_eq(hf_record_ref(&rec, RT_CAST, &ref),
               NULLF(RT_CAST) ? HF_NULL : HF_OK);
  if (!NULLF(RT_CAST)) {
    cr_assert_eq(hf_reader_coll(r, t[T_MAP], ref, &c), HF_OK);
    cr_assert_eq(c.kind, HF_KIND_MAP);
    cr_assert_eq(c.n, m->ncast);
    for (uint64_t i = 0; i < c.n; i++) {
      hf_record pr;
      int32_t pid;
      unsigned k2;
      char want[32];
      if (i > 0)
        cr_assert_lt(hf_coll_key(&c, i - 1), hf_coll_key(&c, i));
      cr_assert_eq(hf_reader_record(r, t[T_PERSON], hf_coll_key(&c, i), &pr),
                   HF_OK);
      cr_assert_eq(hf_record_int(&pr, 0, &pid), HF_OK);
      for (k2 = 0; k2 < m->ncast && m->pids[k2] != pid; k2++)
        ;
      cr_assert_lt(k2, m->ncast, "pid %d not in the model", pid);
      snprintf(want, sizeof want, "role %d", m->roles[k2]);
      cr_assert_str_eq(view_str(name_of(r, t[T_ROLE], hf_coll_value(&c, i), 0),
                                buf, sizeof buf),
                       want);
    }
  }
  /* Studio: shared records, found by its dotted composite key. */
  cr_assert_eq(hf_record_ref(&rec, RT_STUDIO, &ref),
               NULLF(RT_STUDIO) ? HF_NULL : HF_OK);
  if (!NULLF(RT_STUDIO)) {
    const char *parts[2] = {rt_countries[m->country], rt_studios[m->studio]};
    hf_record st;
    hf_error err;
    cr_assert_eq(hf_reader_find_text(r, t[T_STUDIO], parts, 2, &st, &err),
                 HF_OK, "%s/%s: %s", parts[0], parts[1], err.msg);
    cr_assert_eq(st.ordinal, ref, "equal studios share one ordinal");
  }
#undef NULLF
}

static void round_trip(uint64_t seed, unsigned n) {
  rt_model md;
  unsigned char *blob;
  size_t len;
  hf_reader *r;
  hf_error err;
  rt_gen(&md, seed, n);
  cr_assert_eq(rt_build(&md, &blob, &len, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_open_mem(blob, len, NULL, &r, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_record_count(r, md.types[T_MOVIE]), n);
  for (unsigned i = 0; i < n; i++)
    check_movie(r, &md, &md.m[i]);
  /* Absent keys: every id in the gaps between model ids. */
  for (unsigned i = 0; i < n; i++) {
    hf_value k = {.type = HF_FT_LONG};
    hf_record rec;
    if (i >= 1 && i <= 2) /* INT64_MIN and INT64_MAX */
      continue;
    k.u.l = md.m[i].id + 1;
    cr_assert_eq(hf_reader_find(r, md.types[T_MOVIE], &k, 1, &rec),
                 HF_NOTFOUND);
  }
  /* Iteration visits each movie once. */
  {
    unsigned seen = 0;
    for (uint32_t o = hf_reader_next(r, md.types[T_MOVIE], 0);
         o != HF_NO_ORDINAL; o = hf_reader_next(r, md.types[T_MOVIE], o + 1))
      seen++;
    cr_assert_eq(seen, n);
  }
  /* Text keys of every kind of leaf: int (Person) and string (Tag). */
  {
    hf_record rec;
    const char *p[1] = {"tag3"};
    int rc = hf_reader_find_text(r, md.types[T_TAG], p, 1, &rec, &err);
    cr_assert(rc == HF_OK || rc == HF_NOTFOUND);
    p[0] = "-1";
    cr_assert_eq(hf_reader_find_text(r, md.types[T_PERSON], p, 1, &rec, &err),
                 HF_NOTFOUND);
    p[0] = "2147483648";
    cr_assert_eq(hf_reader_find_text(r, md.types[T_PERSON], p, 1, &rec, &err),
                 HF_E_INPUT);
  }
  hf_reader_close(r);
  free(blob);
  free(md.m);
}

Test(builder, round_trip_small) {
  round_trip(1, 7);
}
Test(builder, round_trip_many_seeds) {
  for (uint64_t seed = 2; seed < 12; seed++)
    round_trip(seed, 40);
}
Test(builder, round_trip_large) {
  round_trip(99, 3000);
}

Test(builder, empty_snapshot) {
  rt_model md;
  unsigned char *blob;
  size_t len;
  hf_reader *r;
  hf_error err;
  hf_record rec;
  hf_value k = {.type = HF_FT_LONG, .u.l = 1};
  rt_gen(&md, 1, 0);
  cr_assert_eq(rt_build(&md, &blob, &len, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_open_mem(blob, len, NULL, &r, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_ordinal_limit(r, md.types[T_MOVIE]), 0);
  cr_assert_eq(hf_reader_next(r, md.types[T_MOVIE], 0), HF_NO_ORDINAL);
  cr_assert_eq(hf_reader_find(r, md.types[T_MOVIE], &k, 1, &rec), HF_NOTFOUND);
  hf_reader_close(r);
  free(blob);
  free(md.m);
}
