/* test_delta_props.c - the core delta property (FORMAT.md §8) over many
 * generated version chains: apply(S1, delta(S1, S2)) == S2 byte for byte,
 * apply(S2, reverse) == S1, a whole chain in one call, with and without
 * LZ4; unchanged cycles give empty deltas.  The generator makes random
 * adds, updates, deletes, unchanged cycles, changes inside nested lists,
 * sets, maps and referenced records, and frees and reuses ordinals. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_delta_internal.h"

static const char *SCHEMA =
    "Movie @PrimaryKey(id) {\n"
    "  long id;\n"
    "  string title;\n"
    "  int year;\n"
    "  double rating;\n"
    "  boolean kids;\n"
    "  bytes blob;\n"
    "  Genre genre;\n"
    "  ListOfGenre tags;\n"
    "  SetOfPerson cast;\n"
    "  MapOfStrToNum attrs;\n"
    "}\n"
    "Genre { string name; }\n"
    "ListOfGenre List<Genre>;\n"
    "Person @PrimaryKey(pid) { long pid; string name; }\n"
    "SetOfPerson Set<Person>;\n"
    "Str { string value; }\n"
    "Num { int v; }\n"
    "MapOfStrToNum Map<Str, Num>;\n"
    "Award @PrimaryKey(movie.id, name) { Movie movie; string name; }\n";
enum {
  T_MOVIE,
  T_GENRE,
  T_LIST,
  T_PERSON,
  T_SET,
  T_STR,
  T_NUM,
  T_MAP,
  T_AWARD
};

#define MAXM 400
#define MAXL 6

typedef struct movie {
  long long id;
  char title[32];
  int year, kids, has_rating, has_blob, genre; /* genre -1 = null */
  double rating;
  int ntags, tags[MAXL];
  int ncast, cast[MAXL]; /* person ids */
  int nattr, akey[MAXL], aval[MAXL];
  int award; /* has an Award record */
} movie;

typedef struct model {
  movie m[MAXM];
  int n;
  long long next_id;
  int pname_gen; /* changes every Person's name when bumped */
  uint64_t rng;
} model;

static uint32_t rnd(model *M) {
  M->rng ^= M->rng << 13;
  M->rng ^= M->rng >> 7;
  M->rng ^= M->rng << 17;
  return (uint32_t)(M->rng >> 16);
}

static void fill_movie(model *M, movie *m) {
  int i;
  snprintf(m->title, sizeof m->title, "t%u%s", rnd(M) % 1000,
           rnd(M) % 5 == 0 ? "\xc3\xa9" : "");
  m->year = 1950 + (int)(rnd(M) % 70);
  m->kids = (int)(rnd(M) % 2);
  m->has_rating = rnd(M) % 4 != 0;
  m->rating = (double)(rnd(M) % 100) / 10.0;
  m->has_blob = rnd(M) % 3 == 0;
  m->genre = rnd(M) % 5 == 0 ? -1 : (int)(rnd(M) % 8);
  m->ntags = (int)(rnd(M) % MAXL);
  for (i = 0; i < m->ntags; i++)
    m->tags[i] = (int)(rnd(M) % 8);
  m->ncast = (int)(rnd(M) % MAXL);
  for (i = 0; i < m->ncast; i++)
    m->cast[i] = (int)(rnd(M) % 30);
  m->nattr = (int)(rnd(M) % 4);
  for (i = 0; i < m->nattr; i++) {
    m->akey[i] = i * 3 + (int)(rnd(M) % 3); /* distinct keys */
    m->aval[i] = (int)(rnd(M) % 5);
  }
  m->award = rnd(M) % 4 == 0;
}

static void add_movie(model *M) {
  movie *m;
  if (M->n >= MAXM)
    return;
  m = &M->m[M->n++];
  memset(m, 0, sizeof *m);
  /* Sometimes bring back an old id (its ordinal was freed). */
  m->id = M->next_id > 5 && rnd(M) % 4 == 0 ? (long long)(rnd(M) % M->next_id)
                                            : M->next_id++;
  for (int i = 0; i < M->n - 1; i++)
    if (M->m[i].id == m->id) {
      m->id = M->next_id++;
      break;
    }
  fill_movie(M, m);
}

