/*
 * hf_json_out.c - one record as one JSON text, the inverse of
 * hf_builder_add_json() (SCHEMA.md §6): what this writes, ingest reads back
 * into the same record.  Output is gathered in a buffer and handed to the
 * caller's sink in chunks.  Uses only the reader's public accessors, so it
 * links with the reader objects alone.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hf_internal.h"

#define OUT_BUF 4096

typedef struct jout {
  const hf_reader *r;
  const hf_schema *s;
  hf_write_fn fn;
  void *ctx;
  hf_error *err;
  size_t n;
  char buf[OUT_BUF];
} jout;

static int flush(jout *o) {
  if (o->n > 0 && o->fn(o->ctx, o->buf, o->n) != 0)
    return hf_fail(o->err, HF_E_IO, UINT64_MAX, "JSON output: write failed");
  o->n = 0;
  return HF_OK;
}

static int put(jout *o, const char *p, size_t len) {
  int rc;
  if (len > OUT_BUF - o->n) {
    if ((rc = flush(o)) < 0)
      return rc;
    if (len > OUT_BUF) {
      if (o->fn(o->ctx, p, len) != 0)
        return hf_fail(o->err, HF_E_IO, UINT64_MAX,
                       "JSON output: write failed");
      return HF_OK;
    }
  }
  memcpy(o->buf + o->n, p, len);
  o->n += len;
  return HF_OK;
}

static int putc_(jout *o, char ch) {
  if (o->n == OUT_BUF) {
    const int rc = flush(o);
    if (rc < 0)
      return rc;
  }
  o->buf[o->n++] = ch;
  return HF_OK;
}

static int puts_(jout *o, const char *s) {
  return put(o, s, strlen(s));
}

/* RFC 8259 §7: `"` and `\` escaped, control characters as \u00XX, all
 * other bytes (valid UTF-8, checked when the blob is verified) as they are. */
static int put_string(jout *o, const unsigned char *p, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  int rc;
  if ((rc = putc_(o, '"')) < 0)
    return rc;
  for (i = 0; i < len; i++) {
    const unsigned char ch = p[i];
    char esc[6];
    size_t elen;
    if (ch >= 0x20 && ch != '"' && ch != '\\')
      continue;
    if ((rc = put(o, (const char *)p + run, i - run)) < 0)
      return rc;
    run = i + 1;
    esc[0] = '\\';
    if (ch == '"' || ch == '\\') {
      esc[1] = (char)ch;
      elen = 2;
    } else {
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[ch >> 4];
      esc[5] = hex[ch & 15];
      elen = 6;
    }
    if ((rc = put(o, esc, elen)) < 0)
      return rc;
  }
  if ((rc = put(o, (const char *)p + run, len - run)) < 0)
    return rc;
  return putc_(o, '"');
}

static int put_bytes(jout *o, const unsigned char *p, size_t len) {
  char enc[4 * 256];
  size_t i;
  int rc;
  if ((rc = putc_(o, '"')) < 0)
    return rc;
  /* 768 input bytes -> 1024 characters; only the last chunk pads */
  for (i = 0; i < len; i += 768) {
    const size_t k = len - i < 768 ? len - i : 768;
    if ((rc = put(o, enc, hf_base64_encode(p + i, k, enc))) < 0)
      return rc;
  }
  return putc_(o, '"');
}

/* Non-finite values as the strings ingest accepts back. */
static int put_nonfinite(jout *o, double v) {
  return puts_(o, isnan(v) ? "\"NaN\""
                  : v > 0  ? "\"Infinity\""
                           : "\"-Infinity\"");
}

/* Shortest %.Ng text (N from lo to hi) that reads back to the same bits. */
static int put_double(jout *o, double v) {
  char txt[40];
  int p, n = 0;
  if (!isfinite(v))
    return put_nonfinite(o, v);
  for (p = 15; p <= 17; p++) {
    double back;
    n = snprintf(txt, sizeof txt, "%.*g", p, v);
    back = strtod(txt, NULL);
    if (memcmp(&back, &v, sizeof v) == 0)
      break;
  }
  return put(o, txt, (size_t)n);
}

