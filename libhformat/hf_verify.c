/*
 * hf_verify.c - hf_reader_verify(): every checksum and every structural
 * invariant of FORMAT.md §4-§6, on a reader that passed the cheap open.
 *
 * Open has already proved every section lies inside the file and has the
 * length its counts imply (ELEMENTS: a whole number of elements), so the
 * loops below are bounded by those counts and index sections without
 * further range checks; what they check is the content, the padding and
 * the element counts, which open does not read.  The first failure is
 * reported, with its file offset and rule.
 */
#include <stdlib.h>

#define XXH_STATIC_LINKING_ONLY
#define XXH_INLINE_ALL /* header-only XXH3: no libxxhash.so to load at exec */
#include <xxhash.h>

#include "hf_delta_internal.h"
#include "hf_reader_internal.h"

static int checksum_differs(uint64_t stored, uint64_t computed) {
  return HF_CHECKSUM_MISMATCH(stored, computed);
}

static uint64_t off_of(const hf_reader *r, const unsigned char *p) {
  return (uint64_t)(p - r->base);
}

/* ---- Checksums (§4, §4.9, §5) -------------------------------------------- */

static int verify_checksums(const hf_reader *r, hf_error *err) {
  uint32_t n = r->info.section_count, i;
  uint64_t stored = hf_le64(r->base + HF_H_CHECKSUM);
  uint64_t got = hf_rheader_checksum(r->base, n);
  XXH3_state_t st;

  if (checksum_differs(stored, got))
    return hf_fail(
        err, HF_E_CHECKSUM, HF_H_CHECKSUM,
        "header: checksum %016llx, computed %016llx (FORMAT.md §4.8, R-HDR-09)",
        (unsigned long long)stored, (unsigned long long)got);
  XXH3_64bits_reset(&st);
  for (i = 0; i < n; i++) {
    const unsigned char *e = hf_rsec(r, i);
    uint64_t off = hf_le64(e + 8), len = hf_le64(e + 16);
    stored = hf_le64(e + 24);
    got = hf_xxh3(r->base + off, (size_t)len);
    if (checksum_differs(stored, got))
      return hf_rsec_fail(
          err, HF_E_CHECKSUM, off, r, i,
          "checksum %016llx, computed %016llx (FORMAT.md §5.5, R-SEC-08)",
          (unsigned long long)stored, (unsigned long long)got);
    XXH3_64bits_update(&st, e + 24, 8);
  }
  got = XXH3_64bits_digest(&st);
  if (r->info.kind == HF_BLOB_SNAPSHOT && checksum_differs(r->info.state, got))
    return hf_fail(err, HF_E_CHECKSUM, HF_H_STATE,
                   "header: state %016llx, computed %016llx from the section "
                   "checksums (FORMAT.md §4.9, R-HDR-12)",
                   (unsigned long long)r->info.state, (unsigned long long)got);
  return HF_OK;
}

/* ---- Padding (§3.2) ------------------------------------------------------ */

/* R-GEN-01: the bytes between sections and after the last one are zero.
 * Open checked the positions (R-SEC-03) but read none of these bytes. */
static int verify_padding(const hf_reader *r, hf_error *err) {
  uint32_t n = r->info.section_count, i;
  uint64_t end = HF_HEADER_SIZE + (uint64_t)n * HF_SECTION_ENTRY_SIZE, at;
  for (i = 0; i <= n; i++) {
    uint64_t next = i < n ? hf_le64(hf_rsec(r, i) + 8) : r->size;
    for (at = end; at < next; at++)
      if (r->base[at] != 0) {
        if (i < n)
          return hf_rsec_fail(err, HF_E_CORRUPT, at, r, i,
                              "nonzero padding byte at offset %llu before the "
                              "section (FORMAT.md §3.2, R-GEN-01)",
                              (unsigned long long)at);
        return hf_fail(err, HF_E_CORRUPT, at,
                       "nonzero padding byte at offset %llu after the last "
                       "section (FORMAT.md §3.2, R-GEN-01)",
                       (unsigned long long)at);
      }
    if (i < n)
      end = next + hf_le64(hf_rsec(r, i) + 16);
  }
  return HF_OK;
}

/* ---- BITMAP (§6.3) ------------------------------------------------------- */

