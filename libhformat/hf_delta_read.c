/*
 * hf_delta_read.c - reading delta blobs (FORMAT.md §8): the open-time
 * checks of their section order and TYPES, the decoding of each type's
 * sections (ordinal lists, added slots and values, field patches of changed
 * records), LZ4 included, with every check a delta allows without its base
 * (§8.5), and the public calls that read a delta's content.  Reader side
 * only: no builder or applier code is pulled in.
 */
#include <limits.h>
#include <stdlib.h>

#include "hf_delta_internal.h"
#include "hf_lz4.h"
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

uint32_t hf_delta_type_secs(const hf_type_def *td) {
  return td->kind == HF_KIND_OBJECT ? HF_DELTA_OBJ_SECS : HF_DELTA_COLL_SECS;
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
    const uint32_t want[HF_DELTA_MAX_SECS] = {
        HF_SEC_REMOVED,         HF_SEC_ADDED,   HF_SEC_DSLOTS,
        var_kind(&s->types[t]), HF_SEC_CHANGED, HF_SEC_DPATCH};
    const uint32_t nsec = hf_delta_type_secs(&s->types[t]);
    for (k = 0; k < nsec; k++, i++) {
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
  if (raw > HF_LZ4_MAX_INPUT)
    return hf_rsec_fail(err, HF_E_LIMIT, off, r, i,
                        "raw_length %llu exceeds LZ4's limit of %u bytes "
                        "(FORMAT.md §8.4, R-DLT-11)",
                        (unsigned long long)raw, (unsigned)HF_LZ4_MAX_INPUT);
  if (raw > bound || raw <= slen || slen - 8 > (uint64_t)INT_MAX ||
      raw / HF_LZ4_MAX_RATIO > slen - 8)
    return hf_rsec_fail(err, HF_E_CORRUPT, off, r, i,
                        "raw_length %llu is impossible for %llu stored bytes "
                        "and at most %llu expected (FORMAT.md §8.4, R-DLT-11)",
                        (unsigned long long)raw, (unsigned long long)slen,
                        (unsigned long long)bound);
  if ((buf = malloc((size_t)raw)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  got =
      hf_lz4_decompress((const char *)src + 8, buf, (int)(slen - 8), (int)raw);
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

static uint32_t target_limit(const hf_reader *r, uint32_t type) {
  return hf_le32(r->base + sec_off(r, 1) + (size_t)type * HF_TYPES_ENTRY_SIZE);
}

/* Largest content of an ordinal list of at most maxn entries (§8.4). */
static uint64_t list_bound(uint64_t maxn) {
  return maxn == 0 ? 0 : 4 + HF_VARINT_MAX * maxn;
}

/* Decodes the ordinal list of section sec (§8.3: empty, or u32le count >= 1
 * then count gap-encoded LEB128 varints filling the section exactly) into a
 * new array *out, checking every ordinal against `limit` and the count
 * against `maxn` before allocating (R-DLT-04, R-DLT-16). */
static int decode_list(const hf_reader *r, uint32_t sec, uint64_t maxn,
                       uint32_t limit, const char *what, void **owned,
                       const uint32_t **out, uint64_t *nout, hf_error *err) {
  const unsigned char *p;
  uint64_t len, n, i, pos = 4, prev = 0;
  uint32_t *arr;
  void *raw;
  int rc;
  *out = NULL;
  *nout = 0;
  if ((rc = load(r, sec, list_bound(maxn), &p, &len, &raw, err)) != HF_OK)
    return rc;
  owned[0] = raw;
  if (len == 0)
    return HF_OK;
  if (len < 4 || (n = hf_le32(p)) == 0 || n > len - 4 || n > maxn)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                        "%s list of %llu bytes: count %llu is 0, or more "
                        "than its bytes or the %llu records allowed "
                        "(FORMAT.md §8.3, R-DLT-04)",
                        what, (unsigned long long)len,
                        (unsigned long long)(len < 4 ? 0 : hf_le32(p)),
                        (unsigned long long)maxn);
  if ((arr = malloc((size_t)n * sizeof *arr)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  owned[1] = arr;
  for (i = 0; i < n; i++) {
    uint64_t v = 0, o;
    unsigned k = 0, b;
    for (;;) {
      if (pos >= len)
        return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                            "%s entry %llu: varint runs past the end of the "
                            "section (FORMAT.md §8.3, R-DLT-16)",
                            what, (unsigned long long)i);
      b = p[pos++];
      v |= (uint64_t)(b & 0x7fu) << (7 * k);
      if (!(b & 0x80u))
        break;
      if (++k == HF_VARINT_MAX)
        return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec) + pos, r, sec,
                            "%s entry %llu: varint longer than %d bytes "
                            "(FORMAT.md §8.3, R-DLT-16)",
                            what, (unsigned long long)i, HF_VARINT_MAX);
    }
    if (k > 0 && b == 0)
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec) + pos - 1, r, sec,
                          "%s entry %llu: varint is not in its shortest form "
                          "(FORMAT.md §8.3, R-DLT-16)",
                          what, (unsigned long long)i);
    o = i == 0 ? v : prev + 1 + v;
    if (o >= limit)
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                          "%s entry %llu: ordinal %llu is not below %u "
                          "(FORMAT.md §8.3, R-DLT-04)",
                          what, (unsigned long long)i, (unsigned long long)o,
                          (unsigned)limit);
    arr[i] = (uint32_t)o;
    prev = o;
  }
  if (pos != len)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec) + pos, r, sec,
                        "%s list: %llu bytes follow its last entry "
                        "(FORMAT.md §8.3, R-DLT-04)",
                        what, (unsigned long long)(len - pos));
  *out = arr;
  *nout = n;
  return HF_OK;
}

