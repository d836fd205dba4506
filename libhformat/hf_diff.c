/*
 * hf_diff.c - the changes between two snapshots of one schema, by primary
 * key, down to the field (hformat.h, "Diff").
 *
 * Records of keyed types are matched through the other snapshot's primary
 * key index, others by ordinal.  Content is compared deeply: strings by
 * bytes, references by the content of the records they point to, lists
 * element by element, sets and maps as sets.  Ordinals never count as
 * content, so snapshots built independently compare right.
 *
 * Two shortcuts keep the work O(records):
 *  - a type whose BITMAP, SLOTS and HEAP/ELEMENTS sections have equal
 *    lengths and checksums in A and B, and whose referenced types are
 *    identical too, compares equal ordinal for ordinal without reading a
 *    record ("identical" types, decided once from the section tables);
 *  - the answer for "ordinal o of type t is equal in A and B" is kept in
 *    two bits per ordinal, so a record referenced from many places is
 *    compared once.
 * When B was built with A as base (hollow-build -b), unchanged records keep
 * their ordinals, so nearly every reference takes one of these.  References
 * whose ordinals differ are compared deeply, every time: slower, still right.
 *
 * Recursion follows the schema graph, which is acyclic (SCHEMA.md §3), so
 * its depth is bounded by the number of types.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hf_reader_internal.h"

/* Per-type facts decided before the walk. */
#define T_IDENT 0x1u /* equal ordinal for ordinal (see above) */
#define T_FLAT                                                                 \
  0x2u /* object without strings, bytes or references: equal                   \
          content is equal slot bytes */

/* Known answers for "ordinal o equal in A and B", 2 bits per ordinal. */
typedef struct dmemo {
  uint64_t *known; /* bit o: the answer for o is in `same` */
  uint64_t *same;
  uint32_t n; /* ordinals covered: min of the two limits */
  int tried;  /* allocation attempted (a failure only costs speed) */
} dmemo;

typedef struct dctx {
  const hf_reader *r[2]; /* A, B */
  const hf_schema *s;
  uint32_t flags;
  hf_diff_fn fn;
  void *fctx;
  hf_error *err;
  hf_diff_counts counts;
  unsigned char *tflags; /* T_* per type */
  dmemo *memo;           /* per type */
  hf_diff_change ch;     /* the event being built */
  hf_value keys[HF_MAX_KEYS];
  size_t plen;
  size_t pcut; /* path length before it was cut, or SIZE_MAX */
  char path[HF_DIFF_PATH_MAX + 1];
} dctx;

static const char *const side_name[2] = {"A", "B"};

/* ---- errors ------------------------------------------------------------- */

static int bad(dctx *d, int side, uint32_t t, uint32_t o, int rc) {
  if (rc == HF_NOTFOUND || rc == HF_NULL || rc == HF_E_ARG)
    rc = HF_E_CORRUPT; /* a reference or element to a missing record */
  return hf_fail(d->err, rc, UINT64_MAX, "snapshot %s: %s ordinal %u: %s",
                 side_name[side], d->s->types[t].name, (unsigned)o,
                 hf_strerror(rc));
}

/* ---- memo --------------------------------------------------------------- */

static dmemo *memo_of(dctx *d, uint32_t t) {
  dmemo *m = &d->memo[t];
  if (!m->tried) {
    const uint32_t la = hf_reader_ordinal_limit(d->r[0], t);
    const uint32_t lb = hf_reader_ordinal_limit(d->r[1], t);
    const size_t words = ((size_t)(la < lb ? la : lb) + 63) / 64;
    m->tried = 1;
    if (words > 0) {
      m->known = calloc(words, sizeof *m->known);
      m->same = calloc(words, sizeof *m->same);
      if (m->known == NULL || m->same == NULL) {
        free(m->known);
        free(m->same);
        m->known = m->same = NULL;
      } else {
        m->n = la < lb ? la : lb;
      }
    }
  }
  return m->known != NULL ? m : NULL;
}

/* 1 or 0 when known, -1 when not. */
static int memo_get(dctx *d, uint32_t t, uint32_t o) {
  const dmemo *m = memo_of(d, t);
  if (m == NULL || o >= m->n || !((m->known[o >> 6] >> (o & 63u)) & 1u))
    return -1;
  return (int)((m->same[o >> 6] >> (o & 63u)) & 1u);
}

static void memo_put(dctx *d, uint32_t t, uint32_t o, int same) {
  dmemo *m = memo_of(d, t);
  if (m == NULL || o >= m->n)
    return;
  m->known[o >> 6] |= UINT64_C(1) << (o & 63u);
  if (same)
    m->same[o >> 6] |= UINT64_C(1) << (o & 63u);
}

/* ---- content equality ----------------------------------------------------
 * eq() and friends return 1 (equal), 0 (different) or a negative error. */

static int eq(dctx *d, uint32_t t, uint32_t oa, uint32_t ob);

static int present(const hf_type_def *td, const unsigned char *slot,
                   uint32_t f) {
  return (slot[td->present_off + f / 8] >> (f % 8)) & 1u;
}