static unsigned popcount64(uint64_t v) {
#if defined(__GNUC__)
  return (unsigned)__builtin_popcountll(v);
#else
  unsigned n = 0;
  for (; v != 0; v &= v - 1)
    n++;
  return n;
#endif
}

static int verify_bitmap(const hf_reader *r, const hf_rtype *t, hf_error *err) {
  uint64_t pop = 0;
  uint32_t w;
  for (w = 0; w < t->nwords; w++) {
    const unsigned char *p = t->bitmap + (size_t)w * 8;
    uint64_t bits = hf_le64(p);
    if (w + 1 == t->nwords && t->limit % 64 != 0 &&
        (bits >> (t->limit % 64)) != 0)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[0],
                          "bits at or above ordinal_limit %u are set "
                          "(FORMAT.md §6.3, R-BMP-02)",
                          (unsigned)t->limit);
    pop += popcount64(bits);
  }
  if (t->limit > 0 && !hf_rpopulated(t, t->limit - 1))
    return hf_rsec_fail(err, HF_E_CORRUPT,
                        off_of(r, t->bitmap + (t->limit - 1) / 8), r, t->sec[0],
                        "ordinal_limit - 1 = %u is not populated "
                        "(FORMAT.md §6.3, R-BMP-04)",
                        (unsigned)(t->limit - 1));
  if (pop != t->count)
    return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, t->bitmap), r, t->sec[0],
                        "%llu bits set but record_count is %u "
                        "(FORMAT.md §6.3, R-BMP-03)",
                        (unsigned long long)pop, (unsigned)t->count);
  return HF_OK;
}

/* ---- Object slots and heap (§6.4-§6.6) ----------------------------------- */

/* An ordinal of `type` that a reference or element may point at. */
static int target_ok(const hf_reader *r, uint32_t type, uint32_t o) {
  const hf_rtype *t = &r->types[type];
  return o < t->limit && hf_rpopulated(t, o);
}

static int all_zero(const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i] != 0)
      return 0;
  return 1;
}

/* One present field of a populated object slot; *heap is the running heap
 * offset (§6.6). */
static int verify_value(const hf_reader *r, const hf_rtype *t, uint32_t o,
                        uint32_t f, const unsigned char *slot, uint64_t *heap,
                        hf_error *err) {
  const hf_field_def *fd = &t->def->fields[f];
  const unsigned char *p = slot + fd->offset;
  uint64_t v, off, len;
  size_t bad;

  switch (fd->type) {
  case HF_FT_BOOLEAN:
    if (*p > 1)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[1],
                          "ordinal %u field '%s': boolean value %u is not 0 "
                          "or 1 (FORMAT.md §6.4, R-SLT-02)",
                          (unsigned)o, fd->name, (unsigned)*p);
    return HF_OK;
  case HF_FT_REF:
    v = hf_le32(p);
    if (!target_ok(r, fd->ref_type, (uint32_t)v))
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[1],
                          "ordinal %u field '%s': reference to ordinal %u of "
                          "type '%s', which is not populated (FORMAT.md §6.4, "
                          "R-SLT-05)",
                          (unsigned)o, fd->name, (unsigned)v,
                          r->schema->types[fd->ref_type].name);
    return HF_OK;
  case HF_FT_STRING:
  case HF_FT_BYTES:
    v = hf_le64(p);
    off = v & HF_STR_OFF_MASK;
    len = v >> HF_STR_OFF_BITS;
    if (off != *heap)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[1],
                          "ordinal %u field '%s': heap offset %llu, expected "
                          "the running total %llu (FORMAT.md §6.6, R-HEAP-01)",
                          (unsigned)o, fd->name, (unsigned long long)off,
                          (unsigned long long)*heap);
    if (len > t->data_len - off)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[1],
                          "ordinal %u field '%s': value [%llu, +%llu) runs "
                          "past the %llu-byte heap (FORMAT.md §6.6, R-HEAP-02)",
                          (unsigned)o, fd->name, (unsigned long long)off,
                          (unsigned long long)len,
                          (unsigned long long)t->data_len);
    if (fd->type == HF_FT_STRING &&
        !hf_utf8_valid(t->data + off, (size_t)len, &bad))
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, t->data + off + bad), r,
                          t->sec[2],
                          "ordinal %u field '%s': string is not valid UTF-8 "
                          "at byte %zu (FORMAT.md §6.6, R-HEAP-03)",
                          (unsigned)o, fd->name, bad);
    *heap = off + len;
    return HF_OK;
  default:
    return HF_OK; /* int, long, float, double: every bit pattern is valid */
  }
}

