/*
 * reader_fixture.h - a snapshot assembled byte by byte from FORMAT.md, with
 * no help from the builder, so the reader's tests also check the spec's
 * reading.  Included by test_reader.c and test_corrupt.c.
 *
 * The fixture is one keyed object type, the example of FORMAT.md §6.4:
 *   Movie @PrimaryKey(id) { long id; string title; int year; boolean kids; }
 * with records at ordinals 0, 1 and 3 (2 is a hole).
 */
#ifndef READER_FIXTURE_H
#define READER_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

#define FX_SCHEMA                                                              \
  "Movie @PrimaryKey(id) {\n"                                                  \
  "    long id;\n"                                                             \
  "    string title;\n"                                                        \
  "    int year;\n"                                                            \
  "    boolean kids;\n"                                                        \
  "}\n"

/* §6.4: id at 0, title at 8, year at 16, kids at 20, presence at 21,
 * width 24. */
enum { FX_ID = 0, FX_TITLE = 1, FX_YEAR = 2, FX_KIDS = 3 };
enum { FX_OFF_ID = 0, FX_OFF_TITLE = 8, FX_OFF_YEAR = 16, FX_OFF_KIDS = 20 };
#define FX_PRESENT 21
#define FX_WIDTH 24
#define FX_LIMIT 4
#define FX_COUNT 3

/* A section to assemble. */
typedef struct fx_sec {
  uint32_t kind;
  uint32_t type;
  const void *p;
  size_t len;
} fx_sec;

/* Section payloads, mutable by tests before fx_blob(). */
typedef struct fx {
  char schema[256];
  size_t schema_len;
  unsigned char types[16];
  unsigned char bitmap[8];
  unsigned char slots[FX_LIMIT * FX_WIDTH];
  size_t slots_len;
  unsigned char heap[64];
  size_t heap_len;
  unsigned char pk[8 * 4];
  size_t pk_len;
  uint64_t version;
} fx;

static const int64_t fx_ids[FX_LIMIT] = {10, 20, 0, 30};

static void fx_put_title(fx *f, unsigned o, const char *s) {
  size_t len = strlen(s);
  memcpy(f->heap + f->heap_len, s, len);
  hf_put64(f->slots + o * FX_WIDTH + FX_OFF_TITLE,
           (uint64_t)f->heap_len | ((uint64_t)len << HF_STR_OFF_BITS));
  f->heap_len += len;
}

/* The canonical PKINDEX of §6.7 for the records in f. */
static void fx_build_pk(fx *f) {
  uint64_t nb = f->pk_len / 8, b;
  for (b = 0; b < nb; b++) {
    hf_put32(f->pk + b * 8, HF_PK_EMPTY);
    hf_put32(f->pk + b * 8 + 4, 0);
  }
  for (unsigned o = 0; o < FX_LIMIT; o++) {
    hf_value v;
    uint64_t h, i;
    if (!(f->bitmap[0] >> o & 1))
      continue;
    v.type = HF_FT_LONG;
    v.u.l = (int64_t)hf_le64(f->slots + o * FX_WIDTH + FX_OFF_ID);
    h = hf_key_hash(&v, 1);
    for (i = h & (nb - 1); hf_le32(f->pk + i * 8) != HF_PK_EMPTY;
         i = (i + 1) & (nb - 1))
      ;
    hf_put32(f->pk + i * 8, o);
    hf_put32(f->pk + i * 8 + 4, (uint32_t)(h >> 32));
  }
}

static void fx_init(fx *f) {
  static const char *titles[FX_LIMIT] = {"Alien", "", NULL, "Am\xc3\xa9lie"};
  static const int32_t years[FX_LIMIT] = {1979, 2001, 0, 0};
  memset(f, 0, sizeof *f);
  f->version = 7;
  memcpy(f->schema, FX_SCHEMA, sizeof FX_SCHEMA - 1);
  f->schema_len = sizeof FX_SCHEMA - 1;
  hf_put32(f->types, FX_LIMIT);
  hf_put32(f->types + 4, FX_COUNT);
  hf_put32(f->types + 8, FX_WIDTH);
  f->bitmap[0] = 0x0B; /* ordinals 0, 1, 3 */
  f->slots_len = sizeof f->slots;
  for (unsigned o = 0; o < FX_LIMIT; o++) {
    unsigned char *s = f->slots + o * FX_WIDTH;
    if (o == 2)
      continue;
    hf_put64(s + FX_OFF_ID, (uint64_t)fx_ids[o]);
    fx_put_title(f, o, titles[o]);
    s[FX_PRESENT] = 0x0B; /* id, title, kids */
    if (o != 3) {         /* ordinal 3 has a null year */
      hf_put32(s + FX_OFF_YEAR, (uint32_t)years[o]);
      s[FX_PRESENT] |= 0x04;
    }
    s[FX_OFF_KIDS] = o == 1;
  }
  f->pk_len = 8 * 4; /* nb(3) = 4 */
  fx_build_pk(f);
}

