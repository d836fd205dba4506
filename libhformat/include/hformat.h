/*
 * hformat.h - the public interface of libhformat, the hollow blob library.
 *
 * A hollow snapshot is an immutable, versioned, schema-carrying file that
 * readers map and use in place.  spec/FORMAT.md is the normative description
 * of its bytes; spec/SCHEMA.md describes the schema language and the JSON
 * Lines mapping.
 *
 * Conventions used by every function below:
 *  - Functions return int: HF_OK (0) on success, a positive answer that is
 *    not a failure (HF_NOTFOUND, HF_NULL), or a negative HF_E_* error.
 *  - Functions that can fail for reasons worth explaining take a trailing
 *    `hf_error *err`; it may be NULL.  On failure it is filled with the code
 *    and a one-line message naming the offset, line, type or field at fault.
 *  - Handles are opaque.  Every *_free / *_close accepts NULL.
 *  - The library never prints, exits, or reads the environment.
 */
#ifndef HFORMAT_H
#define HFORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HF_VERSION_MAJOR 0
#define HF_VERSION_MINOR 1
#define HF_VERSION_PATCH 0
#define HF_VERSION_STRING "0.1.0"

/* Format version written by this library (FORMAT.md §11). */
#define HF_FORMAT_MAJOR 1
#define HF_FORMAT_MINOR 0

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Values are stable once released; new codes take new numbers. */
#define HF_ERRORS(X)                                                           \
  X(HF_OK, 0, "success")                                                       \
  X(HF_NOTFOUND, 1, "not found")                                               \
  X(HF_NULL, 2, "value is null")                                               \
  X(HF_E_IO, -1, "I/O error")                                                  \
  X(HF_E_NOMEM, -2, "out of memory")                                           \
  X(HF_E_ARG, -3, "invalid argument")                                          \
  X(HF_E_MAGIC, -10, "not a hollow file")                                      \
  X(HF_E_VERSION, -11, "unsupported format version")                           \
  X(HF_E_CORRUPT, -12, "corrupt file")                                         \
  X(HF_E_TRUNCATED, -13, "file truncated")                                     \
  X(HF_E_LIMIT, -14, "exceeds a limit")                                        \
  X(HF_E_CHECKSUM, -15, "checksum mismatch")                                   \
  X(HF_E_SCHEMA, -20, "invalid schema")                                        \
  X(HF_E_INPUT, -21, "invalid input record")                                   \
  X(HF_E_TYPE, -22, "wrong type")                                              \
  X(HF_E_DUPKEY, -23, "duplicate primary key")                                 \
  X(HF_E_STATE, -30, "blob does not apply to this state")

#define HF_ERROR_ENUM_(name, value, text) name = value,
typedef enum hf_status { HF_ERRORS(HF_ERROR_ENUM_) } hf_status;
#undef HF_ERROR_ENUM_

/* Detail of a failure.  `msg` never holds a file name: the caller knows it
 * and prefixes it (tools print "hollow-dump: v2.hollow: <msg>"). */
typedef struct hf_error {
  int code;        /* HF_E_* (or HF_OK when nothing failed) */
  uint64_t offset; /* byte offset in the blob at fault, or UINT64_MAX */
  uint64_t line;   /* 1-based input line (schema or JSON), 0 if none */
  uint32_t column; /* 1-based input column, 0 if none */
  char msg[256];   /* NUL-terminated; complete sentence-fragment */
} hf_error;

/*! hf_strerror() : static text for a code; never NULL, even for unknown codes.
 */
const char *hf_strerror(int code);

/*! hf_version_string() : library version, HF_VERSION_STRING. */
const char *hf_version_string(void);

/* ------------------------------------------------------------------------ */
/* Schema (spec/SCHEMA.md)                                                  */
/* ------------------------------------------------------------------------ */

typedef struct hf_schema hf_schema;

typedef enum hf_kind {
  HF_KIND_OBJECT = 1,
  HF_KIND_LIST = 2,
  HF_KIND_SET = 3,
  HF_KIND_MAP = 4
} hf_kind;

