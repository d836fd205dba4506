/* test_corrupt.c - damaged snapshots end in a clear error from open or
 * verify, never a crash; accessors stay in bounds on blobs that pass open
 * but not verify.  Run under ASan+UBSan to make "in bounds" mean it. */
#include <criterion/criterion.h>

#include "hf_internal.h"
#include "reader_fixture.h"

static unsigned char *g_blob;
static size_t g_len;
static rt_model g_md;

static void build(void) {
  hf_error err;
  rt_gen(&g_md, 5, 12);
  cr_assert_eq(rt_build(&g_md, &g_blob, &g_len, &err), HF_OK, "%s", err.msg);
}
static void release(void) {
  free(g_blob);
  free(g_md.m);
}

TestSuite(corrupt, .init = build, .fini = release);

/* Every accessor over every record, with answers ignored: what matters is
 * that nothing reads outside the blob and every loop ends. */
static void touch_all(const hf_reader *r) {
  const hf_schema *s = hf_reader_schema(r);
  uint32_t nt = hf_schema_type_count(s);
  for (uint32_t t = 0; t < nt; t++) {
    hf_type_info ti;
    uint32_t visited = 0;
    cr_assert_eq(hf_schema_type(s, t, &ti), HF_OK);
    for (uint32_t o = hf_reader_next(r, t, 0); o != HF_NO_ORDINAL;
         o = hf_reader_next(r, t, o + 1)) {
      cr_assert_lt(o, hf_reader_ordinal_limit(r, t));
      cr_assert_leq(++visited, hf_reader_ordinal_limit(r, t));
      if (ti.kind == HF_KIND_OBJECT) {
        hf_record rec, found;
        hf_value keys[HF_MAX_KEYS];
        cr_assert_eq(hf_reader_record(r, t, o, &rec), HF_OK);
        for (uint32_t f = 0; f <= ti.field_count; f++) {
          union {
            int32_t i;
            int64_t l;
            float fl;
            double d;
            int b;
            hf_view v;
            uint32_t ref;
          } u;
          volatile unsigned char sink = 0;
          (void)hf_record_int(&rec, f, &u.i);
          (void)hf_record_long(&rec, f, &u.l);
          (void)hf_record_float(&rec, f, &u.fl);
          (void)hf_record_double(&rec, f, &u.d);
          (void)hf_record_bool(&rec, f, &u.b);
          if (hf_record_string(&rec, f, &u.v) == HF_OK ||
              hf_record_bytes(&rec, f, &u.v) == HF_OK)
            for (size_t k = 0; k < u.v.len; k++)
              sink ^= ((const unsigned char *)u.v.ptr)[k];
          if (hf_record_ref(&rec, f, &u.ref) == HF_OK) {
            hf_field_info fi;
            hf_record other;
            hf_coll c;
            cr_assert_eq(hf_schema_field(s, t, f, &fi), HF_OK);
            (void)hf_reader_record(r, fi.ref_type, u.ref, &other);
            (void)hf_reader_coll(r, fi.ref_type, u.ref, &c);
          }
          (void)sink;
        }
        if (ti.key_count > 0 && hf_reader_key_values(r, t, o, keys) == HF_OK)
          (void)hf_reader_find(r, t, keys, ti.key_count, &found);
      } else {
        hf_coll c;
        if (hf_reader_coll(r, t, o, &c) != HF_OK)
          continue;
        for (uint64_t i = 0; i <= c.n; i++) {
          (void)hf_coll_elem(&c, i);
          (void)hf_coll_key(&c, i);
          (void)hf_coll_value(&c, i);
        }
      }
    }
  }
}

/* Opens and verifies b; returns the first failure, HF_OK if none.  When
 * open succeeds the accessors are exercised whatever verify says. */
static int open_verify_touch(const unsigned char *b, size_t len,
                             hf_error *err) {
  hf_reader *r = NULL;
  int rc = hf_reader_open_mem(b, len, NULL, &r, err);
  if (rc != HF_OK) {
    cr_assert_null(r);
    cr_assert_lt(rc, 0);
    cr_assert_eq(err->code, rc);
    cr_assert_neq(err->msg[0], '\0');
    return rc;
  }
  rc = hf_reader_verify(r, err);
  if (rc != HF_OK) {
    cr_assert_lt(rc, 0);
    cr_assert_neq(err->msg[0], '\0');
  }
  touch_all(r);
  hf_reader_close(r);
  return rc;
}

Test(corrupt, built_blob_is_valid) {
  hf_error err;
  cr_assert_eq(open_verify_touch(g_blob, g_len, &err), HF_OK, "%s", err.msg);
}

