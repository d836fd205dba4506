/*
 * hf_builder.c - the record stack of hf_builder: setters fill the innermost
 * open record, hf_builder_end() turns it into its content form (see
 * hf_builder_internal.h) and finds or adds it in its type's store:
 * unkeyed records by content, keyed records by primary key (FORMAT.md
 * §6.7.1, §6.8).  Ordinals are assigned later, by hf_finish.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "hf_assemble.h"
#include "hf_builder_internal.h"

/* ---- Small growable arrays ------------------------------------------------
 */

int hf_grow(void *pp, size_t *cap, size_t need, size_t size) {
  void **p = (void **)pp;
  size_t ncap = *cap ? *cap : 16;
  void *np;
  if (need <= *cap)
    return HF_OK;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2 / size)
      return HF_E_NOMEM;
    ncap *= 2;
  }
  np = realloc(*p, ncap * size);
  if (np == NULL)
    return HF_E_NOMEM;
  *p = np;
  *cap = ncap;
  return HF_OK;
}

int hf_populate(void *p, size_t n) {
#if defined(MADV_POPULATE_WRITE)
  const size_t page = 4096; /* madvise wants whole pages */
  const size_t skip = (page - (size_t)((uintptr_t)p % page)) % page;
  n = n > skip ? (n - skip) / page * page : 0;
  return n > 0 ? madvise((unsigned char *)p + skip, n, MADV_POPULATE_WRITE) : 0;
#else
  (void)p;
  (void)n;
  errno = EINVAL;
  return -1;
#endif
}

static int nomem(const hf_builder *b, hf_error *err) {
  return hf_fail_at(err, HF_E_NOMEM, b->line, 0, "out of memory");
}

/* ---- Builder life cycle ------------------------------------------------- */

static int check_base_schema(const hf_schema *s, const hf_reader *base,
                             hf_error *err) {
  const hf_schema *bs = hf_reader_schema(base);
  size_t la, lb;
  char *ta, *tb, probe[1];
  int rc = HF_OK;
  if (bs == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "base has no schema");
  la = hf_schema_print(s, probe, sizeof probe);
  lb = hf_schema_print(bs, probe, sizeof probe);
  if (la != lb)
    return hf_fail(err, HF_E_SCHEMA, UINT64_MAX,
                   "base schema differs from the build schema "
                   "(%zu vs %zu bytes of canonical text)",
                   lb, la);
  ta = malloc(la + 1);
  tb = malloc(lb + 1);
  if (ta == NULL || tb == NULL) {
    rc = hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  } else {
    size_t i;
    hf_schema_print(s, ta, la + 1);
    hf_schema_print(bs, tb, lb + 1);
    for (i = 0; i < la && ta[i] == tb[i]; i++)
      ;
    if (i < la)
      rc = hf_fail(err, HF_E_SCHEMA, UINT64_MAX,
                   "base schema differs from the build schema "
                   "(canonical text differs at byte %zu)",
                   i);
  }
  free(ta);
  free(tb);
  return rc;
}

