/* test_delta_patch.c - field-level patches of changed records and
 * gap-encoded ordinal lists (FORMAT.md §8.3): every field kind changed
 * alone, a field set to null and from null, a string changed, only a
 * reference changed, read back through hf_delta_field() and applied both
 * ways; damaged lists and patches (R-DLT-04, R-DLT-16, R-DLT-17) and a
 * non-canonical patch (R-DLT-18) refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_delta_internal.h"

static const char *SCHEMA = "Rec @PrimaryKey(id) {\n"
                            "  long id;\n"
                            "  int i;\n"
                            "  long l;\n"
                            "  float f;\n"
                            "  double d;\n"
                            "  boolean b;\n"
                            "  string s;\n"
                            "  bytes y;\n"
                            "  Other r;\n"
                            "}\n"
                            "Other { string v; }\n";

enum { F_ID, F_I, F_L, F_F, F_D, F_B, F_S, F_Y, F_R, NF };

/* One Rec; null[f] makes field f null. */
typedef struct rec {
  int64_t id;
  int32_t i;
  int64_t l;
  float f;
  double d;
  int b;
  const char *s, *y, *r;
  int null[NF];
} rec;

typedef struct blob {
  unsigned char *p;
  size_t len;
  hf_reader *r;
} blob;

#define OK(x)                                                                  \
  do {                                                                         \
    int rc_ = (x);                                                             \
    cr_assert_eq(rc_, HF_OK, "%s: %d %s", #x, rc_, err.msg);                   \
  } while (0)

static hf_schema *sch;

static void setup(void) {
  hf_error err;
  OK(hf_schema_parse(SCHEMA, strlen(SCHEMA), &sch, &err));
}
static void teardown(void) {
  hf_schema_free(sch);
}

static void build(const rec *rs, size_t n, const hf_reader *base, blob *out) {
  hf_build_opts o = {.base = base};
  hf_builder *b;
  hf_error err;
  FILE *f = tmpfile();
  size_t k;
  OK(hf_builder_new(sch, &o, &b, &err));
  for (k = 0; k < n; k++) {
    const rec *x = &rs[k];
    hf_ref other;
    if (!x->null[F_R]) {
      OK(hf_builder_begin(b, 1, &err));
      OK(hf_builder_set_string(b, 0, x->r, strlen(x->r), &err));
      OK(hf_builder_end(b, &other, &err));
    }
    OK(hf_builder_begin(b, 0, &err));
    OK(hf_builder_set_long(b, F_ID, x->id, &err));
    if (!x->null[F_I])
      OK(hf_builder_set_int(b, F_I, x->i, &err));
    if (!x->null[F_L])
      OK(hf_builder_set_long(b, F_L, x->l, &err));
    if (!x->null[F_F])
      OK(hf_builder_set_float(b, F_F, x->f, &err));
    if (!x->null[F_D])
      OK(hf_builder_set_double(b, F_D, x->d, &err));
    if (!x->null[F_B])
      OK(hf_builder_set_bool(b, F_B, x->b, &err));
    if (!x->null[F_S])
      OK(hf_builder_set_string(b, F_S, x->s, strlen(x->s), &err));
    if (!x->null[F_Y])
      OK(hf_builder_set_bytes(b, F_Y, x->y, strlen(x->y), &err));
    if (!x->null[F_R])
      OK(hf_builder_set_ref(b, F_R, other, &err));
    OK(hf_builder_end(b, NULL, &err));
  }
  OK(hf_builder_write_fd(b, fileno(f), NULL, &err));
  hf_builder_free(b);
  fseek(f, 0, SEEK_END);
  out->len = (size_t)ftell(f);
  rewind(f);
  out->p = malloc(out->len);
  cr_assert_eq(fread(out->p, 1, out->len, f), out->len);
  fclose(f);
  OK(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err));
}

static void delta(const blob *a, const blob *b, uint32_t flags, blob *out) {
  hf_error err;
  void *p;
  OK(hf_delta_mem(a->r, b->r, flags, &p, &out->len, &err));
  out->p = p;
  OK(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err));
}

