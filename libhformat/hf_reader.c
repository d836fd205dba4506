/*
 * hf_reader.c - opening a blob (the cheap open of FORMAT.md §9: it reads
 * the header, the section table, SCHEMA and TYPES and no other byte, so its
 * cost is independent of record count and it touches no page of the data),
 * record and collection accessors, and primary-key lookup (§7).
 *
 * Accessors trust nothing they read from the records themselves: every
 * ordinal, heap offset and collection end is checked against the section
 * bounds validated at open, so they are safe on a blob never verified.
 * Nothing on a read path allocates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#define XXH_INLINE_ALL /* header-only XXH3: no libxxhash.so to load at exec */
#include <xxhash.h>

#include "hf_delta_internal.h"
#include "hf_reader_internal.h"

/* ---- Messages ---------------------------------------------------------- */

const char *hf_section_kind_name(uint32_t kind) {
  switch (kind) {
  case HF_SEC_SCHEMA:
    return "schema";
  case HF_SEC_TYPES:
    return "types";
  case HF_SEC_BITMAP:
    return "bitmap";
  case HF_SEC_SLOTS:
    return "slots";
  case HF_SEC_HEAP:
    return "heap";
  case HF_SEC_ELEMENTS:
    return "elements";
  case HF_SEC_PKINDEX:
    return "pkindex";
  case HF_SEC_REMOVED: /* delta sections (§8.2), plain or LZ4 */
  case HF_SEC_REMOVED | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "removed+lz4" : "removed";
  case HF_SEC_ADDED:
  case HF_SEC_ADDED | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "added+lz4" : "added";
  case HF_SEC_DSLOTS:
  case HF_SEC_DSLOTS | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "dslots+lz4" : "dslots";
  case HF_SEC_DHEAP:
  case HF_SEC_DHEAP | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "dheap+lz4" : "dheap";
  case HF_SEC_DELEMENTS:
  case HF_SEC_DELEMENTS | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "delements+lz4" : "delements";
  case HF_SEC_CHANGED:
  case HF_SEC_CHANGED | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "changed+lz4" : "changed";
  case HF_SEC_DPATCH:
  case HF_SEC_DPATCH | HF_SEC_LZ4:
    return kind & HF_SEC_LZ4 ? "dpatch+lz4" : "dpatch";
  default:
    return "unknown";
  }
}

/* "section 7 (slots of type 'Movie')", or with a type id while the schema
 * is not yet known. */
static void describe_section(const hf_reader *r, uint32_t i, char *buf,
                             size_t cap) {
  const unsigned char *e = hf_rsec(r, i);
  uint32_t kind = hf_le32(e), type = hf_le32(e + 4);
  if (type == HF_NO_TYPE)
    snprintf(buf, cap, "section %u (%s)", (unsigned)i,
             hf_section_kind_name(kind));
  else if (r->schema != NULL && type < r->schema->ntypes)
    snprintf(buf, cap, "section %u (%s of type '%s')", (unsigned)i,
             hf_section_kind_name(kind), r->schema->types[type].name);
  else
    snprintf(buf, cap, "section %u (%s of type %u)", (unsigned)i,
             hf_section_kind_name(kind), (unsigned)type);
}

int hf_rsec_fail(hf_error *err, int code, uint64_t offset, const hf_reader *r,
                 uint32_t sec, const char *fmt, ...) {
  char head[200], tail[256];
  va_list ap;
  if (err == NULL)
    return code;
  describe_section(r, sec, head, sizeof head);
  va_start(ap, fmt);
  vsnprintf(tail, sizeof tail, fmt, ap);
  va_end(ap);
  return hf_fail(err, code, offset, "%s: %s", head, tail);
}

/* Checksum comparisons are the one check fuzz builds skip (STYLE.md §5). */
static int checksum_differs(uint64_t stored, uint64_t computed) {
  return HF_CHECKSUM_MISMATCH(stored, computed);
}

/* ---- Header (§4) --------------------------------------------------------- */

uint64_t hf_rheader_checksum(const unsigned char *base, uint32_t nsections) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, base, HF_HEADER_CKSUM_OFF);
  XXH3_64bits_update(&st, base + HF_HEADER_SIZE,
                     (size_t)nsections * HF_SECTION_ENTRY_SIZE);
  return XXH3_64bits_digest(&st);
}

uint64_t hf_rstate(const unsigned char *base, uint32_t nsections) {
  XXH3_state_t st;
  uint32_t i;
  XXH3_64bits_reset(&st);
  for (i = 0; i < nsections; i++)
    XXH3_64bits_update(
        &st, base + HF_HEADER_SIZE + (size_t)i * HF_SECTION_ENTRY_SIZE + 24, 8);
  return XXH3_64bits_digest(&st);
}