typedef enum hf_ftype {
  HF_FT_INT = 1,     /* int32 */
  HF_FT_LONG = 2,    /* int64 */
  HF_FT_FLOAT = 3,   /* IEEE 754 binary32 */
  HF_FT_DOUBLE = 4,  /* IEEE 754 binary64 */
  HF_FT_BOOLEAN = 5, /* 0 or 1 */
  HF_FT_STRING = 6,  /* UTF-8 text */
  HF_FT_BYTES = 7,   /* arbitrary octets */
  HF_FT_REF = 8      /* ordinal of a record of another type */
} hf_ftype;

#define HF_NO_TYPE UINT32_MAX
#define HF_NO_ORDINAL UINT32_MAX

/*! hf_schema_parse() :
 *  Parses schema text (`len` bytes, need not be NUL-terminated).
 *  @return HF_OK and *out (free with hf_schema_free), or HF_E_SCHEMA with
 *  err->line/column set, HF_E_LIMIT, HF_E_NOMEM. */
int hf_schema_parse(const char *text, size_t len, hf_schema **out,
                    hf_error *err);
void hf_schema_free(hf_schema *s);

/*! hf_schema_print() :
 *  Writes the canonical text of `s` (SCHEMA.md §5) into buf[0..cap) and
 *  NUL-terminates it when room allows.
 *  @return the length of the text, excluding the NUL; if >= cap, the output
 *  was truncated (call again with a larger buffer), like snprintf. */
size_t hf_schema_print(const hf_schema *s, char *buf, size_t cap);

uint32_t hf_schema_type_count(const hf_schema *s);

/*! hf_schema_type_find() : type id by name; HF_OK or HF_NOTFOUND. */
int hf_schema_type_find(const hf_schema *s, const char *name, size_t len,
                        uint32_t *type);

typedef struct hf_type_info {
  const char *name; /* NUL-terminated, owned by the schema */
  hf_kind kind;
  uint32_t field_count; /* objects: number of fields; else 0 */
  uint32_t elem_type;   /* list/set: element type; map: key type */
  uint32_t value_type;  /* map: value type; else HF_NO_TYPE */
  uint32_t key_count;   /* objects: @PrimaryKey paths; set/map: @HashKey */
} hf_type_info;

/*! hf_schema_type() : describes type `type`; HF_E_ARG if out of range. */
int hf_schema_type(const hf_schema *s, uint32_t type, hf_type_info *out);

typedef struct hf_field_info {
  const char *name; /* NUL-terminated, owned by the schema */
  hf_ftype type;
  uint32_t ref_type; /* HF_FT_REF: referenced type id; else HF_NO_TYPE */
} hf_field_info;

int hf_schema_field(const hf_schema *s, uint32_t type, uint32_t field,
                    hf_field_info *out);
/*! hf_schema_field_find() : field index by name; HF_OK or HF_NOTFOUND. */
int hf_schema_field_find(const hf_schema *s, uint32_t type, const char *name,
                         size_t len, uint32_t *field);

/*! hf_schema_key() :
 *  Key path `k` of `type` (@PrimaryKey on objects, @HashKey on sets/maps):
 *  *path is the canonical dotted path (owned by the schema) and *leaf the
 *  primitive type the path ends in.  HF_E_ARG if out of range. */
int hf_schema_key(const hf_schema *s, uint32_t type, uint32_t k,
                  const char **path, hf_ftype *leaf);

/* ------------------------------------------------------------------------ */
/* Values and views                                                         */
/* ------------------------------------------------------------------------ */

/* Bytes inside a reader's mapping.  Read-only; valid until the reader is
 * closed; never freed by the caller.  Strings are not NUL-terminated. */
typedef struct hf_view {
  const void *ptr;
  size_t len;
} hf_view;

/* A typed primitive value, used for primary-key lookups. */
typedef struct hf_value {
  hf_ftype type; /* HF_FT_INT .. HF_FT_BYTES */
  union {
    int32_t i;
    int64_t l;
    float f;
    double d;
    int b;
    hf_view s; /* string or bytes; borrowed for the duration of the call */
  } u;
} hf_value;

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct hf_reader hf_reader;

typedef enum hf_blob_kind {
  HF_BLOB_SNAPSHOT = 1,
  HF_BLOB_DELTA = 2,
  HF_BLOB_REVERSE_DELTA = 3
} hf_blob_kind;

#define HF_OPEN_VERIFY 0x1u /* run hf_reader_verify() as part of open */

