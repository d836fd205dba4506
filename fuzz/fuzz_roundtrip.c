/*
 * fuzz_roundtrip.c - build -> open -> lookup, and delta -> apply, from a
 * structured input.  The bytes drive the builder API over the fixed schema
 * of fuzz_common.h: byte 0 holds the delta flags, then records follow until
 * a separator byte 0xFF starts the second version.  Properties: each
 * version writes a snapshot that verifies; every root accepted is found by
 * its key with the values that were set; apply(v1, delta(v1, v2)) == v2 and
 * apply(v2, reverse(v2 -> v1)) == v1, byte for byte.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROOTS 64

typedef struct src {
  const uint8_t *p, *end;
} src;

static unsigned take(src *s) {
  return s->p < s->end ? *s->p++ : 0;
}

/* What a root was given, to check it after the round trip. */
typedef struct model {
  int64_t id;
  char code[4];
  int has_i;
  int32_t i;
  char str[16];
  size_t slen; /* SIZE_MAX: s is null */
  uint64_t nitems;
} model;

typedef struct ctx {
  hf_schema *s;
  uint32_t root, string, inner, list, set, f_id, f_code, f_i, f_s, f_items,
      f_tags, f_inner, f_value, f_n;
} ctx;

static ctx C;

static uint32_t T(const char *name) {
  uint32_t t;
  FZ_CHECK(hf_schema_type_find(C.s, name, strlen(name), &t) == HF_OK);
  return t;
}

static uint32_t F(uint32_t type, const char *name) {
  uint32_t f;
  FZ_CHECK(hf_schema_field_find(C.s, type, name, strlen(name), &f) == HF_OK);
  return f;
}

static void setup(void) {
  C.s = fz_schema();
  C.root = T("Root");
  C.string = T("String");
  C.inner = T("Inner");
  C.list = T("ListOfInner");
  C.set = T("SetOfString");
  C.f_id = F(C.root, "id");
  C.f_code = F(C.root, "code");
  C.f_i = F(C.root, "i");
  C.f_s = F(C.root, "s");
  C.f_items = F(C.root, "items");
  C.f_tags = F(C.root, "tags");
  C.f_inner = F(C.root, "inner");
  C.f_value = F(C.string, "value");
  C.f_n = F(C.inner, "n");
}

static int ok(int rc) {
  return rc == HF_OK;
}

static int add_string(hf_builder *b, const char *p, size_t n, hf_ref *out) {
  hf_error err;
  return ok(hf_builder_begin(b, C.string, &err)) &&
         ok(hf_builder_set_string(b, C.f_value, p, n, &err)) &&
         ok(hf_builder_end(b, out, &err));
}

static int add_inner(hf_builder *b, src *s, hf_ref *out) {
  hf_error err;
  unsigned n = take(s);
  return ok(hf_builder_begin(b, C.inner, &err)) &&
         (n & 0x80 || ok(hf_builder_set_int(b, C.f_n, (int32_t)n, &err))) &&
         ok(hf_builder_end(b, out, &err));
}

/* One root from the input; 1 and *m if it was accepted. */
static int add_root(hf_builder *b, src *s, model *m) {
  static const char alpha[] = "abc\xc3\xa9";
  hf_error err;
  hf_ref ref;
  unsigned k, n, i;
  int rc;

  memset(m, 0, sizeof *m);
  m->id = (int64_t)(take(s) % 16) - 4;
  k = take(s);
  m->code[0] = "xyz"[k % 3];
  m->slen = SIZE_MAX;
  if (!ok(hf_builder_begin(b, C.root, &err)))
    return 0;
  if (!ok(hf_builder_set_long(b, C.f_id, m->id, &err)) ||
      !add_string(b, m->code, 1, &ref) ||
      !ok(hf_builder_set_ref(b, C.f_code, ref, &err)))
    goto fail;
  k = take(s);
  if (k & 1) {
    m->has_i = 1;
    m->i = (int32_t)(k * 0x01010101u);
    if (!ok(hf_builder_set_int(b, C.f_i, m->i, &err)))
      goto fail;
  }
  if (k & 2) {
    n = take(s) % sizeof m->str;
    for (i = 0; i < n; i++)
      m->str[i] = alpha[take(s) % 3];
    m->slen = n;
    if (!ok(hf_builder_set_string(b, C.f_s, m->str, n, &err)))
      goto fail;
  }
  if (k & 4) {
    if (!add_inner(b, s, &ref) ||
        !ok(hf_builder_set_ref(b, C.f_inner, ref, &err)))
      goto fail;
  }
  if (k & 8) { /* a list of inner records */
    n = take(s) % 8;
    if (!ok(hf_builder_begin(b, C.list, &err)))
      goto fail;
    for (i = 0; i < n; i++)
      if (!add_inner(b, s, &ref) || !ok(hf_builder_add(b, ref, &err)))
        goto fail;
    if (!ok(hf_builder_end(b, &ref, &err)) ||
        !ok(hf_builder_set_ref(b, C.f_items, ref, &err)))
      goto fail;
    m->nitems = n;
  }
  if (k & 16) { /* a set of strings, repeats included */
    n = take(s) % 8;
    if (!ok(hf_builder_begin(b, C.set, &err)))
      goto fail;
    for (i = 0; i < n; i++) {
      char c = "pqr"[take(s) % 3];
      if (!add_string(b, &c, 1, &ref) || !ok(hf_builder_add(b, ref, &err)))
        goto fail;
    }
    if (!ok(hf_builder_end(b, &ref, &err)) ||
        !ok(hf_builder_set_ref(b, C.f_tags, ref, &err)))
      goto fail;
  }
  rc = hf_builder_end(b, NULL, &err);
  if (rc == HF_OK)
    return 1;
  FZ_CHECK(rc == HF_E_DUPKEY);
fail:
  hf_builder_discard(b);
  return 0;
}

