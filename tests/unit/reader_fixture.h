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

static inline void fx_put_title(fx *f, unsigned o, const char *s) {
  size_t len = strlen(s);
  memcpy(f->heap + f->heap_len, s, len);
  hf_put64(f->slots + o * FX_WIDTH + FX_OFF_TITLE,
           (uint64_t)f->heap_len | ((uint64_t)len << HF_STR_OFF_BITS));
  f->heap_len += len;
}

/* The canonical PKINDEX of §6.7 for the records in f. */
static inline void fx_build_pk(fx *f) {
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

static inline void fx_init(fx *f) {
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
static inline void fx_reseal(unsigned char *b) {
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
static inline void fx_reseal_all(unsigned char *b) {
  uint32_t n = hf_le32(b + HF_H_NSECTIONS);
  for (uint32_t i = 0; i < n; i++) {
    unsigned char *e = b + 64 + 32 * i;
    hf_put64(e + 24, hf_xxh3(b + hf_le64(e + 8), hf_le64(e + 16)));
  }
  fx_reseal(b);
}

/* Lays out header, table and sections per §4-§5; malloc'd result. */
static inline unsigned char *fx_assemble(const fx_sec *s, size_t n,
                                         uint64_t version, size_t *len) {
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
static inline unsigned char *fx_blob_extra(const fx *f, size_t extra,
                                           size_t *len) {
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

static inline unsigned char *fx_blob(const fx *f, size_t *len) {
  return fx_blob_extra(f, 0, len);
}

/* Offset of section i's table entry and of its data. */
static inline size_t fx_entry(size_t i) {
  return 64 + 32 * i;
}
static inline size_t fx_data(const unsigned char *b, size_t i) {
  return (size_t)hf_le64(b + fx_entry(i) + 8);
}

/* ---- Snapshots made by the builder, with a model to check them by ------ */

#include <stdio.h>
#include <unistd.h>

#define RT_SCHEMA                                                              \
  "Movie @PrimaryKey(id) { long id; string title; int year; double rating;\n"  \
  "  float score; boolean kids; bytes poster; ListOfGenre genres;\n"           \
  "  SetOfTag tags; MapOfRole cast; Studio studio; }\n"                        \
  "Genre { string name; }\n"                                                   \
  "ListOfGenre List<Genre>;\n"                                                 \
  "Tag @PrimaryKey(label) { string label; }\n"                                 \
  "SetOfTag Set<Tag>;\n"                                                       \
  "Person @PrimaryKey(pid) { int pid; string name; }\n"                        \
  "Role { string part; }\n"                                                    \
  "MapOfRole Map<Person, Role>;\n"                                             \
  "Country { string code; }\n"                                                 \
  "Studio @PrimaryKey(country.code, name) { Country country; string name; }\n"

enum {
  RT_ID,
  RT_TITLE,
  RT_YEAR,
  RT_RATING,
  RT_SCORE,
  RT_KIDS,
  RT_POSTER,
  RT_GENRES,
  RT_TAGS,
  RT_CAST,
  RT_STUDIO,
  RT_NFIELDS
};
enum {
  T_MOVIE,
  T_GENRE,
  T_LIST,
  T_TAG,
  T_SET,
  T_PERSON,
  T_ROLE,
  T_MAP,
  T_COUNTRY,
  T_STUDIO,
  T_N
};

#define RT_MAXG 1200
#define RT_MAXP 400

static const char *const rt_titles[] = {
    "",
    "Alien",
    "na\xc3\xafve caf\xc3\xa9",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "x",
    "The Return of the Long Title That Goes On",
    "\xf0\x9f\x8e\xac"};
static const char *const rt_genres[] = {"drama",  "",       "comedy",
                                        "horror", "sci-fi", "\xc3\xa9pique"};
static const char *const rt_countries[] = {"US", "FR", "JP"};
static const char *const rt_studios[] = {"Acme", "Pathe", "", "Toho"};

typedef struct rt_movie {
  int64_t id;
  unsigned null_mask; /* bit f: field f is null */
  int title;          /* index into rt_titles, or -1 for the long one */
  int32_t year;
  double rating;
  float score;
  int kids;
  unsigned char poster[40];
  size_t poster_len;
  unsigned ngenres;
  unsigned char genres[RT_MAXG];
  unsigned tags; /* bit mask of tags 0..9 */
  unsigned ncast;
  int32_t pids[3]; /* distinct */
  int roles[3];
  unsigned country, studio;
} rt_movie;

typedef struct rt_model {
  unsigned n;
  rt_movie *m;
  char longtitle[300];
  uint32_t types[T_N];
} rt_model;

static inline uint64_t rt_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static inline void rt_gen(rt_model *md, uint64_t seed, unsigned n) {
  uint64_t s = seed * 2654435761u + 1;
  md->n = n;
  md->m = calloc(n, sizeof *md->m);
  memset(md->longtitle, 'L', sizeof md->longtitle);
  for (unsigned i = 0; i < n; i++) {
    rt_movie *m = &md->m[i];
    m->id = (int64_t)i * 7919 - 1000;
    if (i == 1)
      m->id = INT64_MIN;
    if (i == 2)
      m->id = INT64_MAX;
    for (unsigned f = 1; f < RT_NFIELDS; f++)
      if (rt_rand(&s) % 8 == 0)
        m->null_mask |= 1u << f;
    m->title = (int)(rt_rand(&s) % 8) - 1;
    m->year = (int32_t)rt_rand(&s);
    if (i == 3)
      m->year = INT32_MIN;
    m->rating = (double)(int64_t)rt_rand(&s) / 1e9;
    if (i == 4)
      m->rating = -0.0;
    m->score = (float)(rt_rand(&s) % 1000) / 8.0f;
    m->kids = (int)(rt_rand(&s) & 1);
    m->poster_len = rt_rand(&s) % 41;
    for (size_t k = 0; k < m->poster_len; k++)
      m->poster[k] = (unsigned char)rt_rand(&s);
    m->ngenres = (unsigned)(rt_rand(&s) % 6);
    if (i == 5)
      m->ngenres = RT_MAXG; /* a large list, with repeats */
    for (unsigned k = 0; k < m->ngenres; k++)
      m->genres[k] = (unsigned char)(rt_rand(&s) % 6);
    m->tags = (unsigned)(rt_rand(&s) % 1024);
    if (i == 6)
      m->tags = 0; /* an empty set */
    m->ncast = (unsigned)(rt_rand(&s) % 4);
    for (unsigned k = 0; k < m->ncast; k++) {
      m->pids[k] = (int32_t)(rt_rand(&s) % 100) * 3 + (int32_t)k;
      m->roles[k] = (int)(rt_rand(&s) % 5);
    }
    m->country = (unsigned)(rt_rand(&s) % 3);
    m->studio = (unsigned)(rt_rand(&s) % 4);
  }
}

static inline void rt_title(const rt_model *md, const rt_movie *m,
                            const char **p, size_t *len) {
  if (m->title < 0) {
    *p = md->longtitle;
    *len = sizeof md->longtitle;
  } else {
    *p = rt_titles[m->title];
    *len = strlen(*p);
  }
}

#define RT_OK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != HF_OK)                                                          \
      return rc_;                                                              \
  } while (0)

static inline int rt_named(hf_builder *b, uint32_t type, const char *s,
                           hf_ref *out, hf_error *err) {
  RT_OK(hf_builder_begin(b, type, err));
  RT_OK(hf_builder_set_string(b, 0, s, strlen(s), err));
  return hf_builder_end(b, out, err);
}

static inline int rt_add_movie(hf_builder *b, const rt_model *md,
                               const rt_movie *m, hf_error *err) {
  const uint32_t *t = md->types;
  hf_ref ref, ref2;
  char name[32];
#define RT_SET(f) (!(m->null_mask & (1u << (f))))
  RT_OK(hf_builder_begin(b, t[T_MOVIE], err));
  RT_OK(hf_builder_set_long(b, RT_ID, m->id, err));
  if (RT_SET(RT_TITLE)) {
    const char *p;
    size_t len;
    rt_title(md, m, &p, &len);
    RT_OK(hf_builder_set_string(b, RT_TITLE, p, len, err));
  }
  if (RT_SET(RT_YEAR))
    RT_OK(hf_builder_set_int(b, RT_YEAR, m->year, err));
  if (RT_SET(RT_RATING))
    RT_OK(hf_builder_set_double(b, RT_RATING, m->rating, err));
  if (RT_SET(RT_SCORE))
    RT_OK(hf_builder_set_float(b, RT_SCORE, m->score, err));
  if (RT_SET(RT_KIDS))
    RT_OK(hf_builder_set_bool(b, RT_KIDS, m->kids, err));
  if (RT_SET(RT_POSTER))
    RT_OK(hf_builder_set_bytes(b, RT_POSTER, m->poster, m->poster_len, err));
  if (RT_SET(RT_GENRES)) {
    RT_OK(hf_builder_begin(b, t[T_LIST], err));
    for (unsigned k = 0; k < m->ngenres; k++) {
      RT_OK(rt_named(b, t[T_GENRE], rt_genres[m->genres[k]], &ref, err));
      RT_OK(hf_builder_add(b, ref, err));
    }
    RT_OK(hf_builder_end(b, &ref, err));
    RT_OK(hf_builder_set_ref(b, RT_GENRES, ref, err));
  }
  if (RT_SET(RT_TAGS)) {
    RT_OK(hf_builder_begin(b, t[T_SET], err));
    for (unsigned k = 0; k < 10; k++)
      if (m->tags & (1u << k)) {
        snprintf(name, sizeof name, "tag%u", k);
        RT_OK(rt_named(b, t[T_TAG], name, &ref, err));
        RT_OK(hf_builder_add(b, ref, err));
        RT_OK(hf_builder_add(b, ref, err)); /* sets ignore repeats */
      }
    RT_OK(hf_builder_end(b, &ref, err));
    RT_OK(hf_builder_set_ref(b, RT_TAGS, ref, err));
  }
  if (RT_SET(RT_CAST)) {
    RT_OK(hf_builder_begin(b, t[T_MAP], err));
    for (unsigned k = 0; k < m->ncast; k++) {
      RT_OK(hf_builder_begin(b, t[T_PERSON], err));
      RT_OK(hf_builder_set_int(b, 0, m->pids[k], err));
      snprintf(name, sizeof name, "P%d", (int)m->pids[k]);
      RT_OK(hf_builder_set_string(b, 1, name, strlen(name), err));
      RT_OK(hf_builder_end(b, &ref, err));
      snprintf(name, sizeof name, "role %d", m->roles[k]);
      RT_OK(rt_named(b, t[T_ROLE], name, &ref2, err));
      RT_OK(hf_builder_put(b, ref, ref2, err));
    }
    RT_OK(hf_builder_end(b, &ref, err));
    RT_OK(hf_builder_set_ref(b, RT_CAST, ref, err));
  }
  if (RT_SET(RT_STUDIO)) {
    RT_OK(hf_builder_begin(b, t[T_STUDIO], err));
    RT_OK(rt_named(b, t[T_COUNTRY], rt_countries[m->country], &ref, err));
    RT_OK(hf_builder_set_ref(b, 0, ref, err));
    RT_OK(hf_builder_set_string(b, 1, rt_studios[m->studio],
                                strlen(rt_studios[m->studio]), err));
    RT_OK(hf_builder_end(b, &ref, err));
    RT_OK(hf_builder_set_ref(b, RT_STUDIO, ref, err));
  }
#undef RT_SET
  return hf_builder_end(b, NULL, err);
}

/* Builds the model's snapshot into a malloc'd buffer. */
static inline int rt_build(rt_model *md, unsigned char **out, size_t *len,
                           hf_error *err) {
  hf_schema *s;
  hf_builder *b;
  static const char *const names[T_N] = {
      "Movie",  "Genre", "ListOfGenre", "Tag",     "SetOfTag",
      "Person", "Role",  "MapOfRole",   "Country", "Studio"};
  FILE *f;
  long sz;
  RT_OK(hf_schema_parse(RT_SCHEMA, strlen(RT_SCHEMA), &s, err));
  for (unsigned i = 0; i < T_N; i++)
    RT_OK(hf_schema_type_find(s, names[i], strlen(names[i]), &md->types[i]));
  RT_OK(hf_builder_new(s, NULL, &b, err));
  for (unsigned i = 0; i < md->n; i++)
    RT_OK(rt_add_movie(b, md, &md->m[i], err));
  f = tmpfile();
  RT_OK(hf_builder_write_fd(b, fileno(f), NULL, err));
  hf_builder_free(b);
  hf_schema_free(s);
  sz = lseek(fileno(f), 0, SEEK_END);
  *out = malloc((size_t)sz);
  *len = (size_t)pread(fileno(f), *out, (size_t)sz, 0);
  fclose(f);
  return *len == (size_t)sz ? HF_OK : HF_E_IO;
}

#endif /* READER_FIXTURE_H */