/* `layout` marks the slot bytes that belong to a field value (1) or the
 * presence bitmap (2); the rest is padding. */
static int verify_object_slot(const hf_reader *r, const hf_rtype *t, uint32_t o,
                              const unsigned char *layout, uint64_t *heap,
                              hf_error *err) {
  const hf_type_def *td = t->def;
  const unsigned char *slot = t->slots + (size_t)o * t->width;
  const unsigned char *pres = slot + td->present_off;
  uint32_t f, i;
  int rc;

  if (!hf_rpopulated(t, o)) {
    if (!all_zero(slot, t->width))
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, slot), r, t->sec[1],
                          "unpopulated ordinal %u has a nonzero slot "
                          "(FORMAT.md §6.5, R-SLT-06)",
                          (unsigned)o);
    return HF_OK;
  }
  for (i = 0; i < t->width; i++)
    if (layout[i] == 0 && slot[i] != 0)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, slot + i), r, t->sec[1],
                          "ordinal %u: padding byte %u of the slot is nonzero "
                          "(FORMAT.md §6.4, R-SLT-04)",
                          (unsigned)o, (unsigned)i);
  for (i = td->nfields; i < td->present_len * 8u; i++)
    if ((pres[i / 8] >> (i % 8)) & 1u)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, pres + i / 8), r,
                          t->sec[1],
                          "ordinal %u: presence bit %u is set but the type "
                          "has %u fields (FORMAT.md §6.4, R-SLT-04)",
                          (unsigned)o, (unsigned)i, (unsigned)td->nfields);
  for (f = 0; f < td->nfields; f++) {
    const hf_field_def *fd = &td->fields[f];
    if (!((pres[f / 8] >> (f % 8)) & 1u)) {
      if (!all_zero(slot + fd->offset, fd->size))
        return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, slot + fd->offset), r,
                            t->sec[1],
                            "ordinal %u field '%s' is null but its value "
                            "bytes are nonzero (FORMAT.md §6.4, R-SLT-03)",
                            (unsigned)o, fd->name);
      continue;
    }
    if ((rc = verify_value(r, t, o, f, slot, heap, err)) != HF_OK)
      return rc;
  }
  return HF_OK;
}

static int verify_objects(const hf_reader *r, const hf_rtype *t,
                          hf_error *err) {
  const hf_type_def *td = t->def;
  unsigned char *layout;
  uint64_t heap = 0;
  uint32_t o, f;
  int rc = HF_OK;

  if ((layout = calloc(t->width ? t->width : 1, 1)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  for (f = 0; f < td->nfields; f++)
    memset(layout + td->fields[f].offset, 1, td->fields[f].size);
  memset(layout + td->present_off, 2, td->present_len);
  for (o = 0; o < t->limit && rc == HF_OK; o++)
    rc = verify_object_slot(r, t, o, layout, &heap, err);
  free(layout);
  if (rc == HF_OK && heap != t->data_len)
    rc =
        hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, t->data) + heap, r, t->sec[2],
                     "values take %llu bytes but the heap has %llu "
                     "(FORMAT.md §6.6, R-HEAP-01)",
                     (unsigned long long)heap, (unsigned long long)t->data_len);
  return rc;
}

/* ---- Collections (§6.5, §6.6b) ------------------------------------------- */

static int verify_elements(const hf_reader *r, const hf_rtype *t, uint32_t o,
                           uint64_t start, uint64_t end, hf_error *err) {
  const hf_type_def *td = t->def;
  const char *what = td->kind == HF_KIND_MAP ? "key" : "element";
  uint64_t i;
  for (i = start; i < end; i++) {
    const unsigned char *p = t->data + (size_t)i * t->esize;
    uint32_t e = hf_le32(p);
    if (!target_ok(r, td->elem_type, e))
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[2],
                          "ordinal %u: %s %u is not a populated ordinal of "
                          "type '%s' (FORMAT.md §6.6b, R-ELM-03)",
                          (unsigned)o, what, (unsigned)e,
                          r->schema->types[td->elem_type].name);
    if (td->kind == HF_KIND_MAP &&
        !target_ok(r, td->value_type, hf_le32(p + 4)))
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p + 4), r, t->sec[2],
                          "ordinal %u: value %u is not a populated ordinal of "
                          "type '%s' (FORMAT.md §6.6b, R-ELM-03)",
                          (unsigned)o, (unsigned)hf_le32(p + 4),
                          r->schema->types[td->value_type].name);
    if (td->kind != HF_KIND_LIST && i > start && hf_le32(p - t->esize) >= e)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[2],
                          "ordinal %u: %s %u does not ascend strictly after "
                          "%u (FORMAT.md §6.6b, R-ELM-04/05)",
                          (unsigned)o, what, (unsigned)e,
                          (unsigned)hf_le32(p - t->esize));
  }
  return HF_OK;
}