/* A string or bytes field known to be present. */
static int heap_value(const hf_record *rec, const hf_field_def *fd, uint32_t f,
                      hf_view *v) {
  return fd->type == HF_FT_STRING ? hf_record_string(rec, f, v)
                                  : hf_record_bytes(rec, f, v);
}

static int eq_object(dctx *d, uint32_t t, uint32_t oa, uint32_t ob) {
  const hf_type_def *td = &d->s->types[t];
  hf_record ra, rb;
  uint32_t f;
  int rc;
  if ((rc = hf_reader_record(d->r[0], t, oa, &ra)) != HF_OK)
    return bad(d, 0, t, oa, rc);
  if ((rc = hf_reader_record(d->r[1], t, ob, &rb)) != HF_OK)
    return bad(d, 1, t, ob, rc);
  if (d->tflags[t] & T_FLAT)
    return memcmp(ra.slot, rb.slot, td->slot_width) == 0;
  if (memcmp(ra.slot + td->present_off, rb.slot + td->present_off,
             td->present_len) != 0)
    return 0;
  for (f = 0; f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    hf_view va, vb;
    if (!present(td, ra.slot, f))
      continue;
    switch (fd->type) {
    case HF_FT_STRING:
    case HF_FT_BYTES:
      if ((rc = heap_value(&ra, fd, f, &va)) != HF_OK)
        return bad(d, 0, t, oa, rc);
      if ((rc = heap_value(&rb, fd, f, &vb)) != HF_OK)
        return bad(d, 1, t, ob, rc);
      if (va.len != vb.len ||
          (va.len > 0 && memcmp(va.ptr, vb.ptr, va.len) != 0))
        return 0;
      break;
    case HF_FT_REF:
      rc = eq(d, fd->ref_type, hf_le32(ra.slot + fd->offset),
              hf_le32(rb.slot + fd->offset));
      if (rc <= 0)
        return rc;
      break;
    default: /* fixed-size values compare bitwise (FORMAT.md §3.1) */
      if (memcmp(ra.slot + fd->offset, rb.slot + fd->offset, fd->size) != 0)
        return 0;
    }
  }
  return 1;
}

static int get_coll(dctx *d, int side, uint32_t t, uint32_t o, hf_coll *c) {
  const int rc = hf_reader_coll(d->r[side], t, o, c);
  return rc == HF_OK ? HF_OK : bad(d, side, t, o, rc);
}

/* Element or map key i of a collection. */
static uint32_t member(const hf_coll *c, uint64_t i) {
  return c->kind == HF_KIND_MAP ? hf_coll_key(c, i) : hf_coll_elem(c, i);
}

/* Finds, among members [from, n) of collection c of side `cside`, one whose
 * content equals record x of the other side (type mt).  Sets and map keys
 * are sorted by ordinal, so the same ordinal is tried first by binary
 * search; then every member.  Members of one collection have distinct
 * contents (distinct keys, or unkeyed records deduplicated, FORMAT.md
 * §6.8), so the first match is the only one.
 * @return 1 and *at, 0 when absent, or an error. */
