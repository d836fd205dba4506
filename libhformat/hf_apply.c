/*
 * hf_apply.c - applying deltas (FORMAT.md §8.6): the target snapshot is
 * built type by type in ordinal order, unchanged records copied from the
 * base with their heap offsets rebased, added and changed records taken
 * from the delta, then laid out, indexed and sealed by the same code that
 * writes every snapshot (hf_assemble.c).  The result must have the state
 * the delta names, so a wrong or damaged delta never yields a snapshot.
 *
 * Memory: the inputs' mappings, the output, the delta's decompressed
 * sections and, in a chain, one intermediate snapshot.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "hf_assemble.h"
#include "hf_delta_internal.h"
#include "hf_reader_internal.h"

typedef struct actx {
  const hf_reader *base, *delta;
  const hf_schema *s;
  hf_dtype *d;
  hf_error *err;
} actx;

static int bad(actx *A, uint32_t type, const char *fmt, uint32_t o) {
  char what[160];
  snprintf(what, sizeof what, fmt, (unsigned)o);
  return hf_fail(A->err, HF_E_CORRUPT, UINT64_MAX,
                 "delta does not fit its base: type '%s': %s (FORMAT.md "
                 "§8.6, R-DLT-09)",
                 A->s->types[type].name, what);
}

static int populated(const hf_rtype *t, uint32_t o) {
  return o < t->limit && hf_rpopulated(t, o);
}

/* Bytes of string/bytes values in an object slot, or entries of a
 * collection ordinal, of the base (what the record contributes to HEAP or
 * ELEMENTS).  Bounds are checked when the values are copied. */
static uint64_t base_var(const hf_rtype *t, uint32_t o) {
  const hf_type_def *td = t->def;
  if (td->kind == HF_KIND_OBJECT) {
    const unsigned char *slot = t->slots + (size_t)o * t->width;
    uint64_t sum = 0;
    uint32_t f;
    for (f = 0; f < td->nfields; f++) {
      const hf_field_def *fd = &td->fields[f];
      if ((fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES) &&
          ((slot[td->present_off + f / 8] >> (f % 8)) & 1u))
        sum += hf_le64(slot + fd->offset) >> HF_STR_OFF_BITS;
    }
    return sum;
  } else {
    uint64_t start = o == 0 ? 0 : hf_le64(t->slots + (size_t)(o - 1) * 8);
    uint64_t end = hf_le64(t->slots + (size_t)o * 8);
    return end >= start ? end - start : 0;
  }
}

/* Changed record o of an object type (§8.6 step 4): the base's record with
 * patch pt applied.  With dst NULL (planning) it checks that every masked
 * field really differs from the base's (R-DLT-18) and adds the record's
 * string/bytes bytes to *hpos; otherwise it writes the slot to dst and the
 * values to heap at *hpos (heap_len bytes in all). */