static int verify_collections(const hf_reader *r, const hf_rtype *t,
                              hf_error *err) {
  uint64_t start = 0;
  uint32_t o;
  int rc;
  for (o = 0; o < t->limit; o++) {
    const unsigned char *p = t->slots + (size_t)o * 8;
    uint64_t end = hf_le64(p);
    if (end < start || end > t->nelems)
      return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[1],
                          "ordinal %u: end %llu is outside [%llu, %llu]: ends "
                          "are non-decreasing (FORMAT.md §6.5, R-SLT-07)",
                          (unsigned)o, (unsigned long long)end,
                          (unsigned long long)start,
                          (unsigned long long)t->nelems);
    if (!hf_rpopulated(t, o)) {
      if (end != start)
        return hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, p), r, t->sec[1],
                            "unpopulated ordinal %u has %llu elements "
                            "(FORMAT.md §6.5, R-SLT-08)",
                            (unsigned)o, (unsigned long long)(end - start));
    } else if ((rc = verify_elements(r, t, o, start, end, err)) != HF_OK) {
      return rc;
    }
    start = end;
  }
  /* Open took the element count from the section length (§6.6b). */
  if (start != t->nelems)
    return hf_rsec_fail(
        err, HF_E_CORRUPT, off_of(r, hf_rsec(r, t->sec[2])) + 16, r, t->sec[2],
        "length %llu holds %llu %s but end(ordinal_limit-1) "
        "is %llu (FORMAT.md §6.6b, R-ELM-01)",
        (unsigned long long)t->data_len, (unsigned long long)t->nelems,
        t->def->kind == HF_KIND_MAP ? "entries" : "elements",
        (unsigned long long)start);
  return HF_OK;
}

/* ---- PKINDEX (§6.7) ------------------------------------------------------ */

static int keys_equal(const hf_value *a, const hf_value *b, uint32_t n) {
  uint32_t k;
  for (k = 0; k < n; k++)
    if (!hf_value_equal(&a[k], &b[k]))
      return 0;
  return 1;
}

/* Key values of ordinal o, reporting a null or unreadable key. */
static int record_key(const hf_reader *r, uint32_t type, uint32_t o,
                      hf_value *vals, hf_error *err) {
  const hf_rtype *t = &r->types[type];
  int rc = hf_reader_key_values(r, type, o, vals);
  if (rc == HF_NULL)
    return hf_rsec_fail(err, HF_E_CORRUPT,
                        off_of(r, t->slots + (size_t)o * t->width), r,
                        t->sec[1],
                        "ordinal %u: primary key has a null part "
                        "(FORMAT.md §6.7, R-PK-03)",
                        (unsigned)o);
  if (rc != HF_OK)
    return hf_rsec_fail(err, HF_E_CORRUPT,
                        off_of(r, t->slots + (size_t)o * t->width), r,
                        t->sec[1],
                        "ordinal %u: primary key cannot be read: %s "
                        "(FORMAT.md §6.7.1)",
                        (unsigned)o, hf_strerror(rc));
  return HF_OK;
}

/* Rebuilds the canonical index into buf (nb buckets) by the §6.7
 * procedure, detecting duplicate keys on the way. */
