/*
 * hf_finish.c - turns the builder's stores into a canonical snapshot:
 * reachability and order of first appearance from the roots, ordinal
 * assignment against an optional base (FORMAT.md §6.8), then the header,
 * section table and sections of §4-§6, rendered into one buffer by jobs
 * that run on up to hf_build_opts.threads threads (see "Render jobs").
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "hf_assemble.h"
#include "hf_builder_internal.h"
#include "hf_reader_internal.h"

/* Per-type result of ordinal assignment. */
typedef struct tfin {
  uint32_t *ord; /* per builder id: final ordinal, or HF_B_NOID */
  uint32_t *seq; /* reachable ids in order of first appearance */
  uint32_t nseq;
  uint32_t *byord; /* per ordinal < limit: builder id, or HF_B_NOID */
  uint32_t limit;  /* ordinal_limit */
} tfin;

/* Reached but not yet given an ordinal (ordinals stay below 2^31). */
#define VISITED (HF_B_NOID - 1)

typedef struct fin {
  hf_builder *b;
  tfin *t;
  hf_error *err;
  unsigned char *scratch; /* content of one record in final form */
  size_t scratch_cap;
} fin;

static int grow_buf(unsigned char **p, size_t *cap, size_t need) {
  return hf_grow(p, cap, need, 1);
}

static int nomem(fin *F) {
  return hf_fail(F->err, HF_E_NOMEM, UINT64_MAX, "out of memory");
}