int hf_builder_new(const hf_schema *s, const hf_build_opts *opts,
                   hf_builder **out, hf_error *err) {
  hf_builder *b;
  uint32_t i;
  int rc;
  if (out == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no output handle");
  *out = NULL;
  if (s == NULL || s->ntypes == 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no schema");
  if (opts != NULL && opts->base != NULL) {
    rc = check_base_schema(s, opts->base, err);
    if (rc != HF_OK)
      return rc;
  }
  b = calloc(1, sizeof *b);
  if (b == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  b->schema = s;
  if (opts != NULL) {
    b->base = opts->base;
    b->dataset_version = opts->dataset_version;
    b->flags = opts->flags;
    b->threads = opts->threads;
  }
  b->stores = calloc(s->ntypes, sizeof *b->stores);
  if (b->stores == NULL) {
    free(b);
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  }
  for (i = 0; i < s->ntypes; i++) {
    const hf_type_def *t = &s->types[i];
    b->stores[i].pk_field =
        t->kind == HF_KIND_OBJECT && t->nkeys == 1 && t->keys[0].depth == 1
            ? t->keys[0].steps[0]
            : HF_B_NOID;
  }
  *out = b;
  return HF_OK;
}

static void store_free(hf_bstore *st) {
  free(st->off);
  free(st->data);
  free(st->hash);
  free(st->line);
  free(st->flags);
  free(st->table);
}

static void frame_free(hf_bframe *f) {
  free(f->slot);
  free(f->str);
  free(f->sloc);
  free(f->elems);
  free(f->keyset);
}

void hf_builder_free(hf_builder *b) {
  uint32_t i;
  if (b == NULL)
    return;
  for (i = 0; i < b->schema->ntypes; i++)
    store_free(&b->stores[i]);
  for (i = 0; i < b->frames_cap; i++)
    frame_free(&b->frames[i]);
  free(b->stores);
  free(b->frames);
  free(b->roots);
  free(b->undo);
  free(b->canon[0]);
  free(b->canon[1]);
  hf_outfile_free(b->out, b->out_len, b->out_mapped);
  free(b);
}

void hf_builder_set_line(hf_builder *b, uint64_t line) {
  b->line = line;
}

const hf_schema *hf_builder_schema(const hf_builder *b) {
  return b->schema;
}

uint32_t hf_builder_flags(const hf_builder *b) {
  return b->flags;
}

uint32_t hf_builder_depth(const hf_builder *b) {
  return b->depth;
}

uint32_t hf_builder_open_type(const hf_builder *b) {
  return b->depth ? b->frames[b->depth - 1].type : HF_NO_TYPE;
}

/* ---- Opening records ------------------------------------------------------
 */

static int check_open(hf_builder *b, hf_error *err) {
  if (b->out != NULL)
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "builder already written; it accepts no more records");
  return HF_OK;
}

static int frame_begin(hf_bframe *f, const hf_type_def *t, uint32_t type) {
  f->type = type;
  f->str_len = 0;
  f->nelems = 0;
  f->keyset_n = 0;
  if (t->kind == HF_KIND_OBJECT) {
    if (hf_grow(&f->slot, &f->slot_cap, t->slot_width, 1) ||
        hf_grow(&f->sloc, &f->sloc_cap, t->nfields, sizeof *f->sloc))
      return HF_E_NOMEM;
    memset(f->slot, 0, t->slot_width);
  }
  return HF_OK;
}

int hf_builder_begin(hf_builder *b, uint32_t type, hf_error *err) {
  const hf_type_def *t;
  hf_bframe *f;
  int rc;
  if (b == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder");
  if ((rc = check_open(b, err)) != HF_OK)
    return rc;
  if (type >= b->schema->ntypes)
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "type id %" PRIu32 " out of range (schema has %" PRIu32
                      " types)",
                      type, b->schema->ntypes);
  /* An acyclic schema nests no deeper than its number of types. */
  if (b->depth >= HF_MAX_TYPES)
    return hf_fail_at(err, HF_E_LIMIT, b->line, 0,
                      "records nested deeper than %d", HF_MAX_TYPES);
  if (b->depth == b->frames_cap) {
    size_t cap = b->frames_cap;
    if (hf_grow(&b->frames, &cap, (size_t)b->depth + 1, sizeof *b->frames))
      return nomem(b, err);
    memset(b->frames + b->frames_cap, 0,
           (cap - b->frames_cap) * sizeof *b->frames);
    b->frames_cap = (uint32_t)cap;
  }
  t = &b->schema->types[type];
  f = &b->frames[b->depth];
  if (frame_begin(f, t, type) != HF_OK)
    return nomem(b, err);
  b->depth++;
  return HF_OK;
}

/* ---- Setters --------------------------------------------------------------
 */

static const char *ftype_name(hf_ftype ft) {
  switch (ft) {
  case HF_FT_INT:
    return "int";
  case HF_FT_LONG:
    return "long";
  case HF_FT_FLOAT:
    return "float";
  case HF_FT_DOUBLE:
    return "double";
  case HF_FT_BOOLEAN:
    return "boolean";
  case HF_FT_STRING:
    return "string";
  case HF_FT_BYTES:
    return "bytes";
  case HF_FT_REF:
    return "reference";
  }
  return "?";
}

/* The innermost open record, which must be an object with field `field` of
 * type `ft`; *fd receives the field's definition. */
static int field_target(hf_builder *b, uint32_t field, hf_ftype ft,
                        hf_bframe **fr, const hf_field_def **fd,
                        hf_error *err) {
  const hf_type_def *t;
  int rc;
  if (b == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder");
  if ((rc = check_open(b, err)) != HF_OK)
    return rc;
  if (b->depth == 0)
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "no record open to set field %" PRIu32 " on", field);
  *fr = &b->frames[b->depth - 1];
  t = &b->schema->types[(*fr)->type];
  if (t->kind != HF_KIND_OBJECT)
    return hf_fail_at(err, HF_E_TYPE, b->line, 0,
                      "%s is a collection type; it has no fields", t->name);
  if (field >= t->nfields)
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "%s has no field %" PRIu32 " (it has %" PRIu32 ")",
                      t->name, field, t->nfields);
  *fd = &t->fields[field];
  if ((*fd)->type != ft)
    return hf_fail_at(err, HF_E_TYPE, b->line, 0, "%s.%s is %s, not %s",
                      t->name, (*fd)->name, ftype_name((*fd)->type),
                      ftype_name(ft));
  return HF_OK;
}

static void mark_present(hf_bframe *f, const hf_type_def *t, uint32_t field) {
  f->slot[t->present_off + field / 8] |= (unsigned char)(1u << (field % 8));
}

/* The frame side of the setters, shared with leaf rendering: field `field`
 * of object type t takes the little-endian value le (fd->size bytes), or
 * the bytes p[0..len). */
static void frame_put_fixed(hf_bframe *f, const hf_type_def *t, uint32_t field,
                            const unsigned char *le) {
  const hf_field_def *fd = &t->fields[field];
  memcpy(f->slot + fd->offset, le, fd->size);
  mark_present(f, t, field);
}

static int frame_put_var(hf_bframe *f, const hf_type_def *t, uint32_t field,
                         const void *p, size_t len) {
  if (hf_grow(&f->str, &f->str_cap, f->str_len + len, 1))
    return HF_E_NOMEM;
  if (len > 0)
    memcpy(f->str + f->str_len, p, len);
  f->sloc[field] = f->str_len;
  f->str_len += len;
  /* The slot holds the length until end() places the bytes (§6.4). */
  hf_put64(f->slot + t->fields[field].offset, (uint64_t)len << HF_STR_OFF_BITS);
  mark_present(f, t, field);
  return HF_OK;
}

/* Field `field` of frame f was just set to `v`: if it is the whole primary
 * key of its type, fetch the key's home position in the table now.  The key
 * comes early in most records and end() probes the table much later, so
 * the cache miss of that probe overlaps the rest of the record.  The hash is
 * recomputed at end(): this is only a hint. */
static void pk_prefetch(const hf_bstore *st, const hf_value *v) {
  if (st->tmask != 0)
    HF_PREFETCH(&st->table[hf_key_hash(v, 1) & st->tmask]);
}

/* Stores a fixed-size value of 1, 4 or 8 bytes (already little-endian). */
static int set_fixed(hf_builder *b, uint32_t field, hf_ftype ft,
                     const unsigned char *le, hf_error *err) {
  hf_bframe *f;
  const hf_field_def *fd;
  int rc = field_target(b, field, ft, &f, &fd, err);
  if (rc != HF_OK)
    return rc;
  frame_put_fixed(f, &b->schema->types[f->type], field, le);
  if (field == b->stores[f->type].pk_field &&
      (ft == HF_FT_LONG || ft == HF_FT_INT)) {
    hf_value v;
    v.type = ft;
    if (ft == HF_FT_LONG)
      v.u.l = (int64_t)hf_le64(le);
    else
      v.u.i = (int32_t)hf_le32(le);
    pk_prefetch(&b->stores[f->type], &v);
  }
  return HF_OK;
}

int hf_builder_set_int(hf_builder *b, uint32_t field, int32_t v,
                       hf_error *err) {
  unsigned char le[4];
  hf_put32(le, (uint32_t)v);
  return set_fixed(b, field, HF_FT_INT, le, err);
}

int hf_builder_set_long(hf_builder *b, uint32_t field, int64_t v,
                        hf_error *err) {
  unsigned char le[8];
  hf_put64(le, (uint64_t)v);
  return set_fixed(b, field, HF_FT_LONG, le, err);
}

int hf_builder_set_float(hf_builder *b, uint32_t field, float v,
                         hf_error *err) {
  unsigned char le[4];
  uint32_t u;
  memcpy(&u, &v, 4);
  hf_put32(le, u);
  return set_fixed(b, field, HF_FT_FLOAT, le, err);
}

int hf_builder_set_double(hf_builder *b, uint32_t field, double v,
                          hf_error *err) {
  unsigned char le[8];
  uint64_t u;
  memcpy(&u, &v, 8);
  hf_put64(le, u);
  return set_fixed(b, field, HF_FT_DOUBLE, le, err);
}

int hf_builder_set_bool(hf_builder *b, uint32_t field, int v, hf_error *err) {
  unsigned char le[1];
  le[0] = (unsigned char)(v != 0);
  return set_fixed(b, field, HF_FT_BOOLEAN, le, err);
}

static int set_var(hf_builder *b, uint32_t field, hf_ftype ft, const void *p,
                   size_t len, int validate, hf_error *err) {
  hf_bframe *f;
  const hf_field_def *fd;
  const hf_type_def *t;
  size_t bad;
  int rc = field_target(b, field, ft, &f, &fd, err);
  if (rc != HF_OK)
    return rc;
  t = &b->schema->types[f->type];
  if (len > HF_MAX_STRING)
    return hf_fail_at(err, HF_E_LIMIT, b->line, 0,
                      "%s.%s: value of %zu bytes exceeds the limit of %lu",
                      t->name, fd->name, len, (unsigned long)HF_MAX_STRING);
  if (len > 0 && p == NULL)
    return hf_fail_at(err, HF_E_ARG, b->line, 0, "%s.%s: NULL value", t->name,
                      fd->name);
  if (validate && !hf_utf8_valid(p, len, &bad))
    return hf_fail_at(err, HF_E_INPUT, b->line, 0,
                      "%s.%s: invalid UTF-8 at byte %zu of the string", t->name,
                      fd->name, bad);
  if (frame_put_var(f, t, field, p, len) != HF_OK)
    return nomem(b, err);
  if (field == b->stores[f->type].pk_field) {
    hf_value v;
    v.type = ft;
    v.u.s.ptr = f->str + f->sloc[field];
    v.u.s.len = len;
    pk_prefetch(&b->stores[f->type], &v);
  }
  return HF_OK;
}

int hf_builder_set_string(hf_builder *b, uint32_t field, const void *p,
                          size_t len, hf_error *err) {
  return set_var(b, field, HF_FT_STRING, p, len, 1, err);
}

int hf_builder_set_string_valid(hf_builder *b, uint32_t field, const void *p,
                                size_t len, hf_error *err) {
  return set_var(b, field, HF_FT_STRING, p, len, 0, err);
}

int hf_builder_set_bytes(hf_builder *b, uint32_t field, const void *p,
                         size_t len, hf_error *err) {
  return set_var(b, field, HF_FT_BYTES, p, len, 0, err);
}

/* A reference must name an existing record of type `want`.  Errors name
 * the place as what1 + what2 + what3 ("Movie" "." "cast"), joined only on
 * failure: this runs for every reference of every record. */
static int check_ref(const hf_builder *b, hf_ref ref, uint32_t want,
                     const char *what1, const char *what2, const char *what3,
                     hf_error *err) {
  const hf_schema *s = b->schema;
  if (ref.type >= s->ntypes || ref.id >= b->stores[ref.type].n)
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "%s%s%s: no such record (type %" PRIu32 ", id %" PRIu32
                      ")",
                      what1, what2, what3, ref.type, ref.id);
  if (ref.type != want)
    return hf_fail_at(err, HF_E_TYPE, b->line, 0,
                      "%s%s%s takes %s records, not %s", what1, what2, what3,
                      s->types[want].name, s->types[ref.type].name);
  return HF_OK;
}