static int find_member(dctx *d, uint32_t mt, uint32_t x, const hf_coll *c,
                       int cside, uint64_t from, uint64_t *at) {
  uint64_t lo = from, hi = c->n, i;
  int rc;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const uint32_t m = member(c, mid);
    if (m == x) {
      if ((rc = eq(d, mt, x, x)) != 0) {
        *at = mid;
        return rc;
      }
      break;
    }
    if (m < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (i = from; i < c->n; i++) {
    const uint32_t m = member(c, i);
    if (m == x)
      continue; /* tried above */
    rc = cside == 1 ? eq(d, mt, x, m) : eq(d, mt, m, x);
    if (rc != 0) {
      *at = i;
      return rc;
    }
  }
  return 0;
}

static int eq_coll(dctx *d, uint32_t t, uint32_t oa, uint32_t ob) {
  const hf_type_def *td = &d->s->types[t];
  hf_coll ca, cb;
  uint64_t i, i0, j;
  int rc;
  if ((rc = get_coll(d, 0, t, oa, &ca)) < 0 ||
      (rc = get_coll(d, 1, t, ob, &cb)) < 0)
    return rc;
  if (ca.n != cb.n)
    return 0;
  /* Position by position first: right for lists, and for sets and maps
   * whose members kept their ordinals. */
  for (i = 0; i < ca.n; i++) {
    rc = eq(d, td->elem_type, member(&ca, i), member(&cb, i));
    if (rc == 1 && td->kind == HF_KIND_MAP)
      rc = eq(d, td->value_type, hf_coll_value(&ca, i), hf_coll_value(&cb, i));
    if (rc < 0)
      return rc;
    if (rc == 0)
      break;
  }
  if (i == ca.n)
    return 1;
  if (td->kind == HF_KIND_LIST)
    return 0;
  if (td->kind == HF_KIND_MAP &&
      eq(d, td->elem_type, member(&ca, i), member(&cb, i)) == 1)
    return 0; /* same key, different value */
  /* Members before i0 matched pairwise, and members are distinct, so the
   * rest of A can only match the rest of B. */
  for (i0 = i; i < ca.n; i++) {
    rc = find_member(d, td->elem_type, member(&ca, i), &cb, 1, i0, &j);
    if (rc <= 0)
      return rc;
    if (td->kind == HF_KIND_MAP) {
      rc = eq(d, td->value_type, hf_coll_value(&ca, i), hf_coll_value(&cb, j));
      if (rc <= 0)
        return rc;
    }
  }
  return 1;
}

static int eq(dctx *d, uint32_t t, uint32_t oa, uint32_t ob) {
  int rc;
  if (oa == ob) {
    if (d->tflags[t] & T_IDENT)
      return 1;
    if ((rc = memo_get(d, t, oa)) >= 0)
      return rc;
  }
  rc = d->s->types[t].kind == HF_KIND_OBJECT ? eq_object(d, t, oa, ob)
                                             : eq_coll(d, t, oa, ob);
  if (rc >= 0 && oa == ob)
    memo_put(d, t, oa, rc);
  return rc;
}

/* ---- paths -------------------------------------------------------------- */

static void path_cut(dctx *d, size_t mark) {
  d->plen = mark;
  d->path[mark] = '\0';
  if (mark <= d->pcut)
    d->pcut = SIZE_MAX; /* back before the cut: appends work again */
}

/* Appends; a path that does not fit is cut on a character boundary and
 * ends in "...", and appends are dropped until path_cut() goes back before
 * the cut. */
static void path_add(dctx *d, const char *p, size_t len) {
  const size_t room = HF_DIFF_PATH_MAX - d->plen;
  if (d->pcut != SIZE_MAX)
    return;
  if (len <= room) {
    memcpy(d->path + d->plen, p, len);
    d->plen += len;
  } else {
    size_t keep = room >= 3 ? room - 3 : 0;
    while (keep > 0 && ((unsigned char)p[keep] & 0xC0u) == 0x80u)
      keep--; /* do not split a UTF-8 sequence */
    d->pcut = d->plen;
    if (room < 3) /* make room for the marker */
      d->plen = HF_DIFF_PATH_MAX - 3;
    memcpy(d->path + d->plen, p, keep);
    d->plen += keep;
    memcpy(d->path + d->plen, "...", 3);
    d->plen += 3;
  }
  d->path[d->plen] = '\0';
}

static void path_field(dctx *d, const char *name) {
  if (d->plen > 0)
    path_add(d, ".", 1);
  path_add(d, name, strlen(name));
}

static void path_index(dctx *d, uint64_t i) {
  char txt[32];
  const int n = snprintf(txt, sizeof txt, "[%llu]", (unsigned long long)i);
  path_add(d, txt, (size_t)n);
}

static int path_sink(void *ctx, const void *p, size_t len) {
  path_add((dctx *)ctx, (const char *)p, len);
  return 0;
}

/* "{" key-as-JSON "}" for a map entry. */
static int path_key(dctx *d, int side, uint32_t kt, uint32_t k) {
  int rc;
  path_add(d, "{", 1);
  if ((rc = hf_json_write_record(d->r[side], kt, k, path_sink, d, d->err)) < 0)
    return rc;
  path_add(d, "}", 1);
  return HF_OK;
}

/* ---- events -------------------------------------------------------------- */

static void v_none(hf_diff_value *v, const hf_reader *r) {
  memset(v, 0, sizeof *v);
  v->kind = HF_DV_NONE;
  v->reader = r;
}

static void v_record(hf_diff_value *v, const hf_reader *r, uint32_t t,
                     uint32_t o) {
  v_none(v, r);
  v->kind = HF_DV_RECORD;
  v->type = t;
  v->ordinal = o;
}

static int emit(dctx *d) {
  d->ch.op = HF_DIFF_FIELD;
  d->ch.path = d->path;
  d->ch.path_len = d->plen;
  return d->fn(d->fctx, &d->ch);
}

/* Emits a FIELD event with records (or NONE/NULL) on each side. */
static int emit_records(dctx *d, uint32_t t, uint32_t oa, uint32_t ob,
                        hf_diff_vkind absent) {
  if (oa == HF_NO_ORDINAL) {
    v_none(&d->ch.old_value, d->r[0]);
    d->ch.old_value.kind = absent;
  } else {
    v_record(&d->ch.old_value, d->r[0], t, oa);
  }
  if (ob == HF_NO_ORDINAL) {
    v_none(&d->ch.new_value, d->r[1]);
    d->ch.new_value.kind = absent;
  } else {
    v_record(&d->ch.new_value, d->r[1], t, ob);
  }
  return emit(d);
}

/* A primitive field of a record as a diff value. */
static int field_value(const hf_record *rec, const hf_field_def *fd, uint32_t f,
                       hf_diff_value *v) {
  int rc;
  v_none(v, rec->reader);
  v->kind = HF_DV_VALUE;
  v->value.type = fd->type;
  switch (fd->type) {
  case HF_FT_INT:
    rc = hf_record_int(rec, f, &v->value.u.i);
    break;
  case HF_FT_LONG:
    rc = hf_record_long(rec, f, &v->value.u.l);
    break;
  case HF_FT_FLOAT:
    rc = hf_record_float(rec, f, &v->value.u.f);
    break;
  case HF_FT_DOUBLE:
    rc = hf_record_double(rec, f, &v->value.u.d);
    break;
  case HF_FT_BOOLEAN:
    rc = hf_record_bool(rec, f, &v->value.u.b);
    break;
  default:
    rc = heap_value(rec, fd, f, &v->value.u.s);
  }
  if (rc == HF_NULL)
    v->kind = HF_DV_NULL;
  return rc == HF_NULL ? HF_OK : rc;
}

/* ---- the walk: FIELD events for records known to differ -------------------
 * Each returns 0, or nonzero to stop (an error, or the callback's value). */

static int walk_ref(dctx *d, uint32_t t, uint32_t oa, uint32_t ob);

static int walk_object(dctx *d, uint32_t t, uint32_t oa, uint32_t ob) {
  const hf_type_def *td = &d->s->types[t];
  const size_t mark = d->plen;
  hf_record ra, rb;
  uint32_t f;
  int rc;
  if ((rc = hf_reader_record(d->r[0], t, oa, &ra)) != HF_OK)
    return bad(d, 0, t, oa, rc);
  if ((rc = hf_reader_record(d->r[1], t, ob, &rb)) != HF_OK)
    return bad(d, 1, t, ob, rc);
  for (f = 0; f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    const int pa = present(td, ra.slot, f), pb = present(td, rb.slot, f);
    if (!pa && !pb)
      continue;
    path_field(d, fd->name);
    if (fd->type == HF_FT_REF) {
      const uint32_t xa = pa ? hf_le32(ra.slot + fd->offset) : HF_NO_ORDINAL;
      const uint32_t xb = pb ? hf_le32(rb.slot + fd->offset) : HF_NO_ORDINAL;
      if (pa && pb) {
        if ((rc = eq(d, fd->ref_type, xa, xb)) == 0)
          rc = walk_ref(d, fd->ref_type, xa, xb);
        else if (rc == 1)
          rc = 0;
      } else {
        rc = emit_records(d, fd->ref_type, xa, xb, HF_DV_NULL);
      }
    } else {
      hf_diff_value *va = &d->ch.old_value, *vb = &d->ch.new_value;
      if ((rc = field_value(&ra, fd, f, va)) != HF_OK)
        return bad(d, 0, t, oa, rc);
      if ((rc = field_value(&rb, fd, f, vb)) != HF_OK)
        return bad(d, 1, t, ob, rc);
      if (va->kind != vb->kind)
        rc = emit(d);
      else if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES)
        rc = va->value.u.s.len != vb->value.u.s.len ||
                     (va->value.u.s.len > 0 &&
                      memcmp(va->value.u.s.ptr, vb->value.u.s.ptr,
                             va->value.u.s.len) != 0)
                 ? emit(d)
                 : 0;
      else
        rc = memcmp(ra.slot + fd->offset, rb.slot + fd->offset, fd->size) != 0
                 ? emit(d)
                 : 0;
    }
    path_cut(d, mark);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int walk_list(dctx *d, uint32_t t, const hf_coll *ca,
                     const hf_coll *cb) {
  const uint32_t et = d->s->types[t].elem_type;
  const uint64_t n = ca->n < cb->n ? ca->n : cb->n;
  const size_t mark = d->plen;
  uint64_t i;
  int rc = 0;
  if (ca->n != cb->n) {
    v_none(&d->ch.old_value, d->r[0]);
    v_none(&d->ch.new_value, d->r[1]);
    d->ch.old_value.kind = d->ch.new_value.kind = HF_DV_LENGTH;
    d->ch.old_value.length = ca->n;
    d->ch.new_value.length = cb->n;
    if ((rc = emit(d)) != 0)
      return rc;
  }
  for (i = 0; i < ca->n || i < cb->n; i++) {
    const uint32_t ea = i < ca->n ? hf_coll_elem(ca, i) : HF_NO_ORDINAL;
    const uint32_t eb = i < cb->n ? hf_coll_elem(cb, i) : HF_NO_ORDINAL;
    if (i < n) {
      if ((rc = eq(d, et, ea, eb)) == 1)
        continue;
      if (rc < 0)
        return rc;
    }
    path_index(d, i);
    rc = i < n ? walk_ref(d, et, ea, eb)
               : emit_records(d, et, ea, eb, HF_DV_NONE);
    path_cut(d, mark);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Members of set `c` (side `side`) with no equal member in `other`, as
 * removed (side A) or added (side B) values at the set's path. */
static int walk_set_side(dctx *d, uint32_t et, const hf_coll *c, int side,
                         const hf_coll *other) {
  uint64_t i, at;
  int rc;
  for (i = 0; i < c->n; i++) {
    const uint32_t x = hf_coll_elem(c, i);
    if ((rc = find_member(d, et, x, other, 1 - side, 0, &at)) < 0)
      return rc;
    if (rc == 1)
      continue;
    rc = side == 0 ? emit_records(d, et, x, HF_NO_ORDINAL, HF_DV_NONE)
                   : emit_records(d, et, HF_NO_ORDINAL, x, HF_DV_NONE);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int walk_map(dctx *d, uint32_t t, const hf_coll *ca, const hf_coll *cb) {
  const hf_type_def *td = &d->s->types[t];
  const size_t mark = d->plen;
  uint64_t i, j;
  int rc;
  for (i = 0; i < ca->n; i++) {
    const uint32_t k = hf_coll_key(ca, i), va = hf_coll_value(ca, i);
    uint32_t vb = HF_NO_ORDINAL;
    if ((rc = find_member(d, td->elem_type, k, cb, 1, 0, &j)) < 0)
      return rc;
    if (rc == 1) {
      vb = hf_coll_value(cb, j);
      if ((rc = eq(d, td->value_type, va, vb)) < 0)
        return rc;
      if (rc == 1)
        continue;
    }
    if ((rc = path_key(d, 0, td->elem_type, k)) < 0)
      return rc;
    rc = vb == HF_NO_ORDINAL
             ? emit_records(d, td->value_type, va, vb, HF_DV_NONE)
             : walk_ref(d, td->value_type, va, vb);
    path_cut(d, mark);
    if (rc != 0)
      return rc;
  }
  for (j = 0; j < cb->n; j++) {
    const uint32_t k = hf_coll_key(cb, j);
    if ((rc = find_member(d, td->elem_type, k, ca, 0, 0, &i)) < 0)
      return rc;
    if (rc == 1)
      continue;
    if ((rc = path_key(d, 1, td->elem_type, k)) < 0)
      return rc;
    rc = emit_records(d, td->value_type, HF_NO_ORDINAL, hf_coll_value(cb, j),
                      HF_DV_NONE);
    path_cut(d, mark);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Whether records of t are written as a bare JSON value (one primitive
 * field): then a change is shown as the record's value at the referring
 * path ("genres[1]: \"Drama\" -> \"Crime\"") rather than one level down. */
static int bare(const hf_type_def *td) {
  return td->kind == HF_KIND_OBJECT && td->nfields == 1 &&
         td->fields[0].type != HF_FT_REF;
}

/* The differences between record oa (A) and ob (B) of t, known to differ,
 * at the current path. */
static int walk_ref(dctx *d, uint32_t t, uint32_t oa, uint32_t ob) {
  const hf_type_def *td = &d->s->types[t];
  hf_coll ca, cb;
  int rc;
  if (td->kind == HF_KIND_OBJECT)
    return bare(td) ? emit_records(d, t, oa, ob, HF_DV_NONE)
                    : walk_object(d, t, oa, ob);
  if ((rc = get_coll(d, 0, t, oa, &ca)) < 0 ||
      (rc = get_coll(d, 1, t, ob, &cb)) < 0)
    return rc;
  if (td->kind == HF_KIND_LIST)
    return walk_list(d, t, &ca, &cb);
  if (td->kind == HF_KIND_MAP)
    return walk_map(d, t, &ca, &cb);
  if ((rc = walk_set_side(d, td->elem_type, &ca, 0, &cb)) != 0)
    return rc;
  return walk_set_side(d, td->elem_type, &cb, 1, &ca);
}

/* ---- records ------------------------------------------------------------- */

/* Reports a record-level event; keys come from the side that has it. */
static int report(dctx *d, uint32_t t, hf_diff_op op, uint32_t oa,
                  uint32_t ob) {
  const hf_type_def *td = &d->s->types[t];
  int rc;
  d->ch.op = op;
  d->ch.type = t;
  d->ch.ordinal_a = oa;
  d->ch.ordinal_b = ob;
  d->ch.key = NULL;
  d->ch.key_count = 0;
  d->ch.path = d->path;
  d->ch.path_len = 0;
  path_cut(d, 0);
  v_none(&d->ch.old_value, d->r[0]);
  v_none(&d->ch.new_value, d->r[1]);
  if (td->kind == HF_KIND_OBJECT && td->nkeys > 0) {
    const int side = op == HF_DIFF_ADD;
    const uint32_t o = side ? ob : oa;
    rc = hf_reader_key_values(d->r[side], t, o, d->keys);
    if (rc != HF_OK)
      return bad(d, side, t, o, rc);
    d->ch.key = d->keys;
    d->ch.key_count = td->nkeys;
  }
  if (op == HF_DIFF_ADD)
    d->counts.added++;
  else if (op == HF_DIFF_REMOVE)
    d->counts.removed++;
  else
    d->counts.changed++;
  if ((rc = d->fn(d->fctx, &d->ch)) != 0 || op != HF_DIFF_CHANGE ||
      (d->flags & HF_DIFF_RECORDS_ONLY))
    return rc;
  return td->kind == HF_KIND_OBJECT ? walk_object(d, t, oa, ob)
                                    : walk_ref(d, t, oa, ob);
}

/* Record oa of A against record ob of B (either may be absent). */
static int compare(dctx *d, uint32_t t, uint32_t oa, uint32_t ob) {
  int rc;
  if (oa == HF_NO_ORDINAL)
    return ob == HF_NO_ORDINAL ? 0 : report(d, t, HF_DIFF_ADD, oa, ob);
  if (ob == HF_NO_ORDINAL)
    return report(d, t, HF_DIFF_REMOVE, oa, ob);
  if ((rc = eq(d, t, oa, ob)) != 0)
    return rc < 0 ? rc : 0;
  return report(d, t, HF_DIFF_CHANGE, oa, ob);
}

static int keys_equal(const hf_value *a, const hf_value *b, uint32_t n) {
  uint32_t k;
  for (k = 0; k < n && hf_value_equal(&a[k], &b[k]); k++)
    ;
  return k == n;
}

/* Keyed object types: both snapshots' ordinals in one ascending pass.  An
 * ordinal holding the same key on both sides (the common case when B was
 * built on A) needs no index probe; otherwise A's key is probed in B (a
 * removal or a moved record) and B's in A (an addition, or a move already
 * reported from A's side). */
static int diff_keyed(dctx *d, uint32_t t) {
  const uint32_t nk = d->s->types[t].nkeys;
  uint32_t oa = hf_reader_next(d->r[0], t, 0);
  uint32_t ob = hf_reader_next(d->r[1], t, 0);
  hf_value ka[HF_MAX_KEYS], kb[HF_MAX_KEYS];
  hf_record rec;
  int rc;
  while (oa != HF_NO_ORDINAL || ob != HF_NO_ORDINAL) {
    const uint32_t o = oa < ob ? oa : ob;
    const int in_a = oa == o, in_b = ob == o;
    int same = 0;
    if (in_a && (rc = hf_reader_key_values(d->r[0], t, o, ka)) != HF_OK)
      return bad(d, 0, t, o, rc);
    if (in_b && (rc = hf_reader_key_values(d->r[1], t, o, kb)) != HF_OK)
      return bad(d, 1, t, o, rc);
    if (in_a && in_b)
      same = keys_equal(ka, kb, nk);
    if (in_a) {
      uint32_t m = o;
      if (!same) {
        rc = hf_reader_find(d->r[1], t, ka, nk, &rec);
        if (rc < 0)
          return bad(d, 1, t, o, rc);
        m = rc == HF_OK ? rec.ordinal : HF_NO_ORDINAL;
      }
      if ((rc = compare(d, t, o, m)) != 0)
        return rc;
    }
    if (in_b && !same) {
      rc = hf_reader_find(d->r[0], t, kb, nk, &rec);
      if (rc < 0)
        return bad(d, 0, t, o, rc);
      if (rc == HF_NOTFOUND && (rc = compare(d, t, HF_NO_ORDINAL, o)) != 0)
        return rc;
    }
    if (in_a)
      oa = hf_reader_next(d->r[0], t, o + 1);
    if (in_b)
      ob = hf_reader_next(d->r[1], t, o + 1);
  }
  return 0;
}

/* Unkeyed types have no identity but their content: matched by ordinal,
 * which a build on a base keeps for unchanged content (FORMAT.md §6.8). */
static int diff_by_ordinal(dctx *d, uint32_t t) {
  uint32_t oa = hf_reader_next(d->r[0], t, 0);
  uint32_t ob = hf_reader_next(d->r[1], t, 0);
  int rc;
  if (d->tflags[t] & T_IDENT)
    return 0;
  while (oa != HF_NO_ORDINAL || ob != HF_NO_ORDINAL) {
    const uint32_t o = oa < ob ? oa : ob;
    if ((rc = compare(d, t, oa == o ? o : HF_NO_ORDINAL,
                      ob == o ? o : HF_NO_ORDINAL)) != 0)
      return rc;
    if (oa == o)
      oa = hf_reader_next(d->r[0], t, o + 1);
    if (ob == o)
      ob = hf_reader_next(d->r[1], t, o + 1);
  }
  return 0;
}

/* ---- set-up -------------------------------------------------------------- */

/* Whether type t's own sections are byte-identical in both snapshots, as
 * far as the section table tells (lengths and checksums). */
static int sections_equal(const hf_reader *a, const hf_reader *b, uint32_t t) {
  const hf_rtype *ta = &a->types[t], *tb = &b->types[t];
  int k;
  if (ta->limit != tb->limit || ta->count != tb->count)
    return 0;
  for (k = 0; k < 3; k++) {
    const uint32_t ia = ta->sec[k], ib = tb->sec[k];
    if (ia == HF_NO_SECTION || ib == HF_NO_SECTION)
      return ia == ib;
    if (hf_le64(hf_rsec(a, ia) + 16) != hf_le64(hf_rsec(b, ib) + 16) ||
        hf_le64(hf_rsec(a, ia) + 24) != hf_le64(hf_rsec(b, ib) + 24))
      return 0;
  }
  return 1;
}

/* T_IDENT and T_FLAT for every type, referenced types first. */
static void classify(dctx *d) {
  uint32_t i, f;
  for (i = 0; i < d->s->ntypes; i++) {
    const uint32_t t = d->s->topo[i];
    const hf_type_def *td = &d->s->types[t];
    unsigned fl = sections_equal(d->r[0], d->r[1], t) ? T_IDENT : 0u;
    if (td->kind == HF_KIND_OBJECT) {
      fl |= T_FLAT;
      for (f = 0; f < td->nfields; f++) {
        const hf_field_def *fd = &td->fields[f];
        if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES)
          fl &= ~T_FLAT;
        if (fd->type == HF_FT_REF) {
          fl &= ~T_FLAT;
          if (!(d->tflags[fd->ref_type] & T_IDENT))
            fl &= ~T_IDENT;
        }
      }
    } else if (!(d->tflags[td->elem_type] & T_IDENT) ||
               (td->kind == HF_KIND_MAP &&
                !(d->tflags[td->value_type] & T_IDENT))) {
      fl &= ~T_IDENT;
    }
    d->tflags[t] = (unsigned char)fl;
  }
}

/* The SCHEMA section's bytes (section 0 of a snapshot, FORMAT.md §5.4). */
static hf_view schema_bytes(const hf_reader *r) {
  hf_view v;
  const unsigned char *e = hf_rsec(r, 0);
  v.ptr = r->base + hf_le64(e + 8);
  v.len = (size_t)hf_le64(e + 16);
  return v;
}

static int check_schemas(const hf_reader *a, const hf_reader *b,
                         hf_error *err) {
  const hf_view sa = schema_bytes(a), sb = schema_bytes(b);
  const unsigned char *pa = sa.ptr, *pb = sb.ptr;
  size_t i, n = sa.len < sb.len ? sa.len : sb.len;
  unsigned line = 1;
  if (sa.len == sb.len && memcmp(pa, pb, n) == 0)
    return HF_OK;
  for (i = 0; i < n && pa[i] == pb[i]; i++)
    if (pa[i] == '\n')
      line++;
  return hf_fail(err, HF_E_SCHEMA, UINT64_MAX,
                 "the snapshots have different schemas (first difference "
                 "in line %u of the canonical schema text); a diff needs "
                 "the same schema on both sides (FORMAT.md §11.5)",
                 line);
}

static int ctx_open(dctx *d, const hf_reader *a, const hf_reader *b,
                    uint32_t type, uint32_t flags, hf_diff_fn fn, void *fctx,
                    hf_error *err) {
  int side, rc;
  memset(d, 0, offsetof(dctx, path));
  d->path[0] = '\0';
  d->pcut = SIZE_MAX;
  if (a == NULL || b == NULL || fn == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "null reader or callback");
  d->r[0] = a;
  d->r[1] = b;
  for (side = 0; side < 2; side++)
    if (!d->r[side]->records)
      return hf_fail(err, HF_E_ARG, UINT64_MAX,
                     "%s is a delta, not a snapshot: apply it to its base "
                     "first (hf_apply_mem)",
                     side_name[side]);
  if ((rc = check_schemas(a, b, err)) != HF_OK)
    return rc;
  d->s = a->schema;
  if (type >= d->s->ntypes)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "type %u out of range",
                   (unsigned)type);
  d->flags = flags;
  d->fn = fn;
  d->fctx = fctx;
  d->err = err;
  d->ch.reader_a = a;
  d->ch.reader_b = b;
  d->ch.path = d->path;
  d->tflags = calloc(d->s->ntypes, 1);
  d->memo = calloc(d->s->ntypes, sizeof *d->memo);
  if (d->tflags == NULL || d->memo == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  classify(d);
  return HF_OK;
}

static int ctx_close(dctx *d, int rc, hf_diff_counts *counts) {
  uint32_t t;
  if (d->memo != NULL)
    for (t = 0; t < d->s->ntypes; t++) {
      free(d->memo[t].known);
      free(d->memo[t].same);
    }
  free(d->memo);
  free(d->tflags);
  if (counts != NULL)
    *counts = d->counts;
  free(d);
  return rc;
}

/* ---- public -------------------------------------------------------------- */

int hf_diff(const hf_reader *a, const hf_reader *b, uint32_t type,
            uint32_t flags, hf_diff_fn fn, void *ctx, hf_diff_counts *counts,
            hf_error *err) {
  dctx *d = malloc(sizeof *d);
  const hf_type_def *td;
  int rc;
  if (counts != NULL)
    memset(counts, 0, sizeof *counts);
  if (d == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  if ((rc = ctx_open(d, a, b, type, flags, fn, ctx, err)) != HF_OK)
    return ctx_close(d, rc, counts);
  td = &d->s->types[type];
  rc = td->kind == HF_KIND_OBJECT && td->nkeys > 0 ? diff_keyed(d, type)
                                                   : diff_by_ordinal(d, type);
  return ctx_close(d, rc, counts);
}

int hf_diff_record(const hf_reader *a, const hf_reader *b, uint32_t type,
                   uint32_t ordinal_a, uint32_t ordinal_b, uint32_t flags,
                   hf_diff_fn fn, void *ctx, hf_diff_counts *counts,
                   hf_error *err) {
  dctx *d = malloc(sizeof *d);
  const uint32_t ord[2] = {ordinal_a, ordinal_b};
  int rc, side;
  if (counts != NULL)
    memset(counts, 0, sizeof *counts);
  if (d == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  if ((rc = ctx_open(d, a, b, type, flags, fn, ctx, err)) != HF_OK)
    return ctx_close(d, rc, counts);
  for (side = 0; side < 2; side++) {
    const uint32_t o = ord[side];
    if (o != HF_NO_ORDINAL && (o >= hf_reader_ordinal_limit(d->r[side], type) ||
                               !hf_rpopulated(&d->r[side]->types[type], o)))
      return ctx_close(d,
                       hf_fail(err, HF_E_ARG, UINT64_MAX,
                               "snapshot %s: %s ordinal %u is not populated",
                               side_name[side], d->s->types[type].name,
                               (unsigned)o),
                       counts);
  }
  return ctx_close(d, compare(d, type, ordinal_a, ordinal_b), counts);
}

int hf_diff_write_value(const hf_diff_value *v, hf_write_fn fn, void *ctx,
                        hf_error *err) {
  char txt[32];
  if (v == NULL || fn == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "null value or sink");
  switch (v->kind) {
  case HF_DV_NONE:
    return HF_OK;
  case HF_DV_NULL:
    return fn(ctx, "null", 4) == 0
               ? HF_OK
               : hf_fail(err, HF_E_IO, UINT64_MAX, "diff output: write failed");
  case HF_DV_LENGTH: {
    const int n =
        snprintf(txt, sizeof txt, "%llu", (unsigned long long)v->length);
    return fn(ctx, txt, (size_t)n) == 0
               ? HF_OK
               : hf_fail(err, HF_E_IO, UINT64_MAX, "diff output: write failed");
  }
  case HF_DV_VALUE:
    return hf_json_write_value(&v->value, fn, ctx, err);
  case HF_DV_RECORD:
    return hf_json_write_record(v->reader, v->type, v->ordinal, fn, ctx, err);
  }
  return hf_fail(err, HF_E_ARG, UINT64_MAX, "unknown value kind %d",
                 (int)v->kind);
}

static int put_text(hf_write_fn fn, void *ctx, const char *s, hf_error *err) {
  return fn(ctx, s, strlen(s)) == 0
             ? HF_OK
             : hf_fail(err, HF_E_IO, UINT64_MAX, "diff output: write failed");
}

static int put_jstring(hf_write_fn fn, void *ctx, const char *s, size_t len,
                       hf_error *err) {
  hf_value v;
  v.type = HF_FT_STRING;
  v.u.s.ptr = s;
  v.u.s.len = len;
  return hf_json_write_value(&v, fn, ctx, err);
}

int hf_diff_write_key(const hf_diff_change *c, int style, hf_write_fn fn,
                      void *ctx, hf_error *err) {
  const int json = style == HF_DIFF_KEY_JSON;
  const hf_schema *s;
  uint32_t k;
  int rc;
  if (c == NULL || fn == NULL || c->reader_a == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "null change or sink");
  s = hf_reader_schema(c->reader_a);
  if (c->key_count == 0 || c->key == NULL) {
    char txt[48];
    const uint32_t o =
        c->ordinal_a != HF_NO_ORDINAL ? c->ordinal_a : c->ordinal_b;
    snprintf(txt, sizeof txt, json ? "{\"ordinal\":%lu}" : "#%lu",
             (unsigned long)o);
    return put_text(fn, ctx, txt, err);
  }
  if (json && (rc = put_text(fn, ctx, "{", err)) < 0)
    return rc;
  for (k = 0; k < c->key_count; k++) {
    const char *path = "";
    hf_ftype leaf;
    hf_schema_key(s, c->type, k, &path, &leaf);
    if (k > 0 && (rc = put_text(fn, ctx, ",", err)) < 0)
      return rc;
    rc = json ? put_jstring(fn, ctx, path, strlen(path), err)
              : put_text(fn, ctx, path, err);
    if (rc < 0 || (rc = put_text(fn, ctx, json ? ":" : "=", err)) < 0 ||
        (rc = hf_json_write_value(&c->key[k], fn, ctx, err)) < 0)
      return rc;
  }
  return json ? put_text(fn, ctx, "}", err) : HF_OK;
}

int hf_diff_write_path(const hf_diff_change *c, hf_write_fn fn, void *ctx,
                       hf_error *err) {
  if (c == NULL || fn == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "null change or sink");
  return put_jstring(fn, ctx, c->path != NULL ? c->path : "", c->path_len, err);
}
