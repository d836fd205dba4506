/*
 * hf_delta.c - computing the delta between two snapshots (FORMAT.md §8):
 * per type, the ordinals removed, the records added whole, and for object
 * records present in both with different content only the fields that
 * changed (a patch).  Ordinals are the records' identities (§6.8), so a
 * record compares with the record of the same ordinal; a reverse delta is
 * the same computation in the other direction.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include "hf_assemble.h"
#include "hf_delta_internal.h"
#include "hf_lz4.h"
#include "hf_reader_internal.h"

/* A growing byte buffer for one delta section. */
typedef struct dbuf {
  unsigned char *p;
  size_t len, cap;
} dbuf;

static int dbuf_room(dbuf *b, size_t n) {
  size_t ncap = b->cap ? b->cap : 256;
  unsigned char *np;
  if (n <= b->cap - b->len)
    return HF_OK;
  if (n > SIZE_MAX / 2 - b->len)
    return HF_E_NOMEM;
  while (ncap - b->len < n)
    ncap *= 2;
  if ((np = realloc(b->p, ncap)) == NULL)
    return HF_E_NOMEM;
  b->p = np;
  b->cap = ncap;
  return HF_OK;
}

static int dbuf_put(dbuf *b, const void *p, size_t n) {
  if (dbuf_room(b, n) != HF_OK)
    return HF_E_NOMEM;
  if (n > 0)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  return HF_OK;
}

static int dbuf_u32(dbuf *b, uint32_t v) {
  unsigned char x[4];
  hf_put32(x, v);
  return dbuf_put(b, x, 4);
}

static int dbuf_u64(dbuf *b, uint64_t v) {
  unsigned char x[8];
  hf_put64(x, v);
  return dbuf_put(b, x, 8);
}

/* Compute state: the two snapshots, and the sections of the type being
 * compared (HF_DS_*; the ordinal lists as plain u32le until encoded). */
typedef struct dctx {
  const hf_reader *a, *b;
  const hf_schema *s;
  dbuf sec[HF_DELTA_MAX_SECS];
  unsigned char *scratch; /* two slots, for masked comparison */
  hf_error *err;
} dctx;

static int nomem(dctx *C) {
  return hf_fail(C->err, HF_E_NOMEM, UINT64_MAX, "out of memory");
}

static int corrupt(dctx *C, const char *which, uint32_t type, uint32_t o) {
  return hf_fail(C->err, HF_E_CORRUPT, UINT64_MAX,
                 "%s snapshot: %s record %" PRIu32
                 " points outside its section (run hollow-dump --verify)",
                 which, C->s->types[type].name, o);
}

/* A string/bytes value of a slot of r, bounds-checked (R-LKP-04). */
static int str_at(const hf_rtype *t, const unsigned char *slot,
                  const hf_field_def *fd, const unsigned char **p,
                  uint64_t *len) {
  uint64_t v = hf_le64(slot + fd->offset), off = v & HF_STR_OFF_MASK;
  *len = v >> HF_STR_OFF_BITS;
  if (off > t->data_len || *len > t->data_len - off)
    return HF_E_CORRUPT;
  *p = t->data + off;
  return HF_OK;
}

static int present(const hf_type_def *td, const unsigned char *slot,
                   uint32_t f) {
  return (slot[td->present_off + f / 8] >> (f % 8)) & 1u;
}

/* Logical equality of ordinal o of an object type in both snapshots
 * (§8.3): every value equal, strings and bytes by their bytes, references
 * by ordinal.  1 equal, 0 different, < 0 error. */
