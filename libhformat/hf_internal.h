/*
 * hf_internal.h - definitions shared by the library's modules; not installed.
 * Constants cite spec/FORMAT.md sections.
 */
#ifndef HF_INTERNAL_H
#define HF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hformat.h"

/* ---- File layout (FORMAT.md §4, §5) ------------------------------------ */

#define HF_MAGIC "\x89HLW\r\n\x1a\n" /* 8 bytes, §4.1 */
#define HF_MAGIC_LEN 8
#define HF_HEADER_SIZE 64
#define HF_HEADER_CKSUM_OFF 56 /* checksum covers [0,56) + section table */
#define HF_SECTION_ENTRY_SIZE 32
#define HF_ALIGN 8 /* every section starts on a multiple of 8 */

/* A hint to start loading the cache line of p (no fault, no effect on
 * results). */
#if defined(__GNUC__) || defined(__clang__)
#define HF_PREFETCH(p) __builtin_prefetch(p)
#else
#define HF_PREFETCH(p) ((void)(p))
#endif

/* Header field offsets (§4). */
#define HF_H_MAGIC 0
#define HF_H_MAJOR 8
#define HF_H_MINOR 10
#define HF_H_KIND 12
#define HF_H_RESERVED0 13 /* u8, must be 0 */
#define HF_H_RESERVED1 14 /* u16, must be 0 */
#define HF_H_NSECTIONS 16
#define HF_H_RESERVED2 20 /* u32, must be 0 */
#define HF_H_FILE_SIZE 24
#define HF_H_VERSION 32
#define HF_H_BASE_STATE 40
#define HF_H_STATE 48
#define HF_H_CHECKSUM 56

/* Section kinds (§5.2).  Kinds >= HF_SEC_ANCILLARY are skipped by readers
 * that do not know them; unknown kinds below it are rejected. */
enum {
  HF_SEC_SCHEMA = 0x0001,   /* canonical schema text */
  HF_SEC_TYPES = 0x0002,    /* per-type counts, 16 bytes per type */
  HF_SEC_BITMAP = 0x0010,   /* populated ordinals */
  HF_SEC_SLOTS = 0x0011,    /* fixed-width slots */
  HF_SEC_HEAP = 0x0012,     /* string/bytes values (object types) */
  HF_SEC_ELEMENTS = 0x0013, /* element ordinals (list/set/map types) */
  HF_SEC_PKINDEX = 0x0014,  /* primary-key hash index (keyed objects) */
  HF_SEC_ANCILLARY = 0x8000
};

#define HF_TYPES_ENTRY_SIZE 16 /* §6.2 */
#define HF_PK_BUCKET_SIZE 8    /* §6.7: u32 ordinal, u32 tag */
#define HF_PK_EMPTY UINT32_MAX

/* String/bytes slot value: offset in the low 40 bits, length in the high 24. */
#define HF_STR_OFF_BITS 40
#define HF_STR_OFF_MASK ((UINT64_C(1) << HF_STR_OFF_BITS) - 1)

/* ---- Limits (§10) ------------------------------------------------------- */

#define HF_MAX_TYPES 4096
#define HF_MAX_FIELDS 1024          /* per object type */
#define HF_MAX_NAME 128             /* bytes in a type or field name */
#define HF_MAX_KEYS 16              /* paths in one @PrimaryKey / @HashKey */
#define HF_MAX_KEY_DEPTH 8          /* steps in one dotted path */
#define HF_MAX_ORDINALS 0x7fffffffu /* ordinal_limit <= this */
#define HF_MAX_STRING ((UINT32_C(1) << 24) - 1)
#define HF_MAX_HEAP HF_STR_OFF_MASK
#define HF_MAX_ELEMENTS (UINT64_C(1) << 40) /* per collection type */
#define HF_MAX_SCHEMA_TEXT (1u << 20)
#define HF_MAX_JSON_DEPTH 64
/* Longest JSON text hf_builder_add_json() accepts (token offsets are int). */
#define HF_MAX_JSON_LINE ((uint64_t)INT32_MAX - 1)

/* ---- Schema internals (filled by hf_schema.c) ---------------------------- */

typedef struct hf_field_def {
  char *name;
  hf_ftype type;
  uint32_t ref_type; /* HF_FT_REF only, else HF_NO_TYPE */
  uint32_t offset;   /* byte offset of the value in the slot (§6.4) */
  uint32_t size;     /* 1, 4 or 8 */
} hf_field_def;

typedef struct hf_keypath {
  char *text;     /* canonical dotted path, fully resolved */
  uint32_t depth; /* number of steps */
  /* steps[0] is a field of the keyed type; steps[i] a field of the type
   * referenced by steps[i-1]; the last step is a primitive field. */
  uint32_t steps[HF_MAX_KEY_DEPTH];
  uint32_t step_types[HF_MAX_KEY_DEPTH]; /* type that owns steps[i] */
  hf_ftype leaf;
} hf_keypath;