/* Checks the rows of FORMAT.md §9 for the header, in the table's order. */
static int check_header(hf_reader *r, hf_error *err) {
  const unsigned char *h = r->base;
  uint64_t size = r->size, fsize, n, got;
  unsigned kind;

  if (size < HF_MAGIC_LEN || memcmp(h, HF_MAGIC, HF_MAGIC_LEN) != 0)
    return hf_fail(err, HF_E_MAGIC, 0,
                   "%s: not a hollow blob (FORMAT.md §4.1, R-HDR-01)",
                   size == 0 ? "empty file" : "no hollow magic at offset 0");
  if (size < HF_HEADER_SIZE)
    return hf_fail(err, HF_E_TRUNCATED, size,
                   "file is %u bytes, shorter than the 64-byte header "
                   "(FORMAT.md §4.1, R-HDR-02)",
                   (unsigned)size);
  r->info.format_major = hf_le16(h + HF_H_MAJOR);
  r->info.format_minor = hf_le16(h + HF_H_MINOR);
  if (r->info.format_major != HF_FORMAT_MAJOR)
    return hf_fail(err, HF_E_VERSION, HF_H_MAJOR,
                   "header: format version %u.%u; this reader reads major "
                   "version %u only (FORMAT.md §4.2, R-HDR-03)",
                   (unsigned)r->info.format_major,
                   (unsigned)r->info.format_minor, (unsigned)HF_FORMAT_MAJOR);
  kind = h[HF_H_KIND];
  if (kind < HF_BLOB_SNAPSHOT || kind > HF_BLOB_REVERSE_DELTA)
    return hf_fail(err, HF_E_CORRUPT, HF_H_KIND,
                   "header: blob kind %u is not 1 (snapshot), 2 (delta) or "
                   "3 (reverse delta) (FORMAT.md §4.3, R-HDR-05)",
                   kind);
  r->info.kind = (hf_blob_kind)kind;
  if (h[HF_H_RESERVED0] != 0 || hf_le16(h + HF_H_RESERVED1) != 0 ||
      hf_le32(h + HF_H_RESERVED2) != 0) {
    uint64_t at = h[HF_H_RESERVED0] != 0             ? HF_H_RESERVED0
                  : hf_le16(h + HF_H_RESERVED1) != 0 ? HF_H_RESERVED1
                                                     : HF_H_RESERVED2;
    return hf_fail(err, HF_E_CORRUPT, at,
                   "header: reserved field at offset %u is nonzero, must be "
                   "0 (FORMAT.md §4.4, R-HDR-04)",
                   (unsigned)at);
  }
  fsize = hf_le64(h + HF_H_FILE_SIZE);
  if (fsize > size)
    return hf_fail(err, HF_E_TRUNCATED, size,
                   "header: file_size is %llu but only %llu bytes are present "
                   "(FORMAT.md §4.6, R-HDR-06)",
                   (unsigned long long)fsize, (unsigned long long)size);
  if (fsize < size)
    return hf_fail(err, HF_E_CORRUPT, HF_H_FILE_SIZE,
                   "header: file_size is %llu but the file has %llu bytes "
                   "(FORMAT.md §4.6, R-HDR-06)",
                   (unsigned long long)fsize, (unsigned long long)size);
  r->info.file_size = fsize;
  n = hf_le32(h + HF_H_NSECTIONS);
  if (n > (size - HF_HEADER_SIZE) / HF_SECTION_ENTRY_SIZE)
    return hf_fail(err, HF_E_CORRUPT, HF_H_NSECTIONS,
                   "header: section_count %llu does not fit in a %llu-byte "
                   "file (FORMAT.md §4.5, R-HDR-07)",
                   (unsigned long long)n, (unsigned long long)size);
  r->info.section_count = (uint32_t)n;
  r->table = h + HF_HEADER_SIZE;
  got = hf_rheader_checksum(h, (uint32_t)n);
  if (checksum_differs(hf_le64(h + HF_H_CHECKSUM), got))
    return hf_fail(err, HF_E_CHECKSUM, HF_H_CHECKSUM,
                   "header: checksum %016llx, computed %016llx over the "
                   "header and section table (FORMAT.md §4.8, R-HDR-09)",
                   (unsigned long long)hf_le64(h + HF_H_CHECKSUM),
                   (unsigned long long)got);
  r->info.dataset_version = hf_le64(h + HF_H_VERSION);
  r->info.base_state = hf_le64(h + HF_H_BASE_STATE);
  r->info.state = hf_le64(h + HF_H_STATE);
  if (r->info.dataset_version == 0)
    return hf_fail(err, HF_E_CORRUPT, HF_H_VERSION,
                   "header: dataset_version is 0, must be >= 1 "
                   "(FORMAT.md §4.7, R-HDR-10)");
  if (kind != HF_BLOB_SNAPSHOT)
    return HF_OK;
  if (r->info.base_state != 0)
    return hf_fail(err, HF_E_CORRUPT, HF_H_BASE_STATE,
                   "header: base_state of a snapshot is %016llx, must be 0 "
                   "(FORMAT.md §4.10, R-HDR-11)",
                   (unsigned long long)r->info.base_state);
  got = hf_rstate(h, (uint32_t)n);
  if (checksum_differs(r->info.state, got))
    return hf_fail(err, HF_E_CHECKSUM, HF_H_STATE,
                   "header: state %016llx, computed %016llx from the section "
                   "checksums (FORMAT.md §4.9, R-HDR-12)",
                   (unsigned long long)r->info.state, (unsigned long long)got);
  return HF_OK;
}

/* ---- Section table (§5) -------------------------------------------------- */

static int kind_known(uint32_t kind, hf_blob_kind blob) {
  switch (kind) {
  case HF_SEC_SCHEMA:
  case HF_SEC_TYPES:
  case HF_SEC_BITMAP:
  case HF_SEC_SLOTS:
  case HF_SEC_HEAP:
  case HF_SEC_ELEMENTS:
  case HF_SEC_PKINDEX:
    return 1;
  default:
    /* §8.2: delta sections, plain or LZ4 (bit 0x4000), in deltas only. */
    if (blob != HF_BLOB_SNAPSHOT &&
        (kind & ~(uint32_t)HF_SEC_LZ4) >= HF_SEC_REMOVED &&
        (kind & ~(uint32_t)HF_SEC_LZ4) <= HF_SEC_DPATCH)
      return 1;
    return kind >= HF_SEC_ANCILLARY;
  }
}

/* Positions only: the padding bytes (R-GEN-01) are verify's, since reading
 * them would touch a page at the end of every section. */
static int check_table(hf_reader *r, hf_error *err) {
  uint32_t n = r->info.section_count, i;
  uint64_t end = HF_HEADER_SIZE + (uint64_t)n * HF_SECTION_ENTRY_SIZE;

  for (i = 0; i < n; i++) {
    const unsigned char *e = hf_rsec(r, i);
    uint64_t eoff = (uint64_t)(e - r->base);
    uint32_t kind = hf_le32(e);
    uint64_t off = hf_le64(e + 8), len = hf_le64(e + 16);
    uint64_t want = hf_align8(end);
    if (!kind_known(kind, r->info.kind))
      return hf_rsec_fail(
          err, HF_E_CORRUPT, eoff, r, i,
          "unknown section kind 0x%x (FORMAT.md §5.2, R-SEC-01)",
          (unsigned)kind);
    if (off > r->size || len > r->size - off)
      return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 8, r, i,
                          "offset %llu + length %llu lies outside the "
                          "%llu-byte file (FORMAT.md §5.3, R-SEC-04)",
                          (unsigned long long)off, (unsigned long long)len,
                          (unsigned long long)r->size);
    if (off % HF_ALIGN != 0)
      return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 8, r, i,
                          "offset %llu is not a multiple of 8 (R-SEC-03)",
                          (unsigned long long)off);
    if (off != want)
      return hf_rsec_fail(
          err, HF_E_CORRUPT, eoff + 8, r, i,
          "offset %llu, expected %llu: sections are "
          "contiguous in table order (FORMAT.md §5.3, R-SEC-03)",
          (unsigned long long)off, (unsigned long long)want);
    end = off + len;
  }
  if (hf_align8(end) != r->size)
    return hf_fail(err, HF_E_CORRUPT, end,
                   "section table: sections end at %llu but the file has "
                   "%llu bytes; file_size must be align8 of the last "
                   "section's end (FORMAT.md §5.3, R-SEC-03)",
                   (unsigned long long)end, (unsigned long long)r->size);
  return HF_OK;
}

/* ---- Schema (§6.1) ------------------------------------------------------- */

static int section_checksum(const hf_reader *r, uint32_t i, hf_error *err) {
  const unsigned char *e = hf_rsec(r, i);
  uint64_t off = hf_le64(e + 8), len = hf_le64(e + 16);
  uint64_t stored = hf_le64(e + 24), got = hf_xxh3(r->base + off, len);
  if (checksum_differs(stored, got))
    return hf_rsec_fail(
        err, HF_E_CHECKSUM, off, r, i,
        "checksum %016llx, computed %016llx (FORMAT.md §5.5, R-SEC-08)",
        (unsigned long long)stored, (unsigned long long)got);
  return HF_OK;
}