static int objects_equal(dctx *C, uint32_t type, uint32_t o) {
  const hf_type_def *td = &C->s->types[type];
  const hf_rtype *ta = &C->a->types[type], *tb = &C->b->types[type];
  const unsigned char *sa = ta->slots + (size_t)o * td->slot_width;
  const unsigned char *sb = tb->slots + (size_t)o * td->slot_width;
  unsigned char *x = C->scratch, *y = C->scratch + td->slot_width;
  uint32_t f;
  int strings = 0;
  memcpy(x, sa, td->slot_width);
  memcpy(y, sb, td->slot_width);
  for (f = 0; f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    if (fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES)
      continue;
    /* Offsets depend on the records before; lengths and bytes do not. */
    hf_put64(x + fd->offset, hf_le64(x + fd->offset) & ~HF_STR_OFF_MASK);
    hf_put64(y + fd->offset, hf_le64(y + fd->offset) & ~HF_STR_OFF_MASK);
    strings = 1;
  }
  if (memcmp(x, y, td->slot_width) != 0)
    return 0;
  for (f = 0; strings && f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    const unsigned char *pa, *pb;
    uint64_t la, lb;
    if ((fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES) ||
        !present(td, sa, f))
      continue;
    if (str_at(ta, sa, fd, &pa, &la) != HF_OK)
      return corrupt(C, "old", type, o);
    if (str_at(tb, sb, fd, &pb, &lb) != HF_OK)
      return corrupt(C, "new", type, o);
    if (la != lb || memcmp(pa, pb, (size_t)la) != 0)
      return 0;
  }
  return 1;
}

/* Element range of populated collection ordinal o (§6.5). */
static int coll_range(const hf_rtype *t, uint32_t o, const unsigned char **p,
                      uint64_t *len) {
  uint64_t start = o == 0 ? 0 : hf_le64(t->slots + (size_t)(o - 1) * 8);
  uint64_t end = hf_le64(t->slots + (size_t)o * 8);
  if (start > end || end > t->nelems)
    return HF_E_CORRUPT;
  *p = t->data + start * t->esize;
  *len = (end - start) * t->esize;
  return HF_OK;
}

static int colls_equal(dctx *C, uint32_t type, uint32_t o) {
  const unsigned char *pa, *pb;
  uint64_t la, lb;
  if (coll_range(&C->a->types[type], o, &pa, &la) != HF_OK)
    return corrupt(C, "old", type, o);
  if (coll_range(&C->b->types[type], o, &pb, &lb) != HF_OK)
    return corrupt(C, "new", type, o);
  return la == lb && memcmp(pa, pb, (size_t)la) == 0;
}

/* A keyed record added or changed at ordinal o must not exist in the old
 * snapshot under another ordinal: that only happens when the new snapshot
 * was built without the old one as its base (§6.8 rule 4, R-DLT-14). */
static int check_identity(dctx *C, uint32_t type, uint32_t o) {
  const hf_type_def *td = &C->s->types[type];
  hf_value vals[HF_MAX_KEYS];
  hf_record rec;
  int rc;
  if (td->kind != HF_KIND_OBJECT || td->nkeys == 0)
    return HF_OK;
  rc = hf_reader_key_values(C->b, type, o, vals);
  if (rc != HF_OK)
    return rc == HF_NULL ? HF_OK : corrupt(C, "new", type, o);
  rc = hf_reader_find(C->a, type, vals, td->nkeys, &rec);
  if (rc == HF_OK && rec.ordinal != o)
    return hf_fail(C->err, HF_E_ARG, UINT64_MAX,
                   "the new snapshot was not built from the old one: a %s "
                   "record has ordinal %" PRIu32
                   " in the old snapshot and %" PRIu32
                   " in the new (rebuild the new one with hollow-build -b "
                   "OLD, or ship it as a full snapshot)",
                   td->name, rec.ordinal, o);
  return rc < 0 ? corrupt(C, "old", type, rec.ordinal) : HF_OK;
}

/* Appends ordinal o of the new snapshot to ADDED, DSLOTS and DHEAP /
 * DELEMENTS (§8.3: offsets relative to DHEAP, ends cumulative). */
