/*
 * fuzz_common.h - helpers shared by the fuzz targets: a checked traversal of
 * every record and field of a snapshot, a builder-to-memory writer and the
 * fixed schema used by the ingest, delta and round-trip targets.
 *
 * Each target includes this header once; everything here is static.  A
 * property that fails calls FZ_CHECK, which aborts so that libFuzzer (or
 * replay_main.c) reports the input.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hf_internal.h"
#include "hformat.h"

#define FZ_CHECK(cond)                                                         \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,      \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#include "fuzz_schema_text.h"

#define FZ_UNUSED __attribute__((unused))

static volatile uint64_t fz_sink;

/* Reads every byte of p[0..len) so that ASan sees any out-of-bounds view. */
static void fz_touch(const void *p, size_t len) {
  const unsigned char *b = (const unsigned char *)p;
  uint64_t h = 0;
  size_t i;
  for (i = 0; i < len; i++)
    h = h * 31u + b[i];
  fz_sink += h;
}

static int fz_write_touch(void *ctx, const void *p, size_t len) {
  (void)ctx;
  fz_touch(p, len);
  return 0;
}

/* Growing buffer used as an hf_write_fn sink. */
typedef struct fz_buf {
  char *p;
  size_t len, cap;
} fz_buf;

FZ_UNUSED static int fz_buf_write(void *ctx, const void *p, size_t len) {
  fz_buf *b = (fz_buf *)ctx;
  if (len > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 256;
    char *np;
    while (len > cap - b->len)
      cap *= 2;
    if ((np = realloc(b->p, cap)) == NULL)
      return 1;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, len);
  b->len += len;
  return 0;
}

/* The error detail is always a terminated string and a known code. */
FZ_UNUSED static void fz_check_error(const hf_error *err, int rc) {
  FZ_CHECK(rc < 0);
  FZ_CHECK(err->code == rc);
  FZ_CHECK(memchr(err->msg, 0, sizeof err->msg) != NULL);
  FZ_CHECK(hf_strerror(rc) != NULL);
  fz_touch(err->msg, strlen(err->msg));
}

/* Reads field f of rec with the accessor of its type; on a verified blob
 * every accessor answers HF_OK or HF_NULL. */
static void fz_walk_field(const hf_record *rec, const hf_field_info *fi,
                          uint32_t f, int verified) {
  int rc, b;
  int32_t i;
  int64_t l;
  float fl;
  double d;
  uint32_t o;
  hf_view v;

  switch (fi->type) {
  case HF_FT_INT:
    rc = hf_record_int(rec, f, &i);
    break;
  case HF_FT_LONG:
    rc = hf_record_long(rec, f, &l);
    break;
  case HF_FT_FLOAT:
    rc = hf_record_float(rec, f, &fl);
    break;
  case HF_FT_DOUBLE:
    rc = hf_record_double(rec, f, &d);
    break;
  case HF_FT_BOOLEAN:
    rc = hf_record_bool(rec, f, &b);
    if (rc == HF_OK)
      FZ_CHECK(b == 0 || b == 1);
    break;
  case HF_FT_STRING:
  case HF_FT_BYTES:
    rc = fi->type == HF_FT_STRING ? hf_record_string(rec, f, &v)
                                  : hf_record_bytes(rec, f, &v);
    if (rc == HF_OK)
      fz_touch(v.ptr, v.len);
    break;
  case HF_FT_REF:
    rc = hf_record_ref(rec, f, &o);
    if (rc == HF_OK && verified)
      FZ_CHECK(hf_reader_next(rec->reader, fi->ref_type, o) == o);
    break;
  default:
    rc = HF_E_TYPE;
    FZ_CHECK(0);
  }
  if (verified)
    FZ_CHECK(rc == HF_OK || rc == HF_NULL);
  /* The wrong accessor is refused, whatever the bytes say. */
  FZ_CHECK(fi->type == HF_FT_INT || hf_record_int(rec, f, &i) == HF_E_TYPE);
  FZ_CHECK(fi->type == HF_FT_REF || hf_record_ref(rec, f, &o) == HF_E_TYPE);
}

/* Looks record o of keyed type t up by its own key: on a verified blob the
 * index must find exactly that record. */
static void fz_find_self(const hf_reader *r, uint32_t t, uint32_t o,
                         uint32_t nkeys, int verified) {
  hf_value vals[HF_MAX_KEYS];
  hf_record rec;
  int rc;

  if (nkeys == 0 || nkeys > HF_MAX_KEYS)
    return;
  if (hf_reader_key_values(r, t, o, vals) != HF_OK)
    return;
  rc = hf_reader_find(r, t, vals, nkeys, &rec);
  if (verified) {
    FZ_CHECK(rc == HF_OK);
    FZ_CHECK(rec.ordinal == o && rec.type == t);
  }
}