typedef struct hf_type_def {
  char *name;
  hf_kind kind;
  uint32_t nfields;
  hf_field_def *fields;
  uint32_t elem_type;  /* list/set element, map key */
  uint32_t value_type; /* map value */
  uint32_t nkeys;      /* primary key (objects) / hash key (set, map) */
  hf_keypath *keys;
  uint32_t slot_width;  /* §6.4 objects; 8 for collections */
  uint32_t present_off; /* objects: offset of the presence bitmap */
  uint32_t present_len; /* objects: ceil(nfields / 8) */
} hf_type_def;

struct hf_schema {
  uint32_t ntypes;
  hf_type_def *types;
  /* Type ids ordered so that every type comes after all types it
   * references (the schema graph is acyclic, SCHEMA.md §3). */
  uint32_t *topo;
};

/* ---- Errors (hf_error.c) ------------------------------------------------- */

/* Fills err (if non-NULL) and returns code.  offset UINT64_MAX when none. */
int hf_fail(hf_error *err, int code, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* As hf_fail, for text input: line/column instead of an offset. */
int hf_fail_at(hf_error *err, int code, uint64_t line, uint32_t column,
               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
void hf_error_clear(hf_error *err);

/* Static analysis sees one file at a time and cannot know that the helpers
 * above return their (negative) code, so it follows "success" paths after
 * every failure.  `make analyze` defines HF_ANALYZER_HINTS (for every file
 * but hf_error.c, which defines them) to spell that out. */
#if defined(HF_ANALYZER_HINTS)
#define hf_fail(err, code, ...) (hf_fail(err, code, __VA_ARGS__), (code))
#define hf_fail_at(err, code, ...) (hf_fail_at(err, code, __VA_ARGS__), (code))
#endif

/* Fuzzing builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) skip checksum
 * comparisons, and nothing else, so that mutated blobs reach the structural
 * checks (FORMAT.md §12.5, fuzz/README.md).  Use it at every comparison of a
 * stored checksum or state with a computed one. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define HF_CHECKSUM_MISMATCH(stored, computed)                                 \
  ((void)(stored), (void)(computed), 0)
#else
#define HF_CHECKSUM_MISMATCH(stored, computed) ((stored) != (computed))
#endif

/* ---- Little-endian access (never cast structs onto the mapping) --------- */

static inline uint16_t hf_le16(const unsigned char *p) {
  return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}
static inline uint32_t hf_le32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}
static inline uint64_t hf_le64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
static inline void hf_put16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static inline void hf_put32(unsigned char *p, uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  memcpy(p, &v, 4);
}
static inline void hf_put64(unsigned char *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  memcpy(p, &v, 8);
}

static inline uint64_t hf_align8(uint64_t v) {
  return (v + 7u) & ~(uint64_t)7u;
}

/* ---- Hashing (hf_hash.c) ------------------------------------------------- */

/* XXH3-64, seed 0 (§3.3). */
uint64_t hf_xxh3(const void *p, size_t len);

/* Hash of a primary key given as values in key-path order (§6.7.1).  No
 * allocation: long strings are hashed in streaming mode. */
uint64_t hf_key_hash(const hf_value *vals, size_t n);

/* Equality of two key values of the same leaf type (bitwise for floats). */
int hf_value_equal(const hf_value *a, const hf_value *b);

/* PKINDEX bucket count for `count` records (§6.7): the smallest power of two
 * nb >= 1 with 4*count <= 3*nb. */
uint64_t hf_pk_buckets(uint64_t count);

/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * Returns 1 if valid; else 0 and *bad = offset of the first bad byte. */
int hf_utf8_valid(const unsigned char *p, size_t len, size_t *bad);

/* ---- base64, RFC 4648 §4 alphabet, '=' padded (hf_base64.c) ------------- */

/* Writes 4*ceil(len/3) characters to out (no NUL); returns that count. */
size_t hf_base64_encode(const unsigned char *p, size_t len, char *out);
/* Decodes s[0..len) into out (room for len/4*3 bytes); HF_OK and *outlen,
 * or HF_E_INPUT on a bad character, length or padding. */
int hf_base64_decode(const char *s, size_t len, unsigned char *out,
                     size_t *outlen);

/* ---- Reader internals shared with verify, builder and JSON output ---------
 */

/* Key values of record `ordinal` of keyed object type `type` (follows the
 * dotted paths).  HF_OK, HF_NULL (some step is null) or an error. */
int hf_reader_key_values(const hf_reader *r, uint32_t type, uint32_t ordinal,
                         hf_value *vals);

/* ---- JSON output of one primitive value (hf_json_out.c) ------------------ */

/* Writes v (HF_FT_INT .. HF_FT_BYTES) as JSON, as hf_json_write_record()
 * writes a field of that type.  Used by the diff for values and keys. */
int hf_json_write_value(const hf_value *v, hf_write_fn fn, void *ctx,
                        hf_error *err);

#endif /* HF_INTERNAL_H */