typedef struct hf_open_opts {
  uint32_t flags;         /* HF_OPEN_* */
  uint64_t max_file_size; /* 0 = no limit beyond the format's */
} hf_open_opts;

/*! hf_reader_open() :
 *  Maps `path` read-only and performs the cheap open (FORMAT.md §9: header,
 *  section table, schema and type table; cost independent of record count).
 *  opts may be NULL.  The reader owns the mapping; close it with
 *  hf_reader_close().  A new version must be published by rename, never by
 *  rewriting the mapped file in place (FORMAT.md §12). */
int hf_reader_open(const char *path, const hf_open_opts *opts, hf_reader **out,
                   hf_error *err);

/*! hf_reader_open_fd() : as hf_reader_open(), from an open descriptor.
 *  Regular files are mapped; pipes and other streams are read to the end into
 *  memory owned by the reader.  The descriptor is not closed. */
int hf_reader_open_fd(int fd, const hf_open_opts *opts, hf_reader **out,
                      hf_error *err);

/*! hf_reader_open_mem() : borrows buf[0..len); the caller keeps it alive and
 *  unchanged until hf_reader_close().  Any alignment is accepted. */
int hf_reader_open_mem(const void *buf, size_t len, const hf_open_opts *opts,
                       hf_reader **out, hf_error *err);

void hf_reader_close(hf_reader *r);

/*! hf_reader_verify() : full check of every checksum and every structural
 *  invariant of FORMAT.md §9.  O(file size).  Thread-safe. */
int hf_reader_verify(const hf_reader *r, hf_error *err);

typedef struct hf_info {
  uint16_t format_major;
  uint16_t format_minor;
  hf_blob_kind kind;
  uint32_t section_count;
  uint64_t file_size;
  uint64_t dataset_version;
  uint64_t base_state; /* deltas: state they apply to; snapshots: 0 */
  uint64_t state;      /* snapshots: own state; deltas: resulting state */
} hf_info;

void hf_reader_info(const hf_reader *r, hf_info *out);

typedef struct hf_section_info {
  uint32_t kind; /* FORMAT.md §5.2 */
  uint32_t type; /* type id, or HF_NO_TYPE for global sections */
  uint64_t offset;
  uint64_t length;
  uint64_t checksum;
} hf_section_info;

int hf_reader_section(const hf_reader *r, uint32_t i, hf_section_info *out);
/*! hf_section_kind_name() : "schema", "slots", ...; "unknown" if unknown. */
const char *hf_section_kind_name(uint32_t kind);

/*! hf_reader_schema() : the blob's schema, owned by the reader. */
const hf_schema *hf_reader_schema(const hf_reader *r);

/* One past the highest populated ordinal of `type` (0 when empty or out of
 * range), and the number of populated ordinals. */
uint32_t hf_reader_ordinal_limit(const hf_reader *r, uint32_t type);
uint32_t hf_reader_record_count(const hf_reader *r, uint32_t type);

/*! hf_reader_next() : the first populated ordinal >= `from`, or
 *  HF_NO_ORDINAL.  Iterate: for (o = next(r,t,0); o != NONE; o = next(r,t,o+1))
 */
uint32_t hf_reader_next(const hf_reader *r, uint32_t type, uint32_t from);

/* A record of an object type, located once and read field by field.  Filled
 * by hf_reader_record() or hf_reader_find(); plain data, no cleanup. */
typedef struct hf_record {
  const hf_reader *reader;
  const unsigned char *slot;
  uint32_t type;
  uint32_t ordinal;
} hf_record;

/*! hf_reader_record() : HF_OK, HF_NOTFOUND (ordinal not populated), or
 *  HF_E_ARG (type out of range or not an object type). */
int hf_reader_record(const hf_reader *r, uint32_t type, uint32_t ordinal,
                     hf_record *out);

/* Field accessors.  @return HF_OK, HF_NULL (the field has no value; *out is
 * untouched), HF_E_TYPE (the field is not of that type), HF_E_ARG (field out
 * of range) or HF_E_CORRUPT (an offset points outside its section).  They do
 * not allocate.  Views point into the mapping. */
