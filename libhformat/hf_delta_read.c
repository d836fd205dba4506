/*
 * hf_delta_read.c - reading delta blobs (FORMAT.md §8): the open-time
 * checks of their section order and TYPES, and the decoding of each type's
 * REMOVED, ADDED, DSLOTS and DHEAP / DELEMENTS sections, LZ4 included, with
 * every check a delta allows without its base (§8.5).  Reader side only:
 * no builder or applier code is pulled in.
 */
#include <limits.h>
#include <lz4.h>
#include <stdlib.h>

#include "hf_delta_internal.h"
#include "hf_reader_internal.h"

const unsigned char *hf_reader_bytes(const hf_reader *r, size_t *len) {
  *len = (size_t)r->size;
  return r->base;
}

static uint64_t sec_off(const hf_reader *r, uint32_t i) {
  return hf_le64(hf_rsec(r, i) + 8);
}
static uint64_t sec_len(const hf_reader *r, uint32_t i) {
  return hf_le64(hf_rsec(r, i) + 16);
}

/* ---- Open (§8.1, §8.2) --------------------------------------------------- */

static uint32_t var_kind(const hf_type_def *td) {
  return td->kind == HF_KIND_OBJECT ? HF_SEC_DHEAP : HF_SEC_DELEMENTS;
}

int hf_rdelta_open(const hf_reader *r, hf_error *err) {
  const hf_schema *s = r->schema;
  uint32_t n = r->info.section_count, i = 1, t, k;
  const unsigned char *types;
  if (n < 2 || hf_le32(hf_rsec(r, 1)) != HF_SEC_TYPES ||
      hf_le32(hf_rsec(r, 1) + 4) != HF_NO_TYPE)
    return hf_fail(err, HF_E_CORRUPT, HF_HEADER_SIZE + 32,
                   "section 1: expected the types section (FORMAT.md §8.2, "
                   "R-DLT-03)");
  for (i = 2, t = 0; t < s->ntypes; t++) {
    const uint32_t want[HF_DELTA_TYPE_SECS] = {
        HF_SEC_REMOVED, HF_SEC_ADDED, HF_SEC_DSLOTS, var_kind(&s->types[t])};
    for (k = 0; k < HF_DELTA_TYPE_SECS; k++, i++) {
      const unsigned char *e;
      uint32_t kind;
      if (i >= n)
        return hf_fail(err, HF_E_CORRUPT, HF_H_NSECTIONS,
                       "section table: %u sections, but the schema requires "
                       "a %s section of type '%s' as section %u (FORMAT.md "
                       "§8.2, R-DLT-03)",
                       (unsigned)n, hf_section_kind_name(want[k]),
                       s->types[t].name, (unsigned)i);
      e = hf_rsec(r, i);
      kind = hf_le32(e);
      if ((kind & ~(uint32_t)HF_SEC_LZ4) != want[k] || hf_le32(e + 4) != t)
        return hf_rsec_fail(err, HF_E_CORRUPT, (uint64_t)(e - r->base), r, i,
                            "expected the %s section of type '%s' here "
                            "(FORMAT.md §8.2, R-DLT-03)",
                            hf_section_kind_name(want[k]), s->types[t].name);
    }
  }
  for (; i < n; i++)
    if (hf_le32(hf_rsec(r, i)) < HF_SEC_ANCILLARY)
      return hf_rsec_fail(err, HF_E_CORRUPT, HF_HEADER_SIZE + 32 * (uint64_t)i,
                          r, i,
                          "only ancillary sections may follow the required "
                          "ones (FORMAT.md §5.4, R-SEC-07)");
  if (sec_len(r, 1) != (uint64_t)s->ntypes * HF_TYPES_ENTRY_SIZE)
    return hf_rsec_fail(err, HF_E_CORRUPT, HF_HEADER_SIZE + 32 + 16, r, 1,
                        "length %llu is not %u types x 16 (FORMAT.md §6.2, "
                        "R-TYP-01)",
                        (unsigned long long)sec_len(r, 1), (unsigned)s->ntypes);
  if (hf_xxh3(r->base + sec_off(r, 1), (size_t)sec_len(r, 1)) !=
      hf_le64(hf_rsec(r, 1) + 24)) {
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    return hf_rsec_fail(err, HF_E_CHECKSUM, sec_off(r, 1), r, 1,
                        "checksum mismatch (FORMAT.md §5.5, R-SEC-08)");
#endif
  }
  types = r->base + sec_off(r, 1);
  for (t = 0; t < s->ntypes; t++) {
    const unsigned char *e = types + (size_t)t * HF_TYPES_ENTRY_SIZE;
    uint64_t eoff = sec_off(r, 1) + (uint64_t)t * HF_TYPES_ENTRY_SIZE;
    const hf_type_def *td = &s->types[t];
    if (hf_le32(e) > HF_MAX_ORDINALS)
      return hf_rsec_fail(err, HF_E_LIMIT, eoff, r, 1,
                          "type '%s': ordinal_limit %u exceeds 2^31-1 "
                          "(FORMAT.md §6.2, R-TYP-02)",
                          td->name, (unsigned)hf_le32(e));
    if (hf_le32(e + 4) > hf_le32(e))
      return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 4, r, 1,
                          "type '%s': record_count %u exceeds ordinal_limit "
                          "%u (FORMAT.md §6.2, R-TYP-03)",
                          td->name, (unsigned)hf_le32(e + 4),
                          (unsigned)hf_le32(e));
    if (hf_le32(e + 8) != td->slot_width)
      return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 8, r, 1,
                          "type '%s': slot_width %u, the schema gives %u "
                          "(FORMAT.md §6.2, R-TYP-04)",
                          td->name, (unsigned)hf_le32(e + 8),
                          (unsigned)td->slot_width);
    if (hf_le32(e + 12) != 0)
      return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 12, r, 1,
                          "type '%s': reserved field is nonzero (FORMAT.md "
                          "§6.2, R-TYP-05)",
                          td->name);
  }
  return HF_OK;
}