static void blob_free(blob *b) {
  hf_reader_close(b->r);
  free(b->p);
}

/* apply(a, d) must reproduce want byte for byte. */
static void expect_apply(const blob *a, const blob *d, const blob *want) {
  const hf_reader *ds[1] = {d->r};
  hf_error err;
  void *p;
  size_t len;
  OK(hf_apply_mem(a->r, ds, 1, &p, &len, &err));
  cr_assert(len == want->len && memcmp(p, want->p, len) == 0,
            "apply does not reproduce the target");
  free(p);
}

static const rec R0 = {7, -5,      1234567890123LL, 1.5f,      -2.25,
                       1, "héllo", "\x01\x02",      "other-a", {0}};
/* R1 shares R0's Other record, so a new one for R0 takes a new ordinal. */
static const rec R1 = {8, 1, 2, 3.0f, 4.0, 0, "x", "y", "other-a", {0}};

/* v1 = {R0, R1}; v2 = {a, R1}.  Checks the delta carries exactly one
 * changed Rec whose mask is `mask` (fields), applies both ways (plain and
 * LZ4), and returns the delta for more checks (caller frees). */
static void changed_case(const rec *a, uint32_t mask, blob *v1, blob *v2,
                         blob *d12, hf_delta **dh) {
  rec r1[2] = {R0, R1}, r2[2] = {*a, R1};
  blob r21, l12;
  hf_error err;
  uint32_t f;
  build(r1, 2, NULL, v1);
  build(r2, 2, v1->r, v2);
  delta(v1, v2, 0, d12);
  delta(v2, v1, HF_DELTA_REVERSE, &r21);
  delta(v1, v2, HF_DELTA_LZ4, &l12);
  expect_apply(v1, d12, v2);
  expect_apply(v1, &l12, v2);
  expect_apply(v2, &r21, v1);
  OK(hf_delta_open(d12->r, dh, &err));
  cr_assert_eq(hf_delta_count(*dh, 0, HF_DELTA_OP_CHANGE), 1);
  cr_assert_eq(hf_delta_count(*dh, 0, HF_DELTA_OP_ADD), 0);
  cr_assert_eq(hf_delta_count(*dh, 0, HF_DELTA_OP_REMOVE), 0);
  cr_assert_eq(hf_delta_ordinal(*dh, 0, HF_DELTA_OP_CHANGE, 0), 0);
  cr_assert_eq(hf_delta_ordinal(*dh, 0, HF_DELTA_OP_CHANGE, 1), HF_NO_ORDINAL);
  for (f = 0; f < NF; f++) {
    hf_value v;
    int rc = hf_delta_field(*dh, 0, HF_DELTA_OP_CHANGE, 0, f, &v);
    if (mask & (1u << f))
      cr_assert(rc == HF_OK || rc == HF_NULL, "field %u: %d", f, rc);
    else
      cr_assert_eq(rc, HF_NOTFOUND, "field %u not changed but carried", f);
  }
  blob_free(&r21);
  blob_free(&l12);
}

static void done(blob *v1, blob *v2, blob *d, hf_delta *dh) {
  hf_delta_close(dh);
  blob_free(v1);
  blob_free(v2);
  blob_free(d);
}

TestSuite(delta_patch, .init = setup, .fini = teardown);