int hf_builder_set_ref(hf_builder *b, uint32_t field, hf_ref ref,
                       hf_error *err) {
  hf_bframe *f;
  const hf_field_def *fd;
  int rc = field_target(b, field, HF_FT_REF, &f, &fd, err);
  if (rc != HF_OK)
    return rc;
  if ((rc = check_ref(b, ref, fd->ref_type, b->schema->types[f->type].name, ".",
                      fd->name, err)) != HF_OK)
    return rc;
  hf_put32(f->slot + fd->offset, ref.id);
  mark_present(f, &b->schema->types[f->type], field);
  return HF_OK;
}

/* The innermost open record, which must be of kind k1 or k2. */
static int coll_target(hf_builder *b, hf_kind k1, hf_kind k2, const char *op,
                       hf_bframe **fr, const hf_type_def **td, hf_error *err) {
  int rc;
  if (b == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder");
  if ((rc = check_open(b, err)) != HF_OK)
    return rc;
  if (b->depth == 0)
    return hf_fail_at(err, HF_E_ARG, b->line, 0, "%s: no record open", op);
  *fr = &b->frames[b->depth - 1];
  *td = &b->schema->types[(*fr)->type];
  if ((*td)->kind != k1 && (*td)->kind != k2)
    return hf_fail_at(err, HF_E_TYPE, b->line, 0, "%s: %s is not a %s", op,
                      (*td)->name, k1 == HF_KIND_MAP ? "map" : "list or set");
  return HF_OK;
}

/* Elements (sets) or keys (maps, every second id) seen so far in frame f:
 * linear scan while few, then an open-addressing set, so that building a
 * large collection stays linear. */
#define KEYSET_MIN 16

static uint64_t mix32(uint32_t v) {
  uint64_t h = (uint64_t)v * UINT64_C(0x9E3779B97F4A7C15);
  return h ^ (h >> 29);
}

static void keyset_insert(hf_bframe *f, uint32_t key) {
  size_t mask = f->keyset_cap - 1, i = (size_t)mix32(key) & mask;
  while (f->keyset[i] != HF_B_NOID)
    i = (i + 1) & mask;
  f->keyset[i] = key;
  f->keyset_n++;
}

/* 1 if `key` is already in the collection being built in f. */
static int keyset_has(const hf_bframe *f, uint32_t key, size_t stride) {
  size_t i;
  if (f->keyset_n == 0) {
    for (i = 0; i < f->nelems; i += stride)
      if (f->elems[i] == key)
        return 1;
    return 0;
  }
  for (i = (size_t)mix32(key) & (f->keyset_cap - 1); f->keyset[i] != HF_B_NOID;
       i = (i + 1) & (f->keyset_cap - 1))
    if (f->keyset[i] == key)
      return 1;
  return 0;
}

/* Makes room for `nkeys` keys, keeping the set (once in use) at most half
 * full. */
static int keyset_reserve(hf_bframe *f, size_t nkeys, size_t stride) {
  size_t cap = 64, i;
  if (nkeys < KEYSET_MIN)
    return HF_OK;
  if (f->keyset_n > 0 && 2 * nkeys <= f->keyset_cap)
    return HF_OK;
  while (cap < 2 * nkeys)
    cap *= 2;
  if (cap > f->keyset_cap) {
    uint32_t *p = realloc(f->keyset, cap * sizeof *p);
    if (p == NULL)
      return HF_E_NOMEM;
    f->keyset = p;
    f->keyset_cap = cap;
  }
  memset(f->keyset, 0xFF, f->keyset_cap * sizeof *f->keyset);
  f->keyset_n = 0;
  for (i = 0; i < f->nelems; i += stride)
    keyset_insert(f, f->elems[i]);
  return HF_OK;
}

int hf_builder_add(hf_builder *b, hf_ref elem, hf_error *err) {
  hf_bframe *f;
  const hf_type_def *t;
  int rc = coll_target(b, HF_KIND_LIST, HF_KIND_SET, "add", &f, &t, err);
  if (rc != HF_OK)
    return rc;
  if ((rc = check_ref(b, elem, t->elem_type, t->name, "", "", err)) != HF_OK)
    return rc;
  if (t->kind == HF_KIND_SET) {
    if (keyset_has(f, elem.id, 1))
      return HF_OK; /* a set keeps the first occurrence */
    if (keyset_reserve(f, f->nelems + 1, 1))
      return nomem(b, err);
  }
  if (hf_grow(&f->elems, &f->elems_cap, f->nelems + 1, sizeof *f->elems))
    return nomem(b, err);
  f->elems[f->nelems++] = elem.id;
  if (f->keyset_n > 0)
    keyset_insert(f, elem.id);
  return HF_OK;
}

int hf_builder_put(hf_builder *b, hf_ref key, hf_ref value, hf_error *err) {
  hf_bframe *f;
  const hf_type_def *t;
  int rc = coll_target(b, HF_KIND_MAP, HF_KIND_MAP, "put", &f, &t, err);
  if (rc != HF_OK)
    return rc;
  if ((rc = check_ref(b, key, t->elem_type, t->name, " key", "", err)) != HF_OK)
    return rc;
  if ((rc = check_ref(b, value, t->value_type, t->name, " value", "", err)) !=
      HF_OK)
    return rc;
  if (keyset_has(f, key.id, 2))
    return hf_fail_at(err, HF_E_INPUT, b->line, 0, "%s: repeated map key",
                      t->name);
  if (hf_grow(&f->elems, &f->elems_cap, f->nelems + 2, sizeof *f->elems) ||
      keyset_reserve(f, f->nelems / 2 + 1, 2))
    return nomem(b, err);
  f->elems[f->nelems++] = key.id;
  f->elems[f->nelems++] = value.id;
  if (f->keyset_n > 0)
    keyset_insert(f, key.id);
  return HF_OK;
}

/* ---- Content form ---------------------------------------------------------
 */

int hf_bblob_string(const hf_type_def *t, const unsigned char *blob, uint32_t f,
                    const unsigned char **p, size_t *len) {
  const hf_field_def *fd = &t->fields[f];
  uint64_t v;
  if (!(blob[t->present_off + f / 8] & (1u << (f % 8))))
    return HF_NULL;
  v = hf_le64(blob + fd->offset);
  *p = blob + t->slot_width + (v & HF_STR_OFF_MASK);
  *len = (size_t)(v >> HF_STR_OFF_BITS);
  return HF_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x, y;
  memcpy(&x, a, 4);
  memcpy(&y, b, 4);
  return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x, y;
  memcpy(&x, a, 8);
  memcpy(&y, b, 8);
  return (x > y) - (x < y);
}

/* The canonical form of a set or map blob (ascending by element or key id)
 * in scratch buffer `which`; other blobs are their own canonical form. */
static const unsigned char *canonical(hf_builder *b, const hf_type_def *t,
                                      const unsigned char *blob, size_t len,
                                      int which) {
  size_t i;
  if (t->kind != HF_KIND_SET && t->kind != HF_KIND_MAP)
    return blob;
  if (hf_grow(&b->canon[which], &b->canon_cap[which], len + 8, 1))
    return NULL;
  if (t->kind == HF_KIND_SET) {
    memcpy(b->canon[which], blob, len);
    qsort(b->canon[which], len / 4, 4, cmp_u32);
  } else {
    /* Sort the (key, value) pairs by key: pack them as key << 32 | value. */
    uint64_t *pairs = (uint64_t *)(void *)b->canon[which];
    for (i = 0; i < len / 8; i++) {
      uint32_t k, v;
      memcpy(&k, blob + 8 * i, 4);
      memcpy(&v, blob + 8 * i + 4, 4);
      pairs[i] = (uint64_t)k << 32 | v;
    }
    qsort(pairs, len / 8, 8, cmp_u64);
  }
  return b->canon[which];
}

/* Bytes that make_blob() may write for frame f: at least the blob's length
 * (string bytes that were overwritten are counted, not copied). */
static size_t blob_bound(const hf_type_def *t, const hf_bframe *f) {
  return t->kind == HF_KIND_OBJECT ? t->slot_width + f->str_len : f->nelems * 4;
}

/* Renders the record of frame f (content form) at dst, which has room for
 * blob_bound() bytes; returns its length. */
static size_t make_blob(const hf_type_def *t, const hf_bframe *f,
                        unsigned char *dst) {
  size_t pos = t->slot_width;
  uint32_t k;
  if (t->kind != HF_KIND_OBJECT) {
    if (f->nelems > 0)
      memcpy(dst, f->elems, f->nelems * 4);
    return f->nelems * 4;
  }
  memcpy(dst, f->slot, t->slot_width);
  for (k = 0; k < t->nfields; k++) {
    const hf_field_def *fd = &t->fields[k];
    size_t l;
    if ((fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES) ||
        !(f->slot[t->present_off + k / 8] & (1u << (k % 8))))
      continue;
    l = (size_t)(hf_le64(f->slot + fd->offset) >> HF_STR_OFF_BITS);
    if (l > 0)
      memcpy(dst + pos, f->str + f->sloc[k], l);
    hf_put64(dst + fd->offset, (uint64_t)(pos - t->slot_width) |
                                   ((uint64_t)l << HF_STR_OFF_BITS));
    pos += l;
  }
  return pos;
}

/* ---- Keys -----------------------------------------------------------------
 */

/* Key values of `blob`; `stores` (for references along a path) may be NULL
 * when every key path is one step long. */
static int key_values(const hf_schema *s, const hf_bstore *stores,
                      uint32_t type, const unsigned char *blob, hf_value *vals,
                      uint32_t *null_path) {
  const hf_type_def *t = &s->types[type];
  uint32_t k;
  for (k = 0; k < t->nkeys; k++) {
    const hf_keypath *kp = &t->keys[k];
    const unsigned char *cur = blob;
    uint32_t d;
    for (d = 0; d < kp->depth; d++) {
      const hf_type_def *st = &s->types[kp->step_types[d]];
      uint32_t f = kp->steps[d];
      const hf_field_def *fd = &st->fields[f];
      const unsigned char *p = cur + fd->offset;
      hf_value *v = &vals[k];
      size_t blen;
      if (!(cur[st->present_off + f / 8] & (1u << (f % 8)))) {
        *null_path = k;
        return HF_NULL;
      }
      v->type = fd->type;
      switch (fd->type) {
      case HF_FT_REF:
        cur = hf_bstore_blob(&stores[fd->ref_type], hf_le32(p), &blen);
        break;
      case HF_FT_INT:
        v->u.i = (int32_t)hf_le32(p);
        break;
      case HF_FT_LONG:
        v->u.l = (int64_t)hf_le64(p);
        break;
      case HF_FT_FLOAT: {
        uint32_t u = hf_le32(p);
        memcpy(&v->u.f, &u, 4);
        break;
      }
      case HF_FT_DOUBLE: {
        uint64_t u = hf_le64(p);
        memcpy(&v->u.d, &u, 8);
        break;
      }
      case HF_FT_BOOLEAN:
        v->u.b = p[0];
        break;
      case HF_FT_STRING:
      case HF_FT_BYTES: {
        const unsigned char *sp;
        hf_bblob_string(st, cur, f, &sp, &v->u.s.len);
        v->u.s.ptr = sp;
        break;
      }
      }
    }
  }
  return HF_OK;
}

int hf_bkey_values(const hf_builder *b, uint32_t type,
                   const unsigned char *blob, hf_value *vals,
                   uint32_t *null_path) {
  return key_values(b->schema, b->stores, type, blob, vals, null_path);
}

/* Formats key values for a message: "42", "(42, \"abc\")". */
static void format_key(const hf_value *vals, uint32_t n, char *buf,
                       size_t cap) {
  size_t pos = 0;
  uint32_t k;
  buf[0] = '\0';
  for (k = 0; k < n && pos < cap; k++) {
    const hf_value *v = &vals[k];
    const char *sep = k == 0 ? (n > 1 ? "(" : "") : ", ";
    int w = 0;
    switch (v->type) {
    case HF_FT_INT:
      w = snprintf(buf + pos, cap - pos, "%s%" PRId32, sep, v->u.i);
      break;
    case HF_FT_LONG:
      w = snprintf(buf + pos, cap - pos, "%s%" PRId64, sep, v->u.l);
      break;
    case HF_FT_FLOAT:
      w = snprintf(buf + pos, cap - pos, "%s%.9g", sep, (double)v->u.f);
      break;
    case HF_FT_DOUBLE:
      w = snprintf(buf + pos, cap - pos, "%s%.17g", sep, v->u.d);
      break;
    case HF_FT_BOOLEAN:
      w = snprintf(buf + pos, cap - pos, "%s%s", sep,
                   v->u.b ? "true" : "false");
      break;
    case HF_FT_STRING:
      w = snprintf(buf + pos, cap - pos, "%s\"%.*s%s\"", sep,
                   (int)(v->u.s.len > 40 ? 40 : v->u.s.len),
                   (const char *)v->u.s.ptr, v->u.s.len > 40 ? "..." : "");
      break;
    default:
      w = snprintf(buf + pos, cap - pos, "%s<%zu bytes>", sep, v->u.s.len);
      break;
    }
    if (w < 0)
      return;
    pos += (size_t)w;
  }
  if (n > 1 && pos < cap)
    snprintf(buf + pos, cap - pos, ")");
}

/* ---- The per-type store ---------------------------------------------------
 */

/* The loc of a table position (see hf_bslot). */
static uint64_t slot_loc(uint64_t off, uint64_t len) {
  if (off > HF_B_LOC_MASK || len > HF_B_LOC_MAXLEN)
    return HF_B_FAR;
  return off | len << HF_B_LOC_BITS;
}

/* The blob a table position refers to, and its length. */
static const unsigned char *slot_blob(const hf_bstore *st, const hf_bslot *s,
                                      size_t *len) {
  if (s->loc == HF_B_FAR)
    return hf_bstore_blob(st, HF_B_ENT_ID(s->ent), len);
  *len = (size_t)(s->loc >> HF_B_LOC_BITS);
  return st->data + (s->loc & HF_B_LOC_MASK);
}

/* Tables of this many positions (64 KiB) or more are faulted in whole. */
#define POPULATE_MIN 4096

/* Rebuilds the table at twice its size (1024 positions at first).  calloc:
 * a free position is all zero, and large zeroed blocks come from the kernel
 * without a pass over them.  Such a block is faulted in for writing at
 * once: probes read a position before any is written, and a page first
 * read is the shared zero page, whose copy on the first write costs a
 * second fault and a TLB flush on every CPU the other threads run on. */
static int table_grow(hf_bstore *st) {
  const uint64_t size = st->tmask ? 2 * (st->tmask + 1) : 1024;
  const uint64_t mask = size - 1;
  hf_bslot *nt;
  uint32_t i;
  if (size > SIZE_MAX / sizeof *nt)
    return HF_E_NOMEM;
  nt = calloc((size_t)size, sizeof *nt);
  if (nt == NULL)
    return HF_E_NOMEM;
  if (size >= POPULATE_MIN)
    (void)hf_populate(nt, (size_t)size * sizeof *nt);
  for (i = 0; i < st->n; i++) {
    uint64_t j = st->hash[i] & mask;
    while (nt[j].ent != 0)
      j = (j + 1) & mask;
    nt[j].ent = HF_B_ENT(st->hash[i], i);
    nt[j].loc = slot_loc(st->off[i], st->off[i + 1] - st->off[i]);
  }
  free(st->table);
  st->table = nt;
  st->tmask = mask;
  return HF_OK;
}

/* Makes room for one more record whose blob takes at most `bound` bytes. */
static int store_reserve(hf_bstore *st, const hf_type_def *t, size_t bound) {
  if (st->n == st->cap) {
    size_t cap = st->cap, c;
    if (cap >= HF_MAX_ORDINALS)
      return HF_E_LIMIT;
    cap = cap ? 2 * cap : 64;
    if (cap > HF_MAX_ORDINALS)
      cap = HF_MAX_ORDINALS;
    c = st->cap + 1;
    if (hf_grow(&st->off, &c, cap + 1, sizeof *st->off))
      return HF_E_NOMEM;
    c = st->cap;
    if (hf_grow(&st->hash, &c, cap, sizeof *st->hash))
      return HF_E_NOMEM;
    c = st->cap;
    if (hf_grow(&st->flags, &c, cap, 1))
      return HF_E_NOMEM;
    if (t->kind == HF_KIND_OBJECT && t->nkeys > 0) {
      c = st->cap;
      if (hf_grow(&st->line, &c, cap, sizeof *st->line))
        return HF_E_NOMEM;
    }
    st->cap = (uint32_t)cap;
    st->off[0] = 0;
  }
  /* One spare byte: data is never NULL, even when all blobs are empty. */
  if (bound >= st->data_cap - st->data_len) {
    size_t c = (size_t)st->data_cap;
    if (bound > SIZE_MAX - 1 - (size_t)st->data_len ||
        hf_grow(&st->data, &c, (size_t)st->data_len + bound + 1, 1))
      return HF_E_NOMEM;
    st->data_cap = c;
  }
  /* Keep the table at most half full. */
  if ((uint64_t)st->n + 1 > (st->tmask + 1) / 2)
    return table_grow(st);
  return HF_OK;
}

/* Appends the record whose blob of `len` bytes was rendered at the end of
 * data; its table entry goes to free position `pos`. */
static uint32_t store_add(hf_bstore *st, uint64_t pos, size_t len, uint64_t h,
                          uint64_t line) {
  uint32_t id = st->n++;
  st->table[pos].ent = HF_B_ENT(h, id);
  st->table[pos].loc = slot_loc(st->data_len, len);
  st->data_len += len;
  st->off[id + 1] = st->data_len;
  st->hash[id] = h;
  st->flags[id] = 0;
  if (st->line != NULL)
    st->line[id] = line;
  return id;
}

/* Removes the newest record (undo after discard).  Backward-shift deletion
 * keeps every remaining probe chain intact. */
static void store_pop(hf_bstore *st, size_t unit) {
  uint32_t id = st->n - 1;
  uint64_t mask = st->tmask, i = st->hash[id] & mask, j;
  while (HF_B_ENT_ID(st->table[i].ent) != id)
    i = (i + 1) & mask;
  for (j = (i + 1) & mask; st->table[j].ent != 0; j = (j + 1) & mask) {
    uint64_t home = st->hash[HF_B_ENT_ID(st->table[j].ent)] & mask;
    /* Move entry j into the hole at i unless its home lies in (i, j]. */
    int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      st->table[i] = st->table[j];
      i = j;
    }
  }
  st->table[i].ent = 0;
  st->table[i].loc = 0;
  st->n--;
  st->data_len = st->off[id];
  if (unit > 0) /* collections count their elements for the §10 limit */
    st->nelems -= (st->off[id + 1] - st->off[id]) / unit;
}