/* ---- Decoding (§8.3, §8.4, §8.5) ----------------------------------------- */

/* Section i's content: its bytes, or for an LZ4 section (§8.4) its
 * decompressed bytes in a new buffer (*owned).  The raw length must not
 * exceed `bound`, which the caller derives from the counts. */
static int load(const hf_reader *r, uint32_t i, uint64_t bound,
                const unsigned char **p, uint64_t *len, void **owned,
                hf_error *err) {
  uint32_t kind = hf_le32(hf_rsec(r, i));
  uint64_t off = sec_off(r, i), slen = sec_len(r, i), raw;
  const unsigned char *src = r->base + off;
  char *buf;
  int got;
  *owned = NULL;
  if (!(kind & HF_SEC_LZ4)) {
    if (slen > bound)
      return hf_rsec_fail(err, HF_E_CORRUPT, off, r, i,
                          "length %llu exceeds the %llu bytes its counts "
                          "allow (FORMAT.md §8.3, R-DLT-06)",
                          (unsigned long long)slen, (unsigned long long)bound);
    *p = src;
    *len = slen;
    return HF_OK;
  }
  if (slen < 8)
    return hf_rsec_fail(err, HF_E_CORRUPT, off, r, i,
                        "compressed section of %llu bytes has no raw_length "
                        "(FORMAT.md §8.4, R-DLT-10)",
                        (unsigned long long)slen);
  raw = hf_le64(src);
  if (raw > LZ4_MAX_INPUT_SIZE)
    return hf_rsec_fail(err, HF_E_LIMIT, off, r, i,
                        "raw_length %llu exceeds LZ4's limit of %u bytes "
                        "(FORMAT.md §8.4, R-DLT-11)",
                        (unsigned long long)raw, (unsigned)LZ4_MAX_INPUT_SIZE);
  if (raw > bound || raw <= slen || slen - 8 > (uint64_t)INT_MAX ||
      raw / HF_LZ4_MAX_RATIO > slen - 8)
    return hf_rsec_fail(err, HF_E_CORRUPT, off, r, i,
                        "raw_length %llu is impossible for %llu stored bytes "
                        "and at most %llu expected (FORMAT.md §8.4, R-DLT-11)",
                        (unsigned long long)raw, (unsigned long long)slen,
                        (unsigned long long)bound);
  if ((buf = malloc((size_t)raw)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  got = LZ4_decompress_safe((const char *)src + 8, buf, (int)(slen - 8),
                            (int)raw);
  if (got < 0 || (uint64_t)got != raw) {
    free(buf);
    return hf_rsec_fail(err, HF_E_CORRUPT, off + 8, r, i,
                        "LZ4 block does not decompress to raw_length %llu "
                        "bytes (FORMAT.md §8.4, R-DLT-12)",
                        (unsigned long long)raw);
  }
  *owned = buf;
  *p = (const unsigned char *)buf;
  *len = raw;
  return HF_OK;
}

/* A list of u32le ordinals, strictly ascending and below `limit` (§8.3). */
static int check_ordinals(const hf_reader *r, uint32_t sec,
                          const unsigned char *p, uint64_t n, uint32_t limit,
                          const char *what, hf_error *err) {
  uint64_t i;
  for (i = 0; i < n; i++) {
    uint32_t o = hf_le32(p + 4 * i);
    if (o >= limit)
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                          "entry %llu: %s ordinal %u is not below %u "
                          "(FORMAT.md §8.3, R-DLT-04)",
                          (unsigned long long)i, what, (unsigned)o,
                          (unsigned)limit);
    if (i > 0 && o <= hf_le32(p + 4 * (i - 1)))
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                          "entry %llu: %s ordinals are not strictly "
                          "ascending (FORMAT.md §8.3, R-DLT-04)",
                          (unsigned long long)i, what);
  }
  return HF_OK;
}