static int rebuild_pkindex(const hf_reader *r, uint32_t type,
                           unsigned char *buf, hf_error *err) {
  const hf_rtype *t = &r->types[type];
  uint32_t nkeys = t->def->nkeys, o;
  hf_value vals[HF_MAX_KEYS], other[HF_MAX_KEYS];
  uint64_t b;
  int rc;

  for (b = 0; b <= t->pk_mask; b++) {
    hf_put32(buf + b * 8, HF_PK_EMPTY);
    hf_put32(buf + b * 8 + 4, 0);
  }
  for (o = 0; o < t->limit; o++) {
    uint64_t h, i;
    uint32_t tag;
    if (!hf_rpopulated(t, o))
      continue;
    if ((rc = record_key(r, type, o, vals, err)) != HF_OK)
      return rc;
    h = hf_key_hash(vals, nkeys);
    tag = (uint32_t)(h >> 32);
    /* record_count <= 3/4 of nb (checked at open), so an empty bucket
     * always ends this probe. */
    for (i = h & t->pk_mask; hf_le32(buf + i * 8) != HF_PK_EMPTY;
         i = (i + 1) & t->pk_mask) {
      uint32_t prev = hf_le32(buf + i * 8);
      if (hf_le32(buf + i * 8 + 4) != tag)
        continue;
      if ((rc = record_key(r, type, prev, other, err)) != HF_OK)
        return rc;
      if (keys_equal(vals, other, nkeys))
        return hf_rsec_fail(err, HF_E_CORRUPT,
                            off_of(r, t->slots + (size_t)o * t->width), r,
                            t->sec[1],
                            "ordinals %u and %u have the same primary key "
                            "(FORMAT.md §6.7, R-PK-04)",
                            (unsigned)prev, (unsigned)o);
    }
    hf_put32(buf + i * 8, o);
    hf_put32(buf + i * 8 + 4, tag);
  }
  return HF_OK;
}

static int verify_pkindex(const hf_reader *r, uint32_t type, hf_error *err) {
  const hf_rtype *t = &r->types[type];
  uint64_t nb = t->pk_mask + 1, b;
  unsigned char *buf;
  int rc;

  if (nb > SIZE_MAX / HF_PK_BUCKET_SIZE ||
      (buf = malloc((size_t)nb * HF_PK_BUCKET_SIZE)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  rc = rebuild_pkindex(r, type, buf, err);
  if (rc == HF_OK && memcmp(buf, t->pk, (size_t)nb * HF_PK_BUCKET_SIZE) != 0) {
    for (b = 0; memcmp(buf + b * 8, t->pk + b * 8, 8) == 0; b++)
      ;
    rc = hf_rsec_fail(err, HF_E_CORRUPT, off_of(r, t->pk + b * 8), r, t->sec[3],
                      "bucket %llu holds (ordinal %u, tag %08x); the "
                      "canonical index has (ordinal %u, tag %08x) "
                      "(FORMAT.md §6.7, R-PK-02)",
                      (unsigned long long)b, (unsigned)hf_le32(t->pk + b * 8),
                      (unsigned)hf_le32(t->pk + b * 8 + 4),
                      (unsigned)hf_le32(buf + b * 8),
                      (unsigned)hf_le32(buf + b * 8 + 4));
  }
  free(buf);
  return rc;
}

/* ---- Entry point --------------------------------------------------------- */

int hf_reader_verify(const hf_reader *r, hf_error *err) {
  uint32_t type;
  int rc;
  if (r == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL reader");
  if ((rc = verify_checksums(r, err)) != HF_OK ||
      (rc = verify_padding(r, err)) != HF_OK)
    return rc;
  if (!r->records) { /* deltas: decode every type (FORMAT.md §8.5) */
    hf_dtype *d;
    if ((rc = hf_delta_decode(r, &d, err)) != HF_OK)
      return rc;
    hf_delta_types_free(d, r->ntypes);
    hf_error_clear(err);
    return HF_OK;
  }
  /* Bitmaps first: references and elements are checked against them. */
  for (type = 0; type < r->ntypes; type++)
    if ((rc = verify_bitmap(r, &r->types[type], err)) != HF_OK)
      return rc;
  for (type = 0; type < r->ntypes; type++) {
    const hf_rtype *t = &r->types[type];
    if (t->def->kind == HF_KIND_OBJECT)
      rc = verify_objects(r, t, err);
    else
      rc = verify_collections(r, t, err);
    if (rc != HF_OK)
      return rc;
  }
  /* Keys last: they follow references verified above. */
  for (type = 0; type < r->ntypes; type++)
    if (r->types[type].pk != NULL &&
        (rc = verify_pkindex(r, type, err)) != HF_OK)
      return rc;
  hf_error_clear(err);
  return HF_OK;
}