static int put_float(jout *o, float v) {
  char txt[40];
  int p, n = 0;
  if (!isfinite(v))
    return put_nonfinite(o, (double)v);
  for (p = 6; p <= 9; p++) {
    float back;
    n = snprintf(txt, sizeof txt, "%.*g", p, (double)v);
    back = strtof(txt, NULL);
    if (memcmp(&back, &v, sizeof v) == 0)
      break;
  }
  return put(o, txt, (size_t)n);
}

static int bad(jout *o, int rc, uint32_t type, uint32_t ord) {
  if (rc == HF_NOTFOUND)
    rc = HF_E_CORRUPT;
  return hf_fail(o->err, rc, UINT64_MAX, "%s ordinal %u: %s",
                 o->s->types[type].name, (unsigned)ord, hf_strerror(rc));
}

static int write_rec(jout *o, uint32_t type, uint32_t ord);

/* Whether a map is written as a JSON object: its key type qualifies
 * (one string field, SCHEMA.md §6.4) and no key has that field null. */
static int map_as_object(jout *o, const hf_coll *c, int *yes) {
  const uint32_t kt = o->s->types[c->type].elem_type;
  const hf_type_def *kd = &o->s->types[kt];
  uint64_t i;
  *yes = 0;
  if (kd->kind != HF_KIND_OBJECT || kd->nfields != 1 ||
      kd->fields[0].type != HF_FT_STRING)
    return HF_OK;
  for (i = 0; i < c->n; i++) {
    const uint32_t k = hf_coll_key(c, i);
    hf_record kr;
    hf_view v;
    int rc = hf_reader_record(o->r, kt, k, &kr);
    if (rc == HF_OK)
      rc = hf_record_string(&kr, 0, &v);
    if (rc == HF_NULL)
      return HF_OK;
    if (rc != HF_OK)
      return bad(o, rc, kt, k);
  }
  *yes = 1;
  return HF_OK;
}

/* HF_OK or HF_NULL: whether field f of rec has a value (or an error). */
static int field_state(const hf_record *rec, const hf_field_def *fd,
                       uint32_t f) {
  union {
    int32_t i;
    int64_t l;
    float f;
    double d;
    int b;
    hf_view v;
    uint32_t ref;
  } u;
  switch (fd->type) {
  case HF_FT_INT:
    return hf_record_int(rec, f, &u.i);
  case HF_FT_LONG:
    return hf_record_long(rec, f, &u.l);
  case HF_FT_FLOAT:
    return hf_record_float(rec, f, &u.f);
  case HF_FT_DOUBLE:
    return hf_record_double(rec, f, &u.d);
  case HF_FT_BOOLEAN:
    return hf_record_bool(rec, f, &u.b);
  case HF_FT_STRING:
    return hf_record_string(rec, f, &u.v);
  case HF_FT_BYTES:
    return hf_record_bytes(rec, f, &u.v);
  case HF_FT_REF:
    return hf_record_ref(rec, f, &u.ref);
  }
  return HF_E_CORRUPT;
}

/* Whether record `ord` of `type` is written as a JSON object.  A one-field
 * record is written bare only when its value is not: a bare object would
 * read back as the one-field record's own fields. */
static int writes_object(jout *o, uint32_t type, uint32_t ord, int *yes) {
  const hf_type_def *td = &o->s->types[type];
  int rc;
  *yes = 0;
  if (td->kind == HF_KIND_OBJECT) {
    hf_record rec;
    uint32_t ref;
    *yes = 1;
    if (td->nfields != 1)
      return HF_OK;
    if ((rc = hf_reader_record(o->r, type, ord, &rec)) != HF_OK)
      return bad(o, rc, type, ord);
    rc = field_state(&rec, &td->fields[0], 0);
    if (rc < 0)
      return bad(o, rc, type, ord);
    if (rc == HF_NULL) /* written {} */
      return HF_OK;
    *yes = 0;
    if (td->fields[0].type != HF_FT_REF)
      return HF_OK;
    hf_record_ref(&rec, 0, &ref);
    return writes_object(o, td->fields[0].ref_type, ref, yes);
  }
  if (td->kind == HF_KIND_MAP) {
    hf_coll c;
    if ((rc = hf_reader_coll(o->r, type, ord, &c)) != HF_OK)
      return bad(o, rc, type, ord);
    return map_as_object(o, &c, yes);
  }
  return HF_OK;
}

