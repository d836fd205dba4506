/*
 * hf_builder_internal.h - the builder's private state, shared by
 * hf_builder.c (record stack, content encoding, dedup, keys), hf_finish.c
 * (ordinals, section emission), hf_write.c (output) and hf_json.c (JSON
 * ingest, which drives the record stack).  Not installed.
 *
 * Content form ("blob") of a record, one per distinct record of a type:
 *  - object: the slot image of FORMAT.md §6.4 (slot_width bytes, LE) in
 *    which references hold builder ids instead of ordinals and string/bytes
 *    fields hold (offset | len << 40) with the offset relative to the start
 *    of the string part, followed by the string part: the values of the
 *    non-null string/bytes fields in declaration order.  Both offsets and
 *    lengths are functions of the content, so equal records have equal
 *    blobs.
 *  - list: element ids (uint32_t, native order), in the producer's order.
 *  - set: element ids in the producer's order, repeats dropped.
 *  - map: (key id, value id) pairs of uint32_t in the producer's order.
 * The producer's order is what FORMAT.md §6.8 "input order" walks; sets and
 * maps are compared and hashed in their canonical form (ascending by element
 * id, or by key id for maps) so that the order given does not make them
 * different records.
 * A builder id is a record's number within its type in order of creation;
 * ordinals are assigned from them only when the snapshot is written.
 */
#ifndef HF_BUILDER_INTERNAL_H
#define HF_BUILDER_INTERNAL_H

#include "hf_internal.h"

/* ---- Interface used by hf_json.c ----------------------------------------- */

/*! hf_builder_set_line() : the input line of the records that follow (0 =
 *  none).  Keyed records remember it, so that a duplicate key reports
 *  "duplicate primary key 42 (first at line 7)", and errors raised by the
 *  builder carry it in err->line. */
void hf_builder_set_line(hf_builder *b, uint64_t line);

/*! hf_builder_set_string_valid() : as hf_builder_set_string() for text the
 *  caller has already checked to be UTF-8 (the JSON parser does); only the
 *  field type and the length limit are checked. */
int hf_builder_set_string_valid(hf_builder *b, uint32_t field, const void *p,
                                size_t len, hf_error *err);

/* The schema the builder was made with, and its hf_build_opts.flags. */
const hf_schema *hf_builder_schema(const hf_builder *b);
uint32_t hf_builder_flags(const hf_builder *b);

/* Number of records currently open (0 = the next end() makes a root), and
 * the type of the innermost one (HF_NO_TYPE when none is open). */
uint32_t hf_builder_depth(const hf_builder *b);
uint32_t hf_builder_open_type(const hf_builder *b);

/* ---- Builder state (hf_builder.c, hf_finish.c) --------------------------- */

#define HF_B_NOID UINT32_MAX
#define HF_B_ROOT 0x1u /* record was closed as a root */

/* One position of a store's hash table (open addressing on the hash, linear
 * probing).  `ent` holds the high 32 bits of the hash above id + 1, so 0 is
 * a free position and most misses cost no further memory access; `loc`
 * says where the blob is (offset in data | length << HF_B_LOC_BITS), so
 * that a probe whose tag matches reads the blob without a look at off[] (one
 * cache miss less), and one whose length differs reads nothing.  Blobs too
 * long or too far out for that encoding have loc HF_B_FAR and are found
 * through off[]. */
typedef struct hf_bslot {
  uint64_t ent;
  uint64_t loc;
} hf_bslot;

#define HF_B_ENT(h, id) (((h) & ~(uint64_t)0xFFFFFFFFu) | ((uint64_t)(id) + 1u))
#define HF_B_ENT_ID(e) ((uint32_t)(e)-1u)
#define HF_B_LOC_BITS 40 /* offset bits; the length takes the 24 above */
#define HF_B_LOC_MASK ((UINT64_C(1) << HF_B_LOC_BITS) - 1)
#define HF_B_LOC_MAXLEN ((UINT64_C(1) << (64 - HF_B_LOC_BITS)) - 2)
#define HF_B_FAR UINT64_MAX

/* The distinct records of one type. */
typedef struct hf_bstore {
  uint32_t n, cap; /* records (ids 0..n-1) and room in the arrays */
  uint64_t *off;   /* cap+1 entries: blob of id i is data[off[i], off[i+1]) */
  unsigned char *data; /* blobs, back to back; the record being closed is
                          rendered straight after the last one */
  uint64_t data_len, data_cap;
  uint64_t *hash;       /* content hash (unkeyed) or key hash (keyed) */
  uint64_t *line;       /* keyed types: input line of the first appearance */
  unsigned char *flags; /* HF_B_* */
  hf_bslot *table;      /* at most half full */
  uint64_t tmask;       /* table size - 1 (power of two), 0 before first use */
  uint64_t nelems;      /* collections: elements or entries stored */
  uint32_t pk_field;    /* field that is the whole primary key, or HF_B_NOID */
} hf_bstore;

/* One open record on the stack.  Buffers are kept and reused by the next
 * record opened at the same depth. */
typedef struct hf_bframe {
  uint32_t type;
  unsigned char *slot; /* objects: slot image, string fields not yet placed */
  size_t slot_cap;
  unsigned char *str; /* objects: string bytes as set (maybe overwritten) */
  size_t str_len, str_cap;
  uint64_t *sloc; /* objects: per field, offset in str of its value */
  size_t sloc_cap;
  uint32_t *elems;          /* collections: ids (maps: key, value pairs) */
  size_t nelems, elems_cap; /* in uint32_t units */
  uint32_t *keyset; /* sets, maps: open-addressing set of element / key ids,
                       once the collection is large */
  size_t keyset_cap;
  size_t keyset_n;
} hf_bframe;