Test(delta_patch, every_field_kind_changed_alone) {
  uint32_t f;
  for (f = F_I; f < NF; f++) {
    rec a = R0;
    blob v1, v2, d;
    hf_delta *dh;
    hf_value v;
    switch (f) {
    case F_I:
      a.i = 99;
      break;
    case F_L:
      a.l = -1;
      break;
    case F_F:
      a.f = 0.5f;
      break;
    case F_D:
      a.d = 1e300;
      break;
    case F_B:
      a.b = 0;
      break;
    case F_S:
      a.s = "héllo world";
      break;
    case F_Y:
      a.y = "\x01\x03";
      break;
    default:
      a.r = "other-c";
      break;
    }
    changed_case(&a, 1u << f, &v1, &v2, &d, &dh);
    cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, f, &v), HF_OK);
    switch (f) {
    case F_I:
      cr_assert_eq(v.u.i, 99);
      break;
    case F_L:
      cr_assert_eq(v.u.l, -1);
      break;
    case F_F:
      cr_assert_eq(v.u.f, 0.5f);
      break;
    case F_D:
      cr_assert_eq(v.u.d, 1e300);
      break;
    case F_B:
      cr_assert_eq(v.u.b, 0);
      break;
    case F_S:
      cr_assert(v.u.s.len == strlen(a.s) && !memcmp(v.u.s.ptr, a.s, v.u.s.len));
      break;
    case F_Y:
      cr_assert(v.u.s.len == 2 && !memcmp(v.u.s.ptr, "\x01\x03", 2));
      break;
    default: {
      /* The new Other record is added; the reference names its ordinal. */
      hf_record o;
      hf_view s;
      cr_assert_eq(v.type, HF_FT_REF);
      cr_assert_eq(hf_reader_record(v2.r, 1, (uint32_t)v.u.l, &o), HF_OK);
      cr_assert_eq(hf_record_string(&o, 0, &s), HF_OK);
      cr_assert(s.len == 7 && !memcmp(s.ptr, "other-c", 7));
      cr_assert_eq(hf_delta_count(dh, 1, HF_DELTA_OP_ADD), 1);
    }
    }
    done(&v1, &v2, &d, dh);
  }
}

Test(delta_patch, field_set_to_null_and_back) {
  rec a = R0;
  blob v1, v2, d;
  hf_delta *dh;
  hf_value v;
  a.null[F_S] = a.null[F_I] = 1;
  changed_case(&a, 1u << F_S | 1u << F_I, &v1, &v2, &d, &dh);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_S, &v), HF_NULL);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_I, &v), HF_NULL);
  done(&v1, &v2, &d, dh);
}

Test(delta_patch, null_to_value) {
  /* Base R0 with d null; target with a value: swap roles via R0' first. */
  rec base = R0, tgt = R0;
  rec r1[1], r2[1];
  blob v1, v2, d, back;
  hf_delta *dh;
  hf_value v;
  hf_error err;
  base.null[F_D] = 1;
  tgt.d = 42.0;
  r1[0] = base;
  r2[0] = tgt;
  build(r1, 1, NULL, &v1);
  build(r2, 1, v1.r, &v2);
  delta(&v1, &v2, 0, &d);
  delta(&v2, &v1, HF_DELTA_REVERSE, &back);
  expect_apply(&v1, &d, &v2);
  expect_apply(&v2, &back, &v1);
  OK(hf_delta_open(d.r, &dh, &err));
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_D, &v), HF_OK);
  cr_assert_eq(v.u.d, 42.0);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_S, &v),
               HF_NOTFOUND);
  blob_free(&back);
  done(&v1, &v2, &d, dh);
}

Test(delta_patch, several_fields_and_added_record) {
  rec a = R0, r1[2] = {R0, R1}, r2[3];
  blob v1, v2, d;
  hf_delta *dh;
  hf_value v;
  hf_error err;
  a.s = "changed";
  a.b = 0;
  a.null[F_Y] = 1;
  r2[0] = a;
  r2[1] = R1;
  r2[2] = R1;
  r2[2].id = 9;
  build(r1, 2, NULL, &v1);
  build(r2, 3, v1.r, &v2);
  delta(&v1, &v2, 0, &d);
  expect_apply(&v1, &d, &v2);
  OK(hf_delta_open(d.r, &dh, &err));
  cr_assert_eq(hf_delta_count(dh, 0, HF_DELTA_OP_ADD), 1);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_ADD, 0, F_ID, &v), HF_OK);
  cr_assert_eq(v.u.l, 9);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_ADD, 0, F_S, &v), HF_OK);
  cr_assert(v.u.s.len == 1 && ((const char *)v.u.s.ptr)[0] == 'x');
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_Y, &v), HF_NULL);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_B, &v), HF_OK);
  cr_assert_eq(v.u.b, 0);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, F_I, &v),
               HF_NOTFOUND);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 1, F_I, &v), HF_E_ARG);
  cr_assert_eq(hf_delta_field(dh, 0, HF_DELTA_OP_CHANGE, 0, NF, &v), HF_E_ARG);
  done(&v1, &v2, &d, dh);
}