static int patch_record(actx *A, uint32_t type, uint32_t o, const hf_patch *pt,
                        unsigned char *dst, unsigned char *heap,
                        uint64_t heap_len, uint64_t *hpos) {
  const hf_rtype *bt = &A->base->types[type];
  const hf_type_def *td = bt->def;
  const unsigned char *bs = bt->slots + (size_t)o * td->slot_width;
  const unsigned char *vp = pt->values;
  uint32_t f;
  if (dst != NULL)
    memcpy(dst, bs, td->slot_width);
  for (f = 0; f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    const int str = fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES;
    const int had = hf_bit(bs + td->present_off, f);
    const unsigned char *src = NULL; /* string/bytes value to place */
    uint64_t len = 0;
    if (!hf_bit(pt->mask, f)) {
      uint64_t v, off;
      if (!str || !had)
        continue;
      v = hf_le64(bs + fd->offset);
      off = v & HF_STR_OFF_MASK;
      len = v >> HF_STR_OFF_BITS;
      if (off > bt->data_len || len > bt->data_len - off)
        return bad(A, type, "a value of base ordinal %u lies outside its heap",
                   o);
      src = bt->data + off;
    } else {
      const int has = hf_bit(pt->presence, f);
      const uint64_t vlen = has ? hf_patch_value_len(fd, vp) : 0;
      if (dst == NULL && has == had) {
        int same = !has;
        if (has && !str)
          same = memcmp(vp, bs + fd->offset, fd->size) == 0;
        else if (has) {
          uint64_t v = hf_le64(bs + fd->offset), off = v & HF_STR_OFF_MASK;
          same = (v >> HF_STR_OFF_BITS) == vlen - 4 && off <= bt->data_len &&
                 vlen - 4 <= bt->data_len - off &&
                 memcmp(bt->data + off, vp + 4, (size_t)(vlen - 4)) == 0;
        }
        if (same)
          return hf_fail(A->err, HF_E_CORRUPT, UINT64_MAX,
                         "delta does not fit its base: type '%s' ordinal %u: "
                         "patched field '%s' equals the base's (FORMAT.md "
                         "§8.6, R-DLT-18)",
                         td->name, (unsigned)o, fd->name);
      }
      if (dst != NULL) {
        unsigned char *pb = dst + td->present_off + f / 8;
        if (has)
          *pb = (unsigned char)(*pb | (1u << (f % 8)));
        else
          *pb = (unsigned char)(*pb & ~(1u << (f % 8)));
        if (!has || str)
          memset(dst + fd->offset, 0, fd->size);
        if (has && !str)
          memcpy(dst + fd->offset, vp, fd->size);
      }
      if (has && str) {
        src = vp + 4;
        len = vlen - 4;
      }
      vp += vlen;
      if (src == NULL)
        continue;
    }
    if (dst != NULL) {
      if (len > heap_len - *hpos)
        return bad(A, type, "a value of ordinal %u does not fit the heap", o);
      memcpy(heap + *hpos, src, (size_t)len);
      hf_put64(dst + fd->offset, *hpos | len << HF_STR_OFF_BITS);
    }
    *hpos += len;
  }
  return HF_OK;
}

/* Record count and HEAP bytes / element count of the target (§8.6 step 3),
 * with the base-dependent checks of REMOVED, ADDED, CHANGED and the TYPES
 * count. */
/* Whether ascending list v[0..n) holds o (binary search). */
static int has_ordinal(const uint32_t *v, uint64_t n, uint32_t o) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (v[mid] < o)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && v[lo] == o;
}

static int plan_type(actx *A, uint32_t type, hf_snap_type *st) {
  const hf_rtype *bt = &A->base->types[type];
  const hf_dtype *d = &A->d[type];
  const int obj = bt->def->kind == HF_KIND_OBJECT;
  uint64_t var, sub = 0, add = 0, i, changed = 0, count;
  int rc;
  for (i = 0; i < d->nremoved; i++) {
    uint32_t o = d->removed[i];
    if (!populated(bt, o))
      return bad(A, type, "removed ordinal %u is not in the base", o);
    sub += base_var(bt, o);
  }
  for (i = 0; i < d->nadded; i++) {
    uint32_t o = d->added[i];
    if (populated(bt, o)) {
      /* Objects changed in place travel as patches (CHANGED). */
      if (obj)
        return bad(A, type, "added ordinal %u is already in the base", o);
      changed++;
      sub += base_var(bt, o);
    }
  }
  for (i = 0; i < d->nchanged; i++) {
    uint32_t o = d->changed[i];
    hf_patch pt;
    if (!populated(bt, o))
      return bad(A, type, "changed ordinal %u is not in the base", o);
    sub += base_var(bt, o);
    hf_patch_get(bt->def, d, i, &pt);
    if ((rc = patch_record(A, type, o, &pt, NULL, NULL, 0, &add)) != HF_OK)
      return rc;
  }
  var = obj ? bt->data_len : bt->nelems;
  if (sub > var)
    return bad(A, type, "base records take more than their section (%u)", 0);
  var -= sub;
  var += obj ? d->dvar_len + add : d->dvar_len / bt->esize;
  count = (uint64_t)bt->count - d->nremoved - changed + d->nadded;
  if (count != d->count)
    return bad(A, type,
               "the result would hold a different record_count "
               "than TYPES says (%u)",
               d->count);
  /* R-DLT-09 before anything is sized from TYPES: ordinal_limit - 1 must be
   * populated in the result, so a small delta cannot declare a huge,
   * empty target (R-SEC-09). */
  if (d->limit > 0) {
    const uint32_t top = d->limit - 1;
    const int in_base =
        populated(bt, top) && !has_ordinal(d->removed, d->nremoved, top);
    if (!in_base && !has_ordinal(d->added, d->nadded, top))
      return bad(A, type, "ordinal_limit - 1 = %u is not populated", top);
  }
  st->limit = d->limit;
  st->count = d->count;
  st->var_len = var;
  return HF_OK;
}