/* One cycle of changes; mode 0 leaves everything as it is. */
static void mutate(model *M, int mode) {
  int i, n;
  if (mode == 0)
    return;
  n = M->n / 10 + 1;
  for (i = 0; i < n && M->n > 0; i++) { /* updates */
    movie *m = &M->m[rnd(M) % (uint32_t)M->n];
    switch (rnd(M) % 6) {
    case 0:
      snprintf(m->title, sizeof m->title, "u%u", rnd(M) % 100);
      break;
    case 1:
      m->has_rating = !m->has_rating;
      break;
    case 2:
      m->genre = (int)(rnd(M) % 9) - 1;
      break;
    case 3:
      if (m->ntags > 0)
        m->tags[rnd(M) % (uint32_t)m->ntags] = (int)(rnd(M) % 8);
      else
        m->tags[m->ntags++] = 1;
      break;
    case 4:
      m->ncast = (int)(rnd(M) % MAXL);
      for (int k = 0; k < m->ncast; k++)
        m->cast[k] = (int)(rnd(M) % 30);
      break;
    default:
      if (m->nattr > 0)
        m->aval[0] = (int)(rnd(M) % 5);
      m->award = !m->award;
      break;
    }
  }
  if (rnd(M) % 4 == 0)
    M->pname_gen++; /* keyed Person records change in place */
  n = (int)(rnd(M) % (uint32_t)(M->n / 8 + 2));
  for (i = 0; i < n && M->n > 1; i++) { /* deletes */
    int k = (int)(rnd(M) % (uint32_t)M->n);
    M->m[k] = M->m[--M->n];
  }
  n = (int)(rnd(M) % (uint32_t)(M->n / 8 + 3));
  for (i = 0; i < n; i++)
    add_movie(M);
  if (rnd(M) % 3 == 0) /* input order changes too */
    for (i = M->n - 1; i > 0; i--) {
      int k = (int)(rnd(M) % (uint32_t)(i + 1));
      movie t = M->m[i];
      M->m[i] = M->m[k];
      M->m[k] = t;
    }
}