int hf_record_int(const hf_record *rec, uint32_t field, int32_t *out);
int hf_record_long(const hf_record *rec, uint32_t field, int64_t *out);
int hf_record_float(const hf_record *rec, uint32_t field, float *out);
int hf_record_double(const hf_record *rec, uint32_t field, double *out);
int hf_record_bool(const hf_record *rec, uint32_t field, int *out);
int hf_record_string(const hf_record *rec, uint32_t field, hf_view *out);
int hf_record_bytes(const hf_record *rec, uint32_t field, hf_view *out);
/*! hf_record_ref() : ordinal of the referenced record (of the field's
 *  ref_type). */
int hf_record_ref(const hf_record *rec, uint32_t field, uint32_t *out);

/* A list, set or map record: `n` elements (lists/sets) or entries (maps). */
typedef struct hf_coll {
  const unsigned char *elems;
  uint64_t n;
  uint32_t type;
  hf_kind kind;
} hf_coll;

/*! hf_reader_coll() : HF_OK, HF_NOTFOUND, HF_E_ARG, HF_E_CORRUPT. */
int hf_reader_coll(const hf_reader *r, uint32_t type, uint32_t ordinal,
                   hf_coll *out);
/* Element i of a list/set (ascending ordinals for sets); key or value
 * ordinal of entry i of a map (ascending key ordinals).  i < c->n. */
uint32_t hf_coll_elem(const hf_coll *c, uint64_t i);
uint32_t hf_coll_key(const hf_coll *c, uint64_t i);
uint32_t hf_coll_value(const hf_coll *c, uint64_t i);

/*! hf_reader_find() :
 *  Primary-key lookup through the in-file index (FORMAT.md §7).  keys[i]
 *  must have the leaf type of key path i (hf_schema_key); n must equal the
 *  type's key count.  No allocation.
 *  @return HF_OK and *out, HF_NOTFOUND, HF_E_ARG / HF_E_TYPE on a bad
 *  query, HF_E_CORRUPT if the index points outside the type. */
int hf_reader_find(const hf_reader *r, uint32_t type, const hf_value *keys,
                   size_t n, hf_record *out);

/*! hf_reader_find_text() :
 *  As hf_reader_find(), with each key part given as text and converted to the
 *  leaf type (decimal integers, floating point, true/false, raw strings;
 *  bytes as base64).  HF_E_INPUT with err->msg if a part does not convert. */
int hf_reader_find_text(const hf_reader *r, uint32_t type,
                        const char *const *parts, size_t n, hf_record *out,
                        hf_error *err);

/* ------------------------------------------------------------------------ */
/* Builder                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct hf_builder hf_builder;

/* A record added to a builder.  Opaque outside of the builder that made it. */
typedef struct hf_ref {
  uint32_t type;
  uint32_t id;
} hf_ref;

#define HF_BUILD_IGNORE_UNKNOWN 0x1u /* JSON: skip fields not in the schema */

typedef struct hf_build_opts {
  /* Previous version: keyed records keep their ordinals, unkeyed records
   * with unchanged content keep theirs, freed ordinals are reused
   * (FORMAT.md §6.8).  Its schema must equal the builder's.  Borrowed: must
   * stay open until hf_builder_free(). */
  const hf_reader *base;
  uint64_t dataset_version; /* 0 = base version + 1, or 1 without base */
  uint32_t flags;           /* HF_BUILD_* */
  /* Writing the snapshot: 0 or 1 = on the calling thread; N > 1 = rendering
   * the sections on up to N threads (the calling thread one of them).  The
   * bytes are the same for every value. */
  uint32_t threads;
} hf_build_opts;

/*! hf_builder_new() : `s` is borrowed and must outlive the builder. */
int hf_builder_new(const hf_schema *s, const hf_build_opts *opts,
                   hf_builder **out, hf_error *err);
void hf_builder_free(hf_builder *b);

/* Records are built depth first: hf_builder_begin() opens a record of any
 * type (pushed on a stack), setters fill the innermost open record,
 * hf_builder_end() closes it and yields its hf_ref, which the enclosing
 * record then stores (set_ref, add, put).  A record closed with no record
 * open around it is a root: it and all it references are in the snapshot;
 * anything else added is dropped.  Unkeyed records are deduplicated by
 * content; a root repeating the primary key of another root is HF_E_DUPKEY.
 * Fields never set are null. */