static int add_record(dctx *C, uint32_t type, uint32_t o) {
  const hf_type_def *td = &C->s->types[type];
  const hf_rtype *tb = &C->b->types[type];
  int rc;
  if ((rc = check_identity(C, type, o)) != HF_OK)
    return rc;
  if (dbuf_u32(&C->sec[HF_DS_ADDED], o) != HF_OK)
    return nomem(C);
  if (td->kind == HF_KIND_OBJECT) {
    const unsigned char *slot = tb->slots + (size_t)o * td->slot_width;
    unsigned char *ds;
    uint32_t f;
    if (dbuf_put(&C->sec[HF_DS_SLOTS], slot, td->slot_width) != HF_OK)
      return nomem(C);
    ds = C->sec[HF_DS_SLOTS].p + C->sec[HF_DS_SLOTS].len - td->slot_width;
    for (f = 0; f < td->nfields; f++) {
      const hf_field_def *fd = &td->fields[f];
      const unsigned char *p;
      uint64_t len;
      if ((fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES) ||
          !present(td, slot, f))
        continue;
      if (str_at(tb, slot, fd, &p, &len) != HF_OK)
        return corrupt(C, "new", type, o);
      hf_put64(ds + fd->offset,
               (uint64_t)C->sec[HF_DS_VAR].len | len << HF_STR_OFF_BITS);
      if (dbuf_put(&C->sec[HF_DS_VAR], p, (size_t)len) != HF_OK)
        return nomem(C);
    }
  } else {
    const unsigned char *p;
    uint64_t len;
    if (coll_range(tb, o, &p, &len) != HF_OK)
      return corrupt(C, "new", type, o);
    if (dbuf_put(&C->sec[HF_DS_VAR], p, (size_t)len) != HF_OK ||
        dbuf_u64(&C->sec[HF_DS_SLOTS], C->sec[HF_DS_VAR].len / tb->esize) !=
            HF_OK)
      return nomem(C);
  }
  return HF_OK;
}

/* Whether field f of ordinal o differs between the snapshots (§8.3:
 * presence, then the value; strings and bytes by their bytes).  1 differs,
 * 0 equal, < 0 error. */
static int field_differs(dctx *C, uint32_t type, uint32_t o, uint32_t f,
                         const unsigned char *sa, const unsigned char *sb) {
  const hf_type_def *td = &C->s->types[type];
  const hf_field_def *fd = &td->fields[f];
  const unsigned char *pa, *pb;
  uint64_t la, lb;
  int ha = present(td, sa, f), hb = present(td, sb, f);
  if (ha != hb)
    return 1;
  if (!ha)
    return 0;
  if (fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES)
    return memcmp(sa + fd->offset, sb + fd->offset, fd->size) != 0;
  if (str_at(&C->a->types[type], sa, fd, &pa, &la) != HF_OK)
    return corrupt(C, "old", type, o);
  if (str_at(&C->b->types[type], sb, fd, &pb, &lb) != HF_OK)
    return corrupt(C, "new", type, o);
  return la != lb || memcmp(pa, pb, (size_t)la) != 0;
}

/* Appends ordinal o to CHANGED and its patch to DPATCH (§8.3): mask of
 * the fields that differ, their presence in the new snapshot, then each
 * masked, present value (fixed size as in the slot; strings and bytes as
 * u32le length and bytes). */
static int add_patch(dctx *C, uint32_t type, uint32_t o) {
  const hf_type_def *td = &C->s->types[type];
  const hf_rtype *tb = &C->b->types[type];
  const unsigned char *sa =
      C->a->types[type].slots + (size_t)o * td->slot_width;
  const unsigned char *sb = tb->slots + (size_t)o * td->slot_width;
  dbuf *pb = &C->sec[HF_DS_PATCH];
  const size_t m = pb->len, pl = td->present_len;
  uint32_t f;
  int rc;
  if ((rc = check_identity(C, type, o)) != HF_OK)
    return rc;
  if (dbuf_u32(&C->sec[HF_DS_CHANGED], o) != HF_OK ||
      dbuf_room(pb, 2 * pl) != HF_OK)
    return nomem(C);
  memset(pb->p + m, 0, 2 * pl);
  pb->len += 2 * pl;
  for (f = 0; f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    if ((rc = field_differs(C, type, o, f, sa, sb)) < 0)
      return rc;
    if (rc == 0)
      continue;
    pb->p[m + f / 8] |= (unsigned char)(1u << (f % 8));
    if (!present(td, sb, f))
      continue;
    pb->p[m + pl + f / 8] |= (unsigned char)(1u << (f % 8));
    if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES) {
      const unsigned char *p;
      uint64_t len;
      if (str_at(tb, sb, fd, &p, &len) != HF_OK)
        return corrupt(C, "new", type, o);
      if (dbuf_u32(pb, (uint32_t)len) != HF_OK ||
          dbuf_put(pb, p, (size_t)len) != HF_OK)
        return nomem(C);
    } else if (dbuf_put(pb, sb + fd->offset, fd->size) != HF_OK) {
      return nomem(C);
    }
  }
  return HF_OK;
}