/* REMOVED and ADDED share no ordinal (§8.3, R-DLT-05). */
static int check_disjoint(const hf_reader *r, const hf_dtype *d,
                          hf_error *err) {
  uint64_t i = 0, j = 0;
  while (i < d->nremoved && j < d->nadded) {
    uint32_t a = hf_le32(d->removed + 4 * i), b = hf_le32(d->added + 4 * j);
    if (a == b)
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec + 1), r,
                          d->sec + 1,
                          "ordinal %u is both removed and added (FORMAT.md "
                          "§8.3, R-DLT-05)",
                          (unsigned)a);
    if (a < b)
      i++;
    else
      j++;
  }
  return HF_OK;
}

static uint32_t target_limit(const hf_reader *r, uint32_t type) {
  return hf_le32(r->base + sec_off(r, 1) + (size_t)type * HF_TYPES_ENTRY_SIZE);
}

/* Slot i of DSLOTS(t) of an object type: the §6.4 rules, strings placed at
 * the running offset into DHEAP (§8.3, R-DLT-07). */
static int check_dslot(const hf_reader *r, const hf_type_def *td,
                       const hf_dtype *d, uint64_t i, uint64_t *run,
                       hf_error *err) {
  const unsigned char *slot = d->dslots + i * td->slot_width;
  uint32_t sec = d->sec + 2, f, b;
  const char *why = NULL;
  for (f = td->nfields; f < td->present_len * 8u; f++)
    if (slot[td->present_off + f / 8] & (1u << (f % 8)))
      why = "presence bit beyond the last field is set (R-SLT-04)";
  for (b = td->present_off + td->present_len; b < td->slot_width; b++)
    if (slot[b] != 0)
      why = "slot padding is not zero (R-SLT-04)";
  for (f = 0; f < td->nfields && why == NULL; f++) {
    const hf_field_def *fd = &td->fields[f];
    const unsigned char *p = slot + fd->offset;
    uint64_t v, off, len;
    size_t bad;
    if (!(slot[td->present_off + f / 8] & (1u << (f % 8)))) {
      for (b = 0; b < fd->size; b++)
        if (p[b] != 0)
          why = "null field with a nonzero value (R-SLT-03)";
      continue;
    }
    switch (fd->type) {
    case HF_FT_BOOLEAN:
      if (*p > 1)
        why = "boolean value is not 0 or 1 (R-SLT-02)";
      break;
    case HF_FT_REF:
      if (hf_le32(p) >= target_limit(r, fd->ref_type))
        why = "reference beyond the target's ordinal_limit (R-SLT-05)";
      break;
    case HF_FT_STRING:
    case HF_FT_BYTES:
      v = hf_le64(p);
      off = v & HF_STR_OFF_MASK;
      len = v >> HF_STR_OFF_BITS;
      if (off != *run || len > d->dvar_len - off)
        why = "value not at the running offset of the heap (R-DLT-07)";
      else if (fd->type == HF_FT_STRING &&
               !hf_utf8_valid(d->dvar + off, (size_t)len, &bad))
        why = "string value is not UTF-8 (R-HEAP-03)";
      else
        *run += len;
      break;
    default:
      break;
    }
    if (why != NULL)
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                          "added record %llu (ordinal %u) field '%s': %s",
                          (unsigned long long)i,
                          (unsigned)hf_le32(d->added + 4 * i), fd->name, why);
  }
  if (why != NULL)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                        "added record %llu (ordinal %u): %s",
                        (unsigned long long)i,
                        (unsigned)hf_le32(d->added + 4 * i), why);
  return HF_OK;
}