int hf_builder_begin(hf_builder *b, uint32_t type, hf_error *err);
int hf_builder_set_int(hf_builder *b, uint32_t field, int32_t v, hf_error *err);
int hf_builder_set_long(hf_builder *b, uint32_t field, int64_t v,
                        hf_error *err);
int hf_builder_set_float(hf_builder *b, uint32_t field, float v, hf_error *err);
int hf_builder_set_double(hf_builder *b, uint32_t field, double v,
                          hf_error *err);
int hf_builder_set_bool(hf_builder *b, uint32_t field, int v, hf_error *err);
/* Strings must be valid UTF-8 (HF_E_INPUT otherwise); bytes are copied. */
int hf_builder_set_string(hf_builder *b, uint32_t field, const void *p,
                          size_t len, hf_error *err);
int hf_builder_set_bytes(hf_builder *b, uint32_t field, const void *p,
                         size_t len, hf_error *err);
int hf_builder_set_ref(hf_builder *b, uint32_t field, hf_ref ref,
                       hf_error *err);
/* Lists and sets: append an element (sets ignore repeats). */
int hf_builder_add(hf_builder *b, hf_ref elem, hf_error *err);
/* Maps: add an entry; a repeated key is HF_E_INPUT. */
int hf_builder_put(hf_builder *b, hf_ref key, hf_ref value, hf_error *err);
/*! hf_builder_end() : closes the innermost record; *out may be NULL. */
int hf_builder_end(hf_builder *b, hf_ref *out, hf_error *err);
/*! hf_builder_discard() : drops every record still open (after an error). */
void hf_builder_discard(hf_builder *b);

/*! hf_builder_add_json() :
 *  Parses one JSON text (SCHEMA.md §6 mapping) as a root record of `type`.
 *  `line` is used only in messages.  On failure nothing of the record is
 *  kept and err names the line, the field path and the reason. */
int hf_builder_add_json(hf_builder *b, uint32_t type, const char *json,
                        size_t len, uint64_t line, hf_error *err);

/* Options of hf_builder_add_jsonl(); zero-initialise, then set. */
typedef struct hf_jsonl_opts {
  uint32_t type;     /* type of every line's record */
  uint32_t threads;  /* 0 or 1: parse on the calling thread; N > 1: parse
                        on N-1 more threads while this one builds */
  uint64_t max_line; /* longest line accepted, in bytes without its line
                        end; 0 or more than 2 GiB: 2 GiB */
} hf_jsonl_opts;

/*! hf_builder_add_jsonl() :
 *  Reads JSON Lines from `fd` to its end and adds each line that is not
 *  blank (spaces and tabs only) as hf_builder_add_json() would, with line
 *  numbers counted from 1; a line may end in "\n" or "\r\n", the last one
 *  in neither.  Memory stays bounded: the input is read in batches of lines.
 *  With opts->threads > 1 the lines are parsed on worker threads and built
 *  on the calling thread, in input order; the records built, and the first
 *  error, are the same as with one thread.  The builder must not be used by
 *  another thread meanwhile.  On error the lines before the failing one stay
 *  added, err->line names it (HF_E_IO: err->offset is the input offset and
 *  errno is read(2)'s) and *records (may be NULL) counts the lines added. */
int hf_builder_add_jsonl(hf_builder *b, int fd, const hf_jsonl_opts *opts,
                         uint64_t *records, hf_error *err);

/*! hf_builder_write_fd() / hf_builder_write_path() :
 *  Assigns ordinals and writes the canonical snapshot.  _path publishes
 *  atomically (temporary file in the same directory, fsync, rename, fsync of
 *  the directory); on failure `path` is untouched and no temporary remains.
 *  The builder accepts no records afterwards; the same output may be written
 *  again.  *state_out (may be NULL) receives the snapshot's state. */
int hf_builder_write_fd(hf_builder *b, int fd, uint64_t *state_out,
                        hf_error *err);
int hf_builder_write_path(hf_builder *b, const char *path, uint64_t *state_out,
                          hf_error *err);

/* ------------------------------------------------------------------------ */
/* JSON output (SCHEMA.md §6), the inverse of hf_builder_add_json()          */
/* ------------------------------------------------------------------------ */

/* Output sink: called with consecutive chunks; a nonzero return aborts with
 * HF_E_IO. */