/* Truncation at every section boundary and a few bytes either side. */
Test(corrupt, truncation_anywhere_near_boundaries) {
  uint32_t n = hf_le32(g_blob + HF_H_NSECTIONS);
  for (uint32_t i = 0; i <= n; i++) {
    uint64_t edge =
        i < n ? hf_le64(g_blob + fx_entry(i) + 8) : g_len; /* end of file */
    for (int d = -9; d <= 9; d++) {
      hf_error err;
      int64_t cut = (int64_t)edge + d;
      if (cut < 0 || (uint64_t)cut >= g_len)
        continue;
      unsigned char *b = malloc((size_t)cut + 1);
      memcpy(b, g_blob, (size_t)cut);
      int rc = open_verify_touch(b, (size_t)cut, &err);
      cr_assert(rc == HF_E_TRUNCATED || rc == HF_E_MAGIC, "cut at %lld: %d %s",
                (long long)cut, rc, err.msg);
      free(b);
    }
  }
  /* Every length below the header too. */
  for (size_t cut = 0; cut < 64 + 32; cut++) {
    hf_error err;
    cr_assert_lt(open_verify_touch(g_blob, cut, &err), 0);
  }
}

/* Flips at the first, middle and last byte of each section, and at every
 * byte of the header and the section table: open or verify says so. */