/* Two ordinal lists share no ordinal (§8.3, R-DLT-05). */
static int check_disjoint(const hf_reader *r, uint32_t sec, const uint32_t *a,
                          uint64_t na, const uint32_t *b, uint64_t nb,
                          const char *what, hf_error *err) {
  uint64_t i = 0, j = 0;
  while (i < na && j < nb) {
    if (a[i] == b[j])
      return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                          "ordinal %u is both %s (FORMAT.md §8.3, R-DLT-05)",
                          (unsigned)a[i], what);
    if (a[i] < b[j])
      i++;
    else
      j++;
  }
  return HF_OK;
}

/* Slot i of DSLOTS(t) of an object type: the §6.4 rules, strings placed at
 * the running offset into DHEAP (§8.3, R-DLT-07). */
static int check_dslot(const hf_reader *r, const hf_type_def *td,
                       const hf_dtype *d, uint64_t i, uint64_t *run,
                       hf_error *err) {
  const unsigned char *slot = d->dslots + i * td->slot_width;
  uint32_t sec = d->sec + HF_DS_SLOTS, f, b;
  const char *why = NULL;
  for (f = td->nfields; f < td->present_len * 8u; f++)
    if (hf_bit(slot + td->present_off, f))
      why = "presence bit beyond the last field is set (R-SLT-04)";
  for (b = td->present_off + td->present_len; b < td->slot_width; b++)
    if (slot[b] != 0)
      why = "slot padding is not zero (R-SLT-04)";
  for (f = 0; f < td->nfields && why == NULL; f++) {
    const hf_field_def *fd = &td->fields[f];
    const unsigned char *p = slot + fd->offset;
    uint64_t v, off, len;
    size_t bad;
    if (!hf_bit(slot + td->present_off, f)) {
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
                          (unsigned long long)i, (unsigned)d->added[i],
                          fd->name, why);
  }
  if (why != NULL)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                        "added record %llu (ordinal %u): %s",
                        (unsigned long long)i, (unsigned)d->added[i], why);
  return HF_OK;
}

/* One value of a patch at *at: inside the section, booleans 0 or 1,
 * references below the target's limit, strings UTF-8 and short enough
 * (§8.3 DPATCH, R-DLT-17).  NULL when well formed, else the reason. */