/* Rewrites a list of u32le ordinals, ascending, in the §8.3 form: empty,
 * or u32le count then LEB128 varints of the first ordinal and of each
 * gap minus one. */
static int encode_list(dctx *C, dbuf *b) {
  dbuf out = {NULL, 0, 0};
  size_t n = b->len / 4, i;
  uint32_t prev = 0;
  if (n == 0)
    return HF_OK;
  if (dbuf_room(&out, 4 + HF_VARINT_MAX * n) != HF_OK)
    return nomem(C);
  hf_put32(out.p, (uint32_t)n);
  out.len = 4;
  for (i = 0; i < n; i++) {
    uint32_t o = hf_le32(b->p + 4 * i), v = i == 0 ? o : o - prev - 1;
    while (v >= 0x80) {
      out.p[out.len++] = (unsigned char)(v | 0x80);
      v >>= 7;
    }
    out.p[out.len++] = (unsigned char)v;
    prev = o;
  }
  free(b->p);
  *b = out;
  return HF_OK;
}

/* Walks the union of both bitmaps word by word (§8.3 definitions). */
static int diff_type(dctx *C, uint32_t type) {
  const hf_rtype *ta = &C->a->types[type], *tb = &C->b->types[type];
  uint32_t nw = ta->nwords > tb->nwords ? ta->nwords : tb->nwords, w;
  int obj = C->s->types[type].kind == HF_KIND_OBJECT, rc;
  for (w = 0; w < nw; w++) {
    uint64_t wa = w < ta->nwords ? hf_le64(ta->bitmap + (size_t)w * 8) : 0;
    uint64_t wb = w < tb->nwords ? hf_le64(tb->bitmap + (size_t)w * 8) : 0;
    uint64_t bits = wa | wb;
    while (bits != 0) {
      unsigned bit = (unsigned)__builtin_ctzll(bits);
      uint32_t o = w * 64 + bit;
      uint64_t m = UINT64_C(1) << bit;
      bits &= bits - 1;
      if (o >= (wa & m ? ta->limit : tb->limit))
        return corrupt(C, wa & m ? "old" : "new", type, o);
      if ((wa & m) && !(wb & m)) {
        if (dbuf_u32(&C->sec[HF_DS_REMOVED], o) != HF_OK)
          return nomem(C);
        continue;
      }
      if (wa & m) {
        rc = obj ? objects_equal(C, type, o) : colls_equal(C, type, o);
        if (rc < 0)
          return rc;
        if (rc == 1)
          continue;
        /* Collections are content-addressed: a changed one travels whole. */
        if (obj) {
          if ((rc = add_patch(C, type, o)) != HF_OK)
            return rc;
          continue;
        }
      }
      if ((rc = add_record(C, type, o)) != HF_OK)
        return rc;
    }
  }
  if ((rc = encode_list(C, &C->sec[HF_DS_REMOVED])) != HF_OK ||
      (rc = encode_list(C, &C->sec[HF_DS_ADDED])) != HF_OK)
    return rc;
  return encode_list(C, &C->sec[HF_DS_CHANGED]);
}