/* The layout the schema module computed must fit the slot it describes;
 * accessors index slots with these offsets and never re-check them. */
static int check_layout_fits(const hf_schema *s, hf_error *err) {
  uint32_t t, f, k, d;
  for (t = 0; t < s->ntypes; t++) {
    const hf_type_def *td = &s->types[t];
    if (td->kind != HF_KIND_OBJECT) {
      if (td->slot_width != 8 || td->elem_type >= s->ntypes ||
          (td->kind == HF_KIND_MAP && td->value_type >= s->ntypes))
        goto bad;
      continue;
    }
    if (td->present_off > td->slot_width ||
        td->present_len > td->slot_width - td->present_off ||
        td->present_len < (td->nfields + 7) / 8 || td->nkeys > HF_MAX_KEYS)
      goto bad;
    for (f = 0; f < td->nfields; f++) {
      const hf_field_def *fd = &td->fields[f];
      if (fd->offset > td->slot_width || fd->size > td->slot_width - fd->offset)
        goto bad;
      if (fd->type == HF_FT_REF && fd->ref_type >= s->ntypes)
        goto bad;
    }
    for (k = 0; k < td->nkeys; k++) {
      const hf_keypath *kp = &td->keys[k];
      if (kp->depth < 1 || kp->depth > HF_MAX_KEY_DEPTH)
        goto bad;
      for (d = 0; d < kp->depth; d++) {
        uint32_t st = kp->step_types[d];
        if (st >= s->ntypes || s->types[st].kind != HF_KIND_OBJECT ||
            kp->steps[d] >= s->types[st].nfields)
          goto bad;
      }
    }
    continue;
  bad:
    return hf_fail(err, HF_E_SCHEMA, UINT64_MAX,
                   "schema: layout of type '%s' is inconsistent", td->name);
  }
  return HF_OK;
}

static int load_schema(hf_reader *r, hf_error *err) {
  const unsigned char *e;
  uint64_t off, len;
  char *text;
  size_t plen;
  int rc;

  if (r->info.section_count == 0)
    return hf_fail(err, HF_E_CORRUPT, HF_H_NSECTIONS,
                   "section table is empty; section 0 must be the schema "
                   "(FORMAT.md §5.4, R-SEC-06)");
  e = hf_rsec(r, 0);
  if (hf_le32(e) != HF_SEC_SCHEMA || hf_le32(e + 4) != HF_NO_TYPE)
    return hf_rsec_fail(err, HF_E_CORRUPT, HF_HEADER_SIZE, r, 0,
                        "expected the schema (kind 1, type 0xFFFFFFFF) "
                        "first (FORMAT.md §5.4, R-SEC-06)");
  off = hf_le64(e + 8);
  len = hf_le64(e + 16);
  if (len > HF_MAX_SCHEMA_TEXT)
    return hf_rsec_fail(err, HF_E_LIMIT, off, r, 0,
                        "schema text of %llu bytes exceeds the limit of %u "
                        "(FORMAT.md §6.1, R-SCM-04)",
                        (unsigned long long)len, (unsigned)HF_MAX_SCHEMA_TEXT);
  if ((rc = section_checksum(r, 0, err)) != HF_OK)
    return rc;
  if (memchr(r->base + off, 0, (size_t)len) != NULL)
    return hf_rsec_fail(
        err, HF_E_CORRUPT, off, r, 0,
        "schema text contains a NUL byte (FORMAT.md §6.1, R-SCM-01)");
  {
    hf_error perr;
    hf_error_clear(&perr);
    rc = hf_schema_parse((const char *)(r->base + off), (size_t)len, &r->schema,
                         &perr);
    if (rc != HF_OK) {
      r->schema = NULL;
      /* R-SCM-01: a blob whose schema does not parse is corrupt; limits
       * (R-SCM-03) and memory keep their own codes. */
      if (rc != HF_E_LIMIT && rc != HF_E_NOMEM)
        rc = HF_E_CORRUPT;
      rc = hf_rsec_fail(err, rc, off, r, 0,
                        "line %llu column %u: %s (FORMAT.md §6.1, R-SCM-01)",
                        (unsigned long long)perr.line, (unsigned)perr.column,
                        perr.msg);
      if (err != NULL) {
        err->line = perr.line;
        err->column = perr.column;
      }
      return rc;
    }
  }
  /* Canonical text only: one schema has one byte representation, so the
   * blob's bytes (and state) are a function of its content. */
  text = malloc((size_t)len + 1);
  if (text == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  plen = hf_schema_print(r->schema, text, (size_t)len + 1);
  if (plen != len || memcmp(text, r->base + off, (size_t)len) != 0) {
    size_t k = 0;
    size_t lim = plen < len ? plen : (size_t)len;
    while (k < lim && text[k] == (char)r->base[off + k])
      k++;
    free(text);
    return hf_rsec_fail(
        err, HF_E_CORRUPT, off + k, r, 0,
        "schema text is not canonical: it differs from its "
        "canonical printing at byte %zu (FORMAT.md §6.1, R-SCM-02)",
        k);
  }
  free(text);
  r->ntypes = r->schema->ntypes;
  return check_layout_fits(r->schema, err);
}

/* ---- Snapshot layout (§5.3, §6.2-§6.7) ----------------------------------- */

/* Expects section *i to be (kind, type); advances *i. */
static int expect_section(hf_reader *r, uint32_t *i, uint32_t kind,
                          uint32_t type, hf_error *err) {
  const unsigned char *e;
  if (*i >= r->info.section_count)
    return hf_fail(err, HF_E_CORRUPT, HF_H_NSECTIONS,
                   "section table: %u sections, but the schema requires a "
                   "%s section%s%s%s as section %u (FORMAT.md §5.4, R-SEC-06)",
                   (unsigned)r->info.section_count, hf_section_kind_name(kind),
                   type == HF_NO_TYPE ? "" : " of type '",
                   type == HF_NO_TYPE ? "" : r->schema->types[type].name,
                   type == HF_NO_TYPE ? "" : "'", (unsigned)*i);
  e = hf_rsec(r, *i);
  if (hf_le32(e) != kind || hf_le32(e + 4) != type) {
    if (type == HF_NO_TYPE)
      return hf_rsec_fail(
          err, HF_E_CORRUPT, (uint64_t)(e - r->base), r, *i,
          "expected the %s section here (FORMAT.md §5.4, R-SEC-06)",
          hf_section_kind_name(kind));
    return hf_rsec_fail(err, HF_E_CORRUPT, (uint64_t)(e - r->base), r, *i,
                        "expected the %s section of type '%s' here "
                        "(FORMAT.md §5.4, R-SEC-06)",
                        hf_section_kind_name(kind),
                        r->schema->types[type].name);
  }
  (*i)++;
  return HF_OK;
}

static int check_sequence(hf_reader *r, hf_error *err) {
  uint32_t i = 1, t;
  int rc;
  if ((rc = expect_section(r, &i, HF_SEC_TYPES, HF_NO_TYPE, err)) != HF_OK)
    return rc;
  for (t = 0; t < r->ntypes; t++) {
    const hf_type_def *td = &r->schema->types[t];
    hf_rtype *rt = &r->types[t];
    int obj = td->kind == HF_KIND_OBJECT;
    rt->sec[0] = i;
    if ((rc = expect_section(r, &i, HF_SEC_BITMAP, t, err)) != HF_OK)
      return rc;
    rt->sec[1] = i;
    if ((rc = expect_section(r, &i, HF_SEC_SLOTS, t, err)) != HF_OK)
      return rc;
    rt->sec[2] = i;
    rc = expect_section(r, &i, obj ? HF_SEC_HEAP : HF_SEC_ELEMENTS, t, err);
    if (rc != HF_OK)
      return rc;
    rt->sec[3] = HF_NO_SECTION;
    if (obj && td->nkeys > 0) {
      rt->sec[3] = i;
      if ((rc = expect_section(r, &i, HF_SEC_PKINDEX, t, err)) != HF_OK)
        return rc;
    }
  }
  for (; i < r->info.section_count; i++) {
    const unsigned char *e = hf_rsec(r, i);
    if (hf_le32(e) < HF_SEC_ANCILLARY)
      return hf_rsec_fail(err, HF_E_CORRUPT, (uint64_t)(e - r->base), r, i,
                          "only ancillary sections may follow the required "
                          "ones (FORMAT.md §5.4, R-SEC-07)");
  }
  return HF_OK;
}

static uint64_t sec_off(const hf_reader *r, uint32_t i) {
  return hf_le64(hf_rsec(r, i) + 8);
}
static uint64_t sec_len(const hf_reader *r, uint32_t i) {
  return hf_le64(hf_rsec(r, i) + 16);
}

/* Reports a section whose length is not the one its counts imply. */
static int bad_length(hf_reader *r, uint32_t i, const char *why,
                      hf_error *err) {
  return hf_rsec_fail(err, HF_E_CORRUPT,
                      (uint64_t)(hf_rsec(r, i) - r->base) + 16, r, i,
                      "length %llu %s", (unsigned long long)sec_len(r, i), why);
}

static int check_types_entry(hf_reader *r, uint32_t t, hf_error *err) {
  const unsigned char *e = r->base + sec_off(r, 1) + (size_t)t * 16;
  uint64_t eoff = (uint64_t)(e - r->base);
  const hf_type_def *td = &r->schema->types[t];
  hf_rtype *rt = &r->types[t];
  uint32_t limit = hf_le32(e), count = hf_le32(e + 4), width = hf_le32(e + 8);

  if (limit > HF_MAX_ORDINALS)
    return hf_rsec_fail(err, HF_E_LIMIT, eoff, r, 1,
                        "type '%s': ordinal_limit %u exceeds 2^31-1 "
                        "(FORMAT.md §6.2, R-TYP-02)",
                        td->name, (unsigned)limit);
  if (count > limit)
    return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 4, r, 1,
                        "type '%s': record_count %u exceeds ordinal_limit %u "
                        "(FORMAT.md §6.2, R-TYP-03)",
                        td->name, (unsigned)count, (unsigned)limit);
  if (width != td->slot_width)
    return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 8, r, 1,
                        "type '%s': slot_width %u, the schema gives %u "
                        "(FORMAT.md §6.2, §6.4, R-TYP-04)",
                        td->name, (unsigned)width, (unsigned)td->slot_width);
  if (hf_le32(e + 12) != 0)
    return hf_rsec_fail(err, HF_E_CORRUPT, eoff + 12, r, 1,
                        "type '%s': reserved field is nonzero (FORMAT.md "
                        "§6.2, R-TYP-05)",
                        td->name);
  rt->def = td;
  rt->limit = limit;
  rt->count = count;
  rt->width = width;
  rt->nwords = (uint32_t)((limit + UINT64_C(63)) / 64);
  return HF_OK;
}