/* Header checksum and state of an assembled blob, from its table (§4.8,
 * §4.9).  Reads no section content. */
static void fx_reseal(unsigned char *b) {
  uint32_t n = hf_le32(b + HF_H_NSECTIONS);
  unsigned char *sums = malloc(8 * (size_t)n + 1);
  unsigned char *hb = malloc(56 + 32 * (size_t)n);
  for (uint32_t i = 0; i < n; i++)
    memcpy(sums + 8 * i, b + 64 + 32 * i + 24, 8);
  hf_put64(b + HF_H_STATE, hf_xxh3(sums, 8 * (size_t)n));
  memcpy(hb, b, 56);
  memcpy(hb + 56, b + 64, 32 * (size_t)n);
  hf_put64(b + HF_H_CHECKSUM, hf_xxh3(hb, 56 + 32 * (size_t)n));
  free(sums);
  free(hb);
}

/* Recomputes every section checksum from the table, then reseals. */
static void fx_reseal_all(unsigned char *b) {
  uint32_t n = hf_le32(b + HF_H_NSECTIONS);
  for (uint32_t i = 0; i < n; i++) {
    unsigned char *e = b + 64 + 32 * i;
    hf_put64(e + 24, hf_xxh3(b + hf_le64(e + 8), hf_le64(e + 16)));
  }
  fx_reseal(b);
}

/* Lays out header, table and sections per §4-§5; malloc'd result. */
static unsigned char *fx_assemble(const fx_sec *s, size_t n, uint64_t version,
                                  size_t *len) {
  uint64_t pos = hf_align8(64 + 32 * (uint64_t)n);
  size_t total;
  unsigned char *b;
  for (size_t i = 0; i < n; i++)
    pos = hf_align8(pos + s[i].len);
  total = (size_t)pos;
  b = calloc(1, total);
  memcpy(b, HF_MAGIC, 8);
  hf_put16(b + HF_H_MAJOR, 1);
  b[HF_H_KIND] = HF_BLOB_SNAPSHOT;
  hf_put32(b + HF_H_NSECTIONS, (uint32_t)n);
  hf_put64(b + HF_H_FILE_SIZE, total);
  hf_put64(b + HF_H_VERSION, version);
  pos = hf_align8(64 + 32 * (uint64_t)n);
  for (size_t i = 0; i < n; i++) {
    unsigned char *e = b + 64 + 32 * i;
    hf_put32(e, s[i].kind);
    hf_put32(e + 4, s[i].type);
    hf_put64(e + 8, pos);
    hf_put64(e + 16, s[i].len);
    if (s[i].len > 0)
      memcpy(b + pos, s[i].p, s[i].len);
    pos = hf_align8(pos + s[i].len);
  }
  fx_reseal_all(b);
  *len = total;
  return b;
}

/* The fixture as a blob, with `extra` ancillary sections of 3 bytes. */
static unsigned char *fx_blob_extra(const fx *f, size_t extra, size_t *len) {
  fx_sec s[8] = {
      {HF_SEC_SCHEMA, HF_NO_TYPE, f->schema, f->schema_len},
      {HF_SEC_TYPES, HF_NO_TYPE, f->types, 16},
      {HF_SEC_BITMAP, 0, f->bitmap, 8},
      {HF_SEC_SLOTS, 0, f->slots, f->slots_len},
      {HF_SEC_HEAP, 0, f->heap, f->heap_len},
      {HF_SEC_PKINDEX, 0, f->pk, f->pk_len},
  };
  for (size_t i = 0; i < extra && i < 2; i++)
    s[6 + i] = (fx_sec){0x8000u + (uint32_t)i, HF_NO_TYPE, "anc", 3};
  return fx_assemble(s, 6 + (extra < 2 ? extra : 2), f->version, len);
}

static unsigned char *fx_blob(const fx *f, size_t *len) {
  return fx_blob_extra(f, 0, len);
}

/* Offset of section i's table entry and of its data. */
static size_t fx_entry(size_t i) {
  return 64 + 32 * i;
}
static size_t fx_data(const unsigned char *b, size_t i) {
  return (size_t)hf_le64(b + fx_entry(i) + 8);
}

#endif /* READER_FIXTURE_H */