/* BITMAP of the target: the base's, minus REMOVED, plus ADDED (§8.6). */
static int fill_bitmap(actx *A, uint32_t type, unsigned char *bm) {
  const hf_rtype *bt = &A->base->types[type];
  const hf_dtype *d = &A->d[type];
  uint64_t nbytes = ((uint64_t)d->limit + 63) / 64 * 8, i, pop = 0;
  uint64_t have = (uint64_t)bt->nwords * 8;
  memcpy(bm, bt->bitmap, (size_t)(have < nbytes ? have : nbytes));
  /* Base ordinals at or past the new limit must all be removed; the
   * population count below notices any that is not. */
  for (i = d->limit; i < nbytes * 8; i++)
    bm[i / 8] &= (unsigned char)~(1u << (i % 8));
  for (i = 0; i < d->nremoved; i++) {
    uint32_t o = d->removed[i];
    if (o < d->limit)
      bm[o / 8] &= (unsigned char)~(1u << (o % 8));
  }
  for (i = 0; i < d->nadded; i++) {
    uint32_t o = d->added[i]; /* < limit (decode) */
    bm[o / 8] |= (unsigned char)(1u << (o % 8));
  }
  for (i = 0; i < nbytes; i += 8)
    pop += (uint64_t)__builtin_popcountll(hf_le64(bm + i));
  if (pop != d->count)
    return bad(A, type,
               "base records beyond the new ordinal_limit %u are not removed",
               d->limit);
  if (d->limit > 0 && !((bm[(d->limit - 1) / 8] >> ((d->limit - 1) % 8)) & 1u))
    return bad(A, type, "ordinal_limit - 1 = %u is not populated",
               d->limit - 1);
  return HF_OK;
}

/* The first set bit >= from of a bitmap of nbytes bytes, or HF_NO_ORDINAL. */
static uint32_t next_bit(const unsigned char *bm, uint64_t nbytes,
                         uint64_t from) {
  uint64_t w = from / 64 * 8, bits;
  if (w >= nbytes)
    return HF_NO_ORDINAL;
  bits = hf_le64(bm + w) & (~UINT64_C(0) << (from % 64));
  for (;;) {
    if (bits != 0)
      return (uint32_t)(w * 8 + (uint64_t)__builtin_ctzll(bits));
    if ((w += 8) >= nbytes)
      return HF_NO_ORDINAL;
    bits = hf_le64(bm + w);
  }
}