/* Field f of rec as a JSON value (`null` when it has none). */
static int write_field(jout *o, const hf_record *rec, const hf_field_def *fd,
                       uint32_t f) {
  hf_view v;
  int32_t i32;
  int64_t i64;
  float fl;
  double d;
  int b, rc;
  uint32_t ref;
  char txt[32];
  switch (fd->type) {
  case HF_FT_INT:
    if ((rc = hf_record_int(rec, f, &i32)) == HF_OK)
      return put(o, txt, (size_t)snprintf(txt, sizeof txt, "%ld", (long)i32));
    break;
  case HF_FT_LONG:
    if ((rc = hf_record_long(rec, f, &i64)) == HF_OK)
      return put(o, txt,
                 (size_t)snprintf(txt, sizeof txt, "%lld", (long long)i64));
    break;
  case HF_FT_FLOAT:
    if ((rc = hf_record_float(rec, f, &fl)) == HF_OK)
      return put_float(o, fl);
    break;
  case HF_FT_DOUBLE:
    if ((rc = hf_record_double(rec, f, &d)) == HF_OK)
      return put_double(o, d);
    break;
  case HF_FT_BOOLEAN:
    if ((rc = hf_record_bool(rec, f, &b)) == HF_OK)
      return puts_(o, b ? "true" : "false");
    break;
  case HF_FT_STRING:
    if ((rc = hf_record_string(rec, f, &v)) == HF_OK)
      return put_string(o, v.ptr, v.len);
    break;
  case HF_FT_BYTES:
    if ((rc = hf_record_bytes(rec, f, &v)) == HF_OK)
      return put_bytes(o, v.ptr, v.len);
    break;
  case HF_FT_REF:
    if ((rc = hf_record_ref(rec, f, &ref)) == HF_OK)
      return write_rec(o, fd->ref_type, ref);
    break;
  default:
    rc = HF_E_CORRUPT;
  }
  if (rc == HF_NULL)
    return puts_(o, "null");
  return bad(o, rc, rec->type, rec->ordinal);
}

static int write_object(jout *o, uint32_t type, uint32_t ord) {
  const hf_type_def *td = &o->s->types[type];
  hf_record rec;
  uint32_t f;
  int rc;
  if ((rc = hf_reader_record(o->r, type, ord, &rec)) != HF_OK)
    return bad(o, rc, type, ord);
  if (td->nfields == 1) {
    /* bare value, unless it is null ({}) or would itself read as an
     * object (then the field must be named) */
    int obj;
    if ((rc = writes_object(o, type, ord, &obj)) < 0)
      return rc;
    if (!obj)
      return write_field(o, &rec, &td->fields[0], 0);
    if (field_state(&rec, &td->fields[0], 0) == HF_NULL)
      return puts_(o, "{}");
  }
  if ((rc = putc_(o, '{')) < 0)
    return rc;
  for (f = 0; f < td->nfields; f++) {
    if ((f > 0 && (rc = putc_(o, ',')) < 0) ||
        (rc = put_string(o, (const unsigned char *)td->fields[f].name,
                         strlen(td->fields[f].name))) < 0 ||
        (rc = putc_(o, ':')) < 0 ||
        (rc = write_field(o, &rec, &td->fields[f], f)) < 0)
      return rc;
  }
  return putc_(o, '}');
}