/* ---- Sorting small arrays ------------------------------------------------ */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Most sets and maps are small: insertion sort beats qsort's call cost. */
static void sort_u32(uint32_t *v, size_t n) {
  size_t i, j;
  if (n > 16) {
    qsort(v, n, sizeof *v, cmp_u32);
    return;
  }
  for (i = 1; i < n; i++) {
    uint32_t x = v[i];
    for (j = i; j > 0 && v[j - 1] > x; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

static void sort_u64(uint64_t *v, size_t n) {
  size_t i, j;
  if (n > 16) {
    qsort(v, n, sizeof *v, cmp_u64);
    return;
  }
  for (i = 1; i < n; i++) {
    uint64_t x = v[i];
    for (j = i; j > 0 && v[j - 1] > x; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* ---- Reachability and first appearance ----------------------------------- */

typedef struct dfs_item {
  uint32_t type, id;
  uint64_t next; /* next field / element (maps: 2*entry + 0 key, + 1 value) */
} dfs_item;

/* Child number `*cur` onwards of a record: the next reference, in order
 * (fields in declaration order, elements in order, key before value).
 * Returns 0 when there is none. */
static int next_child(const hf_builder *b, const dfs_item *it, uint64_t *cur,
                      hf_ref *child) {
  const hf_type_def *t = &b->schema->types[it->type];
  size_t len;
  const unsigned char *blob =
      hf_bstore_blob(&b->stores[it->type], it->id, &len);
  if (t->kind == HF_KIND_OBJECT) {
    for (; *cur < t->nfields; (*cur)++) {
      uint32_t f = (uint32_t)*cur;
      const hf_field_def *fd = &t->fields[f];
      if (fd->type != HF_FT_REF ||
          !(blob[t->present_off + f / 8] & (1u << (f % 8))))
        continue;
      child->type = fd->ref_type;
      child->id = hf_le32(blob + fd->offset);
      (*cur)++;
      return 1;
    }
    return 0;
  }
  if (*cur >= len / 4)
    return 0;
  memcpy(&child->id, blob + *cur * 4, 4);
  child->type =
      t->kind == HF_KIND_MAP && (*cur & 1) ? t->value_type : t->elem_type;
  (*cur)++;
  return 1;
}

/* Appends id to the appearance order of its type, once. */
static int visit(fin *F, hf_ref r, dfs_item **stack, size_t *sp, size_t *cap) {
  tfin *tf = &F->t[r.type];
  if (tf->ord[r.id] != HF_B_NOID)
    return 0;
  tf->ord[r.id] = VISITED;
  tf->seq[tf->nseq++] = r.id;
  if (*sp == *cap) {
    size_t ncap = *cap ? 2 * *cap : 64;
    dfs_item *ns = realloc(*stack, ncap * sizeof *ns);
    if (ns == NULL)
      return HF_E_NOMEM;
    *stack = ns;
    *cap = ncap;
  }
  (*stack)[*sp].type = r.type;
  (*stack)[*sp].id = r.id;
  (*stack)[*sp].next = 0;
  (*sp)++;
  return 0;
}

/* Depth first from each root in order; a type never contains itself, so
 * the first visit of a record is its first appearance (§6.8). */
static int traverse(fin *F) {
  hf_builder *b = F->b;
  dfs_item *stack = NULL;
  size_t sp = 0, cap = 0, r;
  int rc = HF_OK;
  for (r = 0; r < b->nroots && rc == HF_OK; r++) {
    rc = visit(F, b->roots[r], &stack, &sp, &cap);
    while (sp > 0 && rc == HF_OK) {
      hf_ref child;
      dfs_item *it = &stack[sp - 1];
      if (!next_child(b, it, &it->next, &child))
        sp--;
      else
        rc = visit(F, child, &stack, &sp, &cap);
    }
  }
  free(stack);
  return rc == HF_OK ? HF_OK : nomem(F);
}

/* ---- Final content, for matching unkeyed records against the base ------- */

/* Renders record `id` of `type` with references mapped to final ordinals
 * into F->scratch: object slots with relative string offsets followed by
 * the strings; collections as u32le ordinals, sets ascending, maps ascending
 * by key.  Types referenced are already final (topological order). */
static int final_content(fin *F, uint32_t type, uint32_t id, size_t *outlen) {
  const hf_builder *b = F->b;
  const hf_type_def *t = &b->schema->types[type];
  size_t len, i;
  const unsigned char *blob = hf_bstore_blob(&b->stores[type], id, &len);
  if (grow_buf(&F->scratch, &F->scratch_cap, len + 8))
    return HF_E_NOMEM;
  *outlen = len;
  if (t->kind == HF_KIND_OBJECT) {
    uint32_t f;
    memcpy(F->scratch, blob, len);
    for (f = 0; f < t->nfields; f++) {
      const hf_field_def *fd = &t->fields[f];
      if (fd->type == HF_FT_REF &&
          (blob[t->present_off + f / 8] & (1u << (f % 8))))
        hf_put32(F->scratch + fd->offset,
                 F->t[fd->ref_type].ord[hf_le32(blob + fd->offset)]);
    }
    return HF_OK;
  }
  if (t->kind == HF_KIND_MAP) {
    uint64_t *pairs = (uint64_t *)(void *)F->scratch;
    const tfin *kt = &F->t[t->elem_type], *vt = &F->t[t->value_type];
    for (i = 0; i < len / 8; i++) {
      uint32_t k, v;
      memcpy(&k, blob + 8 * i, 4);
      memcpy(&v, blob + 8 * i + 4, 4);
      pairs[i] = (uint64_t)kt->ord[k] << 32 | vt->ord[v];
    }
    sort_u64(pairs, len / 8);
    for (i = 0; i < len / 8; i++) {
      uint64_t p = pairs[i];
      hf_put32(F->scratch + 8 * i, (uint32_t)(p >> 32));
      hf_put32(F->scratch + 8 * i + 4, (uint32_t)p);
    }
    return HF_OK;
  } else {
    uint32_t *el = (uint32_t *)(void *)F->scratch;
    const tfin *et = &F->t[t->elem_type];
    for (i = 0; i < len / 4; i++) {
      uint32_t e;
      memcpy(&e, blob + 4 * i, 4);
      el[i] = et->ord[e];
    }
    if (t->kind == HF_KIND_SET)
      sort_u32(el, len / 4);
    for (i = 0; i < len / 4; i++)
      hf_put32(F->scratch + 4 * i, el[i]);
  }
  return HF_OK;
}

/* Base record o of `type` in the same form, into *buf. */
static int base_content(fin *F, uint32_t type, uint32_t o, unsigned char **buf,
                        size_t *cap, size_t *outlen) {
  const hf_reader *base = F->b->base;
  const hf_type_def *t = &F->b->schema->types[type];
  int rc;
  if (t->kind == HF_KIND_OBJECT) {
    hf_record rec;
    size_t pos = t->slot_width;
    uint32_t f;
    rc = hf_reader_record(base, type, o, &rec);
    if (rc != HF_OK)
      return rc < 0 ? rc : HF_E_CORRUPT;
    if (grow_buf(buf, cap, pos))
      return HF_E_NOMEM;
    memcpy(*buf, rec.slot, pos);
    for (f = 0; f < t->nfields; f++) {
      const hf_field_def *fd = &t->fields[f];
      hf_view v;
      if (fd->type != HF_FT_STRING && fd->type != HF_FT_BYTES)
        continue;
      rc = fd->type == HF_FT_STRING ? hf_record_string(&rec, f, &v)
                                    : hf_record_bytes(&rec, f, &v);
      if (rc == HF_NULL)
        continue;
      if (rc != HF_OK)
        return rc;
      if (grow_buf(buf, cap, pos + v.len))
        return HF_E_NOMEM;
      if (v.len > 0)
        memcpy(*buf + pos, v.ptr, v.len);
      hf_put64(*buf + fd->offset, (uint64_t)(pos - t->slot_width) |
                                      (uint64_t)v.len << HF_STR_OFF_BITS);
      pos += v.len;
    }
    *outlen = pos;
  } else {
    hf_coll c;
    uint64_t i, n;
    size_t w = t->kind == HF_KIND_MAP ? 8 : 4;
    rc = hf_reader_coll(base, type, o, &c);
    if (rc != HF_OK)
      return rc < 0 ? rc : HF_E_CORRUPT;
    n = c.n;
    if (n > SIZE_MAX / w || grow_buf(buf, cap, (size_t)n * w))
      return HF_E_NOMEM;
    for (i = 0; i < n; i++) {
      if (w == 8) {
        hf_put32(*buf + 8 * i, hf_coll_key(&c, i));
        hf_put32(*buf + 8 * i + 4, hf_coll_value(&c, i));
      } else {
        hf_put32(*buf + 4 * i, hf_coll_elem(&c, i));
      }
    }
    *outlen = (size_t)n * w;
  }
  return HF_OK;
}

static int base_fail(fin *F, uint32_t type, uint32_t o, int rc) {
  return hf_fail(F->err, rc, UINT64_MAX, "base: %s record %" PRIu32 ": %s",
                 F->b->schema->types[type].name, o, hf_strerror(rc));
}

/* keep_unkeyed's table: a base ordinal (< 2^31) under the high 32 bits of
 * its content's hash, in one word, so that a probe is one cache miss. */
#define KU_EMPTY UINT64_MAX
#define KU_ENT(h, o) (((h) & ~(uint64_t)0xFFFFFFFF) | (o))
/* Base records are inserted this many positions behind their hashing, the
 * table word prefetched meanwhile; the order of insertion is unchanged. */
#define KU_AHEAD 16

/* Inserts base ordinal o, whose content hashes to h. */
static void ku_insert(uint64_t *tab, uint64_t mask, uint64_t h, uint32_t o) {
  uint64_t j;
  for (j = h & mask; tab[j] != KU_EMPTY; j = (j + 1) & mask)
    ;
  tab[j] = KU_ENT(h, o);
}

/* Unkeyed records whose final content equals a base record's keep its
 * ordinal: hash every base record of the type, then probe with each new
 * record's final content. */
static int keep_unkeyed(fin *F, uint32_t type, unsigned char *used) {
  const hf_reader *base = F->b->base;
  tfin *tf = &F->t[type];
  uint32_t nbase = hf_reader_record_count(base, type), o, i, n = 0;
  uint64_t size = 2, mask, ring_h[KU_AHEAD];
  uint32_t ring_o[KU_AHEAD];
  uint64_t *tab;
  unsigned char *bb = NULL;
  size_t bcap = 0, blen, len;
  int rc = HF_OK;
  while (size < 2 * (uint64_t)nbase)
    size *= 2;
  mask = size - 1;
  if ((tab = malloc((size_t)size * sizeof *tab)) == NULL)
    return nomem(F);
  memset(tab, 0xFF, (size_t)size * sizeof *tab);
  for (o = hf_reader_next(base, type, 0); o != HF_NO_ORDINAL && nbase > 0;
       o = hf_reader_next(base, type, o + 1), nbase--, n++) {
    uint64_t h;
    rc = base_content(F, type, o, &bb, &bcap, &blen);
    if (rc != HF_OK) {
      rc = base_fail(F, type, o, rc);
      goto out;
    }
    h = hf_xxh3(bb, blen);
    HF_PREFETCH(&tab[h & mask]);
    if (n >= KU_AHEAD)
      ku_insert(tab, mask, ring_h[n % KU_AHEAD], ring_o[n % KU_AHEAD]);
    ring_h[n % KU_AHEAD] = h;
    ring_o[n % KU_AHEAD] = o;
  }
  for (i = n > KU_AHEAD ? n - KU_AHEAD : 0; i < n; i++)
    ku_insert(tab, mask, ring_h[i % KU_AHEAD], ring_o[i % KU_AHEAD]);
  for (i = 0; i < tf->nseq; i++) {
    uint32_t id = tf->seq[i];
    uint64_t h, j;
    if (final_content(F, type, id, &len) != HF_OK) {
      rc = nomem(F);
      goto out;
    }
    h = hf_xxh3(F->scratch, len);
    for (j = h & mask; tab[j] != KU_EMPTY; j = (j + 1) & mask) {
      const uint32_t bo = (uint32_t)tab[j];
      if ((tab[j] ^ h) >> 32 || (used[bo / 8] & (1u << (bo % 8))))
        continue;
      rc = base_content(F, type, bo, &bb, &bcap, &blen);
      if (rc != HF_OK) {
        rc = base_fail(F, type, bo, rc);
        goto out;
      }
      /* bb is NULL for empty content: memcmp must not see it (C11 7.24.1). */
      if (blen == len && (len == 0 || memcmp(bb, F->scratch, len) == 0)) {
        tf->ord[id] = bo;
        used[bo / 8] |= (unsigned char)(1u << (bo % 8));
        break;
      }
    }
  }
out:
  free(tab);
  free(bb);
  return rc;
}

/* Keyed records whose key is in the base keep its ordinal. */
static int keep_keyed(fin *F, uint32_t type, uint32_t base_limit,
                      unsigned char *used) {
  const hf_builder *b = F->b;
  const hf_type_def *t = &b->schema->types[type];
  tfin *tf = &F->t[type];
  const hf_rtype *bt = &b->base->types[type];
  const uint64_t *kh = b->stores[type].hash; /* §6.7.1 key hashes */
  hf_value kv[HF_MAX_KEYS];
  uint32_t i, nullk;
  for (i = 0; i < tf->nseq; i++) {
    uint32_t id = tf->seq[i], o;
    size_t len;
    hf_record rec;
    int rc;
    /* Random lookups in the base: fetch buckets 16 ahead, slots 8 ahead. */
    if (i + 16 < tf->nseq)
      hf_rpk_prefetch(bt, kh[tf->seq[i + 16]], 1);
    if (i + 8 < tf->nseq)
      hf_rpk_prefetch(bt, kh[tf->seq[i + 8]], 2);
    hf_bkey_values(b, type, hf_bstore_blob(&b->stores[type], id, &len), kv,
                   &nullk);
    rc = hf_reader_find(b->base, type, kv, t->nkeys, &rec);
    if (rc == HF_NOTFOUND)
      continue;
    if (rc != HF_OK)
      return hf_fail(F->err, rc, UINT64_MAX, "base: key lookup in %s: %s",
                     t->name, hf_strerror(rc));
    o = rec.ordinal;
    if (o >= base_limit || (used[o / 8] & (1u << (o % 8))))
      continue; /* only a corrupt base gets here; the record is new */
    tf->ord[id] = o;
    used[o / 8] |= (unsigned char)(1u << (o % 8));
  }
  return HF_OK;
}

/* §6.8 for one type, after all the types it references. */
static int assign_type(fin *F, uint32_t type) {
  const hf_builder *b = F->b;
  const hf_type_def *t = &b->schema->types[type];
  tfin *tf = &F->t[type];
  uint32_t base_limit = 0, i, o = 0, limit = 0;
  unsigned char *used;
  int rc = HF_OK;
  if (b->base != NULL)
    base_limit = hf_reader_ordinal_limit(b->base, type);
  used = calloc((size_t)base_limit / 8 + 1, 1);
  if (used == NULL)
    return nomem(F);
  if (b->base != NULL && base_limit > 0 && tf->nseq > 0) {
    if (t->kind == HF_KIND_OBJECT && t->nkeys > 0)
      rc = keep_keyed(F, type, base_limit, used);
    else
      rc = keep_unkeyed(F, type, used);
  }
  for (i = 0; i < tf->nseq && rc == HF_OK; i++) {
    uint32_t id = tf->seq[i];
    if (tf->ord[id] == VISITED) {
      while (o < base_limit && (used[o / 8] & (1u << (o % 8))))
        o++;
      if (o >= HF_MAX_ORDINALS) {
        rc = hf_fail(F->err, HF_E_LIMIT, UINT64_MAX, "%s: ordinals exceed %u",
                     t->name, HF_MAX_ORDINALS);
        break;
      }
      tf->ord[id] = o++;
    }
    if (tf->ord[id] + 1 > limit)
      limit = tf->ord[id] + 1;
  }
  free(used);
  if (rc != HF_OK)
    return rc;
  tf->limit = limit;
  tf->byord = malloc(((size_t)limit + 1) * sizeof *tf->byord);
  if (tf->byord == NULL)
    return nomem(F);
  memset(tf->byord, 0xFF, ((size_t)limit + 1) * sizeof *tf->byord);
  for (i = 0; i < tf->nseq; i++)
    tf->byord[tf->ord[tf->seq[i]]] = tf->seq[i];
  return HF_OK;
}

/* ---- Render jobs -----------------------------------------------------------
 * After layout every section's place is known, so the sections are filled by
 * independent jobs writing disjoint bytes: a type's BITMAP, its PKINDEX (one
 * job: the probing is random access over the whole index), and its SLOTS
 * with HEAP or ELEMENTS cut into ordinal ranges.  A range starting at
 * ordinal o0 starts at the heap offset or element index that the records
 * before o0 fill, which the counting pass records.  Then one job per
 * section computes its checksum for the seal, once the jobs writing it are
 * done.  The bytes do not depend on the cuts or on which thread runs what.
 */

enum { J_PK, J_BITMAP, J_OBJECTS, J_COLLS, J_HASH };

typedef struct rjob {
  uint32_t what, type;
  uint32_t o0, o1; /* ordinals [o0, o1); J_HASH: o0 is the section */
  uint64_t var0;   /* heap bytes or elements before o0 */
} rjob;

typedef struct jobs {
  rjob *v;
  size_t n, cap;
} jobs;

/* Ranges above this many bytes are cut (RANGE_MIN at least, so a job is
 * worth its hand-over), several per thread so that threads finish together. */
#define RANGE_MIN ((uint64_t)64 << 10)
#define RANGES_PER_THREAD 8
#define MAX_THREADS 64

static int job_add(jobs *J, uint32_t what, uint32_t type, uint32_t o0,
                   uint32_t o1, uint64_t var0) {
  if (hf_grow(&J->v, &J->cap, J->n + 1, sizeof *J->v))
    return HF_E_NOMEM;
  J->v[J->n].what = what;
  J->v[J->n].type = type;
  J->v[J->n].o0 = o0;
  J->v[J->n].o1 = o1;
  J->v[J->n].var0 = var0;
  J->n++;
  return HF_OK;
}

/* ---- Section layout --------------------------------------------------------
 */

/* Record count and heap bytes or element count of a type (hf_assemble.c
 * lays the sections out from these), and its SLOTS / HEAP or ELEMENTS jobs:
 * ordinal ranges of about `cut` output bytes. */
static int type_counts(const fin *F, uint32_t type, uint64_t cut,
                       hf_snap_type *out, jobs *J) {
  const hf_builder *b = F->b;
  const hf_type_def *t = &b->schema->types[type];
  const hf_bstore *st = &b->stores[type];
  const tfin *tf = &F->t[type];
  const int obj = t->kind == HF_KIND_OBJECT;
  const uint32_t what = obj ? J_OBJECTS : J_COLLS;
  const uint64_t slot = obj ? t->slot_width : 8;
  const unsigned shift = t->kind == HF_KIND_MAP ? 3 : 2;
  uint64_t var = 0, var0 = 0, w = 0;
  uint32_t o, o0 = 0;
  for (o = 0; o < tf->limit; o++) {
    const uint32_t id = tf->byord[o];
    uint64_t len;
    if (w >= cut) {
      if (job_add(J, what, type, o0, o, var0))
        return HF_E_NOMEM;
      o0 = o;
      var0 = var;
      w = 0;
    }
    w += slot;
    if (id == HF_B_NOID)
      continue;
    len = st->off[id + 1] - st->off[id];
    w += obj ? len - t->slot_width : len;
    var += obj ? len - t->slot_width : len >> shift;
  }
  if (o0 < tf->limit && job_add(J, what, type, o0, tf->limit, var0))
    return HF_E_NOMEM;
  out->limit = tf->limit;
  out->count = tf->nseq;
  out->var_len = var;
  return HF_OK;
}

/* ---- Section contents ------------------------------------------------------
 */

static void emit_bitmap(const tfin *tf, unsigned char *p) {
  uint32_t i;
  for (i = 0; i < tf->nseq; i++) {
    uint32_t o = tf->ord[tf->seq[i]];
    p[o / 8] |= (unsigned char)(1u << (o % 8)); /* LE words: byte o/8 */
  }
}

/* Slots [j->o0, j->o1) and their strings, from heap offset j->var0. */
static void emit_objects(const fin *F, const rjob *j, unsigned char *slots,
                         unsigned char *heap) {
  const hf_builder *b = F->b;
  const hf_type_def *t = &b->schema->types[j->type];
  const tfin *tf = &F->t[j->type];
  uint64_t hpos = j->var0;
  uint32_t o, f;
  for (o = j->o0; o < j->o1; o++) {
    uint32_t id = tf->byord[o];
    unsigned char *slot = slots + (uint64_t)o * t->slot_width;
    const unsigned char *blob;
    size_t len;
    if (id == HF_B_NOID)
      continue;
    blob = hf_bstore_blob(&b->stores[j->type], id, &len);
    memcpy(slot, blob, t->slot_width);
    for (f = 0; f < t->nfields; f++) {
      const hf_field_def *fd = &t->fields[f];
      uint64_t v;
      if (!(blob[t->present_off + f / 8] & (1u << (f % 8))))
        continue;
      if (fd->type == HF_FT_REF) {
        hf_put32(slot + fd->offset,
                 F->t[fd->ref_type].ord[hf_le32(blob + fd->offset)]);
      } else if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES) {
        v = hf_le64(blob + fd->offset);
        hf_put64(slot + fd->offset,
                 (v & ~HF_STR_OFF_MASK) | (hpos + (v & HF_STR_OFF_MASK)));
      }
    }
    if (len > t->slot_width)
      memcpy(heap + hpos, blob + t->slot_width, len - t->slot_width);
    hpos += len - t->slot_width;
  }
}

static void emit_pkindex(const fin *F, uint32_t type, unsigned char *p,
                         uint64_t len) {
  const hf_bstore *st = &F->b->stores[type];
  const tfin *tf = &F->t[type];
  uint64_t nb = len / HF_PK_BUCKET_SIZE, i;
  uint32_t o;
  for (i = 0; i < nb; i++) {
    hf_put32(p + 8 * i, HF_PK_EMPTY);
    hf_put32(p + 8 * i + 4, 0);
  }
  for (o = 0; o < tf->limit; o++) {
    uint32_t id = tf->byord[o];
    uint64_t h;
    if (id == HF_B_NOID)
      continue;
    h = st->hash[id]; /* the key hash of §6.7.1, computed at end() */
    for (i = h & (nb - 1); hf_le32(p + 8 * i) != HF_PK_EMPTY;
         i = (i + 1) & (nb - 1))
      ;
    hf_put32(p + 8 * i, o);
    hf_put32(p + 8 * i + 4, (uint32_t)(h >> 32));
  }
}

/* Slots [j->o0, j->o1) and their elements, from element j->var0; uses
 * F->scratch, so each thread has its own F.  HF_E_NOMEM. */
static int emit_colls(fin *F, const rjob *j, unsigned char *slots,
                      unsigned char *elems) {
  const hf_type_def *t = &F->b->schema->types[j->type];
  const tfin *tf = &F->t[j->type];
  const uint64_t w = t->kind == HF_KIND_MAP ? 8 : 4;
  uint64_t end = j->var0;
  uint32_t o;
  for (o = j->o0; o < j->o1; o++) {
    uint32_t id = tf->byord[o];
    size_t len;
    if (id != HF_B_NOID) {
      if (final_content(F, j->type, id, &len) != HF_OK)
        return HF_E_NOMEM;
      memcpy(elems + end * w, F->scratch, len);
      end += len / w;
    }
    hf_put64(slots + 8 * (uint64_t)o, end);
  }
  return HF_OK;
}

/* ---- Running the jobs -----------------------------------------------------
 */

typedef struct runner {
  fin *F; /* shared, read only; each thread copies it for its scratch */
  const hf_blobw *w;
  const uint32_t *first;
  const jobs *J;
  uint64_t *sums; /* per section: its checksum, from its J_HASH job */
  uint32_t *pend; /* per section: jobs writing it not yet done */
  int threaded;   /* mu guards next, rc and pend; done signals pend */
  pthread_mutex_t mu;
  pthread_cond_t done;
  size_t next;
  int rc;
} runner;

static void lock(runner *R) {
  if (R->threaded)
    pthread_mutex_lock(&R->mu);
}

static void unlock(runner *R) {
  if (R->threaded)
    pthread_mutex_unlock(&R->mu);
}

/* The sections render job j writes, into s[]; returns how many. */
static uint32_t job_secs(const runner *R, const rjob *j, uint32_t s[2]) {
  const uint32_t k = R->first[j->type];
  switch (j->what) {
  case J_PK:
    s[0] = k + HF_SNAP_PK;
    return 1;
  case J_BITMAP:
    s[0] = k + HF_SNAP_BITMAP;
    return 1;
  case J_OBJECTS:
  case J_COLLS:
    s[0] = k + HF_SNAP_SLOTS;
    s[1] = k + HF_SNAP_VAR;
    return 2;
  default:
    return 0;
  }
}

static int run_job(fin *F, const runner *R, const rjob *j) {
  const hf_blobw *w = R->w;
  const uint32_t k = R->first[j->type];
  switch (j->what) {
  case J_PK:
    emit_pkindex(F, j->type, hf_blobw_data(w, k + HF_SNAP_PK),
                 w->secs[k + HF_SNAP_PK].len);
    return HF_OK;
  case J_BITMAP:
    emit_bitmap(&F->t[j->type], hf_blobw_data(w, k + HF_SNAP_BITMAP));
    return HF_OK;
  case J_OBJECTS:
    emit_objects(F, j, hf_blobw_data(w, k + HF_SNAP_SLOTS),
                 hf_blobw_data(w, k + HF_SNAP_VAR));
    return HF_OK;
  default:
    return emit_colls(F, j, hf_blobw_data(w, k + HF_SNAP_SLOTS),
                      hf_blobw_data(w, k + HF_SNAP_VAR));
  }
}

/* Checksum of section j->o0 once its writers are done.  They were all
 * taken before this job (hash jobs come last) and never wait themselves. */
static void hash_job(runner *R, const rjob *j) {
  const uint32_t i = j->o0;
  int ok;
  lock(R);
  while (R->pend[i] > 0)
    pthread_cond_wait(&R->done, &R->mu); /* never reached unthreaded */
  ok = R->rc == HF_OK;
  unlock(R);
  if (ok)
    R->sums[i] = hf_xxh3(hf_blobw_data(R->w, i), (size_t)R->w->secs[i].len);
}

/* The next job to run, or NULL when all are taken or one failed. */
static const rjob *take(runner *R) {
  const rjob *j = NULL;
  lock(R);
  if (R->rc == HF_OK && R->next < R->J->n)
    j = &R->J->v[R->next++];
  unlock(R);
  return j;
}

/* Records a render job's end, failed or not, so hash jobs stop waiting. */
static void job_done(runner *R, const rjob *j, int rc) {
  uint32_t s[2], n = job_secs(R, j, s), i, wake = 0;
  lock(R);
  if (rc != HF_OK)
    R->rc = rc; /* the others stop at their next take() */
  for (i = 0; i < n; i++)
    wake |= --R->pend[s[i]] == 0;
  if (wake && R->threaded)
    pthread_cond_broadcast(&R->done);
  unlock(R);
}

static void *work(void *arg) {
  runner *R = arg;
  fin F = *R->F;
  const rjob *j;
  F.scratch = NULL;
  F.scratch_cap = 0;
  while ((j = take(R)) != NULL) {
    if (j->what == J_HASH)
      hash_job(R, j);
    else
      job_done(R, j, run_job(&F, R, j));
  }
  free(F.scratch);
  return NULL;
}

/* Adds a J_HASH job per section, longest first (the longest sets the pace),
 * and counts each section's writers.  HF_E_NOMEM. */
static int add_hash_jobs(runner *R, jobs *J) {
  const hf_blobw *w = R->w;
  const size_t n0 = J->n;
  size_t i, k;
  for (i = 0; i < n0; i++) {
    uint32_t s[2], m = job_secs(R, &J->v[i], s);
    while (m > 0)
      R->pend[s[--m]]++;
  }
  for (i = 0; i < w->n; i++) {
    rjob h;
    if (job_add(J, J_HASH, 0, (uint32_t)i, 0, 0))
      return HF_E_NOMEM;
    h = J->v[J->n - 1];
    for (k = J->n - 1; k > n0 && w->secs[J->v[k - 1].o0].len < w->secs[i].len;
         k--)
      J->v[k] = J->v[k - 1];
    J->v[k] = h;
  }
  return HF_OK;
}

/* Runs every job on the calling thread and up to threads-1 more; threads
 * that cannot be started leave their share to the ones that run.  The only
 * error a job can have is HF_E_NOMEM. */
static int run_jobs(runner *R, uint32_t threads) {
  pthread_t tid[MAX_THREADS];
  uint32_t i, started = 0;
  if (threads > R->J->n)
    threads = (uint32_t)R->J->n;
  if (threads > MAX_THREADS)
    threads = MAX_THREADS;
  if (threads > 1 && pthread_mutex_init(&R->mu, NULL) == 0) {
    if (pthread_cond_init(&R->done, NULL) == 0)
      R->threaded = 1;
    else
      pthread_mutex_destroy(&R->mu);
  }
  for (i = 1; R->threaded && i < threads; i++)
    if (pthread_create(&tid[started], NULL, work, R) == 0)
      started++;
  work(R);
  for (i = 0; i < started; i++)
    pthread_join(tid[i], NULL);
  if (R->threaded) {
    pthread_cond_destroy(&R->done);
    pthread_mutex_destroy(&R->mu);
  }
  return R->rc;
}

/* ---- Putting it together ---------------------------------------------------
 */

/* The bytes a type's BITMAP, SLOTS and HEAP or ELEMENTS take at most: the
 * blobs stored, reachable or not, plus the slots.  Sizes the ranges. */
static uint64_t render_estimate(const hf_builder *b) {
  uint64_t sum = 0;
  uint32_t i;
  for (i = 0; i < b->schema->ntypes; i++)
    sum += b->stores[i].data_len + (uint64_t)b->stores[i].n * 8;
  return sum;
}

static int render(fin *F) {
  hf_builder *b = F->b;
  const hf_schema *s = b->schema;
  const uint32_t T = s->ntypes;
  const uint32_t threads = b->threads > 1 ? b->threads : 1;
  uint64_t cut = UINT64_MAX; /* one range per type on one thread */
  uint32_t i;
  hf_blobw w;
  jobs J;
  runner R;
  hf_snap_type *types = malloc(((size_t)T + 1) * sizeof *types);
  uint32_t *first = malloc(((size_t)T + 1) * sizeof *first);
  int rc = HF_OK;
  memset(&w, 0, sizeof w);
  memset(&J, 0, sizeof J);
  memset(&R, 0, sizeof R);
  if (types == NULL || first == NULL) {
    rc = nomem(F);
    goto out;
  }
  if (threads > 1) {
    cut = render_estimate(b) / ((uint64_t)threads * RANGES_PER_THREAD);
    if (cut < RANGE_MIN)
      cut = RANGE_MIN;
  }
  /* PKINDEX jobs first: each is one long job, best started early. */
  for (i = 0; i < T; i++)
    if (s->types[i].kind == HF_KIND_OBJECT && s->types[i].nkeys > 0 &&
        job_add(&J, J_PK, i, 0, 0, 0)) {
      rc = nomem(F);
      goto out;
    }
  for (i = 0; i < T; i++)
    if (job_add(&J, J_BITMAP, i, 0, 0, 0) ||
        type_counts(F, i, cut, &types[i], &J)) {
      rc = nomem(F);
      goto out;
    }
  w.mem = b->out_mem;
  if ((rc = hf_snap_layout(&w, s, types, first, F->err)) != HF_OK)
    goto out;
  R.F = F;
  R.w = &w;
  R.first = first;
  R.J = &J;
  R.sums = malloc(((size_t)w.n + 1) * sizeof *R.sums);
  R.pend = calloc((size_t)w.n + 1, sizeof *R.pend);
  if (R.sums == NULL || R.pend == NULL || add_hash_jobs(&R, &J) ||
      run_jobs(&R, threads)) {
    rc = nomem(F);
    goto out;
  }
  /* Section table, checksums, state (§4.9), header and its checksum. */
  b->out_state = hf_blobw_seal_sums(&w, HF_BLOB_SNAPSHOT, b->dataset_version, 0,
                                    0, R.sums);
  b->out = hf_blobw_take(&w, &b->out_len);
out:
  hf_blobw_free(&w);
  free(J.v);
  free(R.sums);
  free(R.pend);
  free(types);
  free(first);
  return rc;
}

int hf_builder_finish(hf_builder *b, hf_error *err) {
  const hf_schema *s = b->schema;
  fin F;
  uint32_t i;
  int rc = HF_OK;
  if (b->out != NULL)
    return HF_OK;
  if (b->depth > 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "%" PRIu32 " record(s) still open; end or discard them",
                   b->depth);
  memset(&F, 0, sizeof F);
  F.b = b;
  F.err = err;
  F.t = calloc(s->ntypes, sizeof *F.t);
  if (F.t == NULL)
    return nomem(&F);
  for (i = 0; i < s->ntypes && rc == HF_OK; i++) {
    uint32_t n = b->stores[i].n;
    F.t[i].ord = malloc(((size_t)n + 1) * sizeof *F.t[i].ord);
    F.t[i].seq = malloc(((size_t)n + 1) * sizeof *F.t[i].seq);
    if (F.t[i].ord == NULL || F.t[i].seq == NULL)
      rc = nomem(&F);
    else
      memset(F.t[i].ord, 0xFF, ((size_t)n + 1) * sizeof *F.t[i].ord);
  }
  if (rc == HF_OK)
    rc = traverse(&F);
  for (i = 0; i < s->ntypes && rc == HF_OK; i++)
    rc = assign_type(&F, s->topo[i]);
  if (rc == HF_OK) {
    if (b->dataset_version == 0) {
      hf_info info;
      b->dataset_version = 1;
      if (b->base != NULL) {
        hf_reader_info(b->base, &info);
        b->dataset_version = info.dataset_version + 1;
      }
    }
    rc = render(&F);
  }
  for (i = 0; i < s->ntypes; i++) {
    free(F.t[i].ord);
    free(F.t[i].seq);
    free(F.t[i].byord);
  }
  free(F.t);
  free(F.scratch);
  return rc;
}
