/*
 * hf_delta_internal.h - the delta format of FORMAT.md §8 as the library's
 * modules share it: section kinds, and a delta blob decoded and checked
 * type by type (hf_delta_read.c), used by the reader's open and verify, by
 * the applier (hf_apply.c) and by tools through the public API.  Not
 * installed.
 */
#ifndef HF_DELTA_INTERNAL_H
#define HF_DELTA_INTERNAL_H

#include "hf_internal.h"

/* Delta section kinds (§8.2); HF_SEC_LZ4 set = stored LZ4-compressed. */
enum {
  HF_SEC_REMOVED = 0x0020,   /* u32le ordinals removed, ascending */
  HF_SEC_ADDED = 0x0021,     /* u32le ordinals added or changed, ascending */
  HF_SEC_DSLOTS = 0x0022,    /* slots (objects) or u64le ends (collections) */
  HF_SEC_DHEAP = 0x0023,     /* string/bytes values of the added records */
  HF_SEC_DELEMENTS = 0x0024, /* elements of the added collections */
  HF_SEC_LZ4 = 0x4000
};
#define HF_DELTA_TYPE_SECS 4 /* sections per type, after SCHEMA and TYPES */

/* Most LZ4 can expand one stored byte into (§8.4). */
#define HF_LZ4_MAX_RATIO 255

struct hf_reader;

/* One type of a delta, its sections decoded (decompressed when stored with
 * LZ4) and checked against the delta's own counts (§8.5). */
typedef struct hf_dtype {
  uint32_t limit, count;        /* the target's TYPES entry */
  const unsigned char *removed; /* nremoved u32le */
  const unsigned char *added;   /* nadded u32le */
  const unsigned char *dslots;  /* nadded slots, or nadded u64le ends */
  const unsigned char *dvar;    /* DHEAP bytes, or DELEMENTS entries */
  uint64_t nremoved, nadded;
  uint64_t dvar_len; /* bytes */
  uint32_t sec;      /* table index of REMOVED(t); the others follow */
  void *owned[HF_DELTA_TYPE_SECS]; /* decompressed buffers, or NULL */
} hf_dtype;

/* Open-time checks of a delta blob after its header, table and schema
 * (§8.5 "open"): section order, TYPES.  Called by the reader's open. */
int hf_rdelta_open(const struct hf_reader *r, hf_error *err);

/* Decodes and checks every type of delta `r` (§8.5 "verify", except the
 * checksums, which hf_reader_verify() compares first).  *out is an array of
 * hf_schema_type_count() entries; free it with hf_delta_types_free(). */
int hf_delta_decode(const struct hf_reader *r, hf_dtype **out, hf_error *err);
void hf_delta_types_free(hf_dtype *d, uint32_t ntypes);

/* The bytes of a blob: for readers of either kind. */
const unsigned char *hf_reader_bytes(const struct hf_reader *r, size_t *len);

#endif /* HF_DELTA_INTERNAL_H */
