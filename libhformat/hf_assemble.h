/*
 * hf_assemble.h - laying out and sealing a blob (FORMAT.md §4, §5): the
 * part of writing that snapshots built from records (hf_finish.c), snapshots
 * produced by applying a delta (hf_apply.c) and delta blobs (hf_delta.c)
 * share.  Not installed.
 *
 * Use: add sections in table order with their lengths, lay out (allocates
 * the zeroed output, so padding is zero), fill each section in place, seal
 * (section table, checksums, state, header and its checksum).
 */
#ifndef HF_ASSEMBLE_H
#define HF_ASSEMBLE_H

#include "hf_internal.h"

typedef struct hf_asec {
  uint32_t kind, type;
  uint64_t off, len;
} hf_asec;

/* Where a blob's bytes go: zeroed memory of `size` bytes (NULL: out of
 * memory), owned by the provider (hf_write.c maps the output file). */
typedef struct hf_outmem {
  unsigned char *(*get)(void *ctx, uint64_t size);
  void *ctx;
} hf_outmem;

typedef struct hf_blobw {
  hf_asec *secs;
  uint32_t n, cap;
  unsigned char *out;   /* the blob, size bytes; owned until taken, unless */
  const hf_outmem *mem; /* it came from here (NULL: calloc) */
  uint64_t size;
} hf_blobw;

/* Appends section (kind, type) of `len` bytes to the table.  HF_E_NOMEM. */
int hf_blobw_add(hf_blobw *w, uint32_t kind, uint32_t type, uint64_t len,
                 hf_error *err);

/* Computes offsets (§5.3) and allocates the zeroed blob.  HF_E_NOMEM. */
int hf_blobw_layout(hf_blobw *w, hf_error *err);

/* Start of section i's bytes in the output. */
static inline unsigned char *hf_blobw_data(const hf_blobw *w, uint32_t i) {
  return w->out + w->secs[i].off;
}

/* Writes the section table with checksums, then the header.  For a
 * snapshot the state is computed (§4.9) and `state` ignored; for a delta
 * `state` is written as given.  Returns the state written.  May be called
 * again after a section changed. */
uint64_t hf_blobw_seal(hf_blobw *w, hf_blob_kind kind, uint64_t version,
                       uint64_t base_state, uint64_t state);

/* hf_blobw_seal() with section i's checksum (hf_xxh3 of its bytes) given as
 * sums[i], computed by the caller (hf_finish.c: on several threads). */
uint64_t hf_blobw_seal_sums(hf_blobw *w, hf_blob_kind kind, uint64_t version,
                            uint64_t base_state, uint64_t state,
                            const uint64_t *sums);

/* Hands the output to the caller (free with free()) and frees the rest. */
unsigned char *hf_blobw_take(hf_blobw *w, size_t *len);
void hf_blobw_free(hf_blobw *w);

/* ---- Output (hf_write.c) --------------------------------------------------
 */

/* Writes all of p[0..len) to fd, resuming after signals and short writes.
 * HF_E_IO with errno set. */
int hf_write_all(int fd, const unsigned char *p, size_t len, hf_error *err);

/* Publishes p[0..len) at `path` atomically: temporary file in the same
 * directory, fsync, rename, fsync of the directory (FORMAT.md §12.2).  On
 * failure `path` is untouched and no temporary remains. */
int hf_publish(const char *path, const unsigned char *p, size_t len,
               hf_error *err);

/* A blob rendered straight into its temporary output file, mapped: no copy
 * through write(2).  open creates the temporary next to `path`; mem (for
 * hf_blobw.mem) sizes it (blocks reserved first, so a full disk is an error,
 * not a fault) and maps it, or falls back to memory; publish syncs and
 * renames it into place and leaves the bytes readable at `out`; drop
 * removes an unpublished temporary.  hf_outfile_free unmaps or frees out.
 *
 * With `prefault` set after open, a thread faults the mapped file's pages
 * in ahead of a single-threaded renderer (see hf_write.c); publish and drop
 * stop it. */
typedef struct hf_outfile {
  hf_outmem mem;
  char *tmp;
  int fd;
  unsigned char *out;
  uint64_t size;
  int mapped;
  int prefault;
  struct hf_outpf *pf; /* the prefaulting thread, when one runs */
} hf_outfile;

int hf_outfile_open(hf_outfile *o, const char *path, hf_error *err);
int hf_outfile_publish(hf_outfile *o, const char *path, hf_error *err);
void hf_outfile_drop(hf_outfile *o);
void hf_outfile_free(unsigned char *out, uint64_t size, int mapped);

/* ---- Snapshots (§5.4, §6) ---------------------------------------------- */

/* What a snapshot's per-type section lengths follow from. */
typedef struct hf_snap_type {
  uint32_t limit;   /* ordinal_limit */
  uint32_t count;   /* record_count */
  uint64_t var_len; /* HEAP bytes (objects) or element entries (collections) */
} hf_snap_type;

/* Which sections of a type's group (§5.4), added to its first index. */
enum { HF_SNAP_BITMAP = 0, HF_SNAP_SLOTS = 1, HF_SNAP_VAR = 2, HF_SNAP_PK = 3 };

/* Adds every section of a snapshot of schema `s` in §5.4 order, lays out,
 * and writes SCHEMA and TYPES.  first[t] receives the table index of
 * BITMAP(t).  HF_E_LIMIT (heap or elements beyond §10), HF_E_NOMEM. */
int hf_snap_layout(hf_blobw *w, const hf_schema *s, const hf_snap_type *types,
                   uint32_t *first, hf_error *err);

/* Fills every PKINDEX of a laid-out snapshot whose other sections are
 * complete, by the §6.7 construction with key values read back through a
 * reader opened on the output, then seals it.  HF_E_CORRUPT if a key cannot
 * be read (null part, dangling reference). */
int hf_snap_finish(hf_blobw *w, const hf_schema *s, const uint32_t *first,
                   uint64_t version, uint64_t *state, hf_error *err);

#endif /* HF_ASSEMBLE_H */