static const char *check_patch_value(const hf_reader *r, const hf_field_def *fd,
                                     const unsigned char *p, uint64_t len,
                                     uint64_t *at) {
  uint64_t n;
  size_t bad;
  if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES) {
    if (len - *at < 4)
      return "length runs past the end of the section";
    n = hf_le32(p + *at);
    if (n > HF_MAX_STRING)
      return "value longer than 2^24-1 bytes";
    if (n > len - *at - 4)
      return "value runs past the end of the section";
    if (fd->type == HF_FT_STRING &&
        !hf_utf8_valid(p + *at + 4, (size_t)n, &bad))
      return "string value is not UTF-8 (R-HEAP-03)";
    *at += 4 + n;
    return NULL;
  }
  if (len - *at < fd->size)
    return "value runs past the end of the section";
  if (fd->type == HF_FT_BOOLEAN && p[*at] > 1)
    return "boolean value is not 0 or 1";
  if (fd->type == HF_FT_REF &&
      hf_le32(p + *at) >= target_limit(r, fd->ref_type))
    return "reference beyond the target's ordinal_limit";
  *at += fd->size;
  return NULL;
}

/* Patch i of DPATCH(t), starting at *at (§8.3, R-DLT-17): mask without
 * bits past the last field and not empty, presence only under the mask,
 * then each masked field present in the target, well formed. */
static int check_patch(const hf_reader *r, const hf_type_def *td,
                       const hf_dtype *d, uint64_t i, uint64_t *at,
                       hf_error *err) {
  const uint32_t pl = td->present_len, sec = d->sec + HF_DS_PATCH;
  const unsigned char *p = d->dpatch, *mask, *pres;
  const uint64_t len = d->dpatch_len, start = *at;
  const char *why = NULL, *field = "";
  uint32_t f, any = 0;
  if (len - *at < 2 * (uint64_t)pl) {
    why = "mask and presence run past the end of the section";
  } else {
    mask = p + *at;
    pres = mask + pl;
    *at += 2 * (uint64_t)pl;
    for (f = 0; f < pl * 8u && why == NULL; f++) {
      if (hf_bit(pres, f) && !hf_bit(mask, f))
        why = "presence bit set for a field outside the mask";
      else if (hf_bit(mask, f) && f >= td->nfields)
        why = "mask bit beyond the last field";
      any |= hf_bit(mask, f);
    }
    if (why == NULL && !any)
      why = "empty mask";
    for (f = 0; f < td->nfields && why == NULL; f++)
      if (hf_bit(mask, f) && hf_bit(pres, f) &&
          (why = check_patch_value(r, &td->fields[f], p, len, at)) != NULL)
        field = td->fields[f].name;
  }
  if (why != NULL)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec) + start, r, sec,
                        "changed record %llu (ordinal %u)%s%s%s: %s "
                        "(FORMAT.md §8.3, R-DLT-17)",
                        (unsigned long long)i, (unsigned)d->changed[i],
                        field[0] ? " field '" : "", field, field[0] ? "'" : "",
                        why);
  return HF_OK;
}

static int decode_patches(const hf_reader *r, const hf_type_def *td,
                          hf_dtype *d, hf_error *err) {
  const uint32_t sec = d->sec + HF_DS_PATCH;
  uint64_t *offs, at = 0, i;
  int rc;
  if ((rc = load(r, sec, d->nchanged ? HF_MAX_HEAP : 0, &d->dpatch,
                 &d->dpatch_len, &d->owned[(size_t)2 * HF_DS_PATCH], err)) !=
      HF_OK)
    return rc;
  /* Each patch takes at least its mask and presence bytes. */
  if (d->nchanged > d->dpatch_len / (2 * (uint64_t)td->present_len))
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec), r, sec,
                        "%llu bytes cannot hold %llu patches (FORMAT.md §8.3, "
                        "R-DLT-17)",
                        (unsigned long long)d->dpatch_len,
                        (unsigned long long)d->nchanged);
  if ((offs = malloc(((size_t)d->nchanged + 1) * sizeof *offs)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  d->owned[(size_t)2 * HF_DS_PATCH + 1] = offs;
  d->patch_off = offs;
  for (i = 0; i < d->nchanged; i++) {
    offs[i] = at;
    if ((rc = check_patch(r, td, d, i, &at, err)) != HF_OK)
      return rc;
  }
  offs[d->nchanged] = at;
  if (at != d->dpatch_len)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, sec) + at, r, sec,
                        "%llu bytes follow the last patch (FORMAT.md §8.3, "
                        "R-DLT-17)",
                        (unsigned long long)(d->dpatch_len - at));
  return HF_OK;
}