/* Adds section (kind, type) holding `raw`, LZ4-compressed when asked and
 * when that makes it smaller (§8.4); *stored receives what to copy. */
static int add_section(dctx *C, hf_blobw *w, uint32_t kind, uint32_t type,
                       dbuf *raw, int lz4, dbuf *stored) {
  stored->len = 0;
  if (lz4 && raw->len > 8 && raw->len <= HF_LZ4_MAX_INPUT) {
    int bound = hf_lz4_bound((int)raw->len), got;
    if (dbuf_room(stored, 8 + (size_t)bound) != HF_OK)
      return nomem(C);
    /* A delta is written once and read by many: LZ4HC's slowest level
     * writes the same block format, 10-20 % smaller (§8.4). */
    got = hf_lz4_compress_max((const char *)raw->p, (char *)stored->p + 8,
                              (int)raw->len, bound);
    if (got > 0 && 8 + (size_t)got < raw->len) {
      hf_put64(stored->p, raw->len);
      stored->len = 8 + (size_t)got;
      return hf_blobw_add(w, kind | HF_SEC_LZ4, type, stored->len, C->err);
    }
  }
  if (dbuf_put(stored, raw->p, raw->len) != HF_OK)
    return nomem(C);
  return hf_blobw_add(w, kind, type, stored->len, C->err);
}

static int check_inputs(const hf_reader *from, const hf_reader *to,
                        hf_error *err) {
  size_t la, lb;
  const unsigned char *ba, *bb;
  if (from == NULL || to == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL snapshot");
  if (!from->records || !to->records)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "the %s blob is a delta; deltas are computed between two "
                   "snapshots (apply it first with hollow-apply)",
                   !from->records ? "old" : "new");
  ba = from->base + hf_le64(hf_rsec(from, 0) + 8);
  bb = to->base + hf_le64(hf_rsec(to, 0) + 8);
  la = (size_t)hf_le64(hf_rsec(from, 0) + 16);
  lb = (size_t)hf_le64(hf_rsec(to, 0) + 16);
  if (la != lb || memcmp(ba, bb, la) != 0)
    return hf_fail(err, HF_E_SCHEMA, UINT64_MAX,
                   "the schemas differ; a delta of format 1.0 needs identical "
                   "schemas (FORMAT.md §11.5, R-DLT-13): ship the new "
                   "version as a full snapshot instead");
  return HF_OK;
}