static int write_map(jout *o, uint32_t type, const hf_coll *c) {
  const hf_type_def *td = &o->s->types[type];
  uint64_t i;
  int rc, obj;
  if ((rc = map_as_object(o, c, &obj)) < 0 ||
      (rc = putc_(o, obj ? '{' : '[')) < 0)
    return rc;
  for (i = 0; i < c->n; i++) {
    const uint32_t k = hf_coll_key(c, i), v = hf_coll_value(c, i);
    if (i > 0 && (rc = putc_(o, ',')) < 0)
      return rc;
    if (obj) {
      hf_record kr;
      hf_view kv;
      if ((rc = hf_reader_record(o->r, td->elem_type, k, &kr)) != HF_OK ||
          (rc = hf_record_string(&kr, 0, &kv)) != HF_OK)
        return bad(o, rc, td->elem_type, k);
      if ((rc = put_string(o, kv.ptr, kv.len)) < 0 || (rc = putc_(o, ':')) < 0)
        return rc;
    } else if ((rc = putc_(o, '[')) < 0 ||
               (rc = write_rec(o, td->elem_type, k)) < 0 ||
               (rc = putc_(o, ',')) < 0) {
      return rc;
    }
    if ((rc = write_rec(o, td->value_type, v)) < 0 ||
        (!obj && (rc = putc_(o, ']')) < 0))
      return rc;
  }
  return putc_(o, obj ? '}' : ']');
}

static int write_rec(jout *o, uint32_t type, uint32_t ord) {
  const hf_type_def *td = &o->s->types[type];
  hf_coll c;
  uint64_t i;
  int rc;
  if (td->kind == HF_KIND_OBJECT)
    return write_object(o, type, ord);
  if ((rc = hf_reader_coll(o->r, type, ord, &c)) != HF_OK)
    return bad(o, rc, type, ord);
  if (td->kind == HF_KIND_MAP)
    return write_map(o, type, &c);
  if ((rc = putc_(o, '[')) < 0)
    return rc;
  for (i = 0; i < c.n; i++)
    if ((i > 0 && (rc = putc_(o, ',')) < 0) ||
        (rc = write_rec(o, td->elem_type, hf_coll_elem(&c, i))) < 0)
      return rc;
  return putc_(o, ']');
}

int hf_json_write_record(const hf_reader *r, uint32_t type, uint32_t ordinal,
                         hf_write_fn fn, void *ctx, hf_error *err) {
  jout *o;
  int rc;
  const hf_schema *s;
  if (r == NULL || fn == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "null reader or sink");
  s = hf_reader_schema(r);
  if (s == NULL || type >= s->ntypes)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "type %u out of range",
                   (unsigned)type);
  /* the buffer is too big for comfort on small thread stacks */
  if ((o = malloc(sizeof *o)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  o->r = r;
  o->s = s;
  o->fn = fn;
  o->ctx = ctx;
  o->err = err;
  o->n = 0;
  rc = write_rec(o, type, ordinal);
  if (rc >= 0)
    rc = flush(o);
  free(o);
  return rc < 0 ? rc : HF_OK;
}

/* One primitive value, for callers that print values found outside a
 * record's JSON (the diff's changed fields and keys).  hf_internal.h. */
int hf_json_write_value(const hf_value *v, hf_write_fn fn, void *ctx,
                        hf_error *err) {
  jout *o;
  char txt[32];
  int rc;
  if (v == NULL || fn == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "null value or sink");
  if ((o = malloc(sizeof *o)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  o->r = NULL;
  o->s = NULL;
  o->fn = fn;
  o->ctx = ctx;
  o->err = err;
  o->n = 0;
  switch (v->type) {
  case HF_FT_INT:
    rc = put(o, txt, (size_t)snprintf(txt, sizeof txt, "%ld", (long)v->u.i));
    break;
  case HF_FT_LONG:
    rc = put(o, txt,
             (size_t)snprintf(txt, sizeof txt, "%lld", (long long)v->u.l));
    break;
  case HF_FT_FLOAT:
    rc = put_float(o, v->u.f);
    break;
  case HF_FT_DOUBLE:
    rc = put_double(o, v->u.d);
    break;
  case HF_FT_BOOLEAN:
    rc = puts_(o, v->u.b ? "true" : "false");
    break;
  case HF_FT_STRING:
    rc = put_string(o, v->u.s.ptr, v->u.s.len);
    break;
  case HF_FT_BYTES:
    rc = put_bytes(o, v->u.s.ptr, v->u.s.len);
    break;
  default:
    rc = hf_fail(err, HF_E_ARG, UINT64_MAX, "not a primitive value type");
  }
  if (rc >= 0)
    rc = flush(o);
  free(o);
  return rc < 0 ? rc : HF_OK;
}