static int check_type_sections(hf_reader *r, uint32_t t, hf_error *err) {
  hf_rtype *rt = &r->types[t];
  const hf_type_def *td = rt->def;
  char why[160];

  if (sec_len(r, rt->sec[0]) != (uint64_t)rt->nwords * 8) {
    snprintf(why, sizeof why,
             "is not ceil(ordinal_limit %u / 64) x 8 = %llu (FORMAT.md §6.3, "
             "R-BMP-01)",
             (unsigned)rt->limit, (unsigned long long)rt->nwords * 8);
    return bad_length(r, rt->sec[0], why, err);
  }
  if (sec_len(r, rt->sec[1]) != (uint64_t)rt->limit * rt->width) {
    snprintf(
        why, sizeof why,
        "is not ordinal_limit %u x slot_width %u (FORMAT.md §6.5, R-SLT-01)",
        (unsigned)rt->limit, (unsigned)rt->width);
    return bad_length(r, rt->sec[1], why, err);
  }
  rt->bitmap = r->base + sec_off(r, rt->sec[0]);
  rt->slots = r->base + sec_off(r, rt->sec[1]);
  rt->data = r->base + sec_off(r, rt->sec[2]);
  rt->data_len = sec_len(r, rt->sec[2]);
  if (td->kind == HF_KIND_OBJECT) {
    if (rt->data_len > HF_MAX_HEAP)
      return hf_rsec_fail(err, HF_E_LIMIT, sec_off(r, rt->sec[2]), r,
                          rt->sec[2],
                          "heap of %llu bytes exceeds 2^40-1 (FORMAT.md §10)",
                          (unsigned long long)rt->data_len);
    if (rt->sec[3] != HF_NO_SECTION) {
      uint64_t nb = hf_pk_buckets(rt->count);
      if (sec_len(r, rt->sec[3]) != nb * HF_PK_BUCKET_SIZE) {
        snprintf(why, sizeof why,
                 "is not %llu buckets x 8 for record_count %u "
                 "(FORMAT.md §6.7, R-PK-01)",
                 (unsigned long long)nb, (unsigned)rt->count);
        return bad_length(r, rt->sec[3], why, err);
      }
      rt->pk = r->base + sec_off(r, rt->sec[3]);
      rt->pk_mask = nb - 1;
    }
  } else {
    /* The element count comes from the section length, not from
     * end(ordinal_limit-1): open reads no slot.  Accessors bound every range
     * by it; verify checks it against the last end (R-ELM-01). */
    rt->esize = td->kind == HF_KIND_MAP ? 8 : 4;
    if (rt->data_len % rt->esize != 0) {
      snprintf(why, sizeof why,
               "is not a multiple of the %u-byte %s (FORMAT.md §6.6b, "
               "R-ELM-01)",
               (unsigned)rt->esize,
               td->kind == HF_KIND_MAP ? "entry" : "element");
      return bad_length(r, rt->sec[2], why, err);
    }
    rt->nelems = rt->data_len / rt->esize;
    if (rt->nelems > HF_MAX_ELEMENTS)
      return hf_rsec_fail(err, HF_E_LIMIT, sec_off(r, rt->sec[2]), r,
                          rt->sec[2],
                          "%llu elements exceed 2^40 (FORMAT.md §6.5, "
                          "R-ELM-02)",
                          (unsigned long long)rt->nelems);
  }
  return HF_OK;
}