/* Reads every record of every type of snapshot r, every field with its
 * accessor, every element of every collection, every record as JSON, and
 * finds every keyed record by its own key.  verified: hf_reader_verify()
 * passed, so the stronger properties must hold. */
FZ_UNUSED static void fz_walk(const hf_reader *r, int verified) {
  const hf_schema *s = hf_reader_schema(r);
  const uint32_t nt = hf_schema_type_count(s);
  uint32_t t;

  for (t = 0; t < nt; t++) {
    hf_type_info ti;
    const uint32_t limit = hf_reader_ordinal_limit(r, t);
    uint32_t o, seen = 0;
    hf_record rec;
    hf_coll c;

    FZ_CHECK(hf_schema_type(s, t, &ti) == HF_OK);
    for (o = hf_reader_next(r, t, 0); o != HF_NO_ORDINAL;
         o = hf_reader_next(r, t, o + 1)) {
      FZ_CHECK(o < limit);
      seen++;
      if (ti.kind == HF_KIND_OBJECT) {
        uint32_t f;
        FZ_CHECK(hf_reader_record(r, t, o, &rec) == HF_OK);
        for (f = 0; f < ti.field_count; f++) {
          hf_field_info fi;
          FZ_CHECK(hf_schema_field(s, t, f, &fi) == HF_OK);
          fz_walk_field(&rec, &fi, f, verified);
        }
        {
          int32_t dummy;
          FZ_CHECK(hf_record_int(&rec, ti.field_count, &dummy) == HF_E_ARG);
        }
        fz_find_self(r, t, o, ti.key_count, verified);
        FZ_CHECK(hf_reader_coll(r, t, o, &c) == HF_E_ARG);
      } else {
        int rc = hf_reader_coll(r, t, o, &c);
        uint64_t i;
        if (verified)
          FZ_CHECK(rc == HF_OK);
        if (rc == HF_OK) {
          for (i = 0; i < c.n; i++) {
            if (c.kind == HF_KIND_MAP) {
              uint32_t k = hf_coll_key(&c, i), v = hf_coll_value(&c, i);
              if (verified) {
                FZ_CHECK(hf_reader_next(r, ti.elem_type, k) == k);
                FZ_CHECK(hf_reader_next(r, ti.value_type, v) == v);
              }
            } else {
              uint32_t e = hf_coll_elem(&c, i);
              if (verified)
                FZ_CHECK(hf_reader_next(r, ti.elem_type, e) == e);
            }
          }
        }
        FZ_CHECK(hf_reader_record(r, t, o, &rec) == HF_E_ARG);
      }
      {
        hf_error err;
        int rc = hf_json_write_record(r, t, o, fz_write_touch, NULL, &err);
        if (verified)
          FZ_CHECK(rc == HF_OK);
        else if (rc != HF_OK)
          fz_check_error(&err, rc);
      }
    }
    if (verified)
      FZ_CHECK(seen == hf_reader_record_count(r, t));
    FZ_CHECK(hf_reader_next(r, t, limit) == HF_NO_ORDINAL);
  }
  {
    hf_record rec;
    FZ_CHECK(hf_reader_record(r, nt, 0, &rec) == HF_E_ARG);
  }
}

/* Writes b's snapshot to memory through a memfd: *out is malloc'd. */
FZ_UNUSED static int fz_build_mem(hf_builder *b, unsigned char **out,
                                  size_t *len, hf_error *err) {
  int fd = memfd_create("fuzz", 0);
  off_t size;
  int rc;

  *out = NULL;
  *len = 0;
  if (fd < 0)
    return HF_E_IO;
  rc = hf_builder_write_fd(b, fd, NULL, err);
  if (rc == HF_OK) {
    size = lseek(fd, 0, SEEK_END);
    *out = malloc(size > 0 ? (size_t)size : 1);
    if (size < 0 || *out == NULL ||
        pread(fd, *out, (size_t)size, 0) != (ssize_t)size) {
      free(*out);
      *out = NULL;
      rc = HF_E_IO;
    } else {
      *len = (size_t)size;
    }
  }
  close(fd);
  return rc;
}

/* Opens and verifies a blob this library just wrote: it must pass. */
FZ_UNUSED static hf_reader *fz_open_valid(const unsigned char *p, size_t len) {
  hf_reader *r = NULL;
  hf_error err;
  int rc = hf_reader_open_mem(p, len, NULL, &r, &err);
  if (rc != HF_OK)
    fprintf(stderr, "open of written blob: %s\n", err.msg);
  FZ_CHECK(rc == HF_OK);
  rc = hf_reader_verify(r, &err);
  if (rc != HF_OK)
    fprintf(stderr, "verify of written blob: %s\n", err.msg);
  FZ_CHECK(rc == HF_OK);
  return r;
}

