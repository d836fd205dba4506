/*
 * hf_assemble.c - section layout and sealing shared by every writer of
 * blobs (FORMAT.md §4, §5): the builder, the delta writer and the delta
 * applier.  One implementation of the header, the table, the checksums and
 * the state means the three cannot drift apart.
 */
#include <inttypes.h>
#include <stdlib.h>

#define XXH_STATIC_LINKING_ONLY
#define XXH_INLINE_ALL /* header-only XXH3: no libxxhash.so to load at exec */
#include <xxhash.h>

#include "hf_assemble.h"

static int nomem(hf_error *err) {
  return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
}

int hf_blobw_add(hf_blobw *w, uint32_t kind, uint32_t type, uint64_t len,
                 hf_error *err) {
  if (w->n == w->cap) {
    uint32_t ncap = w->cap ? 2 * w->cap : 16;
    hf_asec *ns = realloc(w->secs, (size_t)ncap * sizeof *ns);
    if (ns == NULL)
      return nomem(err);
    w->secs = ns;
    w->cap = ncap;
  }
  w->secs[w->n].kind = kind;
  w->secs[w->n].type = type;
  w->secs[w->n].off = 0;
  w->secs[w->n].len = len;
  w->n++;
  return HF_OK;
}

int hf_blobw_layout(hf_blobw *w, hf_error *err) {
  uint64_t pos =
      hf_align8(HF_HEADER_SIZE + (uint64_t)HF_SECTION_ENTRY_SIZE * w->n);
  uint32_t i;
  for (i = 0; i < w->n; i++) {
    w->secs[i].off = pos;
    if (w->secs[i].len > UINT64_MAX - 8 - pos)
      return nomem(err);
    pos = hf_align8(pos + w->secs[i].len);
  }
  w->size = pos;
  if (pos > SIZE_MAX)
    return nomem(err);
  w->out =
      w->mem != NULL ? w->mem->get(w->mem->ctx, pos) : calloc(1, (size_t)pos);
  if (w->out == NULL)
    return nomem(err);
  return HF_OK;
}

uint64_t hf_blobw_seal(hf_blobw *w, hf_blob_kind kind, uint64_t version,
                       uint64_t base_state, uint64_t state) {
  return hf_blobw_seal_sums(w, kind, version, base_state, state, NULL);
}

uint64_t hf_blobw_seal_sums(hf_blobw *w, hf_blob_kind kind, uint64_t version,
                            uint64_t base_state, uint64_t state,
                            const uint64_t *sums) {
  unsigned char *out = w->out;
  XXH3_state_t st;
  uint32_t i;
  for (i = 0; i < w->n; i++) {
    unsigned char *e =
        out + HF_HEADER_SIZE + (uint64_t)i * HF_SECTION_ENTRY_SIZE;
    hf_put32(e, w->secs[i].kind);
    hf_put32(e + 4, w->secs[i].type);
    hf_put64(e + 8, w->secs[i].off);
    hf_put64(e + 16, w->secs[i].len);
    hf_put64(e + 24, sums != NULL ? sums[i]
                                  : hf_xxh3(out + w->secs[i].off,
                                            (size_t)w->secs[i].len));
  }
  if (kind == HF_BLOB_SNAPSHOT) {
    /* §4.9: the checksums as they sit in the table, in table order. */
    XXH3_64bits_reset(&st);
    for (i = 0; i < w->n; i++)
      XXH3_64bits_update(
          &st, out + HF_HEADER_SIZE + (size_t)i * HF_SECTION_ENTRY_SIZE + 24,
          8);
    state = XXH3_64bits_digest(&st);
    base_state = 0;
  }
  memcpy(out, HF_MAGIC, HF_MAGIC_LEN);
  hf_put16(out + HF_H_MAJOR, HF_FORMAT_MAJOR);
  hf_put16(out + HF_H_MINOR, HF_FORMAT_MINOR);
  out[HF_H_KIND] = (unsigned char)kind;
  out[HF_H_RESERVED0] = 0;
  hf_put16(out + HF_H_RESERVED1, 0);
  hf_put32(out + HF_H_NSECTIONS, w->n);
  hf_put32(out + HF_H_RESERVED2, 0);
  hf_put64(out + HF_H_FILE_SIZE, w->size);
  hf_put64(out + HF_H_VERSION, version);
  hf_put64(out + HF_H_BASE_STATE, base_state);
  hf_put64(out + HF_H_STATE, state);
  /* §4.8: header bytes [0,56), then the section table. */
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, out, HF_HEADER_CKSUM_OFF);
  XXH3_64bits_update(&st, out + HF_HEADER_SIZE,
                     (size_t)w->n * HF_SECTION_ENTRY_SIZE);
  hf_put64(out + HF_H_CHECKSUM, XXH3_64bits_digest(&st));
  return state;
}