/* A single int or long key read straight from the slot: the common case
 * gets a lookup with no key decoding at all. */
static void prepare_fast_key(hf_rtype *rt) {
  const hf_type_def *td = rt->def;
  const hf_keypath *kp;
  if (td->kind != HF_KIND_OBJECT || td->nkeys != 1)
    return;
  kp = &td->keys[0];
  if (kp->depth != 1 || (kp->leaf != HF_FT_INT && kp->leaf != HF_FT_LONG) ||
      td->fields[kp->steps[0]].type != kp->leaf)
    return;
  rt->fast_key = kp->leaf;
  rt->fast_off = td->fields[kp->steps[0]].offset;
  rt->fast_pbyte = td->present_off + kp->steps[0] / 8;
  rt->fast_pmask = 1u << (kp->steps[0] % 8);
}

static int check_snapshot(hf_reader *r, hf_error *err) {
  uint32_t t;
  int rc;
  r->types = calloc(r->ntypes ? r->ntypes : 1, sizeof *r->types);
  if (r->types == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  if ((rc = check_sequence(r, err)) != HF_OK)
    return rc;
  if (sec_len(r, 1) != (uint64_t)r->ntypes * HF_TYPES_ENTRY_SIZE) {
    char why[128];
    snprintf(why, sizeof why, "is not %u types x 16 (FORMAT.md §6.2, R-TYP-01)",
             (unsigned)r->ntypes);
    return bad_length(r, 1, why, err);
  }
  if ((rc = section_checksum(r, 1, err)) != HF_OK)
    return rc;
  for (t = 0; t < r->ntypes; t++)
    if ((rc = check_types_entry(r, t, err)) != HF_OK)
      return rc;
  for (t = 0; t < r->ntypes; t++) {
    if ((rc = check_type_sections(r, t, err)) != HF_OK)
      return rc;
    prepare_fast_key(&r->types[t]);
  }
  r->records = 1;
  return HF_OK;
}

/* ---- Open / close -------------------------------------------------------- */

static int open_blob(hf_reader *r, const hf_open_opts *opts, hf_error *err) {
  int rc;
  if (opts != NULL && opts->max_file_size != 0 && r->size > opts->max_file_size)
    return hf_fail(err, HF_E_LIMIT, UINT64_MAX,
                   "file of %llu bytes exceeds max_file_size %llu",
                   (unsigned long long)r->size,
                   (unsigned long long)opts->max_file_size);
  if ((rc = check_header(r, err)) != HF_OK)
    return rc;
  if ((rc = check_table(r, err)) != HF_OK)
    return rc;
  if ((rc = load_schema(r, err)) != HF_OK)
    return rc;
  if (r->info.kind == HF_BLOB_SNAPSHOT &&
      (rc = check_snapshot(r, err)) != HF_OK)
    return rc;
  if (r->info.kind != HF_BLOB_SNAPSHOT &&
      (rc = hf_rdelta_open(r, err)) != HF_OK)
    return rc;
  if (opts != NULL && (opts->flags & HF_OPEN_VERIFY))
    return hf_reader_verify(r, err);
  return HF_OK;
}

/* Takes ownership of whatever r holds (map/owned) and frees r on failure. */
static int finish_open(hf_reader *r, const hf_open_opts *opts, hf_reader **out,
                       hf_error *err) {
  int rc = open_blob(r, opts, err);
  if (rc != HF_OK) {
    hf_reader_close(r);
    return rc;
  }
  hf_error_clear(err);
  *out = r;
  return HF_OK;
}

int hf_reader_open_mem(const void *buf, size_t len, const hf_open_opts *opts,
                       hf_reader **out, hf_error *err) {
  hf_reader *r;
  if (out == NULL || (buf == NULL && len != 0))
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL argument");
  *out = NULL;
  if ((r = calloc(1, sizeof *r)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  r->base = buf != NULL ? buf : (const unsigned char *)"";
  r->size = len;
  return finish_open(r, opts, out, err);
}

/* HF_E_IO with errno as the OS left it (STYLE.md §3). */
static int io_fail(hf_error *err, const char *what) {
  int e = errno;
  hf_fail(err, HF_E_IO, UINT64_MAX, "%s: %s", what, strerror(e));
  errno = e;
  return HF_E_IO;
}

/* Reads a stream to EOF into a growing buffer, bounded by `max`. */
static int read_all(int fd, uint64_t max, unsigned char **out, size_t *len,
                    hf_error *err) {
  unsigned char *buf = NULL, *nb;
  size_t cap = 0, n = 0;
  for (;;) {
    ssize_t got;
    if (n == cap) {
      size_t ncap = cap == 0 ? 65536 : cap * 2;
      if (ncap < cap) {
        free(buf);
        return hf_fail(err, HF_E_LIMIT, UINT64_MAX, "input too large");
      }
      if ((nb = realloc(buf, ncap)) == NULL) {
        free(buf);
        return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
      }
      buf = nb;
      cap = ncap;
    }
    got = read(fd, buf + n, cap - n);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      free(buf);
      return io_fail(err, "read");
    }
    if (got == 0)
      break;
    n += (size_t)got;
    if (max != 0 && n > max) {
      free(buf);
      return hf_fail(err, HF_E_LIMIT, UINT64_MAX,
                     "input exceeds max_file_size %llu",
                     (unsigned long long)max);
    }
  }
  *out = buf;
  *len = n;
  return HF_OK;
}

int hf_reader_open_fd(int fd, const hf_open_opts *opts, hf_reader **out,
                      hf_error *err) {
  struct stat st;
  hf_reader *r;
  uint64_t max = opts != NULL ? opts->max_file_size : 0;
  if (out == NULL || fd < 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "bad argument");
  *out = NULL;
  if (fstat(fd, &st) != 0)
    return io_fail(err, "fstat");
  if ((r = calloc(1, sizeof *r)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  if (S_ISREG(st.st_mode)) {
    uint64_t size = (uint64_t)st.st_size;
    void *m;
    if (st.st_size == 0) {
      free(r);
      return hf_fail(
          err, HF_E_MAGIC, 0,
          "empty file: not a hollow blob (FORMAT.md §4.1, R-HDR-01)");
    }
    if ((max != 0 && size > max) || size > SIZE_MAX) {
      free(r);
      return hf_fail(err, HF_E_LIMIT, UINT64_MAX,
                     "file of %llu bytes exceeds max_file_size %llu",
                     (unsigned long long)size, (unsigned long long)max);
    }
    m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      free(r);
      return io_fail(err, "mmap");
    }
    r->map = m;
    r->map_len = (size_t)size;
    r->base = m;
    r->size = size;
  } else {
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_all(fd, max, &buf, &len, err);
    if (rc != HF_OK) {
      free(r);
      return rc;
    }
    r->owned = buf;
    r->base = buf;
    r->size = len;
  }
  return finish_open(r, opts, out, err);
}

int hf_reader_open(const char *path, const hf_open_opts *opts, hf_reader **out,
                   hf_error *err) {
  int fd, rc, e;
  if (path == NULL || out == NULL)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "NULL argument");
  *out = NULL;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return io_fail(err, "open");
  rc = hf_reader_open_fd(fd, opts, out, err);
  e = errno;
  close(fd);
  errno = e;
  return rc;
}

void hf_reader_close(hf_reader *r) {
  if (r == NULL)
    return;
  hf_schema_free(r->schema);
  free(r->types);
  if (r->map != NULL)
    munmap(r->map, r->map_len);
  free(r->owned);
  free(r);
}

/* ---- Blob-level accessors ------------------------------------------------ */

void hf_reader_info(const hf_reader *r, hf_info *out) {
  *out = r->info;
}

int hf_reader_section(const hf_reader *r, uint32_t i, hf_section_info *out) {
  const unsigned char *e;
  if (r == NULL || out == NULL || i >= r->info.section_count)
    return HF_E_ARG;
  e = hf_rsec(r, i);
  out->kind = hf_le32(e);
  out->type = hf_le32(e + 4);
  out->offset = hf_le64(e + 8);
  out->length = hf_le64(e + 16);
  out->checksum = hf_le64(e + 24);
  return HF_OK;
}

const hf_schema *hf_reader_schema(const hf_reader *r) {
  return r->schema;
}

uint32_t hf_reader_ordinal_limit(const hf_reader *r, uint32_t type) {
  return r->records && type < r->ntypes ? r->types[type].limit : 0;
}

uint32_t hf_reader_record_count(const hf_reader *r, uint32_t type) {
  return r->records && type < r->ntypes ? r->types[type].count : 0;
}

static unsigned ctz64(uint64_t v) {
#if defined(__GNUC__)
  return (unsigned)__builtin_ctzll(v);
#else
  unsigned n = 0;
  while ((v & 1u) == 0) {
    v >>= 1;
    n++;
  }
  return n;
#endif
}

uint32_t hf_reader_next(const hf_reader *r, uint32_t type, uint32_t from) {
  const hf_rtype *t;
  uint32_t w;
  uint64_t bits;
  if (!r->records || type >= r->ntypes)
    return HF_NO_ORDINAL;
  t = &r->types[type];
  if (from >= t->limit)
    return HF_NO_ORDINAL;
  w = from >> 6;
  bits = hf_le64(t->bitmap + (size_t)w * 8) & (~UINT64_C(0) << (from & 63u));
  for (;;) {
    if (bits != 0) {
      uint64_t o = (uint64_t)w * 64 + ctz64(bits);
      /* Bits past the limit are corruption (verify reports them); never
       * hand them out as ordinals. */
      return o < t->limit ? (uint32_t)o : HF_NO_ORDINAL;
    }
    if (++w >= t->nwords)
      return HF_NO_ORDINAL;
    bits = hf_le64(t->bitmap + (size_t)w * 8);
  }
}

/* ---- Records --------------------------------------------------------------
 */

/* The slot of populated ordinal o of object or collection type `type`. */
static int slot_of(const hf_reader *r, uint32_t type, uint32_t o,
                   const unsigned char **slot) {
  const hf_rtype *t = &r->types[type];
  if (o >= t->limit || !hf_rpopulated(t, o))
    return HF_NOTFOUND;
  *slot = t->slots + (size_t)o * t->width;
  return HF_OK;
}

int hf_reader_record(const hf_reader *r, uint32_t type, uint32_t ordinal,
                     hf_record *out) {
  const unsigned char *slot;
  int rc;
  if (r == NULL || out == NULL || !r->records || type >= r->ntypes ||
      r->types[type].def->kind != HF_KIND_OBJECT)
    return HF_E_ARG;
  if ((rc = slot_of(r, type, ordinal, &slot)) != HF_OK)
    return rc;
  out->reader = r;
  out->slot = slot;
  out->type = type;
  out->ordinal = ordinal;
  return HF_OK;
}

/* Common prologue of the field accessors: the field's definition if it
 * exists, has type `want` and is present. */
static inline int field_of(const hf_record *rec, uint32_t field, hf_ftype want,
                           const hf_field_def **out) {
  const hf_type_def *td;
  const hf_field_def *fd;
  if (rec == NULL || rec->reader == NULL || rec->type >= rec->reader->ntypes ||
      !rec->reader->records)
    return HF_E_ARG;
  td = rec->reader->types[rec->type].def;
  if (td->kind != HF_KIND_OBJECT || field >= td->nfields)
    return HF_E_ARG;
  fd = &td->fields[field];
  if (fd->type != want)
    return HF_E_TYPE;
  if (!((rec->slot[td->present_off + field / 8] >> (field % 8)) & 1u))
    return HF_NULL;
  *out = fd;
  return HF_OK;
}

int hf_record_int(const hf_record *rec, uint32_t field, int32_t *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_INT, &fd);
  if (rc == HF_OK)
    *out = (int32_t)hf_le32(rec->slot + fd->offset);
  return rc;
}

int hf_record_long(const hf_record *rec, uint32_t field, int64_t *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_LONG, &fd);
  if (rc == HF_OK)
    *out = (int64_t)hf_le64(rec->slot + fd->offset);
  return rc;
}