/* The fixed base snapshot of fuzz_delta (and the seeds' base): records of
 * every kind of fz_schema_text, type Root. */
static const char *const fz_base_lines[] = {
    "{\"id\": 1, \"code\": \"a\", \"i\": -5, \"l\": 77, \"f\": 1.5, \"d\": "
    "2.5, "
    "\"b\": true, \"s\": \"h\\u00e9\", \"y\": \"AAEC/w==\", \"inner\": {\"n\": "
    "3, \"label\": \"lbl\", \"blob\": \"Zm9v\", \"x\": 1e10}, \"items\": "
    "[{\"n\": 1}, {\"n\": 2}], \"tags\": [\"x\", \"y\"], \"byName\": {\"k1\": "
    "{\"n\": 1}}, \"byNum\": [[1, \"one\"], [2, \"two\"]], \"wrap\": 3.25, "
    "\"grid\": [[1, 2], [], [3]], \"owner\": {\"name\": \"ann\", \"age\": 40}, "
    "\"people\": [{\"name\": \"bob\"}, {\"name\": \"cy\", \"age\": 3}]}",
    "{\"id\": 2, \"code\": \"b\", \"f\": \"NaN\", \"s\": \"\", \"items\": [], "
    "\"tags\": [\"x\"]}",
    "{\"id\": 3, \"code\": \"c\", \"owner\": {\"name\": \"ann\", \"age\": 40}, "
    "\"byName\": {\"k2\": "
    "{\"label\": \"two\"}}}",
    "{\"id\": 4, \"code\": \"d\", \"grid\": [[4, 5, 6]], \"people\": "
    "[{\"name\": \"dee\"}]}",
};

/* Variants of the base, one JSON Lines text each ('\n'-separated): a
 * change, a removal, an addition, everything removed, everything new. */
static const char *const fz_variants[] = {
    "{\"id\": 1, \"code\": \"a\", \"i\": 6}\n"
    "{\"id\": 2, \"code\": \"b\", \"f\": \"NaN\", \"s\": \"\", \"items\": [], "
    "\"tags\": [\"x\"]}\n"
    "{\"id\": 3, \"code\": \"c\", \"owner\": {\"name\": \"ann\", \"age\": "
    "40}}\n",
    "{\"id\": 2, \"code\": \"b\", \"s\": \"changed\", \"tags\": [\"z\", "
    "\"x\"]}\n"
    "{\"id\": 5, \"code\": \"e\", \"items\": [{\"n\": 9}], \"byNum\": [[3, "
    "\"three\"]], \"people\": [{\"name\": \"eve\"}]}\n",
    "",
    "{\"id\": 10, \"code\": \"z\", \"grid\": [[1], [2], [3]], \"y\": \"\"}\n",
};

/* Builds a snapshot of Root records from n JSON texts (each may hold
 * several '\n'-separated lines) on top of `base` (may be NULL).  *out is
 * malloc'd.  Every line must be accepted. */
FZ_UNUSED static void fz_build_lines(const hf_schema *s, const hf_reader *base,
                                     const char *const *texts, size_t n,
                                     unsigned char **out, size_t *len) {
  hf_build_opts o = {base, 0, 0};
  hf_builder *b = NULL;
  hf_error err;
  uint32_t root;
  size_t i;

  FZ_CHECK(hf_schema_type_find(s, "Root", 4, &root) == HF_OK);
  FZ_CHECK(hf_builder_new(s, &o, &b, &err) == HF_OK);
  for (i = 0; i < n; i++) {
    const char *p = texts[i], *end = p + strlen(p);
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const size_t k = (size_t)((nl != NULL ? nl : end) - p);
      int rc = hf_builder_add_json(b, root, p, k, 1, &err);
      if (rc != HF_OK)
        fprintf(stderr, "fixed input: %s\n", err.msg);
      FZ_CHECK(rc == HF_OK);
      p = nl != NULL ? nl + 1 : end;
    }
  }
  FZ_CHECK(fz_build_mem(b, out, len, &err) == HF_OK);
  hf_builder_free(b);
}

FZ_UNUSED static hf_schema *fz_schema(void) {
  hf_schema *s = NULL;
  hf_error err;
  FZ_CHECK(hf_schema_parse(fz_schema_text, sizeof fz_schema_text - 1, &s,
                           &err) == HF_OK);
  return s;
}

#endif /* FUZZ_COMMON_H */