Test(corrupt, flips_in_every_section_header_and_table) {
  uint32_t n = hf_le32(g_blob + HF_H_NSECTIONS);
  unsigned char *b = malloc(g_len);
  size_t table_end = 64 + 32 * (size_t)n;
  for (size_t pos = 0; pos < table_end; pos++) {
    for (unsigned mask = 1; mask < 256; mask <<= 3) {
      hf_error err;
      memcpy(b, g_blob, g_len);
      b[pos] ^= (unsigned char)mask;
      int rc = open_verify_touch(b, g_len, &err);
      cr_assert_lt(rc, 0, "flip %#x at %zu undetected", mask, pos);
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    uint64_t off = hf_le64(g_blob + fx_entry(i) + 8);
    uint64_t len = hf_le64(g_blob + fx_entry(i) + 16);
    uint64_t at[3] = {off, off + len / 2, off + len - 1};
    if (len == 0)
      continue;
    for (int k = 0; k < 3; k++) {
      hf_error err;
      memcpy(b, g_blob, g_len);
      b[at[k]] ^= 0x10;
      int rc = open_verify_touch(b, g_len, &err);
      /* Checksum mismatch from verify, or whatever open finds first
       * in the few content bytes it reads (SCHEMA, TYPES). */
      cr_assert_lt(rc, 0, "section %u byte %llu undetected", i,
                   (unsigned long long)at[k]);
    }
  }
  /* Padding is covered by no checksum but must be zero. */
  for (uint32_t i = 0; i < n; i++) {
    uint64_t end =
        hf_le64(g_blob + fx_entry(i) + 8) + hf_le64(g_blob + fx_entry(i) + 16);
    if (end % 8 == 0)
      continue;
    hf_error err;
    memcpy(b, g_blob, g_len);
    b[end] = 0xAA;
    cr_assert_eq(open_verify_touch(b, g_len, &err), HF_E_CORRUPT);
    cr_assert(strstr(err.msg, "R-GEN-01") != NULL, "%s", err.msg);
  }
  free(b);
}

/* Every byte of every section changed, with all checksums recomputed so
 * that the damage reaches the structural checks: whatever open and verify
 * decide, the accessors must stay in bounds and terminate. */
Test(corrupt, resealed_damage_anywhere_is_safe) {
  unsigned char *b = malloc(g_len);
  size_t start = hf_le64(g_blob + fx_entry(0) + 8);
  unsigned caught = 0, total = 0;
  static const unsigned char masks[] = {0x01, 0x80, 0xFF};
  for (size_t pos = start; pos < g_len; pos++) {
    for (size_t m = 0; m < sizeof masks; m++) {
      hf_error err;
      memcpy(b, g_blob, g_len);
      b[pos] ^= masks[m];
      fx_reseal_all(b);
      total++;
      if (open_verify_touch(b, g_len, &err) != HF_OK)
        caught++;
    }
  }
  /* Most damage is caught; some is a different valid value. */
  cr_assert_gt(caught, total / 2, "%u of %u caught", caught, total);
  free(b);
}

/* Section table entries rewritten to point anywhere: open rejects or the
 * accessors still stay inside the blob. */
Test(corrupt, table_fields_set_to_extremes) {
  static const uint64_t vals[] = {
      0, 1, 7, 8, UINT32_MAX, UINT64_MAX, UINT64_MAX - 7};
  uint32_t n = hf_le32(g_blob + HF_H_NSECTIONS);
  unsigned char *b = malloc(g_len);
  for (uint32_t i = 0; i < n; i++)
    for (unsigned field = 8; field <= 16; field += 8)
      for (size_t v = 0; v < sizeof vals / sizeof *vals; v++) {
        hf_error err;
        if (hf_le64(g_blob + fx_entry(i) + field) == vals[v])
          continue;
        memcpy(b, g_blob, g_len);
        hf_put64(b + fx_entry(i) + field, vals[v]);
        fx_reseal(b);
        cr_assert_lt(open_verify_touch(b, g_len, &err), 0,
                     "section %u field %u = %llu", i, field,
                     (unsigned long long)vals[v]);
      }
  free(b);
}

/* TYPES counts changed with checksums fixed: open catches length
 * mismatches, verify the rest. */
Test(corrupt, types_counts_changed) {
  unsigned char *b = malloc(g_len);
  size_t types = hf_le64(g_blob + fx_entry(1) + 8);
  size_t tlen = hf_le64(g_blob + fx_entry(1) + 16);
  for (size_t e = 0; e < tlen; e += 4)
    for (int d = -1; d <= 1; d += 2) {
      hf_error err;
      memcpy(b, g_blob, g_len);
      hf_put32(b + types + e, hf_le32(b + types + e) + (uint32_t)d);
      fx_reseal_all(b);
      cr_assert_lt(open_verify_touch(b, g_len, &err), 0, "TYPES word %zu", e);
    }
  free(b);
}

/* Open counts a collection type's elements by its ELEMENTS length and reads
 * no end slot (FORMAT.md §6.6b): a last end that disagrees passes open,
 * the accessors stay inside the section, verify reports R-ELM-01 or, for an
 * end past the section, R-SLT-07. */
Test(corrupt, last_collection_end_checked_by_verify) {
  static const struct {
    int64_t delta;
    int coll_rc; /* hf_reader_coll of the last ordinal */
    const char *rule;
  } cases[] = {{-1, HF_OK, "R-ELM-01"},
               {+1, HF_E_CORRUPT, "R-SLT-07"},
               {+1000000, HF_E_CORRUPT, "R-SLT-07"}};
  uint32_t types[2] = {g_md.types[T_LIST], g_md.types[T_MAP]};
  unsigned char *b = malloc(g_len);
  hf_reader *r;
  hf_error err;
  for (size_t ti = 0; ti < 2; ti++)
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
      uint32_t t = types[ti], limit, n, slots = UINT32_MAX;
      hf_section_info si;
      hf_coll coll;
      uint64_t at, end;
      memcpy(b, g_blob, g_len);
      cr_assert_eq(hf_reader_open_mem(b, g_len, NULL, &r, &err), HF_OK);
      limit = hf_reader_ordinal_limit(r, t);
      n = hf_le32(b + HF_H_NSECTIONS);
      for (uint32_t i = 0; i < n; i++)
        if (hf_reader_section(r, i, &si) == HF_OK && si.kind == HF_SEC_SLOTS &&
            si.type == t)
          slots = i;
      cr_assert_neq(slots, UINT32_MAX);
      cr_assert_gt(limit, 1);
      hf_reader_close(r);
      at = hf_le64(b + fx_entry(slots) + 8) + (uint64_t)(limit - 1) * 8;
      end = hf_le64(b + at);
      cr_assert_gt(end, hf_le64(b + at - 8), "last collection is empty");
      hf_put64(b + at, end + (uint64_t)cases[c].delta);
      fx_reseal_all(b);
      cr_assert_eq(hf_reader_open_mem(b, g_len, NULL, &r, &err), HF_OK,
                   "type %u end %+lld: %s", t, (long long)cases[c].delta,
                   err.msg);
      cr_assert_eq(hf_reader_coll(r, t, limit - 1, &coll), cases[c].coll_rc);
      if (cases[c].coll_rc == HF_OK)
        cr_assert_eq(coll.n, end - 1 - hf_le64(b + at - 8));
      touch_all(r);
      cr_assert_eq(hf_reader_verify(r, &err), HF_E_CORRUPT);
      cr_assert(strstr(err.msg, cases[c].rule) != NULL, "want %s: %s",
                cases[c].rule, err.msg);
      hf_reader_close(r);
    }
  free(b);
}