/* ---- Damaged lists and patches --------------------------------------------
 */

/* Recomputes section i's checksum and the header checksum. */
static void reseal(unsigned char *b, uint32_t i) {
  uint32_t n = hf_le32(b + HF_H_NSECTIONS);
  unsigned char *e = b + HF_HEADER_SIZE + 32 * (size_t)i;
  unsigned char *hb = malloc(HF_HEADER_CKSUM_OFF + 32 * (size_t)n);
  hf_put64(e + 24, hf_xxh3(b + hf_le64(e + 8), (size_t)hf_le64(e + 16)));
  memcpy(hb, b, HF_HEADER_CKSUM_OFF);
  memcpy(hb + HF_HEADER_CKSUM_OFF, b + HF_HEADER_SIZE, 32 * (size_t)n);
  hf_put64(b + HF_H_CHECKSUM,
           hf_xxh3(hb, HF_HEADER_CKSUM_OFF + 32 * (size_t)n));
  free(hb);
}

/* Table index of section (kind, type 0). */
static uint32_t find_sec(const blob *d, uint32_t kind) {
  hf_info info;
  hf_section_info si;
  uint32_t i;
  hf_reader_info(d->r, &info);
  for (i = 0; i < info.section_count; i++) {
    cr_assert_eq(hf_reader_section(d->r, i, &si), HF_OK);
    if (si.kind == kind && si.type == 0)
      return i;
  }
  cr_assert_fail("no section %#x", kind);
  return 0;
}

/* Copy of d with edit() applied to section (kind, 0), resealed; verify
 * must fail with HF_E_CORRUPT citing rule `id`. */
static void expect_rejected(const blob *d, uint32_t kind,
                            void (*edit)(unsigned char *p, uint64_t len),
                            const char *id) {
  uint32_t i = find_sec(d, kind);
  unsigned char *b = malloc(d->len);
  const unsigned char *e;
  hf_reader *r;
  hf_error err;
  int rc;
  memcpy(b, d->p, d->len);
  e = b + HF_HEADER_SIZE + 32 * (size_t)i;
  edit(b + hf_le64(e + 8), hf_le64(e + 16));
  reseal(b, i);
  OK(hf_reader_open_mem(b, d->len, NULL, &r, &err));
  rc = hf_reader_verify(r, &err);
  cr_assert_eq(rc, HF_E_CORRUPT, "%s: code %d: %s", id, rc, err.msg);
  cr_assert(strstr(err.msg, id) != NULL, "%s: message: %s", id, err.msg);
  hf_reader_close(r);
  free(b);
}

/* Two changed records, ordinals 0 and 1: CHANGED = 02 00 00 00, 00, 00. */
static void two_changed(blob *v1, blob *v2, blob *d) {
  rec a = R0, b = R1, r1[2] = {R0, R1}, r2[2];
  a.i = 1000;
  b.i = 1000;
  r2[0] = a;
  r2[1] = b;
  build(r1, 2, NULL, v1);
  build(r2, 2, v1->r, v2);
  delta(v1, v2, 0, d);
  expect_apply(v1, d, v2);
}

