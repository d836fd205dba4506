/* bench_util.c - helpers shared by the snapshot benches (see bench_util.h). */
#include "bench_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t hb_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

hb_stats hb_stats_of(double *v, size_t n) {
  hb_stats s;
  qsort(v, n, sizeof *v, cmp_double);
  s.n = n;
  s.min = v[0];
  s.max = v[n - 1];
  s.median = (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return s;
}

uint64_t hb_rand(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

uint64_t hb_rand_below(uint64_t *state, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = hb_rand(state);
  while (x >= limit);
  return x % n;
}

void hb_shuffle_u32(uint32_t *v, size_t n, uint64_t *state) {
  size_t i;
  for (i = n; i > 1; i--) {
    const size_t j = (size_t)hb_rand_below(state, i);
    const uint32_t tmp = v[i - 1];
    v[i - 1] = v[j];
    v[j] = tmp;
  }
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(hf_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    memset(err, 0, sizeof *err);
    err->code = code;
    err->offset = UINT64_MAX;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* The keyed object type with the most records: in a catalogue that is the
 * top-level record type, the one services look up. */
static int pick_type(const hf_reader *r, uint32_t *type, hf_error *err) {
  const hf_schema *s = hf_reader_schema(r);
  uint32_t t, best = HF_NO_TYPE, best_n = 0;
  for (t = 0; t < hf_schema_type_count(s); t++) {
    hf_type_info ti;
    if (hf_schema_type(s, t, &ti) != HF_OK || ti.kind != HF_KIND_OBJECT ||
        ti.key_count == 0)
      continue;
    if (best == HF_NO_TYPE || hf_reader_record_count(r, t) > best_n) {
      best = t;
      best_n = hf_reader_record_count(r, t);
    }
  }
  if (best == HF_NO_TYPE)
    return fail(err, HF_E_ARG, "schema has no object type with @PrimaryKey");
  *type = best;
  return HF_OK;
}

/* Whether field `name` is the first step of one of the key paths. */
static int is_key_field(const hf_schema *s, uint32_t type, uint32_t nkeys,
                        const char *name) {
  uint32_t k;
  const size_t len = strlen(name);
  for (k = 0; k < nkeys; k++) {
    const char *path;
    hf_ftype leaf;
    if (hf_schema_key(s, type, k, &path, &leaf) == HF_OK &&
        strncmp(path, name, len) == 0 && (path[len] == 0 || path[len] == '.'))
      return 1;
  }
  return 0;
}

static int pick_string_field(const hf_schema *s, hb_target *t,
                             const char *field_name, hf_error *err) {
  hf_type_info ti;
  uint32_t f, any = HF_NO_TYPE;
  t->str_field = HF_NO_TYPE;
  if (field_name) {
    hf_field_info fi;
    if (hf_schema_field_find(s, t->type, field_name, strlen(field_name), &f) !=
            HF_OK ||
        hf_schema_field(s, t->type, f, &fi) != HF_OK)
      return fail(err, HF_E_ARG, "no field '%s'", field_name);
    if (fi.type != HF_FT_STRING)
      return fail(err, HF_E_TYPE, "field '%s' is not a string", field_name);
    t->str_field = f;
    return HF_OK;
  }
  hf_schema_type(s, t->type, &ti);
  for (f = 0; f < ti.field_count; f++) {
    hf_field_info fi;
    if (hf_schema_field(s, t->type, f, &fi) != HF_OK || fi.type != HF_FT_STRING)
      continue;
    if (any == HF_NO_TYPE)
      any = f;
    if (!is_key_field(s, t->type, t->nkeys, fi.name)) {
      t->str_field = f;
      return HF_OK;
    }
  }
  t->str_field = any;
  return HF_OK;
}

int hb_target_pick(const hf_reader *r, const char *type_name,
                   const char *field_name, hb_target *t, hf_error *err) {
  const hf_schema *s = hf_reader_schema(r);
  hf_type_info ti;
  uint32_t k;
  int rc;

  memset(t, 0, sizeof *t);
  if (type_name) {
    if (hf_schema_type_find(s, type_name, strlen(type_name), &t->type) != HF_OK)
      return fail(err, HF_E_ARG, "no type '%s'", type_name);
  } else if ((rc = pick_type(r, &t->type, err)) != HF_OK) {
    return rc;
  }
  if (hf_schema_type(s, t->type, &ti) != HF_OK || ti.kind != HF_KIND_OBJECT ||
      ti.key_count == 0 || ti.key_count > HB_MAX_KEYS)
    return fail(err, HF_E_ARG, "type '%s' has no usable @PrimaryKey", ti.name);
  t->nkeys = ti.key_count;
  for (k = 0; k < t->nkeys; k++) {
    const char *path;
    if (hf_schema_key(s, t->type, k, &path, &t->leaf[k]) != HF_OK)
      return fail(err, HF_E_ARG, "type '%s': bad key %u", ti.name, k);
  }
  return pick_string_field(s, t, field_name, err);
}

/* Reads the primitive field `f` of `rec` into *v (type `leaf`). */
static int read_leaf(const hf_record *rec, uint32_t f, hf_ftype leaf,
                     hf_value *v) {
  v->type = leaf;
  switch (leaf) {
  case HF_FT_INT:
    return hf_record_int(rec, f, &v->u.i);
  case HF_FT_LONG:
    return hf_record_long(rec, f, &v->u.l);
  case HF_FT_FLOAT:
    return hf_record_float(rec, f, &v->u.f);
  case HF_FT_DOUBLE:
    return hf_record_double(rec, f, &v->u.d);
  case HF_FT_BOOLEAN:
    return hf_record_bool(rec, f, &v->u.b);
  case HF_FT_STRING:
    return hf_record_string(rec, f, &v->u.s);
  case HF_FT_BYTES:
    return hf_record_bytes(rec, f, &v->u.s);
  default:
    return HF_E_TYPE;
  }
}

/* Follows one dotted key path from `rec` and reads its leaf. */
static int key_path_value(const hf_reader *r, hf_record rec, const char *path,
                          hf_ftype leaf, hf_value *v, hf_error *err) {
  const hf_schema *s = hf_reader_schema(r);
  for (;;) {
    const char *dot = strchr(path, '.');
    const size_t len = dot ? (size_t)(dot - path) : strlen(path);
    uint32_t f, o;
    hf_field_info fi;
    int rc;
    if (hf_schema_field_find(s, rec.type, path, len, &f) != HF_OK ||
        hf_schema_field(s, rec.type, f, &fi) != HF_OK)
      return fail(err, HF_E_ARG, "key path step '%.*s' not found", (int)len,
                  path);
    if (!dot) {
      rc = read_leaf(&rec, f, leaf, v);
      return rc == HF_OK ? HF_OK
                         : fail(err, rc < 0 ? rc : HF_E_CORRUPT,
                                "ordinal %u: key '%s' unreadable (%s)",
                                rec.ordinal, path, hf_strerror(rc));
    }
    if ((rc = hf_record_ref(&rec, f, &o)) != HF_OK ||
        (rc = hf_reader_record(r, fi.ref_type, o, &rec)) != HF_OK)
      return fail(err, rc < 0 ? rc : HF_E_CORRUPT,
                  "key step '%.*s' unresolved (%s)", (int)len, path,
                  hf_strerror(rc));
    path = dot + 1;
  }
}

int hb_key_values(const hf_reader *r, const hb_target *t, uint32_t ordinal,
                  hf_value *vals, hf_error *err) {
  hf_record rec;
  uint32_t k;
  int rc = hf_reader_record(r, t->type, ordinal, &rec);
  if (rc != HF_OK)
    return fail(err, rc < 0 ? rc : HF_E_ARG, "ordinal %u: %s", ordinal,
                hf_strerror(rc));
  for (k = 0; k < t->nkeys; k++) {
    const char *path;
    hf_ftype leaf;
    hf_schema_key(hf_reader_schema(r), t->type, k, &path, &leaf);
    if ((rc = key_path_value(r, rec, path, leaf, &vals[k], err)) != HF_OK)
      return rc;
  }
  return HF_OK;
}

size_t hb_value_text(const hf_value *v, char *buf, size_t cap) {
  int n;
  switch (v->type) {
  case HF_FT_INT:
    n = snprintf(buf, cap, "%ld", (long)v->u.i);
    break;
  case HF_FT_LONG:
    n = snprintf(buf, cap, "%lld", (long long)v->u.l);
    break;
  case HF_FT_FLOAT:
    n = snprintf(buf, cap, "%.9g", (double)v->u.f);
    break;
  case HF_FT_DOUBLE:
    n = snprintf(buf, cap, "%.17g", v->u.d);
    break;
  case HF_FT_BOOLEAN:
    n = snprintf(buf, cap, "%s", v->u.b ? "true" : "false");
    break;
  case HF_FT_STRING:
    n = snprintf(buf, cap, "%.*s", (int)v->u.s.len, (const char *)v->u.s.ptr);
    break;
  default:
    return 0;
  }
  return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}