static int fill_objects(actx *A, uint32_t type, const unsigned char *bm,
                        unsigned char *slots, unsigned char *heap,
                        uint64_t heap_len) {
  const hf_rtype *bt = &A->base->types[type];
  const hf_dtype *d = &A->d[type];
  const hf_type_def *td = bt->def;
  uint64_t nbytes = ((uint64_t)d->limit + 63) / 64 * 8, ai = 0, ci = 0;
  uint64_t hpos = 0;
  uint32_t o, w = td->slot_width;
  int rc = HF_OK;
  for (o = next_bit(bm, nbytes, 0); o != HF_NO_ORDINAL;
       o = next_bit(bm, nbytes, (uint64_t)o + 1)) {
    const unsigned char *src, *sheap;
    uint64_t sheap_len;
    unsigned char *dst = slots + (size_t)o * w;
    uint32_t f;
    if (ai < d->nadded && d->added[ai] == o) {
      src = d->dslots + ai * w;
      sheap = d->dvar;
      sheap_len = d->dvar_len;
      ai++;
    } else if (ci < d->nchanged && d->changed[ci] == o) {
      hf_patch pt;
      hf_patch_get(td, d, ci++, &pt);
      if ((rc = patch_record(A, type, o, &pt, dst, heap, heap_len, &hpos)) !=
          HF_OK)
        return rc;
      continue;
    } else if (populated(bt, o)) {
      src = bt->slots + (size_t)o * w;
      sheap = bt->data;
      sheap_len = bt->data_len;
    } else {
      return bad(A, type, "ordinal %u is neither in the base nor added", o);
    }
    memcpy(dst, src, w);
    for (f = 0; f < td->nfields; f++) {
      const hf_field_def *fd = &td->fields[f];
      uint64_t v, off, len;
      if ((fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES) ||
          !((src[td->present_off + f / 8] >> (f % 8)) & 1u))
        continue;
      v = hf_le64(src + fd->offset);
      off = v & HF_STR_OFF_MASK;
      len = v >> HF_STR_OFF_BITS;
      if (off > sheap_len || len > sheap_len - off || len > heap_len - hpos)
        return bad(A, type, "a value of ordinal %u lies outside its heap", o);
      memcpy(heap + hpos, sheap + off, (size_t)len);
      hf_put64(dst + fd->offset, hpos | len << HF_STR_OFF_BITS);
      hpos += len;
    }
  }
  if (hpos != heap_len)
    rc = bad(A, type, "heap values do not add up (%u)", 0);
  return rc;
}

static int fill_colls(actx *A, uint32_t type, const unsigned char *bm,
                      unsigned char *slots, unsigned char *elems,
                      uint64_t nelems) {
  const hf_rtype *bt = &A->base->types[type];
  const hf_dtype *d = &A->d[type];
  uint64_t nbytes = ((uint64_t)d->limit + 63) / 64 * 8, ai = 0, end = 0;
  uint64_t es = bt->def->kind == HF_KIND_MAP ? 8 : 4;
  uint32_t o, next = 0;
  for (o = next_bit(bm, nbytes, 0); o != HF_NO_ORDINAL;
       o = next_bit(bm, nbytes, (uint64_t)o + 1)) {
    const unsigned char *src;
    uint64_t n;
    for (; next < o; next++) /* unpopulated: end(o) = start(o) (§6.5) */
      hf_put64(slots + (size_t)next * 8, end);
    if (ai < d->nadded && d->added[ai] == o) {
      uint64_t s0 = ai == 0 ? 0 : hf_le64(d->dslots + 8 * (ai - 1));
      uint64_t e0 = hf_le64(d->dslots + 8 * ai); /* s0 <= e0 (decode) */
      src = d->dvar + s0 * es;
      n = e0 - s0;
      ai++;
    } else if (populated(bt, o)) {
      uint64_t s0 = o == 0 ? 0 : hf_le64(bt->slots + (size_t)(o - 1) * 8);
      uint64_t e0 = hf_le64(bt->slots + (size_t)o * 8);
      if (s0 > e0 || e0 > bt->nelems)
        return bad(A, type, "base ordinal %u has elements outside its section",
                   o);
      src = bt->data + s0 * es;
      n = e0 - s0;
    } else {
      return bad(A, type, "ordinal %u is neither in the base nor added", o);
    }
    if (n > nelems - end)
      return bad(A, type, "elements of ordinal %u do not fit", o);
    memcpy(elems + end * es, src, (size_t)(n * es));
    end += n;
    hf_put64(slots + (size_t)o * 8, end);
    next = o + 1;
  }
  for (; next < d->limit; next++)
    hf_put64(slots + (size_t)next * 8, end);
  if (end != nelems)
    return bad(A, type, "elements do not add up (%u)", 0);
  return HF_OK;
}