/* Finds every model root in r with the values it was given. */
static void check_models(const hf_reader *r, const model *ms, size_t n) {
  size_t j;
  for (j = 0; j < n; j++) {
    const model *m = &ms[j];
    hf_value key[2];
    hf_record rec;
    int32_t iv;
    hf_view v;
    uint32_t o;
    key[0].type = HF_FT_LONG;
    key[0].u.l = m->id;
    key[1].type = HF_FT_STRING;
    key[1].u.s.ptr = m->code;
    key[1].u.s.len = 1;
    FZ_CHECK(hf_reader_find(r, C.root, key, 2, &rec) == HF_OK);
    if (m->has_i)
      FZ_CHECK(hf_record_int(&rec, C.f_i, &iv) == HF_OK && iv == m->i);
    else
      FZ_CHECK(hf_record_int(&rec, C.f_i, &iv) == HF_NULL);
    if (m->slen == SIZE_MAX)
      FZ_CHECK(hf_record_string(&rec, C.f_s, &v) == HF_NULL);
    else
      FZ_CHECK(hf_record_string(&rec, C.f_s, &v) == HF_OK && v.len == m->slen &&
               memcmp(v.ptr, m->str, v.len) == 0);
    if (m->nitems > 0) {
      hf_coll c;
      FZ_CHECK(hf_record_ref(&rec, C.f_items, &o) == HF_OK);
      FZ_CHECK(hf_reader_coll(r, C.list, o, &c) == HF_OK && c.n == m->nitems);
    }
  }
  FZ_CHECK(hf_reader_record_count(r, C.root) == n);
}

/* Builds one version from the input up to 0xFF (or the end). */
static void build(src *s, const hf_reader *base, unsigned char **out,
                  size_t *len, model *ms, size_t *n) {
  hf_build_opts o = {base, 0, 0};
  hf_builder *b = NULL;
  hf_error err;
  *n = 0;
  FZ_CHECK(hf_builder_new(C.s, &o, &b, &err) == HF_OK);
  while (s->p < s->end && *s->p != 0xFF && *n < MAX_ROOTS) {
    model m;
    if (add_root(b, s, &m))
      ms[(*n)++] = m;
  }
  if (s->p < s->end && *s->p == 0xFF)
    s->p++;
  FZ_CHECK(fz_build_mem(b, out, len, &err) == HF_OK);
  hf_builder_free(b);
}

static void apply_check(const hf_reader *from, const void *delta, size_t dlen,
                        const unsigned char *want, size_t wlen) {
  hf_reader *d = fz_open_valid(delta, dlen);
  const hf_reader *const ds[1] = {d};
  void *out = NULL;
  size_t len = 0;
  hf_error err;
  int rc = hf_apply_mem(from, ds, 1, &out, &len, &err);
  if (rc != HF_OK)
    fprintf(stderr, "apply: %s\n", err.msg);
  FZ_CHECK(rc == HF_OK);
  FZ_CHECK(len == wlen && memcmp(out, want, len) == 0);
  free(out);
  hf_reader_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static model m1[MAX_ROOTS], m2[MAX_ROOTS];
  src s;
  unsigned flags;
  unsigned char *v1, *v2;
  size_t l1, l2, n1, n2;
  hf_reader *r1, *r2;
  hf_error err;
  void *d;
  size_t dlen;

  if (C.s == NULL)
    setup();
  s.p = data;
  s.end = data + size;
  flags = take(&s) & HF_DELTA_LZ4;
  build(&s, NULL, &v1, &l1, m1, &n1);
  r1 = fz_open_valid(v1, l1);
  check_models(r1, m1, n1);
  fz_walk(r1, 1);
  build(&s, r1, &v2, &l2, m2, &n2);
  r2 = fz_open_valid(v2, l2);
  check_models(r2, m2, n2);

  FZ_CHECK(hf_delta_mem(r1, r2, flags, &d, &dlen, &err) == HF_OK);
  apply_check(r1, d, dlen, v2, l2);
  free(d);
  FZ_CHECK(hf_delta_mem(r2, r1, flags | HF_DELTA_REVERSE, &d, &dlen, &err) ==
           HF_OK);
  apply_check(r2, d, dlen, v1, l1);
  free(d);

  hf_reader_close(r2);
  hf_reader_close(r1);
  free(v2);
  free(v1);
  return 0;
}
