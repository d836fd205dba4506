/*
 * hf_reader_internal.h - the reader's private state, shared by hf_reader.c
 * (open, accessors, lookup) and hf_verify.c (full verification).
 *
 * Everything here is computed once by the cheap open and never changed
 * afterwards, so a reader may be shared by any number of threads.
 */
#ifndef HF_READER_INTERNAL_H
#define HF_READER_INTERNAL_H

#include "hf_internal.h"

#define HF_NO_SECTION UINT32_MAX

/* Per-type view of a snapshot, precomputed so accessors do no arithmetic
 * beyond an index and a bounds check. */
typedef struct hf_rtype {
  const hf_type_def *def;
  const unsigned char *bitmap; /* nwords u64le words (§6.3) */
  const unsigned char *slots;  /* limit * width bytes (§6.5) */
  const unsigned char *data;   /* HEAP (objects) or ELEMENTS (collections) */
  const unsigned char *pk;     /* PKINDEX (keyed objects) or NULL */
  uint64_t data_len;           /* bytes in `data` */
  uint64_t nelems;             /* collections: data_len / esize */
  uint64_t pk_mask;            /* PKINDEX buckets - 1 */
  uint32_t limit;              /* ordinal_limit */
  uint32_t count;              /* record_count */
  uint32_t width;              /* slot_width */
  uint32_t nwords;             /* ceil(limit / 64) */
  uint32_t esize;              /* collections: 4 (list, set) or 8 (map) */
  /* Section-table indices, for messages: bitmap, slots, heap or elements,
   * pkindex (HF_NO_SECTION when absent). */
  uint32_t sec[4];
  /* Single one-step int/long primary key: its leaf type (else 0), the
   * value's offset in the slot and its presence bit. */
  hf_ftype fast_key;
  uint32_t fast_off;
  uint32_t fast_pbyte;
  unsigned fast_pmask;
} hf_rtype;

struct hf_reader {
  const unsigned char *base; /* the blob: mapping, owned copy or borrowed */
  uint64_t size;
  void *map; /* mmap'd region to munmap, or NULL */
  size_t map_len;
  void *owned; /* malloc'd copy (pipes) to free, or NULL */
  hf_info info;
  const unsigned char *table; /* section table, info.section_count entries */
  hf_schema *schema;
  uint32_t ntypes;
  hf_rtype *types; /* ntypes entries; NULL for deltas */
  int records;     /* 1 when record accessors may be used (snapshots) */
};

/* Section-table entry i (i < section_count, checked by the caller). */
static inline const unsigned char *hf_rsec(const hf_reader *r, uint32_t i) {
  return r->table + (size_t)i * HF_SECTION_ENTRY_SIZE;
}

/* Whether ordinal o of t is populated; o must be < t->limit. */
static inline int hf_rpopulated(const hf_rtype *t, uint32_t o) {
  return (t->bitmap[o >> 3] >> (o & 7u)) & 1u;
}

/* A hint for a run of primary-key lookups of type t whose key hashes
 * (§6.7.1) are known ahead: stage 1 fetches the key's PKINDEX bucket;
 * stage 2, some lookups later with the bucket in cache, the slot that the
 * bucket's entry names.  Reads only what hf_reader_find would read. */
static inline void hf_rpk_prefetch(const hf_rtype *t, uint64_t h, int stage) {
  const unsigned char *b;
  uint32_t o;
  if (t->pk == NULL)
    return;
  b = t->pk + (h & t->pk_mask) * HF_PK_BUCKET_SIZE;
  if (stage == 1) {
    HF_PREFETCH(b);
    return;
  }
  o = hf_le32(b);
  if (o < t->limit)
    HF_PREFETCH(t->slots + (size_t)o * t->width + t->fast_off);
}

/* XXH3-64 of header bytes [0,56) followed by the section table (§4). */
uint64_t hf_rheader_checksum(const unsigned char *base, uint32_t nsections);

/* XXH3-64 of the section checksums in table order: a snapshot's state (§4.9).
 */
uint64_t hf_rstate(const unsigned char *base, uint32_t nsections);

/* Fills err with "section i (<kind> of type '<name>'): <fmt...>" and returns
 * code; offset is the byte at fault. */
int hf_rsec_fail(hf_error *err, int code, uint64_t offset, const hf_reader *r,
                 uint32_t sec, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

#endif /* HF_READER_INTERNAL_H */