static int state_fail(hf_error *err, const hf_reader *delta,
                      const hf_reader *base) {
  return hf_fail(err, HF_E_STATE, HF_H_BASE_STATE,
                 "delta applies to state 0x%016" PRIx64
                 ", but the snapshot is state 0x%016" PRIx64
                 " (FORMAT.md §8.6, R-DLT-01)",
                 delta->info.base_state, base->info.state);
}

/* One delta applied to one snapshot, into a new blob: malloc'd, or from
 * `mem` when not NULL. */
static int apply_one(const hf_reader *base, const hf_reader *delta,
                     const hf_outmem *mem, unsigned char **out, size_t *len,
                     hf_error *err) {
  actx A;
  hf_blobw w;
  hf_snap_type *st = NULL;
  uint32_t *first = NULL, T, t;
  uint64_t state;
  int rc;
  if (!base->records)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "the base is a delta; deltas apply to snapshots");
  if (delta->records)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "a snapshot was given where a delta was expected");
  if (delta->info.base_state != base->info.state)
    return state_fail(err, delta, base);
  if ((rc = hf_reader_verify(delta, err)) != HF_OK)
    return rc;
  {
    uint64_t la = hf_le64(hf_rsec(base, 0) + 16);
    if (la != hf_le64(hf_rsec(delta, 0) + 16) ||
        memcmp(base->base + hf_le64(hf_rsec(base, 0) + 8),
               delta->base + hf_le64(hf_rsec(delta, 0) + 8), (size_t)la) != 0)
      return hf_fail(err, HF_E_CORRUPT, UINT64_MAX,
                     "the delta's schema differs from the snapshot's "
                     "(FORMAT.md §8.6, R-DLT-13)");
  }
  memset(&A, 0, sizeof A);
  memset(&w, 0, sizeof w);
  A.base = base;
  A.delta = delta;
  A.s = base->schema;
  A.err = err;
  T = A.s->ntypes;
  if ((rc = hf_delta_decode(delta, &A.d, err)) != HF_OK)
    return rc;
  st = malloc(((size_t)T + 1) * sizeof *st);
  first = malloc(((size_t)T + 1) * sizeof *first);
  if (st == NULL || first == NULL) {
    rc = hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
    goto out;
  }
  for (t = 0; t < T; t++)
    if ((rc = plan_type(&A, t, &st[t])) != HF_OK)
      goto out;
  w.mem = mem;
  if ((rc = hf_snap_layout(&w, A.s, st, first, err)) != HF_OK)
    goto out;
  for (t = 0; t < T && rc == HF_OK; t++) {
    unsigned char *bm = hf_blobw_data(&w, first[t] + HF_SNAP_BITMAP);
    unsigned char *slots = hf_blobw_data(&w, first[t] + HF_SNAP_SLOTS);
    unsigned char *var = hf_blobw_data(&w, first[t] + HF_SNAP_VAR);
    if ((rc = fill_bitmap(&A, t, bm)) != HF_OK)
      break;
    if (A.s->types[t].kind == HF_KIND_OBJECT)
      rc = fill_objects(&A, t, bm, slots, var, st[t].var_len);
    else
      rc = fill_colls(&A, t, bm, slots, var, st[t].var_len);
  }
  if (rc == HF_OK)
    rc = hf_snap_finish(&w, A.s, first, delta->info.dataset_version, &state,
                        err);
  if (rc == HF_OK && state != delta->info.state)
    rc = hf_fail(err, HF_E_CORRUPT, HF_H_STATE,
                 "the result has state 0x%016" PRIx64
                 ", but the delta promises 0x%016" PRIx64
                 " (FORMAT.md §8.6, R-DLT-02)",
                 state, delta->info.state);
  if (rc == HF_OK)
    *out = hf_blobw_take(&w, len);