typedef int (*hf_write_fn)(void *ctx, const void *p, size_t len);

/*! hf_json_write_record() : writes record `ordinal` of `type` (any kind) as
 *  one JSON text without a newline. */
int hf_json_write_record(const hf_reader *r, uint32_t type, uint32_t ordinal,
                         hf_write_fn fn, void *ctx, hf_error *err);

/* ------------------------------------------------------------------------ */
/* Deltas (FORMAT.md §8)                                                    */
/* ------------------------------------------------------------------------ */

/* A delta (blob kind 2) turns the snapshot whose state is its base_state
 * into the snapshot whose state is its state, byte for byte; a reverse delta
 * (kind 3) is the same encoding computed in the other direction, so that a
 * reader can roll back.  Delta blobs are opened with hf_reader_open*() like
 * snapshots (hf_info.kind tells them apart) and checked by
 * hf_reader_verify(); snapshot accessors refuse them. */

#define HF_DELTA_LZ4 0x1u     /* compress sections with LZ4 where it pays */
#define HF_DELTA_REVERSE 0x2u /* write kind 3 (reverse delta) instead of 2 */

/*! hf_delta_write_fd() / hf_delta_write_path() / hf_delta_mem() :
 *  Computes the delta that turns snapshot `from` into snapshot `to` and
 *  writes it to `fd` (not closed), publishes it atomically at `path` (as
 *  hf_builder_write_path()), or returns it in *out / *len (malloc'd; free
 *  with free()).  For the reverse delta of OLD -> NEW, call with from = NEW,
 *  to = OLD and HF_DELTA_REVERSE.  Both readers are borrowed.
 *  @return HF_OK; HF_E_ARG (a blob is not a snapshot; `to` was not built with
 *  `from` as base, so ordinals do not correspond); HF_E_SCHEMA (the schemas
 *  differ: ship a full snapshot instead); HF_E_IO, HF_E_NOMEM, or a reader
 *  error if an input turns out to be corrupt. */
int hf_delta_write_fd(const hf_reader *from, const hf_reader *to,
                      uint32_t flags, int fd, hf_error *err);
int hf_delta_write_path(const hf_reader *from, const hf_reader *to,
                        uint32_t flags, const char *path, hf_error *err);
int hf_delta_mem(const hf_reader *from, const hf_reader *to, uint32_t flags,
                 void **out, size_t *len, hf_error *err);

/*! hf_apply_mem() / hf_apply_write_fd() / hf_apply_write_path() :
 *  Applies deltas[0..n) (kinds 2 or 3, in order) to snapshot `base` and
 *  returns the resulting snapshot in *out / *len (malloc'd; free with
 *  free()), writes it to `fd` (not closed), or publishes it atomically at
 *  `path`.  Each delta is fully verified first; intermediate snapshots live
 *  in memory.  n == 0 reproduces `base`.  All readers are borrowed.
 *  @return HF_OK; HF_E_STATE (a delta's base_state is not the state it is
 *  applied to: wrong base or wrong chain order; err->msg names both states);
 *  HF_E_ARG (base is not a snapshot, a delta is not a delta); HF_E_CORRUPT /
 *  HF_E_CHECKSUM / HF_E_LIMIT (a delta is damaged, or the result's state is
 *  not the delta's state); HF_E_IO, HF_E_NOMEM. */
int hf_apply_mem(const hf_reader *base, const hf_reader *const *deltas,
                 size_t n, void **out, size_t *len, hf_error *err);
int hf_apply_write_fd(const hf_reader *base, const hf_reader *const *deltas,
                      size_t n, int fd, hf_error *err);
int hf_apply_write_path(const hf_reader *base, const hf_reader *const *deltas,
                        size_t n, const char *path, hf_error *err);

/* Reading a delta's content without its base (FORMAT.md §8.3): per type,
 * the ordinals removed, added, and (object types) changed, the added
 * records whole and, for a changed record, only the fields that changed.
 * References are ordinals of the target; a delta alone cannot show what
 * they point to unless that record is itself in the delta. */
typedef struct hf_delta hf_delta;

typedef enum hf_delta_op {
  HF_DELTA_OP_REMOVE = 1, /* populated in the base, not in the target */
  HF_DELTA_OP_ADD = 2,    /* populated in the target, not in the base;
                             collections: also those whose content changed */
  HF_DELTA_OP_CHANGE = 3  /* object types: in both, some fields differ */
} hf_delta_op;