int hf_record_float(const hf_record *rec, uint32_t field, float *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_FLOAT, &fd);
  if (rc == HF_OK) {
    uint32_t v = hf_le32(rec->slot + fd->offset);
    memcpy(out, &v, sizeof *out);
  }
  return rc;
}

int hf_record_double(const hf_record *rec, uint32_t field, double *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_DOUBLE, &fd);
  if (rc == HF_OK) {
    uint64_t v = hf_le64(rec->slot + fd->offset);
    memcpy(out, &v, sizeof *out);
  }
  return rc;
}

int hf_record_bool(const hf_record *rec, uint32_t field, int *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_BOOLEAN, &fd);
  if (rc == HF_OK) {
    unsigned v = rec->slot[fd->offset];
    if (v > 1) /* §6.4: 0 or 1 only */
      return HF_E_CORRUPT;
    *out = (int)v;
  }
  return rc;
}

/* A string/bytes value of the slot as a view into the type's heap. */
static int heap_view(const hf_reader *r, uint32_t type,
                     const unsigned char *slot, const hf_field_def *fd,
                     hf_view *out) {
  const hf_rtype *t = &r->types[type];
  uint64_t v = hf_le64(slot + fd->offset);
  uint64_t off = v & HF_STR_OFF_MASK, len = v >> HF_STR_OFF_BITS;
  if (off > t->data_len || len > t->data_len - off)
    return HF_E_CORRUPT;
  out->ptr = t->data + off;
  out->len = (size_t)len;
  return HF_OK;
}