static int decode_objects(const hf_reader *r, const hf_type_def *td,
                          hf_dtype *d, hf_error *err) {
  uint64_t run = 0, i;
  int rc;
  if ((rc = load(r, d->sec + HF_DS_VAR, d->nadded ? HF_MAX_HEAP : 0, &d->dvar,
                 &d->dvar_len, &d->owned[(size_t)2 * HF_DS_VAR], err)) != HF_OK)
    return rc;
  for (i = 0; i < d->nadded; i++)
    if ((rc = check_dslot(r, td, d, i, &run, err)) != HF_OK)
      return rc;
  if (run != d->dvar_len)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, d->sec + HF_DS_VAR), r,
                        d->sec + HF_DS_VAR,
                        "length %llu, but the added records' values take "
                        "%llu bytes (FORMAT.md §8.3, R-DLT-07)",
                        (unsigned long long)d->dvar_len,
                        (unsigned long long)run);
  if ((rc = decode_list(r, d->sec + HF_DS_CHANGED, d->count, d->limit,
                        "changed", &d->owned[(size_t)2 * HF_DS_CHANGED],
                        &d->changed, &d->nchanged, err)) != HF_OK)
    return rc;
  if ((rc = check_disjoint(r, d->sec + HF_DS_CHANGED, d->removed, d->nremoved,
                           d->changed, d->nchanged, "removed and changed",
                           err)) != HF_OK ||
      (rc = check_disjoint(r, d->sec + HF_DS_CHANGED, d->added, d->nadded,
                           d->changed, d->nchanged, "added and changed",
                           err)) != HF_OK)
    return rc;
  return decode_patches(r, td, d, err);
}

static int decode_colls(const hf_reader *r, const hf_type_def *td, hf_dtype *d,
                        hf_error *err) {
  uint64_t esize = td->kind == HF_KIND_MAP ? 8 : 4, start = 0, i, j;
  uint64_t end = d->nadded ? hf_le64(d->dslots + 8 * (d->nadded - 1)) : 0;
  uint32_t elim = target_limit(r, td->elem_type);
  uint32_t vlim = td->kind == HF_KIND_MAP ? target_limit(r, td->value_type) : 0;
  uint32_t sec = d->sec + HF_DS_SLOTS, vsec = d->sec + HF_DS_VAR;
  int rc;
  if (end > HF_MAX_ELEMENTS)
    return hf_rsec_fail(err, HF_E_LIMIT, sec_off(r, sec), r, sec,
                        "%llu elements exceed 2^40 (R-ELM-02)",
                        (unsigned long long)end);
  if ((rc = load(r, vsec, end * esize, &d->dvar, &d->dvar_len,
                 &d->owned[(size_t)2 * HF_DS_VAR], err)) != HF_OK)
    return rc;
  if (d->dvar_len != end * esize)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, vsec), r, vsec,
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
        return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, vsec), r, vsec,
                            "entry %llu of added record %llu: %s",
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
  uint32_t ssec = d->sec + HF_DS_SLOTS;
  int rc;
  d->limit = hf_le32(te);
  d->count = hf_le32(te + 4);
  if ((rc = decode_list(r, d->sec + HF_DS_REMOVED, HF_MAX_ORDINALS,
                        HF_MAX_ORDINALS, "removed",
                        &d->owned[(size_t)2 * HF_DS_REMOVED], &d->removed,
                        &d->nremoved, err)) != HF_OK ||
      (rc = decode_list(r, d->sec + HF_DS_ADDED, d->count, d->limit, "added",
                        &d->owned[(size_t)2 * HF_DS_ADDED], &d->added,
                        &d->nadded, err)) != HF_OK ||
      (rc = check_disjoint(r, d->sec + HF_DS_ADDED, d->removed, d->nremoved,
                           d->added, d->nadded, "removed and added", err)) !=
          HF_OK)
    return rc;
  if ((rc = load(r, ssec, d->nadded * w, &d->dslots, &len,
                 &d->owned[(size_t)2 * HF_DS_SLOTS], err)) != HF_OK)
    return rc;
  if (len != d->nadded * w)
    return hf_rsec_fail(err, HF_E_CORRUPT, sec_off(r, ssec), r, ssec,
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
    for (k = 0; k < 2 * HF_DELTA_MAX_SECS; k++)
      free(d[t].owned[k]);
  free(d);
}