static void list_count_zero(unsigned char *p, uint64_t len) {
  cr_assert_eq(len, 6);
  hf_put32(p, 0);
}
static void list_count_high(unsigned char *p, uint64_t len) {
  (void)len;
  hf_put32(p, 3);
}
static void list_non_minimal(unsigned char *p, uint64_t len) {
  (void)len;
  hf_put32(p, 1); /* one entry: 0x80 0x00, a 2-byte zero */
  p[4] = 0x80;
  p[5] = 0x00;
}
static void list_past_limit(unsigned char *p, uint64_t len) {
  (void)len;
  p[5] = 0x7f; /* second ordinal 0 + 1 + 127 >= ordinal_limit 2 */
}
static void list_overlong(unsigned char *p, uint64_t len) {
  (void)len;
  hf_put32(p, 1);
  p[4] = 0xff;
  p[5] = 0xff; /* continues past the end */
}

Test(delta_patch, rejects_bad_ordinal_lists) { /* R-DLT-04, R-DLT-16 */
  blob v1, v2, d;
  two_changed(&v1, &v2, &d);
  expect_rejected(&d, HF_SEC_CHANGED, list_count_zero, "R-DLT-04");
  expect_rejected(&d, HF_SEC_CHANGED, list_count_high, "R-DLT-04");
  expect_rejected(&d, HF_SEC_CHANGED, list_non_minimal, "R-DLT-16");
  expect_rejected(&d, HF_SEC_CHANGED, list_past_limit, "R-DLT-04");
  expect_rejected(&d, HF_SEC_CHANGED, list_overlong, "R-DLT-16");
  blob_free(&v1);
  blob_free(&v2);
  blob_free(&d);
}

/* Patches of two_changed: per record mask (2 bytes), presence (2), int. */
static void patch_empty_mask(unsigned char *p, uint64_t len) {
  (void)len;
  memset(p, 0, 4);
}
static void patch_mask_beyond(unsigned char *p, uint64_t len) {
  (void)len;
  p[1] |= 0x80; /* field 15 of 9 */
}
static void patch_presence_outside(unsigned char *p, uint64_t len) {
  (void)len;
  p[2] |= 0x01; /* id not in the mask */
}
static void patch_trailing(unsigned char *p, uint64_t len) {
  /* Second patch says "i is null": its 4 value bytes become trailing. */
  p[len / 2 + 2] = 0;
}

Test(delta_patch, rejects_bad_patches) { /* R-DLT-17 */
  blob v1, v2, d;
  two_changed(&v1, &v2, &d);
  expect_rejected(&d, HF_SEC_DPATCH, patch_empty_mask, "R-DLT-17");
  expect_rejected(&d, HF_SEC_DPATCH, patch_mask_beyond, "R-DLT-17");
  expect_rejected(&d, HF_SEC_DPATCH, patch_presence_outside, "R-DLT-17");
  expect_rejected(&d, HF_SEC_DPATCH, patch_trailing, "R-DLT-17");
  blob_free(&v1);
  blob_free(&v2);
  blob_free(&d);
}

Test(delta_patch, apply_rejects_a_patch_equal_to_the_base) { /* R-DLT-18 */
  blob v1, v2, d;
  uint32_t i;
  unsigned char *b;
  const unsigned char *e;
  hf_reader *r;
  const hf_reader *ds[1];
  hf_error err;
  void *out = NULL;
  size_t len;
  int rc;
  two_changed(&v1, &v2, &d);
  i = find_sec(&d, HF_SEC_DPATCH);
  b = malloc(d.len);
  memcpy(b, d.p, d.len);
  e = b + HF_HEADER_SIZE + 32 * (size_t)i;
  /* First patch: i = 1000 becomes R0's own i, -5. */
  hf_put32(b + hf_le64(e + 8) + 4, (uint32_t)(int32_t)-5);
  reseal(b, i);
  OK(hf_reader_open_mem(b, d.len, NULL, &r, &err));
  OK(hf_reader_verify(r, &err));
  ds[0] = r;
  rc = hf_apply_mem(v1.r, ds, 1, &out, &len, &err);
  cr_assert_eq(rc, HF_E_CORRUPT, "%d %s", rc, err.msg);
  cr_assert(strstr(err.msg, "R-DLT-18") != NULL, "%s", err.msg);
  free(out);
  hf_reader_close(r);
  free(b);
  blob_free(&v1);
  blob_free(&v2);
  blob_free(&d);
}