int hf_record_string(const hf_record *rec, uint32_t field, hf_view *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_STRING, &fd);
  if (rc == HF_OK)
    rc = heap_view(rec->reader, rec->type, rec->slot, fd, out);
  return rc;
}

int hf_record_bytes(const hf_record *rec, uint32_t field, hf_view *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_BYTES, &fd);
  if (rc == HF_OK)
    rc = heap_view(rec->reader, rec->type, rec->slot, fd, out);
  return rc;
}

int hf_record_ref(const hf_record *rec, uint32_t field, uint32_t *out) {
  const hf_field_def *fd;
  int rc = field_of(rec, field, HF_FT_REF, &fd);
  if (rc == HF_OK)
    *out = hf_le32(rec->slot + fd->offset);
  return rc;
}

/* ---- Collections --------------------------------------------------------- */

int hf_reader_coll(const hf_reader *r, uint32_t type, uint32_t ordinal,
                   hf_coll *out) {
  const hf_rtype *t;
  const unsigned char *slot;
  uint64_t start, end;
  int rc;
  if (r == NULL || out == NULL || !r->records || type >= r->ntypes ||
      r->types[type].def->kind == HF_KIND_OBJECT)
    return HF_E_ARG;
  t = &r->types[type];
  if ((rc = slot_of(r, type, ordinal, &slot)) != HF_OK)
    return rc;
  start = ordinal == 0 ? 0 : hf_le64(slot - 8);
  end = hf_le64(slot);
  if (start > end || end > t->nelems)
    return HF_E_CORRUPT;
  out->elems = t->data + (size_t)start * t->esize;
  out->n = end - start;
  out->type = type;
  out->kind = t->def->kind;
  return HF_OK;
}

uint32_t hf_coll_elem(const hf_coll *c, uint64_t i) {
  if (c->kind == HF_KIND_MAP || i >= c->n)
    return HF_NO_ORDINAL;
  return hf_le32(c->elems + (size_t)i * 4);
}

uint32_t hf_coll_key(const hf_coll *c, uint64_t i) {
  if (c->kind != HF_KIND_MAP || i >= c->n)
    return HF_NO_ORDINAL;
  return hf_le32(c->elems + (size_t)i * 8);
}

uint32_t hf_coll_value(const hf_coll *c, uint64_t i) {
  if (c->kind != HF_KIND_MAP || i >= c->n)
    return HF_NO_ORDINAL;
  return hf_le32(c->elems + (size_t)i * 8 + 4);
}

/* ---- Keys (§6.7.1) and lookup (§7) --------------------------------------- */

/* Reads primitive field fd of a slot of `type` into v. */
static int read_leaf(const hf_reader *r, uint32_t type,
                     const unsigned char *slot, const hf_field_def *fd,
                     hf_value *v) {
  const unsigned char *p = slot + fd->offset;
  uint32_t u32;
  uint64_t u64;
  v->type = fd->type;
  switch (fd->type) {
  case HF_FT_INT:
    v->u.i = (int32_t)hf_le32(p);
    return HF_OK;
  case HF_FT_LONG:
    v->u.l = (int64_t)hf_le64(p);
    return HF_OK;
  case HF_FT_FLOAT:
    u32 = hf_le32(p);
    memcpy(&v->u.f, &u32, 4);
    return HF_OK;
  case HF_FT_DOUBLE:
    u64 = hf_le64(p);
    memcpy(&v->u.d, &u64, 8);
    return HF_OK;
  case HF_FT_BOOLEAN:
    if (*p > 1)
      return HF_E_CORRUPT;
    v->u.b = *p;
    return HF_OK;
  case HF_FT_STRING:
  case HF_FT_BYTES:
    return heap_view(r, type, slot, fd, &v->u.s);
  default:
    return HF_E_CORRUPT; /* a key path never ends in a reference */
  }
}

/* Leaf value of one key path, starting at a populated slot of `type`. */
static int key_path_value(const hf_reader *r, uint32_t type,
                          const unsigned char *slot, const hf_keypath *kp,
                          hf_value *v) {
  uint32_t d;
  for (d = 0;; d++) {
    const hf_type_def *td = &r->schema->types[type];
    uint32_t f = kp->steps[d];
    const hf_field_def *fd = &td->fields[f];
    uint32_t o;
    if (!((slot[td->present_off + f / 8] >> (f % 8)) & 1u))
      return HF_NULL;
    if (d + 1 == kp->depth)
      return read_leaf(r, type, slot, fd, v);
    /* Follow the reference; a dangling one is corruption. */
    o = hf_le32(slot + fd->offset);
    type = fd->ref_type;
    if (slot_of(r, type, o, &slot) != HF_OK)
      return HF_E_CORRUPT;
  }
}

int hf_reader_key_values(const hf_reader *r, uint32_t type, uint32_t ordinal,
                         hf_value *vals) {
  const hf_type_def *td;
  const unsigned char *slot;
  uint32_t k;
  if (r == NULL || !r->records || type >= r->ntypes)
    return HF_E_ARG;
  td = r->types[type].def;
  if (td->kind != HF_KIND_OBJECT || td->nkeys == 0)
    return HF_E_ARG;
  if (slot_of(r, type, ordinal, &slot) != HF_OK)
    return HF_E_ARG;
  for (k = 0; k < td->nkeys; k++) {
    int rc = key_path_value(r, type, slot, &td->keys[k], &vals[k]);
    if (rc != HF_OK)
      return rc;
  }
  return HF_OK;
}

static void fill_record(const hf_reader *r, uint32_t type, uint32_t o,
                        hf_record *out) {
  const hf_rtype *t = &r->types[type];
  out->reader = r;
  out->slot = t->slots + (size_t)o * t->width;
  out->type = type;
  out->ordinal = o;
}

/* §7 for a single one-step int/long key: compare slot bytes directly. */
static int find_fast(const hf_reader *r, uint32_t type, const hf_value *key,
                     uint64_t h, hf_record *out) {
  const hf_rtype *t = &r->types[type];
  uint64_t i = h & t->pk_mask, probes;
  uint32_t tag = (uint32_t)(h >> 32);
  uint64_t want = t->fast_key == HF_FT_LONG ? (uint64_t)key->u.l
                                            : (uint64_t)(uint32_t)key->u.i;
  for (probes = 0; probes <= t->pk_mask; probes++) {
    const unsigned char *b = t->pk + i * HF_PK_BUCKET_SIZE;
    uint32_t o = hf_le32(b);
    if (o == HF_PK_EMPTY)
      return HF_NOTFOUND;
    if (hf_le32(b + 4) == tag) {
      const unsigned char *slot;
      uint64_t got;
      if (o >= t->limit || !hf_rpopulated(t, o))
        return HF_E_CORRUPT;
      slot = t->slots + (size_t)o * t->width;
      got = t->fast_key == HF_FT_LONG ? hf_le64(slot + t->fast_off)
                                      : hf_le32(slot + t->fast_off);
      if (got == want && (slot[t->fast_pbyte] & t->fast_pmask)) {
        fill_record(r, type, o, out);
        return HF_OK;
      }
    }
    i = (i + 1) & t->pk_mask;
  }
  return HF_NOTFOUND;
}