/*! hf_delta_open() :
 *  Verifies delta blob `r` (as hf_reader_verify()) and decodes its sections
 *  (LZ4 and ordinal lists) into memory owned by *out; free it with
 *  hf_delta_close().  `r` is borrowed and must outlive the handle.
 *  @return HF_OK; HF_E_ARG (r is a snapshot or NULL); a verify error
 *  (HF_E_CORRUPT, HF_E_CHECKSUM, HF_E_LIMIT) with err->msg; HF_E_NOMEM. */
int hf_delta_open(const hf_reader *r, hf_delta **out, hf_error *err);
void hf_delta_close(hf_delta *h);

/*! hf_delta_count() : how many ordinals of `type` the delta lists under
 *  `op` (0 for an unknown type or op; CHANGE is 0 for collection types). */
uint64_t hf_delta_count(const hf_delta *h, uint32_t type, hf_delta_op op);

/*! hf_delta_ordinal() : the i-th ordinal (ascending) of that list, or
 *  HF_NO_ORDINAL when i >= hf_delta_count(). */
uint32_t hf_delta_ordinal(const hf_delta *h, uint32_t type, hf_delta_op op,
                          uint64_t i);

/*! hf_delta_field() :
 *  Field `field` of the i-th ADD or CHANGE record of object type `type`, in
 *  the target.  *out gets the field's type and value; strings and bytes
 *  are views into the delta (or its decoded sections), valid until
 *  hf_delta_close(); a reference gives the target ordinal in out->u.l.
 *  No allocation.
 *  @return HF_OK; HF_NULL (null in the target); HF_NOTFOUND (CHANGE: the
 *  field did not change, the delta does not carry it); HF_E_ARG (bad type,
 *  field, op or index). */
int hf_delta_field(const hf_delta *h, uint32_t type, hf_delta_op op,
                   uint64_t i, uint32_t field, hf_value *out);

/*! hf_delta_coll() : the i-th ADD record of list, set or map type `type`
 *  (its elements are target ordinals; read them with hf_coll_elem() etc.).
 *  Valid until hf_delta_close().  @return HF_OK or HF_E_ARG. */
int hf_delta_coll(const hf_delta *h, uint32_t type, uint64_t i, hf_coll *out);

/* ------------------------------------------------------------------------ */
/* Diff: what changed between two snapshots, by primary key, to the field   */
/* ------------------------------------------------------------------------ */

/* Records of a keyed object type are matched by primary key (each key is
 * looked up in the other snapshot's in-file index); records of other types
 * by ordinal.  A record present in both is "changed" when its content
 * differs: strings by bytes, references by the content of the records they
 * point to (at any depth), lists element by element, sets and maps as sets
 * (entries matched by key content).  Ordinals themselves never count, so
 * two snapshots built independently from the same records are equal. */

typedef enum hf_diff_op {
  HF_DIFF_ADD = 1,    /* the record is only in B */
  HF_DIFF_REMOVE = 2, /* the record is only in A */
  HF_DIFF_CHANGE = 3, /* in both, content differs; its FIELD events follow */
  HF_DIFF_FIELD = 4   /* one difference inside the record of the last CHANGE */
} hf_diff_op;

typedef enum hf_diff_vkind {
  HF_DV_NONE = 0,   /* nothing on this side: list element, set member or map
                       entry absent */
  HF_DV_NULL = 1,   /* a null field */
  HF_DV_VALUE = 2,  /* a primitive value, in `value` */
  HF_DV_RECORD = 3, /* record `ordinal` of `type` (any kind) of `reader` */
  HF_DV_LENGTH = 4  /* the number of elements of a list, in `length` */
} hf_diff_vkind;

/* One side of a difference.  Views point into `reader`'s mapping. */
typedef struct hf_diff_value {
  hf_diff_vkind kind;
  const hf_reader *reader; /* A for old values, B for new ones */
  hf_value value;          /* HF_DV_VALUE */
  uint32_t type;           /* HF_DV_RECORD */
  uint32_t ordinal;        /* HF_DV_RECORD */
  uint64_t length;         /* HF_DV_LENGTH */
} hf_diff_value;