int hf_delta_mem(const hf_reader *from, const hf_reader *to, uint32_t flags,
                 void **out, size_t *len, hf_error *err) {
  dctx C;
  hf_blobw w;
  dbuf *all = NULL;
  uint32_t T, t, k, maxw = 8;
  int rc;
  if (out == NULL || len == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL output");
  *out = NULL;
  *len = 0;
  if ((rc = check_inputs(from, to, err)) != HF_OK)
    return rc;
  memset(&C, 0, sizeof C);
  memset(&w, 0, sizeof w);
  C.a = from;
  C.b = to;
  C.s = from->schema;
  C.err = err;
  T = C.s->ntypes;
  for (t = 0; t < T; t++)
    if (C.s->types[t].slot_width > maxw)
      maxw = C.s->types[t].slot_width;
  all = calloc((size_t)T * HF_DELTA_MAX_SECS + 1, sizeof *all);
  C.scratch = malloc(2 * (size_t)maxw);
  if (all == NULL || C.scratch == NULL) {
    rc = nomem(&C);
    goto out;
  }
  /* Compute every type first: the table needs every section's length. */
  for (t = 0; t < T; t++) {
    if ((rc = diff_type(&C, t)) != HF_OK)
      goto out;
    for (k = 0; k < HF_DELTA_MAX_SECS; k++) {
      all[t * HF_DELTA_MAX_SECS + k] = C.sec[k];
      memset(&C.sec[k], 0, sizeof C.sec[k]);
    }
  }
  {
    /* SCHEMA and TYPES: the target's, never compressed (§8.2). */
    uint64_t sl = hf_le64(hf_rsec(to, 0) + 16),
             tl = hf_le64(hf_rsec(to, 1) + 16);
    dbuf *packed = calloc((size_t)T * HF_DELTA_MAX_SECS + 1, sizeof *packed);
    uint32_t ns = 2;
    if (packed == NULL) {
      rc = nomem(&C);
      goto out;
    }
    rc = hf_blobw_add(&w, HF_SEC_SCHEMA, HF_NO_TYPE, sl, err);
    if (rc == HF_OK)
      rc = hf_blobw_add(&w, HF_SEC_TYPES, HF_NO_TYPE, tl, err);
    for (t = 0; t < T && rc == HF_OK; t++) {
      const uint32_t kinds[HF_DELTA_MAX_SECS] = {
          HF_SEC_REMOVED,
          HF_SEC_ADDED,
          HF_SEC_DSLOTS,
          C.s->types[t].kind == HF_KIND_OBJECT ? HF_SEC_DHEAP
                                               : HF_SEC_DELEMENTS,
          HF_SEC_CHANGED,
          HF_SEC_DPATCH};
      const uint32_t nsec = hf_delta_type_secs(&C.s->types[t]);
      for (k = 0; k < nsec && rc == HF_OK; k++)
        rc = add_section(&C, &w, kinds[k], t, &all[t * HF_DELTA_MAX_SECS + k],
                         (flags & HF_DELTA_LZ4) != 0,
                         &packed[t * HF_DELTA_MAX_SECS + k]);
    }
    if (rc == HF_OK)
      rc = hf_blobw_layout(&w, err);
    if (rc == HF_OK) {
      memcpy(hf_blobw_data(&w, 0), to->base + hf_le64(hf_rsec(to, 0) + 8),
             (size_t)sl);
      memcpy(hf_blobw_data(&w, 1), to->base + hf_le64(hf_rsec(to, 1) + 8),
             (size_t)tl);
      for (t = 0; t < T; t++)
        for (k = 0; k < hf_delta_type_secs(&C.s->types[t]); k++, ns++)
          if (packed[t * HF_DELTA_MAX_SECS + k].len > 0)
            memcpy(hf_blobw_data(&w, ns), packed[t * HF_DELTA_MAX_SECS + k].p,
                   packed[t * HF_DELTA_MAX_SECS + k].len);
      hf_blobw_seal(
          &w, flags & HF_DELTA_REVERSE ? HF_BLOB_REVERSE_DELTA : HF_BLOB_DELTA,
          to->info.dataset_version, from->info.state, to->info.state);
      *out = hf_blobw_take(&w, len);
    }
    for (k = 0; k < T * HF_DELTA_MAX_SECS; k++)
      free(packed[k].p);
    free(packed);
  }
out:
  for (k = 0; k < HF_DELTA_MAX_SECS; k++)
    free(C.sec[k].p);
  if (all != NULL)
    for (k = 0; k < T * HF_DELTA_MAX_SECS; k++)
      free(all[k].p);
  free(all);
  free(C.scratch);
  hf_blobw_free(&w);
  if (rc == HF_OK)
    hf_error_clear(err);
  return rc;
}

int hf_delta_write_fd(const hf_reader *from, const hf_reader *to,
                      uint32_t flags, int fd, hf_error *err) {
  void *p;
  size_t len;
  int rc;
  if (fd < 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "bad descriptor");
  if ((rc = hf_delta_mem(from, to, flags, &p, &len, err)) != HF_OK)
    return rc;
  rc = hf_write_all(fd, p, len, err);
  free(p);
  return rc;
}

int hf_delta_write_path(const hf_reader *from, const hf_reader *to,
                        uint32_t flags, const char *path, hf_error *err) {
  void *p;
  size_t len;
  int rc;
  if (path == NULL || path[0] == '\0')
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no path");
  if ((rc = hf_delta_mem(from, to, flags, &p, &len, err)) != HF_OK)
    return rc;
  rc = hf_publish(path, p, len, err);
  free(p);
  return rc;
}