/* Bytes per element or entry in a collection blob; 0 for objects. */
static size_t elem_unit(const hf_type_def *t) {
  return t->kind == HF_KIND_OBJECT ? 0 : t->kind == HF_KIND_MAP ? 8 : 4;
}

static int keys_equal(const hf_value *a, const hf_value *c, uint32_t n) {
  uint32_t k;
  for (k = 0; k < n; k++)
    if (!hf_value_equal(&a[k], &c[k]))
      return 0;
  return 1;
}

/* Looks the record whose blob `mine` (len bytes) is up by key; see
 * hf_builder_end().  *h is its key hash, computed here unless `hashed`. */
static int end_keyed(hf_builder *b, uint32_t type, const unsigned char *mine,
                     size_t len, int root, uint32_t *id, uint64_t *pos,
                     uint64_t *h, int hashed, hf_error *err) {
  const hf_type_def *t = &b->schema->types[type];
  const hf_bstore *st = &b->stores[type];
  hf_value kv[HF_MAX_KEYS], ov[HF_MAX_KEYS];
  uint32_t nullk = 0;
  uint64_t i, ent;
  if (hf_bkey_values(b, type, mine, kv, &nullk) != HF_OK)
    return hf_fail_at(err, HF_E_INPUT, b->line, 0, "%s: primary key %s is null",
                      t->name, t->keys[nullk].text);
  if (!hashed)
    *h = hf_key_hash(kv, t->nkeys);
  for (i = *h & st->tmask; (ent = st->table[i].ent) != 0;
       i = (i + 1) & st->tmask) {
    const uint32_t e = HF_B_ENT_ID(ent);
    size_t elen;
    const unsigned char *eb;
    char kbuf[160];
    if ((ent ^ *h) >> 32)
      continue;
    /* The tag matched 32 bits of the hash: comparing the key itself costs
     * no more than a look at the stored hash (one cache miss either way),
     * and on a match it is needed anyway. */
    eb = slot_blob(st, &st->table[i], &elen);
    hf_bkey_values(b, type, eb, ov, &nullk);
    if (!keys_equal(kv, ov, t->nkeys))
      continue;
    /* Same key: the same record if nested and equal, else a conflict. */
    if ((root && (st->flags[e] & HF_B_ROOT)) || elen != len ||
        memcmp(eb, mine, len) != 0) {
      format_key(kv, t->nkeys, kbuf, sizeof kbuf);
      if (st->line[e] != 0)
        return hf_fail_at(err, HF_E_DUPKEY, b->line, 0,
                          "%s: duplicate primary key %s (first at line "
                          "%" PRIu64 ")",
                          t->name, kbuf, st->line[e]);
      return hf_fail_at(err, HF_E_DUPKEY, b->line, 0,
                        "%s: duplicate primary key %s", t->name, kbuf);
    }
    *id = e;
    return HF_OK;
  }
  *id = HF_B_NOID;
  *pos = i;
  return HF_OK;
}