out:
  hf_blobw_free(&w);
  hf_delta_types_free(A.d, T);
  free(st);
  free(first);
  return rc;
}

/* Copies a snapshot's bytes (n == 0: the result is the base itself). */
static int copy_blob(const hf_reader *r, unsigned char **out, size_t *len,
                     hf_error *err) {
  if ((*out = malloc(r->size ? (size_t)r->size : 1)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  memcpy(*out, r->base, (size_t)r->size);
  *len = (size_t)r->size;
  return HF_OK;
}

/* The chain applied; the last result comes from `last` when not NULL (and
 * n > 0), the others are malloc'd. */
static int apply_chain(const hf_reader *base, const hf_reader *const *deltas,
                       size_t n, const hf_outmem *last, void **out, size_t *len,
                       hf_error *err) {
  const hf_reader *cur = base;
  hf_reader *mid = NULL;
  unsigned char *buf = NULL, *next = NULL;
  size_t blen = 0, i;
  int rc = HF_OK;
  if (out == NULL || len == NULL || base == NULL || (deltas == NULL && n > 0))
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL argument");
  *out = NULL;
  *len = 0;
  if (!base->records)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "the base is a delta; deltas apply to snapshots");
  if (n == 0) {
    rc = copy_blob(base, &buf, &blen, err);
  }
  for (i = 0; i < n && rc == HF_OK; i++) {
    if (deltas[i] == NULL) {
      rc = hf_fail(err, HF_E_ARG, UINT64_MAX, "delta %zu is NULL", i + 1);
      break;
    }
    rc = apply_one(cur, deltas[i], i + 1 == n ? last : NULL, &next, &blen, err);
    if (rc != HF_OK && n > 1) {
      /* Say which link of the chain failed. */
      hf_error e2;
      if (err != NULL) {
        e2 = *err;
        hf_fail(err, rc, e2.offset, "delta %zu of %zu: %s", i + 1, n, e2.msg);
      }
    }
    hf_reader_close(mid);
    mid = NULL;
    free(buf);
    buf = NULL;
    if (rc != HF_OK)
      break;
    buf = next;
    if (i + 1 < n) {
      rc = hf_reader_open_mem(buf, blen, NULL, &mid, err);
      cur = mid;
    }
  }
  hf_reader_close(mid);
  if (rc != HF_OK) {
    free(buf);
    return rc;
  }
  *out = buf;
  *len = blen;
  hf_error_clear(err);
  return HF_OK;
}

int hf_apply_mem(const hf_reader *base, const hf_reader *const *deltas,
                 size_t n, void **out, size_t *len, hf_error *err) {
  return apply_chain(base, deltas, n, NULL, out, len, err);
}

int hf_apply_write_fd(const hf_reader *base, const hf_reader *const *deltas,
                      size_t n, int fd, hf_error *err) {
  void *p;
  size_t len;
  int rc;
  if (fd < 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "bad descriptor");
  if ((rc = hf_apply_mem(base, deltas, n, &p, &len, err)) != HF_OK)
    return rc;
  rc = hf_write_all(fd, p, len, err);
  free(p);
  return rc;
}

int hf_apply_write_path(const hf_reader *base, const hf_reader *const *deltas,
                        size_t n, const char *path, hf_error *err) {
  hf_outfile o;
  void *p;
  size_t len;
  int rc;
  if (path == NULL || path[0] == '\0')
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no path");
  /* The result is rendered straight into its output file (hf_write.c). */
  if ((rc = hf_outfile_open(&o, path, err)) != HF_OK)
    return rc;
  o.prefault = 1; /* the result is rendered on this thread alone */
  rc = apply_chain(base, deltas, n, &o.mem, &p, &len, err);
  if (rc == HF_OK) {
    if (n == 0) { /* a copy of the base, in memory */
      o.out = p;
      o.size = len;
      o.mapped = 0;
    }
    rc = hf_outfile_publish(&o, path, err);
  }
  hf_outfile_drop(&o);
  return rc;
}