int hf_reader_find(const hf_reader *r, uint32_t type, const hf_value *keys,
                   size_t n, hf_record *out) {
  const hf_rtype *t;
  const hf_type_def *td;
  hf_value vals[HF_MAX_KEYS];
  uint64_t h, i, probes;
  uint32_t tag, k;
  if (r == NULL || out == NULL || (keys == NULL && n != 0) || !r->records ||
      type >= r->ntypes)
    return HF_E_ARG;
  t = &r->types[type];
  td = t->def;
  if (td->kind != HF_KIND_OBJECT || td->nkeys == 0 || n != td->nkeys)
    return HF_E_ARG;
  for (k = 0; k < n; k++)
    if (keys[k].type != td->keys[k].leaf)
      return HF_E_TYPE;
  h = hf_key_hash(keys, n);
  if (t->fast_key != 0)
    return find_fast(r, type, keys, h, out);
  tag = (uint32_t)(h >> 32);
  i = h & t->pk_mask;
  for (probes = 0; probes <= t->pk_mask; probes++) {
    const unsigned char *b = t->pk + i * HF_PK_BUCKET_SIZE;
    uint32_t o = hf_le32(b);
    if (o == HF_PK_EMPTY)
      return HF_NOTFOUND;
    if (hf_le32(b + 4) == tag) {
      int rc;
      if (o >= t->limit || !hf_rpopulated(t, o))
        return HF_E_CORRUPT;
      rc = hf_reader_key_values(r, type, o, vals);
      if (rc < 0)
        return rc;
      if (rc == HF_OK) {
        for (k = 0; k < n && hf_value_equal(&keys[k], &vals[k]); k++)
          ;
        if (k == n) {
          fill_record(r, type, o, out);
          return HF_OK;
        }
      }
    }
    i = (i + 1) & t->pk_mask;
  }
  return HF_NOTFOUND;
}

/* Room for decoded bytes key parts of one query; longer keys are refused
 * rather than allocated for (the read path never allocates). */
#define FIND_TEXT_BYTES 4096

static int text_to_value(const char *s, hf_ftype leaf, unsigned char *buf,
                         size_t *used, hf_value *v, size_t k, hf_error *err) {
  char *end;
  size_t len = strlen(s);
  v->type = leaf;
  switch (leaf) {
  case HF_FT_INT:
  case HF_FT_LONG: {
    long long x;
    if (len == 0 ||
        !((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'))
      goto bad;
    errno = 0;
    x = strtoll(s, &end, 10);
    if (*end != '\0' || end == s)
      goto bad;
    if (errno == ERANGE ||
        (leaf == HF_FT_INT && (x < INT32_MIN || x > INT32_MAX)))
      return hf_fail(err, HF_E_INPUT, UINT64_MAX,
                     "key part %zu: '%.64s' is out of range for %s", k + 1, s,
                     leaf == HF_FT_INT ? "int" : "long");
    if (leaf == HF_FT_INT)
      v->u.i = (int32_t)x;
    else
      v->u.l = (int64_t)x;
    return HF_OK;
  }
  case HF_FT_FLOAT:
  case HF_FT_DOUBLE: {
    double x;
    if (len == 0 || s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
      goto bad;
    errno = 0;
    if (leaf == HF_FT_FLOAT) {
      float f = strtof(s, &end);
      x = f;
      v->u.f = f;
    } else {
      x = strtod(s, &end);
      v->u.d = x;
    }
    if (*end != '\0' || end == s)
      goto bad;
    (void)x;
    return HF_OK;
  }
  case HF_FT_BOOLEAN:
    if (strcmp(s, "true") == 0)
      v->u.b = 1;
    else if (strcmp(s, "false") == 0)
      v->u.b = 0;
    else
      goto bad;
    return HF_OK;
  case HF_FT_STRING:
    v->u.s.ptr = s;
    v->u.s.len = len;
    return HF_OK;
  case HF_FT_BYTES: {
    size_t outlen;
    if (len / 4 * 3 > FIND_TEXT_BYTES - *used)
      return hf_fail(err, HF_E_INPUT, UINT64_MAX,
                     "key part %zu: bytes key longer than %u bytes", k + 1,
                     (unsigned)FIND_TEXT_BYTES);
    if (hf_base64_decode(s, len, buf + *used, &outlen) != HF_OK)
      return hf_fail(err, HF_E_INPUT, UINT64_MAX,
                     "key part %zu: '%.64s' is not base64", k + 1, s);
    v->u.s.ptr = buf + *used;
    v->u.s.len = outlen;
    *used += outlen;
    return HF_OK;
  }
  default:
    break;
  }
bad:
  return hf_fail(err, HF_E_INPUT, UINT64_MAX, "key part %zu: '%.64s' is not %s",
                 k + 1, s,
                 leaf == HF_FT_INT       ? "an int"
                 : leaf == HF_FT_LONG    ? "a long"
                 : leaf == HF_FT_FLOAT   ? "a float"
                 : leaf == HF_FT_DOUBLE  ? "a double"
                 : leaf == HF_FT_BOOLEAN ? "true or false"
                                         : "a key value");
}

int hf_reader_find_text(const hf_reader *r, uint32_t type,
                        const char *const *parts, size_t n, hf_record *out,
                        hf_error *err) {
  unsigned char buf[FIND_TEXT_BYTES];
  hf_value vals[HF_MAX_KEYS];
  const hf_type_def *td;
  size_t used = 0, k;
  int rc;
  if (r == NULL || out == NULL || (parts == NULL && n != 0) || !r->records ||
      type >= r->ntypes)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "bad argument");
  td = r->types[type].def;
  if (td->kind != HF_KIND_OBJECT || td->nkeys == 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "type '%s' has no primary key",
                   td->name);
  if (n != td->nkeys)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "type '%s' has %u key parts, %zu given", td->name,
                   (unsigned)td->nkeys, n);
  for (k = 0; k < n; k++) {
    if (parts[k] == NULL)
      return hf_fail(err, HF_E_ARG, UINT64_MAX, "key part %zu is NULL", k + 1);
    rc =
        text_to_value(parts[k], td->keys[k].leaf, buf, &used, &vals[k], k, err);
    if (rc != HF_OK)
      return rc;
  }
  rc = hf_reader_find(r, type, vals, n, out);
  if (rc < 0)
    return hf_fail(err, rc, UINT64_MAX, "lookup in type '%s': %s", td->name,
                   hf_strerror(rc));
  hf_error_clear(err);
  return rc;
}