unsigned char *hf_blobw_take(hf_blobw *w, size_t *len) {
  unsigned char *out = w->out;
  *len = (size_t)w->size;
  w->out = NULL;
  hf_blobw_free(w);
  return out;
}

void hf_blobw_free(hf_blobw *w) {
  free(w->secs);
  if (w->mem == NULL)
    free(w->out);
  memset(w, 0, sizeof *w);
}

/* ---- Snapshots ------------------------------------------------------------
 */

int hf_snap_layout(hf_blobw *w, const hf_schema *s, const hf_snap_type *types,
                   uint32_t *first, hf_error *err) {
  char probe[1];
  size_t schema_len = hf_schema_print(s, probe, sizeof probe);
  uint32_t t;
  int rc;
  if (schema_len > HF_MAX_SCHEMA_TEXT)
    return hf_fail(err, HF_E_LIMIT, UINT64_MAX,
                   "schema text of %zu bytes exceeds 1 MiB", schema_len);
  if ((rc = hf_blobw_add(w, HF_SEC_SCHEMA, HF_NO_TYPE, schema_len, err)) ||
      (rc = hf_blobw_add(w, HF_SEC_TYPES, HF_NO_TYPE,
                         (uint64_t)s->ntypes * HF_TYPES_ENTRY_SIZE, err)))
    return rc;
  for (t = 0; t < s->ntypes; t++) {
    const hf_type_def *td = &s->types[t];
    const hf_snap_type *st = &types[t];
    uint64_t var = st->var_len;
    first[t] = w->n;
    if (td->kind == HF_KIND_OBJECT) {
      if (var > HF_MAX_HEAP)
        return hf_fail(err, HF_E_LIMIT, UINT64_MAX,
                       "%s: heap of %" PRIu64 " bytes exceeds 2^40-1", td->name,
                       var);
    } else {
      if (var > HF_MAX_ELEMENTS)
        return hf_fail(err, HF_E_LIMIT, UINT64_MAX,
                       "%s: %" PRIu64 " elements exceed 2^40", td->name, var);
      var *= td->kind == HF_KIND_MAP ? 8 : 4;
    }
    if ((rc = hf_blobw_add(w, HF_SEC_BITMAP, t,
                           ((uint64_t)st->limit + 63) / 64 * 8, err)) ||
        (rc = hf_blobw_add(w, HF_SEC_SLOTS, t,
                           (uint64_t)st->limit * td->slot_width, err)) ||
        (rc = hf_blobw_add(
             w, td->kind == HF_KIND_OBJECT ? HF_SEC_HEAP : HF_SEC_ELEMENTS, t,
             var, err)))
      return rc;
    if (td->kind == HF_KIND_OBJECT && td->nkeys > 0 &&
        (rc = hf_blobw_add(w, HF_SEC_PKINDEX, t,
                           hf_pk_buckets(st->count) * HF_PK_BUCKET_SIZE, err)))
      return rc;
  }
  if ((rc = hf_blobw_layout(w, err)) != HF_OK)
    return rc;
  {
    /* The printer NUL-terminates; print into scratch, copy the text. */
    char *text = malloc(schema_len + 1);
    if (text == NULL)
      return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
    hf_schema_print(s, text, schema_len + 1);
    memcpy(hf_blobw_data(w, 0), text, schema_len);
    free(text);
  }
  for (t = 0; t < s->ntypes; t++) {
    unsigned char *te = hf_blobw_data(w, 1) + (size_t)t * HF_TYPES_ENTRY_SIZE;
    hf_put32(te, types[t].limit);
    hf_put32(te + 4, types[t].count);
    hf_put32(te + 8, s->types[t].slot_width);
  }
  return HF_OK;
}