struct hf_builder {
  const hf_schema *schema;
  const hf_reader *base;
  uint64_t dataset_version;
  uint32_t flags;
  uint32_t threads; /* hf_build_opts.threads: rendering threads at finish */
  uint64_t line;

  hf_bstore *stores; /* one per type */

  hf_bframe *frames;
  uint32_t depth, frames_cap;

  hf_ref *roots; /* in order of closing; repeats allowed */
  size_t nroots, roots_cap;

  hf_ref *undo; /* records created under the current open root */
  size_t nundo, undo_cap;

  unsigned char *canon[2]; /* scratch: canonical forms of sets and maps */
  size_t canon_cap[2];

  /* Set by the first successful write: the snapshot bytes, kept so that the
   * same output can be written again. */
  unsigned char *out;
  size_t out_len;
  uint64_t out_state;
  int out_mapped;                  /* out maps the published file */
  const struct hf_outmem *out_mem; /* set while finishing into a file */
};

/* Locates string/bytes field `f` of object blob `blob` (of type `t`): HF_OK
 * and *p, *len, or HF_NULL. */
int hf_bblob_string(const hf_type_def *t, const unsigned char *blob, uint32_t f,
                    const unsigned char **p, size_t *len);

/* Blob of record `id` of type `type`, and its length. */
static inline const unsigned char *hf_bstore_blob(const hf_bstore *st,
                                                  uint32_t id, size_t *len) {
  *len = (size_t)(st->off[id + 1] - st->off[id]);
  return st->data + st->off[id];
}

/* Key values (FORMAT.md §6.7.1) of a record of keyed object type `type`
 * whose blob is `blob`; string values point into the builder's storage.
 * HF_OK, or HF_NULL and *null_path = the index of the key path that is null.
 */
int hf_bkey_values(const hf_builder *b, uint32_t type,
                   const unsigned char *blob, hf_value *vals,
                   uint32_t *null_path);

/* Grows *pp (elements of `size` bytes, room for *cap, doubling from 16) to
 * hold `need`: HF_OK, or HF_E_NOMEM with *pp unchanged. */
int hf_grow(void *pp, size_t *cap, size_t need, size_t size);

/* Has the kernel fault in the whole pages of [p, p + n) for writing
 * (MADV_POPULATE_WRITE: no byte changes).  0, or -1 with errno (EINVAL:
 * the kernel lacks it; it is a hint, callers go on without). */
int hf_populate(void *p, size_t n);

/* ---- Leaf records (hf_jtape.c) -------------------------------------------
 * A leaf type is an object type without a primary key or a reference
 * field: its content form follows from its field values alone.  A parsing
 * thread renders leaf records into blobs with a frame of its own (begin,
 * set, bound, render) and hashes them; the building thread adds each whole
 * with hf_builder_add_leaf() (what begin, the setters and end would do) and
 * can prefetch the table position and blob a lookup will read. */
int hf_bleaf_type(const hf_schema *s, uint32_t type);
int hf_bleaf_begin(hf_bframe *f, const hf_schema *s, uint32_t type);
/* `p` is the little-endian value (the field's size) or the bytes of a
 * string (checked UTF-8) or bytes field; HF_OK, or an error code. */
int hf_bleaf_set(hf_bframe *f, const hf_schema *s, uint32_t field, hf_ftype ft,
                 const void *p, size_t len);
size_t hf_bleaf_bound(const hf_schema *s, const hf_bframe *f);
size_t hf_bleaf_render(const hf_schema *s, const hf_bframe *f,
                       unsigned char *dst);
void hf_bleaf_free(hf_bframe *f);

/* `blob` (len bytes) rendered by hf_bleaf_render() for leaf type `type`,
 * h = hf_xxh3(blob, len). */
int hf_builder_add_leaf(hf_builder *b, uint32_t type, const unsigned char *blob,
                        size_t len, uint64_t h, hf_ref *out, hf_error *err);
/* Rendered records: object types other than leaves whose primary key (if
 * any) is made of the type's own fields.  The parsing thread renders them
 * with the leaf frame functions, with each reference given as an index
 * into the refs the building thread will have (hf_bleaf_set with
 * HF_FT_REF and the index as a 4-byte little-endian value), and hashes the
 * key.  The building thread opens the record with hf_builder_begin() (so
 * that records built inside it are not roots), builds what it refers to,
 * and closes it with hf_builder_end_blob(), which puts map[index] in place
 * of each index, checked as hf_builder_set_ref() checks, and does what
 * hf_builder_end() does with the result. */
int hf_brender_type(const hf_schema *s, uint32_t type);
/* hf_key_hash() of the key of `blob` of rendered type `type`; HF_NULL if a
 * key field is null. */
int hf_bkey_hash_blob(const hf_schema *s, uint32_t type,
                      const unsigned char *blob, uint64_t *h);
/* h: the key hash (keyed types), else ignored. */
int hf_builder_end_blob(hf_builder *b, uint32_t type, const unsigned char *blob,
                        size_t len, uint64_t h, const hf_ref *map, size_t nmap,
                        hf_ref *out, hf_error *err);

/* A hint: fetch the table position (blob 0) or, once that is cached, the
 * blob (blob 1) a lookup of hash h in `type` will read. */
void hf_builder_prefetch(const hf_builder *b, uint32_t type, uint64_t h,
                         int blob);

/* hf_finish.c: assigns ordinals and renders the snapshot into b->out. */
int hf_builder_finish(hf_builder *b, hf_error *err);

#endif /* HF_BUILDER_INTERNAL_H */