static int decode_objects(const hf_reader *r, const hf_type_def *td,
                          hf_dtype *d, hf_error *err) {
  uint64_t run = 0, i;
  int rc;
  if ((rc = load(r, d->sec + 3, HF_MAX_HEAP, &d->dvar, &d->dvar_len,
                 &d->owned[3], err)) != HF_OK)
    return rc;
  for (i = 0; i < d->nadded; i++)
    if ((rc = check_dslot(r, td, d, i, &run, err)) != HF_OK)
      return rc;
  if (run != d->dvar_len)
    return hf_rsec_fail(
        err, HF_E_CORRUPT, sec_off(r, d->sec + 3), r, d->sec + 3,
        "length %llu, but the added records' values take "
        "%llu bytes (FORMAT.md §8.3, R-DLT-07)",
        (unsigned long long)d->dvar_len, (unsigned long long)run);
  return HF_OK;
}

static int decode_colls(const hf_reader *r, const hf_type_def *td, hf_dtype *d,
                        hf_error *err) {
  uint64_t esize = td->kind == HF_KIND_MAP ? 8 : 4, start = 0, i, j;
  uint64_t end = d->nadded ? hf_le64(d->dslots + 8 * (d->nadded - 1)) : 0;
  uint32_t elim = target_limit(r, td->elem_type);
  uint32_t vlim = td->kind == HF_KIND_MAP ? target_limit(r, td->value_type) : 0;
  uint32_t sec = d->sec + 2;
  int rc;
  if (end > HF_MAX_ELEMENTS)
    return hf_rsec_fail(err, HF_E_LIMIT, sec_off(r, sec), r, sec,
                        "%llu elements exceed 2^40 (R-ELM-02)",
                        (unsigned long long)end);
  if ((rc = load(r, d->sec + 3, end * esize, &d->dvar, &d->dvar_len,
                 &d->owned[3], err)) != HF_OK)
    return rc;
  if (d->dvar_len != end * esize)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec + 3), r,
                        d->sec + 3,
                        "length %llu is not %llu entries x %u (FORMAT.md "
                        "§8.3, R-DLT-08)",
                        (unsigned long long)d->dvar_len,
                        (unsigned long long)end, (unsigned)esize);
  for (i = 0; i < d->nadded; i++) {
    uint64_t e = hf_le64(d->dslots + 8 * i);
    if (e < start || e > end)
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                          "end of added record %llu is below its start or "
                          "past the last end "
                          "(FORMAT.md §8.3, R-DLT-08)",
                          (unsigned long long)i);
    for (j = start; j < e; j++) {
      const unsigned char *p = d->dvar + j * esize;
      const char *why = NULL;
      if (hf_le32(p) >= elim || (esize == 8 && hf_le32(p + 4) >= vlim))
        why = "element beyond the target's ordinal_limit (R-ELM-03)";
      else if (j > start && td->kind != HF_KIND_LIST &&
               hf_le32(p) <= hf_le32(p - esize))
        why = td->kind == HF_KIND_SET
                  ? "set elements not strictly ascending (R-ELM-04)"
                  : "map keys not strictly ascending (R-ELM-05)";
      if (why != NULL)
        return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec + 3), r,
                            d->sec + 3, "entry %llu of added record %llu: %s",
                            (unsigned long long)(j - start),
                            (unsigned long long)i, why);
    }
    start = e;
  }
  return HF_OK;
}