#define OK(x)                                                                  \
  do {                                                                         \
    int rc_ = (x);                                                             \
    cr_assert_eq(rc_, HF_OK, "%s: %d %s", #x, rc_, err.msg);                   \
  } while (0)

static hf_ref leaf_str(hf_builder *b, uint32_t type, const char *s) {
  hf_error err;
  hf_ref r;
  OK(hf_builder_begin(b, type, &err));
  OK(hf_builder_set_string(b, 0, s, strlen(s), &err));
  OK(hf_builder_end(b, &r, &err));
  return r;
}

static hf_ref genre(hf_builder *b, int g) {
  char name[16];
  snprintf(name, sizeof name, "g%d", g);
  return leaf_str(b, T_GENRE, name);
}

static hf_ref emit_movie(hf_builder *b, const model *M, const movie *m) {
  hf_error err;
  hf_ref r, x;
  int i;
  OK(hf_builder_begin(b, T_MOVIE, &err));
  OK(hf_builder_set_long(b, 0, m->id, &err));
  OK(hf_builder_set_string(b, 1, m->title, strlen(m->title), &err));
  OK(hf_builder_set_int(b, 2, m->year, &err));
  if (m->has_rating)
    OK(hf_builder_set_double(b, 3, m->rating, &err));
  OK(hf_builder_set_bool(b, 4, m->kids, &err));
  if (m->has_blob)
    OK(hf_builder_set_bytes(b, 5, "\0\1\2", 3, &err));
  if (m->genre >= 0)
    OK(hf_builder_set_ref(b, 6, genre(b, m->genre), &err));
  OK(hf_builder_begin(b, T_LIST, &err));
  for (i = 0; i < m->ntags; i++)
    OK(hf_builder_add(b, genre(b, m->tags[i]), &err));
  OK(hf_builder_end(b, &x, &err));
  OK(hf_builder_set_ref(b, 7, x, &err));
  if (m->ncast > 0) {
    OK(hf_builder_begin(b, T_SET, &err));
    for (i = 0; i < m->ncast; i++) {
      char name[32];
      hf_ref p;
      snprintf(name, sizeof name, "p%d-%d", m->cast[i], M->pname_gen);
      OK(hf_builder_begin(b, T_PERSON, &err));
      OK(hf_builder_set_long(b, 0, m->cast[i], &err));
      OK(hf_builder_set_string(b, 1, name, strlen(name), &err));
      OK(hf_builder_end(b, &p, &err));
      OK(hf_builder_add(b, p, &err));
    }
    OK(hf_builder_end(b, &x, &err));
    OK(hf_builder_set_ref(b, 8, x, &err));
  }
  OK(hf_builder_begin(b, T_MAP, &err));
  for (i = 0; i < m->nattr; i++) {
    char k[16];
    hf_ref kr, vr;
    snprintf(k, sizeof k, "k%d", m->akey[i]);
    kr = leaf_str(b, T_STR, k);
    OK(hf_builder_begin(b, T_NUM, &err));
    OK(hf_builder_set_int(b, 0, m->aval[i], &err));
    OK(hf_builder_end(b, &vr, &err));
    OK(hf_builder_put(b, kr, vr, &err));
  }
  OK(hf_builder_end(b, &x, &err));
  OK(hf_builder_set_ref(b, 9, x, &err));
  OK(hf_builder_end(b, &r, &err));
  return r;
}

typedef struct snap {
  unsigned char *p;
  size_t len;
  hf_reader *r;
} snap;

static void open_snap(snap *s) {
  hf_error err;
  OK(hf_reader_open_mem(s->p, s->len, NULL, &s->r, &err));
  OK(hf_reader_verify(s->r, &err));
}

static void build(const hf_schema *sc, const model *M, const hf_reader *base,
                  snap *out) {
  hf_build_opts o = {.base = base};
  hf_builder *b;
  hf_error err;
  FILE *f = tmpfile();
  int i;
  OK(hf_builder_new(sc, &o, &b, &err));
  for (i = 0; i < M->n; i++) {
    const movie *m = &M->m[i];
    hf_ref r = emit_movie(b, M, m);
    (void)r;
    if (m->award) {
      OK(hf_builder_begin(b, T_AWARD, &err));
      OK(hf_builder_set_ref(b, 0, emit_movie(b, M, m), &err));
      OK(hf_builder_set_string(b, 1, "best", 4, &err));
      OK(hf_builder_end(b, NULL, &err));
    }
  }
  OK(hf_builder_write_fd(b, fileno(f), NULL, &err));
  hf_builder_free(b);
  fseek(f, 0, SEEK_END);
  out->len = (size_t)ftell(f);
  rewind(f);
  out->p = malloc(out->len);
  cr_assert_eq(fread(out->p, 1, out->len, f), out->len);
  fclose(f);
  open_snap(out);
}

static void snap_free(snap *s) {
  hf_reader_close(s->r);
  free(s->p);
}

static void delta(const snap *a, const snap *b, uint32_t flags, snap *out) {
  hf_error err;
  void *p;
  OK(hf_delta_mem(a->r, b->r, flags, &p, &out->len, &err));
  out->p = p;
  open_snap(out); /* open + verify of a delta: §8.5 */
}

static void expect_apply(const snap *base, const snap *const *ds, size_t n,
                         const snap *want) {
  const hf_reader *rs[16];
  hf_error err;
  void *p;
  size_t len, i;
  for (i = 0; i < n; i++)
    rs[i] = ds[i]->r;
  OK(hf_apply_mem(base->r, rs, n, &p, &len, &err));
  cr_assert_eq(len, want->len, "length %zu, want %zu", len, want->len);
  cr_assert(memcmp(p, want->p, len) == 0, "result differs from the target");
  free(p);
}

/* Whether every REMOVED and ADDED section of a delta is empty. */
static int delta_empty(const snap *d) {
  hf_section_info si;
  hf_info info;
  uint32_t i;
  hf_reader_info(d->r, &info);
  for (i = 0; i < info.section_count; i++) {
    cr_assert_eq(hf_reader_section(d->r, i, &si), HF_OK);
    if ((si.kind & ~(uint32_t)HF_SEC_LZ4) >= HF_SEC_REMOVED && si.length != 0)
      return 0;
  }
  return 1;
}

#define NV 6

static void run_chain(uint64_t seed, uint32_t flags) {
  hf_schema *sc;
  hf_error err;
  model *M = calloc(1, sizeof *M);
  snap s[NV], d[NV], rv[NV];
  const snap *chain[NV];
  int modes[NV], i;
  OK(hf_schema_parse(SCHEMA, strlen(SCHEMA), &sc, &err));
  M->rng = seed * 0x9E3779B97F4A7C15ull + 1;
  for (i = 0; i < 20 + (int)(seed % 40); i++)
    add_movie(M);
  build(sc, M, NULL, &s[0]);
  for (i = 1; i < NV; i++) {
    modes[i] = (int)(rnd(M) % 4);
    mutate(M, modes[i]);
    build(sc, M, s[i - 1].r, &s[i]);
  }
  for (i = 1; i < NV; i++) {
    delta(&s[i - 1], &s[i], flags, &d[i]);
    delta(&s[i], &s[i - 1], flags | HF_DELTA_REVERSE, &rv[i]);
    {
      hf_info info;
      hf_reader_info(rv[i].r, &info);
      cr_assert_eq(info.kind, HF_BLOB_REVERSE_DELTA);
    }
    {
      const snap *one[1] = {&d[i]};
      const snap *back[1] = {&rv[i]};
      expect_apply(&s[i - 1], one, 1, &s[i]);
      expect_apply(&s[i], back, 1, &s[i - 1]);
    }
    if (modes[i] == 0)
      cr_assert(delta_empty(&d[i]) && delta_empty(&rv[i]),
                "seed %llu: unchanged cycle %d gave a non-empty delta",
                (unsigned long long)seed, i);
  }
  for (i = 1; i < NV; i++)
    chain[i - 1] = &d[i];
  expect_apply(&s[0], chain, NV - 1, &s[NV - 1]);
  for (i = 1; i < NV; i++)
    chain[i - 1] = &rv[NV - i];
  expect_apply(&s[NV - 1], chain, NV - 1, &s[0]);
  for (i = 0; i < NV; i++)
    snap_free(&s[i]);
  for (i = 1; i < NV; i++) {
    snap_free(&d[i]);
    snap_free(&rv[i]);
  }
  hf_schema_free(sc);
  free(M);
}

Test(delta_props, apply_reproduces_target_and_reverse_restores_base) {
  uint64_t seed;
  for (seed = 1; seed <= 40; seed++)
    run_chain(seed, 0);
}

Test(delta_props, same_with_lz4) {
  uint64_t seed;
  for (seed = 101; seed <= 130; seed++)
    run_chain(seed, HF_DELTA_LZ4);
}

Test(delta_props, unchanged_cycle_gives_empty_delta) {
  hf_schema *sc;
  hf_error err;
  model *M = calloc(1, sizeof *M);
  snap a, b, d;
  const snap *one[1] = {&d};
  OK(hf_schema_parse(SCHEMA, strlen(SCHEMA), &sc, &err));
  M->rng = 77;
  for (int i = 0; i < 50; i++)
    add_movie(M);
  build(sc, M, NULL, &a);
  build(sc, M, a.r, &b);
  delta(&a, &b, 0, &d);
  cr_assert(delta_empty(&d));
  expect_apply(&a, one, 1, &b);
  snap_free(&a);
  snap_free(&b);
  snap_free(&d);
  hf_schema_free(sc);
  free(M);
}