int hf_delta_decode(const hf_reader *r, hf_dtype **out, hf_error *err) {
  uint32_t T = r->ntypes, t, sec = 2;
  hf_dtype *d;
  int rc = HF_OK;
  *out = NULL;
  if (r->info.kind == HF_BLOB_SNAPSHOT)
    return hf_fail(err, HF_E_ARG, HF_H_KIND, "blob is a snapshot, not a delta");
  if ((d = calloc((size_t)T + 1, sizeof *d)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  for (t = 0; t < T && rc == HF_OK; t++) {
    d[t].sec = sec;
    d[t].nsec = hf_delta_type_secs(&r->schema->types[t]);
    sec += d[t].nsec;
    rc = decode_type(r, t, &d[t], err);
  }
  if (rc != HF_OK) {
    hf_delta_types_free(d, T);
    return rc;
  }
  *out = d;
  return HF_OK;
}

void hf_patch_get(const hf_type_def *td, const hf_dtype *d, uint64_t i,
                  hf_patch *out) {
  const unsigned char *p = d->dpatch + d->patch_off[i];
  out->mask = p;
  out->presence = p + td->present_len;
  out->values = p + 2 * (size_t)td->present_len;
  out->values_len =
      d->patch_off[i + 1] - d->patch_off[i] - 2 * (uint64_t)td->present_len;
}

/* ---- Public: reading a delta's content ------------------------------------
 */

struct hf_delta {
  const hf_reader *r;
  hf_dtype *d;
  uint32_t ntypes;
};

int hf_delta_open(const hf_reader *r, hf_delta **out, hf_error *err) {
  hf_delta *h;
  int rc;
  if (out == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL output");
  *out = NULL;
  if (r == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL reader");
  if (r->records)
    return hf_fail(err, HF_E_ARG, HF_H_KIND, "blob is a snapshot, not a delta");
  if ((rc = hf_reader_verify(r, err)) != HF_OK)
    return rc;
  if ((h = calloc(1, sizeof *h)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  if ((rc = hf_delta_decode(r, &h->d, err)) != HF_OK) {
    free(h);
    return rc;
  }
  h->r = r;
  h->ntypes = r->ntypes;
  *out = h;
  return HF_OK;
}

void hf_delta_close(hf_delta *h) {
  if (h == NULL)
    return;
  hf_delta_types_free(h->d, h->ntypes);
  free(h);
}

static const uint32_t *op_list(const hf_delta *h, uint32_t type, hf_delta_op op,
                               uint64_t *n) {
  const hf_dtype *d;
  *n = 0;
  if (h == NULL || type >= h->ntypes)
    return NULL;
  d = &h->d[type];
  switch (op) {
  case HF_DELTA_OP_REMOVE:
    *n = d->nremoved;
    return d->removed;
  case HF_DELTA_OP_ADD:
    *n = d->nadded;
    return d->added;
  case HF_DELTA_OP_CHANGE:
    *n = d->nchanged;
    return d->changed;
  default:
    return NULL;
  }
}

uint64_t hf_delta_count(const hf_delta *h, uint32_t type, hf_delta_op op) {
  uint64_t n;
  op_list(h, type, op, &n);
  return n;
}

uint32_t hf_delta_ordinal(const hf_delta *h, uint32_t type, hf_delta_op op,
                          uint64_t i) {
  uint64_t n;
  const uint32_t *a = op_list(h, type, op, &n);
  return i < n ? a[i] : HF_NO_ORDINAL;
}

/* A value's bytes (slot encoding, or for strings the bytes themselves) as
 * an hf_value; references give their ordinal in u.l. */
static void to_value(const hf_field_def *fd, const unsigned char *p,
                     const unsigned char *sp, uint64_t slen, hf_value *v) {
  uint64_t bits;
  uint32_t b32;
  v->type = fd->type;
  switch (fd->type) {
  case HF_FT_INT:
    v->u.i = (int32_t)hf_le32(p);
    break;
  case HF_FT_LONG:
    v->u.l = (int64_t)hf_le64(p);
    break;
  case HF_FT_FLOAT:
    b32 = hf_le32(p);
    memcpy(&v->u.f, &b32, sizeof v->u.f);
    break;
  case HF_FT_DOUBLE:
    bits = hf_le64(p);
    memcpy(&v->u.d, &bits, sizeof v->u.d);
    break;
  case HF_FT_BOOLEAN:
    v->u.b = *p != 0;
    break;
  case HF_FT_REF:
    v->u.l = (int64_t)hf_le32(p);
    break;
  default:
    v->u.s.ptr = sp;
    v->u.s.len = (size_t)slen;
    break;
  }
}

int hf_delta_field(const hf_delta *h, uint32_t type, hf_delta_op op, uint64_t i,
                   uint32_t field, hf_value *out) {
  const hf_type_def *td;
  const hf_field_def *fd;
  const hf_dtype *d;
  if (h == NULL || out == NULL || type >= h->ntypes)
    return HF_E_ARG;
  td = &h->r->schema->types[type];
  d = &h->d[type];
  if (td->kind != HF_KIND_OBJECT || field >= td->nfields)
    return HF_E_ARG;
  fd = &td->fields[field];
  if (op == HF_DELTA_OP_ADD && i < d->nadded) {
    const unsigned char *slot = d->dslots + i * td->slot_width;
    uint64_t v = 0;
    if (!hf_bit(slot + td->present_off, field))
      return HF_NULL;
    if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES)
      v = hf_le64(slot + fd->offset); /* inside DHEAP (decode) */
    to_value(fd, slot + fd->offset, d->dvar + (v & HF_STR_OFF_MASK),
             v >> HF_STR_OFF_BITS, out);
    return HF_OK;
  }
  if (op == HF_DELTA_OP_CHANGE && i < d->nchanged) {
    hf_patch pt;
    const unsigned char *p;
    uint32_t f;
    hf_patch_get(td, d, i, &pt);
    if (!hf_bit(pt.mask, field))
      return HF_NOTFOUND;
    if (!hf_bit(pt.presence, field))
      return HF_NULL;
    p = pt.values;
    for (f = 0; f < field; f++) /* well formed (decode) */
      if (hf_bit(pt.mask, f) && hf_bit(pt.presence, f))
        p += hf_patch_value_len(&td->fields[f], p);
    to_value(fd, p, p + 4,
             (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES) ? hf_le32(p)
                                                                   : 0,
             out);
    return HF_OK;
  }
  return HF_E_ARG;
}

int hf_delta_coll(const hf_delta *h, uint32_t type, uint64_t i, hf_coll *out) {
  const hf_type_def *td;
  const hf_dtype *d;
  uint64_t start, end, es;
  if (h == NULL || out == NULL || type >= h->ntypes)
    return HF_E_ARG;
  td = &h->r->schema->types[type];
  d = &h->d[type];
  if (td->kind == HF_KIND_OBJECT || i >= d->nadded)
    return HF_E_ARG;
  es = td->kind == HF_KIND_MAP ? 8 : 4;
  start = i == 0 ? 0 : hf_le64(d->dslots + 8 * (i - 1));
  end = hf_le64(d->dslots + 8 * i); /* start <= end (decode) */
  out->elems = d->dvar + start * es;
  out->n = end - start;
  out->type = type;
  out->kind = td->kind;
  return HF_OK;
}