/* §6.7 construction into PKINDEX(t), key hashes read through `r`. */
static int fill_pkindex(const hf_reader *r, const hf_schema *s, uint32_t type,
                        unsigned char *p, uint64_t len, hf_error *err) {
  const hf_type_def *td = &s->types[type];
  uint64_t nb = len / HF_PK_BUCKET_SIZE, i;
  hf_value vals[HF_MAX_KEYS];
  uint32_t o;
  for (i = 0; i < nb; i++) {
    hf_put32(p + 8 * i, HF_PK_EMPTY);
    hf_put32(p + 8 * i + 4, 0);
  }
  for (o = hf_reader_next(r, type, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(r, type, o + 1)) {
    uint64_t h, probes = 0;
    int rc = hf_reader_key_values(r, type, o, vals);
    if (rc != HF_OK)
      return hf_fail(err, HF_E_CORRUPT, UINT64_MAX,
                     "result: %s record %" PRIu32
                     ": primary key %s (FORMAT.md §6.7, R-PK-03)",
                     td->name, o,
                     rc == HF_NULL ? "has a null part" : "cannot be read");
    h = hf_key_hash(vals, td->nkeys);
    for (i = h & (nb - 1); hf_le32(p + 8 * i) != HF_PK_EMPTY;
         i = (i + 1) & (nb - 1))
      if (++probes >= nb) /* more records than record_count said */
        return hf_fail(err, HF_E_CORRUPT, UINT64_MAX,
                       "result: %s: index overflow", td->name);
    hf_put32(p + 8 * i, o);
    hf_put32(p + 8 * i + 4, (uint32_t)(h >> 32));
  }
  return HF_OK;
}

/* Checksums of the sections whose kind is (pk) or is not (!pk) PKINDEX. */
static void section_sums(const hf_blobw *w, int pk, uint64_t *sums) {
  uint32_t i;
  for (i = 0; i < w->n; i++)
    if ((w->secs[i].kind == HF_SEC_PKINDEX) == pk)
      sums[i] = hf_xxh3(hf_blobw_data(w, i), (size_t)w->secs[i].len);
}

int hf_snap_finish(hf_blobw *w, const hf_schema *s, const uint32_t *first,
                   uint64_t version, uint64_t *state, hf_error *err) {
  hf_reader *r = NULL;
  hf_error oerr;
  uint64_t *sums;
  uint32_t t;
  int rc = HF_OK, keyed = 0;
  for (t = 0; t < s->ntypes; t++)
    keyed |= s->types[t].kind == HF_KIND_OBJECT && s->types[t].nkeys > 0;
  /* Every section's checksum once: PKINDEX sections' after they are
   * filled, the others' now.  The open below checks only the header's and
   * SCHEMA's and TYPES' (§9), so the PKINDEX entries may wait. */
  if ((sums = calloc((size_t)w->n + 1, sizeof *sums)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  section_sums(w, 0, sums);
  if (keyed) {
    hf_blobw_seal_sums(w, HF_BLOB_SNAPSHOT, version, 0, 0, sums);
    /* The open checks what the layout guarantees; key values follow
     * references through the reader's own bounds-checked accessors. */
    rc = hf_reader_open_mem(w->out, (size_t)w->size, NULL, &r, &oerr);
    if (rc != HF_OK)
      rc = hf_fail(err, rc == HF_E_NOMEM ? rc : HF_E_CORRUPT, oerr.offset,
                   "result: %s", oerr.msg);
    for (t = 0; t < s->ntypes && rc == HF_OK; t++) {
      const hf_type_def *td = &s->types[t];
      const uint32_t i = first[t] + HF_SNAP_PK;
      if (td->kind == HF_KIND_OBJECT && td->nkeys > 0)
        rc = fill_pkindex(r, s, t, hf_blobw_data(w, i), w->secs[i].len, err);
    }
    hf_reader_close(r);
  }
  if (rc == HF_OK) {
    section_sums(w, 1, sums);
    *state = hf_blobw_seal_sums(w, HF_BLOB_SNAPSHOT, version, 0, 0, sums);
  }
  free(sums);
  return rc;
}