/* Looks the record whose blob `blob` (len bytes) is up by content; *h is
 * its hash, computed here unless `hashed`. */
static int end_unkeyed(hf_builder *b, uint32_t type, const unsigned char *blob,
                       size_t len, uint32_t *id, uint64_t *pos, uint64_t *h,
                       int hashed) {
  const hf_type_def *t = &b->schema->types[type];
  const hf_bstore *st = &b->stores[type];
  const unsigned char *mine = canonical(b, t, blob, len, 0);
  uint64_t i, ent;
  if (mine == NULL)
    return HF_E_NOMEM;
  if (!hashed)
    *h = hf_xxh3(mine, len);
  for (i = *h & st->tmask; (ent = st->table[i].ent) != 0;
       i = (i + 1) & st->tmask) {
    size_t elen;
    const unsigned char *eb;
    if ((ent ^ *h) >> 32)
      continue;
    /* The tag matched 32 bits of the hash; the length and the bytes decide
     * (no look at the stored hash: a duplicate would pay a cache miss for
     * it, and duplicates are most of the lookups of shared lists). */
    eb = slot_blob(st, &st->table[i], &elen);
    if (elen != len)
      continue;
    if ((eb = canonical(b, t, eb, elen, 1)) == NULL)
      return HF_E_NOMEM;
    if (memcmp(eb, mine, len) == 0) {
      *id = HF_B_ENT_ID(ent);
      return HF_OK;
    }
  }
  *id = HF_B_NOID;
  *pos = i;
  return HF_OK;
}