static int decode_type(const hf_reader *r, uint32_t t, hf_dtype *d,
                       hf_error *err) {
  const hf_type_def *td = &r->schema->types[t];
  const unsigned char *te =
      r->base + sec_off(r, 1) + (size_t)t * HF_TYPES_ENTRY_SIZE;
  uint64_t len, w = td->kind == HF_KIND_OBJECT ? td->slot_width : 8;
  int rc;
  d->limit = hf_le32(te);
  d->count = hf_le32(te + 4);
  if ((rc = load(r, d->sec, 4 * (uint64_t)HF_MAX_ORDINALS, &d->removed, &len,
                 &d->owned[0], err)) != HF_OK)
    return rc;
  if (len % 4 != 0)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec), r, d->sec,
                        "length %llu is not a multiple of 4 (FORMAT.md §8.3, "
                        "R-DLT-04)",
                        (unsigned long long)len);
  d->nremoved = len / 4;
  if ((rc = check_ordinals(r, d->sec, d->removed, d->nremoved, HF_MAX_ORDINALS,
                           "removed", err)) != HF_OK)
    return rc;
  if ((rc = load(r, d->sec + 1, 4 * (uint64_t)d->count, &d->added, &len,
                 &d->owned[1], err)) != HF_OK)
    return rc;
  if (len % 4 != 0)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec + 1), r,
                        d->sec + 1,
                        "length %llu is not a multiple of 4 (FORMAT.md §8.3, "
                        "R-DLT-04)",
                        (unsigned long long)len);
  d->nadded = len / 4;
  if ((rc = check_ordinals(r, d->sec + 1, d->added, d->nadded, d->limit,
                           "added", err)) != HF_OK ||
      (rc = check_disjoint(r, d, err)) != HF_OK)
    return rc;
  if ((rc = load(r, d->sec + 2, d->nadded * w, &d->dslots, &len, &d->owned[2],
                 err)) != HF_OK)
    return rc;
  if (len != d->nadded * w)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec + 2), r,
                        d->sec + 2,
                        "length %llu is not %llu added records x %llu "
                        "(FORMAT.md §8.3, R-DLT-06)",
                        (unsigned long long)len, (unsigned long long)d->nadded,
                        (unsigned long long)w);
  return td->kind == HF_KIND_OBJECT ? decode_objects(r, td, d, err)
                                    : decode_colls(r, td, d, err);
}

void hf_delta_types_free(hf_dtype *d, uint32_t ntypes) {
  uint32_t t, k;
  if (d == NULL)
    return;
  for (t = 0; t < ntypes; t++)
    for (k = 0; k < HF_DELTA_TYPE_SECS; k++)
      free(d[t].owned[k]);
  free(d);
}

int hf_delta_decode(const hf_reader *r, hf_dtype **out, hf_error *err) {
  uint32_t T = r->ntypes, t;
  hf_dtype *d;
  int rc = HF_OK;
  *out = NULL;
  if (r->info.kind == HF_BLOB_SNAPSHOT)
    return hf_fail(err, HF_E_ARG, HF_H_KIND, "blob is a snapshot, not a delta");
  if ((d = calloc((size_t)T + 1, sizeof *d)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  for (t = 0; t < T && rc == HF_OK; t++) {
    d[t].sec = 2 + HF_DELTA_TYPE_SECS * t;
    rc = decode_type(r, t, &d[t], err);
  }
  if (rc != HF_OK) {
    hf_delta_types_free(d, T);
    return rc;
  }
  *out = d;
  return HF_OK;
}
