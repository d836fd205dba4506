/*
 * hf_delta_internal.h - the delta format of FORMAT.md §8 as the library's
 * modules share it: section kinds, the ordinal-list and patch encodings,
 * and a delta blob decoded and checked type by type (hf_delta_read.c),
 * used by the reader's open and verify, by the applier (hf_apply.c) and by
 * tools through the public API.  Not installed.
 */
#ifndef HF_DELTA_INTERNAL_H
#define HF_DELTA_INTERNAL_H

#include "hf_internal.h"

/* Delta section kinds (§8.2); HF_SEC_LZ4 set = stored LZ4-compressed. */
enum {
  HF_SEC_REMOVED = 0x0020,   /* ordinals removed (§8.3 ordinal list) */
  HF_SEC_ADDED = 0x0021,     /* ordinals added (collections: or changed) */
  HF_SEC_DSLOTS = 0x0022,    /* slots (objects) or u64le ends (collections) */
  HF_SEC_DHEAP = 0x0023,     /* string/bytes values of the added records */
  HF_SEC_DELEMENTS = 0x0024, /* elements of the added collections */
  HF_SEC_CHANGED = 0x0025,   /* objects: ordinals whose content changed */
  HF_SEC_DPATCH = 0x0026,    /* objects: the changed fields of each */
  HF_SEC_LZ4 = 0x4000
};
/* Sections per type after SCHEMA and TYPES: object types REMOVED, ADDED,
 * DSLOTS, DHEAP, CHANGED, DPATCH; collection types REMOVED, ADDED, DSLOTS,
 * DELEMENTS. */
#define HF_DELTA_OBJ_SECS 6
#define HF_DELTA_COLL_SECS 4
#define HF_DELTA_MAX_SECS 6

/* Most LZ4 can expand one stored byte into (§8.4). */
#define HF_LZ4_MAX_RATIO 255

/* An ordinal list (§8.3): u32le count, then count LEB128 varints of at
 * most 5 bytes each. */
#define HF_VARINT_MAX 5

/* Index of each section within its type's group. */
enum {
  HF_DS_REMOVED = 0,
  HF_DS_ADDED = 1,
  HF_DS_SLOTS = 2,
  HF_DS_VAR = 3,
  HF_DS_CHANGED = 4,
  HF_DS_PATCH = 5
};

struct hf_reader;

/* One type of a delta, its sections decoded (decompressed when stored with
 * LZ4, ordinal lists expanded) and checked against the delta's own counts
 * (§8.5). */
typedef struct hf_dtype {
  uint32_t limit, count;       /* the target's TYPES entry */
  const uint32_t *removed;     /* nremoved ordinals, ascending */
  const uint32_t *added;       /* nadded ordinals, ascending */
  const uint32_t *changed;     /* nchanged ordinals, ascending (objects) */
  const unsigned char *dslots; /* nadded slots, or nadded u64le ends */
  const unsigned char *dvar;   /* DHEAP bytes, or DELEMENTS entries */
  const unsigned char *dpatch; /* DPATCH bytes (objects) */
  const uint64_t *patch_off;   /* nchanged + 1 offsets into dpatch */
  uint64_t nremoved, nadded, nchanged;
  uint64_t dvar_len, dpatch_len; /* bytes */
  uint32_t sec;  /* table index of REMOVED(t); the others follow */
  uint32_t nsec; /* HF_DELTA_OBJ_SECS or HF_DELTA_COLL_SECS */
  /* Buffers to free, or NULL: owned[2k] the decompressed section k,
   * owned[2k + 1] what was decoded from it (ordinals, patch offsets). */
  void *owned[2 * HF_DELTA_MAX_SECS];
} hf_dtype;

/* Number of delta sections of a type (§8.2). */
uint32_t hf_delta_type_secs(const hf_type_def *td);

/* Open-time checks of a delta blob after its header, table and schema
 * (§8.5 "open"): section order, TYPES.  Called by the reader's open. */
int hf_rdelta_open(const struct hf_reader *r, hf_error *err);

/* Decodes and checks every type of delta `r` (§8.5 "verify", except the
 * checksums, which hf_reader_verify() compares first).  *out is an array of
 * hf_schema_type_count() entries; free it with hf_delta_types_free(). */
int hf_delta_decode(const struct hf_reader *r, hf_dtype **out, hf_error *err);
void hf_delta_types_free(hf_dtype *d, uint32_t ntypes);

/* One changed record's patch (§8.3 DPATCH), located in a decoded type. */
typedef struct hf_patch {
  const unsigned char *mask, *presence; /* present_len bytes each */
  const unsigned char *values;          /* the masked, present values */
  uint64_t values_len;
} hf_patch;

/* Patch i of decoded type d (i < d->nchanged). */
void hf_patch_get(const hf_type_def *td, const hf_dtype *d, uint64_t i,
                  hf_patch *out);

/* Whether bit f of a presence-style bitmap is set. */
static inline int hf_bit(const unsigned char *bm, uint32_t f) {
  return (bm[f / 8] >> (f % 8)) & 1u;
}

/* Size of field fd's value in a patch, at p (fixed size, or 4 + length of
 * a string/bytes value); the caller has checked the bytes are there. */
static inline uint64_t hf_patch_value_len(const hf_field_def *fd,
                                          const unsigned char *p) {
  if (fd->type == HF_FT_STRING || fd->type == HF_FT_BYTES)
    return 4 + (uint64_t)hf_le32(p);
  return fd->size;
}

/* The bytes of a blob: for readers of either kind. */
const unsigned char *hf_reader_bytes(const struct hf_reader *r, size_t *len);

#endif /* HF_DELTA_INTERNAL_H */