static int keep(hf_builder *b, uint32_t type, uint32_t id, uint64_t pos,
                size_t len, uint64_t h, int root, hf_ref *out, hf_error *err);

/* What every close checks: a usable builder with a record open. */
static int end_check(hf_builder *b, hf_error *err) {
  int rc;
  if (b == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder");
  if ((rc = check_open(b, err)) != HF_OK)
    return rc;
  if (b->depth == 0)
    return hf_fail_at(err, HF_E_ARG, b->line, 0, "end: no record open");
  return HF_OK;
}

/* store_reserve() with its failures worded. */
static int reserve(hf_builder *b, hf_bstore *st, const hf_type_def *t,
                   size_t bound, hf_error *err) {
  const int rc = store_reserve(st, t, bound);
  if (rc == HF_E_LIMIT)
    return hf_fail_at(err, rc, b->line, 0, "%s: more than %u records", t->name,
                      HF_MAX_ORDINALS);
  return rc != HF_OK ? nomem(b, err) : HF_OK;
}

/* Closes the innermost open record (of `type`), whose blob lies at the end
 * of its store: finds it by key or content, keeps it, pops the frame.  h is
 * the key hash when `hashed`. */
static int close_top(hf_builder *b, uint32_t type, const unsigned char *blob,
                     size_t len, uint64_t h, int hashed, hf_ref *out,
                     hf_error *err) {
  const hf_type_def *t = &b->schema->types[type];
  const int root = b->depth == 1;
  uint32_t id;
  uint64_t pos = 0;
  int rc;
  if (t->kind == HF_KIND_OBJECT && t->nkeys > 0) {
    rc = end_keyed(b, type, blob, len, root, &id, &pos, &h, hashed, err);
    if (rc != HF_OK)
      return rc;
  } else if (end_unkeyed(b, type, blob, len, &id, &pos, &h, 0) != HF_OK) {
    return nomem(b, err);
  }
  rc = keep(b, type, id, pos, len, h, root, out, err);
  if (rc == HF_OK)
    b->depth--;
  return rc;
}

int hf_builder_end(hf_builder *b, hf_ref *out, hf_error *err) {
  hf_bframe *f;
  const hf_type_def *t;
  hf_bstore *st;
  unsigned char *blob;
  size_t len;
  int rc;
  if ((rc = end_check(b, err)) != HF_OK)
    return rc;
  f = &b->frames[b->depth - 1];
  t = &b->schema->types[f->type];
  st = &b->stores[f->type];
  if ((rc = reserve(b, st, t, blob_bound(t, f), err)) != HF_OK)
    return rc;
  /* Rendered in place: a new record is kept by advancing data_len, a
   * repeat is left there to be overwritten. */
  blob = st->data + st->data_len;
  len = make_blob(t, f, blob);
  if (elem_unit(t) > 0 && len / elem_unit(t) > HF_MAX_ELEMENTS - st->nelems)
    return hf_fail_at(err, HF_E_LIMIT, b->line, 0,
                      "%s: more than 2^40 elements", t->name);
  return close_top(b, f->type, blob, len, 0, 0, out, err);
}

/* The rest of closing a record of `type` whose blob (len bytes, hash h) lies
 * at the end of its store: id is the repeat found, or HF_B_NOID and pos the
 * free table position for a new record.  *out (may be NULL) gets its ref. */
static int keep(hf_builder *b, uint32_t type, uint32_t id, uint64_t pos,
                size_t len, uint64_t h, int root, hf_ref *out, hf_error *err) {
  const hf_type_def *t = &b->schema->types[type];
  hf_bstore *st = &b->stores[type];
  if (id == HF_B_NOID) {
    if (!root) {
      if (hf_grow(&b->undo, &b->undo_cap, b->nundo + 1, sizeof *b->undo))
        return nomem(b, err);
    }
    id = store_add(st, pos, len, h, b->line);
    if (elem_unit(t) > 0)
      st->nelems += len / elem_unit(t);
    if (!root) {
      b->undo[b->nundo].type = type;
      b->undo[b->nundo].id = id;
      b->nundo++;
    }
  }
  if (root) {
    if (hf_grow(&b->roots, &b->roots_cap, b->nroots + 1, sizeof *b->roots))
      return nomem(b, err);
    st->flags[id] |= HF_B_ROOT;
    b->roots[b->nroots].type = type;
    b->roots[b->nroots].id = id;
    b->nroots++;
    b->nundo = 0; /* everything created so far belongs to a root now */
  }
  if (out != NULL) {
    out->type = type;
    out->id = id;
  }
  return HF_OK;
}

/* ---- Leaf records (hf_jtape.c) ------------------------------------------ */

int hf_bleaf_type(const hf_schema *s, uint32_t type) {
  const hf_type_def *t = &s->types[type];
  uint32_t k;
  if (t->kind != HF_KIND_OBJECT || t->nkeys > 0)
    return 0;
  for (k = 0; k < t->nfields; k++)
    if (t->fields[k].type == HF_FT_REF)
      return 0;
  return 1;
}

int hf_bleaf_begin(hf_bframe *f, const hf_schema *s, uint32_t type) {
  return frame_begin(f, &s->types[type], type);
}

int hf_bleaf_set(hf_bframe *f, const hf_schema *s, uint32_t field, hf_ftype ft,
                 const void *p, size_t len) {
  const hf_type_def *t = &s->types[f->type];
  if (field >= t->nfields || t->fields[field].type != ft)
    return HF_E_TYPE;
  if (ft != HF_FT_STRING && ft != HF_FT_BYTES) {
    if (len != t->fields[field].size)
      return HF_E_ARG;
    frame_put_fixed(f, t, field, p);
    return HF_OK;
  }
  if (len > HF_MAX_STRING)
    return HF_E_LIMIT; /* the builder's own message comes from add_json */
  return frame_put_var(f, t, field, p, len);
}

size_t hf_bleaf_bound(const hf_schema *s, const hf_bframe *f) {
  return blob_bound(&s->types[f->type], f);
}

size_t hf_bleaf_render(const hf_schema *s, const hf_bframe *f,
                       unsigned char *dst) {
  return make_blob(&s->types[f->type], f, dst);
}

void hf_bleaf_free(hf_bframe *f) {
  frame_free(f);
}

void hf_builder_prefetch(const hf_builder *b, uint32_t type, uint64_t h,
                         int blob) {
  const hf_bstore *st = &b->stores[type];
  const hf_bslot *sl;
  unsigned k;
  if (st->tmask == 0)
    return;
  sl = &st->table[h & st->tmask];
  if (!blob) {
    HF_PREFETCH(sl);
    return;
  }
  /* The record may sit a few positions past its home (linear probing);
   * the positions are cached by now.  Both ends of the blob are fetched:
   * it may straddle two lines. */
  for (k = 0; k < 4 && sl->ent != 0; k++) {
    if (!((sl->ent ^ h) >> 32)) {
      if (sl->loc != HF_B_FAR) {
        const unsigned char *p = st->data + (sl->loc & HF_B_LOC_MASK);
        const size_t len = (size_t)(sl->loc >> HF_B_LOC_BITS);
        HF_PREFETCH(p);
        if (len > 1)
          HF_PREFETCH(p + len - 1);
      }
      return;
    }
    sl = &st->table[(h + k + 1) & st->tmask];
  }
}

int hf_builder_add_leaf(hf_builder *b, uint32_t type, const unsigned char *blob,
                        size_t len, uint64_t h, hf_ref *out, hf_error *err) {
  const hf_type_def *t;
  hf_bstore *st;
  uint32_t id;
  uint64_t pos = 0;
  int rc;
  if (b == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder");
  if ((rc = check_open(b, err)) != HF_OK)
    return rc;
  if (type >= b->schema->ntypes || !hf_bleaf_type(b->schema, type))
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "type %" PRIu32 " is not a leaf type", type);
  t = &b->schema->types[type];
  st = &b->stores[type];
  if ((rc = reserve(b, st, t, len, err)) != HF_OK)
    return rc;
  if (end_unkeyed(b, type, blob, len, &id, &pos, &h, 1) != HF_OK)
    return nomem(b, err);
  if (id == HF_B_NOID && len > 0) /* new: its blob joins the store */
    memcpy(st->data + st->data_len, blob, len);
  return keep(b, type, id, pos, len, h, b->depth == 0, out, err);
}

/* ---- Rendered records (hf_jtape.c) ---------------------------------------
 */

int hf_brender_type(const hf_schema *s, uint32_t type) {
  const hf_type_def *t = &s->types[type];
  uint32_t k;
  if (t->kind != HF_KIND_OBJECT || hf_bleaf_type(s, type))
    return 0;
  for (k = 0; k < t->nkeys; k++)
    if (t->keys[k].depth != 1)
      return 0;
  return 1;
}

int hf_bkey_hash_blob(const hf_schema *s, uint32_t type,
                      const unsigned char *blob, uint64_t *h) {
  hf_value kv[HF_MAX_KEYS];
  uint32_t nullk;
  if (key_values(s, NULL, type, blob, kv, &nullk) != HF_OK)
    return HF_NULL;
  *h = hf_key_hash(kv, s->types[type].nkeys);
  return HF_OK;
}

/* Puts the builder id of each reference of the blob at dst in place of the
 * index into map[] that was rendered there, checked as set_ref checks. */
static int patch_refs(hf_builder *b, const hf_type_def *t, unsigned char *dst,
                      const hf_ref *map, size_t nmap, hf_error *err) {
  uint32_t f;
  for (f = 0; f < t->nfields; f++) {
    const hf_field_def *fd = &t->fields[f];
    hf_ref ref = {HF_NO_TYPE, UINT32_MAX};
    uint32_t local;
    int rc;
    if (fd->type != HF_FT_REF ||
        !(dst[t->present_off + f / 8] & (1u << (f % 8))))
      continue;
    local = hf_le32(dst + fd->offset);
    if (local < nmap)
      ref = map[local];
    if ((rc = check_ref(b, ref, fd->ref_type, t->name, ".", fd->name, err)) !=
        HF_OK)
      return rc;
    hf_put32(dst + fd->offset, ref.id);
  }
  return HF_OK;
}

int hf_builder_end_blob(hf_builder *b, uint32_t type, const unsigned char *blob,
                        size_t len, uint64_t h, const hf_ref *map, size_t nmap,
                        hf_ref *out, hf_error *err) {
  const hf_type_def *t;
  hf_bstore *st;
  unsigned char *dst;
  int rc;
  if ((rc = end_check(b, err)) != HF_OK)
    return rc;
  if (b->frames[b->depth - 1].type != type || !hf_brender_type(b->schema, type))
    return hf_fail_at(err, HF_E_ARG, b->line, 0,
                      "end: type %" PRIu32 " is not the open rendered record",
                      type);
  t = &b->schema->types[type];
  st = &b->stores[type];
  if ((rc = reserve(b, st, t, len, err)) != HF_OK)
    return rc;
  /* In place at the end of the store, as hf_builder_end() renders it */
  dst = st->data + st->data_len;
  memcpy(dst, blob, len);
  if ((rc = patch_refs(b, t, dst, map, nmap, err)) != HF_OK)
    return rc;
  return close_top(b, type, dst, len, h, 1, out, err);
}

void hf_builder_discard(hf_builder *b) {
  if (b == NULL)
    return;
  b->depth = 0;
  /* Records made for the abandoned root go too, newest first, so that they
   * can neither be referenced nor collide with later keys. */
  while (b->nundo > 0) {
    hf_ref r = b->undo[--b->nundo];
    hf_bstore *st = &b->stores[r.type];
    if (st->n == r.id + 1)
      store_pop(st, elem_unit(&b->schema->types[r.type]));
  }
}