/* One event.  Everything it points to is valid only during the callback. */
typedef struct hf_diff_change {
  hf_diff_op op;
  const hf_reader *reader_a, *reader_b;
  uint32_t type;       /* the type being compared */
  uint32_t ordinal_a;  /* the record in A; HF_NO_ORDINAL for ADD */
  uint32_t ordinal_b;  /* the record in B; HF_NO_ORDINAL for REMOVE */
  const hf_value *key; /* keyed types: key values in @PrimaryKey order */
  uint32_t key_count;  /* 0 for unkeyed types (identified by ordinal) */
  /* HF_DIFF_FIELD: where, NUL-terminated, e.g. "title", "cast[2].name",
   * "tags" (a set member added or removed), "ratings{\"US\"}" (a map entry,
   * key written as JSON); "" for a top-level list, set or map record.
   * Paths longer than HF_DIFF_PATH_MAX bytes are cut and end in "...". */
  const char *path;
  size_t path_len;
  hf_diff_value old_value; /* HF_DIFF_FIELD only */
  hf_diff_value new_value;
} hf_diff_change;

#define HF_DIFF_PATH_MAX 4095

/* Called once per event; returns 0 to go on.  A nonzero return stops the
 * diff, which returns that value. */
typedef int (*hf_diff_fn)(void *ctx, const hf_diff_change *c);

#define HF_DIFF_RECORDS_ONLY 0x1u /* no FIELD events (faster: counts only) */

typedef struct hf_diff_counts {
  uint64_t added, removed, changed;
} hf_diff_counts;

/*! hf_diff() :
 *  Calls fn for every record of `type` added, removed or changed from
 *  snapshot `a` to snapshot `b`, in ordinal order, each CHANGE followed by
 *  its FIELD events (unless HF_DIFF_RECORDS_ONLY).  Both readers are
 *  borrowed and must hold snapshots of the same schema (byte for byte).
 *  Identical records cost a comparison of their slots and the records they
 *  reference; a type whose sections are equal in both costs nothing.
 *  Memory: a few bits per ordinal of each compared type, allocated here and
 *  freed before return; nothing per record.  counts (may be NULL) receives
 *  the totals.
 *  @return HF_OK; fn's nonzero value; HF_E_ARG (bad type, NULL argument, a
 *  blob is not a snapshot: apply a delta first); HF_E_SCHEMA (the schemas
 *  differ); HF_E_CORRUPT if a record points outside its snapshot;
 *  HF_E_NOMEM. */
int hf_diff(const hf_reader *a, const hf_reader *b, uint32_t type,
            uint32_t flags, hf_diff_fn fn, void *ctx, hf_diff_counts *counts,
            hf_error *err);

/*! hf_diff_record() : as hf_diff() for one record: ordinal_a of `a` against
 *  ordinal_b of `b` (either may be HF_NO_ORDINAL: an ADD or a REMOVE).
 *  HF_E_ARG if an ordinal is not populated. */
int hf_diff_record(const hf_reader *a, const hf_reader *b, uint32_t type,
                   uint32_t ordinal_a, uint32_t ordinal_b, uint32_t flags,
                   hf_diff_fn fn, void *ctx, hf_diff_counts *counts,
                   hf_error *err);

/*! hf_diff_write_value() : a value as JSON (records as
 *  hf_json_write_record() writes them, NULL as null, a length as a number);
 *  HF_DV_NONE writes nothing. */
int hf_diff_write_value(const hf_diff_value *v, hf_write_fn fn, void *ctx,
                        hf_error *err);

#define HF_DIFF_KEY_TEXT 0 /* id=42,code="x"  or  #12 (unkeyed) */
#define HF_DIFF_KEY_JSON 1 /* {"id":42,"code":"x"}  or  {"ordinal":12} */

/*! hf_diff_write_key() : the record's identity in one of the styles above
 *  (key paths as names, values as JSON). */
int hf_diff_write_key(const hf_diff_change *c, int style, hf_write_fn fn,
                      void *ctx, hf_error *err);

/*! hf_diff_write_path() : c->path as a JSON string. */
int hf_diff_write_path(const hf_diff_change *c, hf_write_fn fn, void *ctx,
                       hf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HFORMAT_H */
