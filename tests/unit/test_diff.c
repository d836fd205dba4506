/* test_diff.c - hf_diff against a model: a seeded generator makes a version
 * of a catalogue, edits it (field changes in records, references, lists,
 * sets and maps; deletions; additions) and records every change it made as
 * the event the diff must report.  The diff must report exactly those, with
 * the same paths and old and new values, whether the second snapshot was
 * built on the first (ordinals carried over) or independently, in any input
 * order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_gen.h"
#include "hf_internal.h"

static const char SCHEMA[] =
    "Movie @PrimaryKey(id) {\n"
    "  long id; string title; int year; double rating; boolean kids;\n"
    "  Studio studio; ListOfCast cast; SetOfTag tags; MapOfScore ratings;\n"
    "}\n"
    "Studio { string name; int founded; }\n"
    "Cast { long personId; string name; }\n"
    "ListOfCast List<Cast>;\n"
    "Tag { string value; }\n"
    "SetOfTag Set<Tag>;\n"
    "Country { string code; }\n"
    "Score { int value; }\n"
    "MapOfScore Map<Country, Score>;\n";

/* ---- the model ------------------------------------------------------------
 */

#define MAXC 8
#define NTAGPOOL 10
#define NCODEPOOL 8

typedef struct mcast {
  long long pid;
  char name[16];
} mcast;

typedef struct movie {
  long long id;
  char title[24];
  int year;
  double rating;
  int kids; /* 0, 1, or -1 = null */
  int has_studio;
  char sname[16];
  int sfounded;
  int ncast;
  mcast cast[MAXC];
  unsigned tags;  /* bit i: tag "g<i>" */
  unsigned codes; /* bit i: country code pool[i] */
  int score[NCODEPOOL];
} movie;

static const char *const code_pool[NCODEPOOL] = {"US", "FR", "DE", "JP",
                                                 "BR", "IN", "NZ", "ZA"};

typedef struct rng {
  uint64_t s;
} rng;

static unsigned below(rng *g, unsigned n) {
  uint64_t x = (g->s += UINT64_C(0x9e3779b97f4a7c15));
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return (unsigned)((x ^ (x >> 31)) % n);
}

static void gen_cast(rng *g, mcast *c) {
  c->pid = 100 + below(g, 40);
  snprintf(c->name, sizeof c->name, "n%u", below(g, 30));
}

static void gen_movie(rng *g, movie *m, long long id) {
  int i;
  memset(m, 0, sizeof *m);
  m->id = id;
  snprintf(m->title, sizeof m->title, "t%u", below(g, 100000));
  m->year = 1900 + (int)below(g, 120);
  m->rating = below(g, 40) / 4.0;
  m->kids = (int)below(g, 3) - 1;
  m->has_studio = below(g, 5) != 0;
  snprintf(m->sname, sizeof m->sname, "S%u", below(g, 5));
  m->sfounded = 1950 + (int)below(g, 3);
  m->ncast = (int)below(g, 5);
  for (i = 0; i < m->ncast; i++)
    gen_cast(g, &m->cast[i]);
  m->tags = below(g, 1u << NTAGPOOL) & below(g, 1u << NTAGPOOL);
  m->codes = below(g, 1u << NCODEPOOL) & below(g, 1u << NCODEPOOL);
  for (i = 0; i < NCODEPOOL; i++)
    m->score[i] = 1 + (int)below(g, 9);
}

/* ---- building -------------------------------------------------------------
 */

typedef struct ids {
  uint32_t movie, studio, cast, lcast, tag, stag, country, score, mscore;
  uint32_t f_id, f_title, f_year, f_rating, f_kids, f_studio, f_cast, f_tags,
      f_ratings;
} ids;

static uint32_t T(const hf_schema *s, const char *n) {
  uint32_t t = HF_NO_TYPE;
  cr_assert_eq(hf_schema_type_find(s, n, strlen(n), &t), HF_OK, "%s", n);
  return t;
}

static uint32_t F(const hf_schema *s, uint32_t t, const char *n) {
  uint32_t f = 0;
  cr_assert_eq(hf_schema_field_find(s, t, n, strlen(n), &f), HF_OK, "%s", n);
  return f;
}

static ids find_ids(const hf_schema *s) {
  ids x;
  x.movie = T(s, "Movie");
  x.studio = T(s, "Studio");
  x.cast = T(s, "Cast");
  x.lcast = T(s, "ListOfCast");
  x.tag = T(s, "Tag");
  x.stag = T(s, "SetOfTag");
  x.country = T(s, "Country");
  x.score = T(s, "Score");
  x.mscore = T(s, "MapOfScore");
  x.f_id = F(s, x.movie, "id");
  x.f_title = F(s, x.movie, "title");
  x.f_year = F(s, x.movie, "year");
  x.f_rating = F(s, x.movie, "rating");
  x.f_kids = F(s, x.movie, "kids");
  x.f_studio = F(s, x.movie, "studio");
  x.f_cast = F(s, x.movie, "cast");
  x.f_tags = F(s, x.movie, "tags");
  x.f_ratings = F(s, x.movie, "ratings");
  return x;
}

#define OK(call)                                                               \
  do {                                                                         \
    int rc_ = (call);                                                          \
    cr_assert_eq(rc_, HF_OK, "%s: %d %s", #call, rc_, err.msg);                \
  } while (0)

static void add_movie(hf_builder *b, const ids *x, const movie *m) {
  hf_error err;
  hf_ref r, k, v;
  char txt[8];
  int i;
  memset(&err, 0, sizeof err);
  OK(hf_builder_begin(b, x->movie, &err));
  OK(hf_builder_set_long(b, x->f_id, m->id, &err));
  OK(hf_builder_set_string(b, x->f_title, m->title, strlen(m->title), &err));
  OK(hf_builder_set_int(b, x->f_year, m->year, &err));
  OK(hf_builder_set_double(b, x->f_rating, m->rating, &err));
  if (m->kids >= 0)
    OK(hf_builder_set_bool(b, x->f_kids, m->kids, &err));
  if (m->has_studio) {
    OK(hf_builder_begin(b, x->studio, &err));
    OK(hf_builder_set_string(b, 0, m->sname, strlen(m->sname), &err));
    OK(hf_builder_set_int(b, 1, m->sfounded, &err));
    OK(hf_builder_end(b, &r, &err));
    OK(hf_builder_set_ref(b, x->f_studio, r, &err));
  }
  OK(hf_builder_begin(b, x->lcast, &err));
  for (i = 0; i < m->ncast; i++) {
    OK(hf_builder_begin(b, x->cast, &err));
    OK(hf_builder_set_long(b, 0, m->cast[i].pid, &err));
    OK(hf_builder_set_string(b, 1, m->cast[i].name, strlen(m->cast[i].name),
                             &err));
    OK(hf_builder_end(b, &r, &err));
    OK(hf_builder_add(b, r, &err));
  }
  OK(hf_builder_end(b, &r, &err));
  OK(hf_builder_set_ref(b, x->f_cast, r, &err));
  OK(hf_builder_begin(b, x->stag, &err));
  for (i = 0; i < NTAGPOOL; i++)
    if (m->tags & (1u << i)) {
      snprintf(txt, sizeof txt, "g%d", i);
      OK(hf_builder_begin(b, x->tag, &err));
      OK(hf_builder_set_string(b, 0, txt, strlen(txt), &err));
      OK(hf_builder_end(b, &r, &err));
      OK(hf_builder_add(b, r, &err));
    }
  OK(hf_builder_end(b, &r, &err));
  OK(hf_builder_set_ref(b, x->f_tags, r, &err));
  OK(hf_builder_begin(b, x->mscore, &err));
  for (i = 0; i < NCODEPOOL; i++)
    if (m->codes & (1u << i)) {
      OK(hf_builder_begin(b, x->country, &err));
      OK(hf_builder_set_string(b, 0, code_pool[i], 2, &err));
      OK(hf_builder_end(b, &k, &err));
      OK(hf_builder_begin(b, x->score, &err));
      OK(hf_builder_set_int(b, 0, m->score[i], &err));
      OK(hf_builder_end(b, &v, &err));
      OK(hf_builder_put(b, k, v, &err));
    }
  OK(hf_builder_end(b, &r, &err));
  OK(hf_builder_set_ref(b, x->f_ratings, r, &err));
  OK(hf_builder_end(b, NULL, &err));
}

typedef struct snap {
  unsigned char *p;
  size_t len;
  hf_reader *r;
} snap;

/* Builds the movies in the order given by perm (NULL: as they are). */
static void build(const hf_schema *s, const movie *ms, size_t n,
                  const size_t *perm, const hf_reader *base, snap *out) {
  hf_build_opts opts;
  hf_builder *b = NULL;
  hf_error err;
  const ids x = find_ids(s);
  size_t i;
  memset(&opts, 0, sizeof opts);
  opts.base = base;
  OK(hf_builder_new(s, &opts, &b, &err));
  for (i = 0; i < n; i++)
    add_movie(b, &x, &ms[perm != NULL ? perm[i] : i]);
  OK(hf_gen_snapshot(b, &out->p, &out->len, &err));
  hf_builder_free(b);
  OK(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err));
}

static void drop(snap *s) {
  hf_reader_close(s->r);
  free(s->p);
}

/* ---- events as text --------------------------------------------------------
 * "+ 17", "- 17", "~ 17" for records; "17 path: OLD -> NEW" for fields, with
 * values as JSON, "_" for none and "#n" for a list length. */

typedef struct evlist {
  char **v;
  size_t n, cap;
} evlist;

static void ev_add(evlist *l, const char *s) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    cr_assert_not_null(l->v);
  }
  l->v[l->n++] = strdup(s);
}

static void ev_free(evlist *l) {
  size_t i;
  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct sbuf {
  char b[8192];
  size_t n;
} sbuf;

static int sb_sink(void *ctx, const void *p, size_t len) {
  sbuf *s = ctx;
  cr_assert_lt(s->n + len, sizeof s->b);
  memcpy(s->b + s->n, p, len);
  s->n += len;
  s->b[s->n] = '\0';
  return 0;
}

static void sb_value(sbuf *s, const hf_diff_value *v) {
  char txt[32];
  hf_error err;
  if (v->kind == HF_DV_NONE) {
    sb_sink(s, "_", 1);
  } else if (v->kind == HF_DV_LENGTH) {
    snprintf(txt, sizeof txt, "#%llu", (unsigned long long)v->length);
    sb_sink(s, txt, strlen(txt));
  } else {
    OK(hf_diff_write_value(v, sb_sink, s, &err));
  }
}

typedef struct collect {
  evlist ev;
  uint64_t fields;
} collect;

static int on_event(void *ctx, const hf_diff_change *c) {
  collect *k = ctx;
  sbuf s;
  char txt[64];
  long long id;
  s.n = 0;
  s.b[0] = '\0';
  id = c->key_count == 1 && c->key[0].type == HF_FT_LONG
           ? (long long)c->key[0].u.l
           : -1;
  if (c->op != HF_DIFF_FIELD) {
    snprintf(txt, sizeof txt, "%c %lld",
             c->op == HF_DIFF_ADD      ? '+'
             : c->op == HF_DIFF_REMOVE ? '-'
                                       : '~',
             id);
    cr_assert_eq(c->path_len, 0);
    ev_add(&k->ev, txt);
    return 0;
  }
  k->fields++;
  cr_assert_eq(strlen(c->path), c->path_len);
  snprintf(txt, sizeof txt, "%lld ", id);
  sb_sink(&s, txt, strlen(txt));
  sb_sink(&s, c->path, c->path_len);
  sb_sink(&s, ": ", 2);
  sb_value(&s, &c->old_value);
  sb_sink(&s, " -> ", 4);
  sb_value(&s, &c->new_value);
  ev_add(&k->ev, s.b);
  return 0;
}

/* ---- expected events from the edits ---------------------------------------
 */

static void exp_field(evlist *l, long long id, const char *path, const char *o,
                      const char *n) {
  char line[512];
  snprintf(line, sizeof line, "%lld %s: %s -> %s", id, path, o, n);
  ev_add(l, line);
}

static void studio_json(const movie *m, char *buf, size_t cap) {
  if (!m->has_studio)
    snprintf(buf, cap, "null");
  else
    snprintf(buf, cap, "{\"name\":\"%s\",\"founded\":%d}", m->sname,
             m->sfounded);
}

static void cast_json(const mcast *c, char *buf, size_t cap) {
  snprintf(buf, cap, "{\"personId\":%lld,\"name\":\"%s\"}", c->pid, c->name);
}

static const char *kids_json(int k) {
  return k < 0 ? "null" : k ? "true" : "false";
}

/* Applies 1 to 7 kinds of random edits to m, each on a different path, and
 * lists the field events they must produce. */
static void edit(rng *g, movie *m, evlist *want) {
  char o[128], n[128], path[64];
  const unsigned mask = 1u + below(g, 127);
  const long long id = m->id;
  if (mask & 1u) {
    snprintf(o, sizeof o, "\"%s\"", m->title);
    strcat(m->title, "x");
    snprintf(n, sizeof n, "\"%s\"", m->title);
    exp_field(want, id, "title", o, n);
  }
  if (mask & 2u) {
    snprintf(o, sizeof o, "%d", m->year);
    m->year += 1 + (int)below(g, 5);
    snprintf(n, sizeof n, "%d", m->year);
    exp_field(want, id, "year", o, n);
    snprintf(o, sizeof o, "%.15g", m->rating);
    m->rating += 0.25;
    snprintf(n, sizeof n, "%.15g", m->rating);
    exp_field(want, id, "rating", o, n);
  }
  if (mask & 4u) {
    const int k = (m->kids + 2 + (int)below(g, 2)) % 3 - 1; /* another one */
    exp_field(want, id, "kids", kids_json(m->kids), kids_json(k));
    m->kids = k;
  }
  if (mask & 8u) { /* the referenced record */
    if (!m->has_studio || below(g, 3) == 0) {
      studio_json(m, o, sizeof o);
      m->has_studio = !m->has_studio;
      studio_json(m, n, sizeof n);
      exp_field(want, id, "studio", o, n);
    } else if (below(g, 2)) {
      snprintf(o, sizeof o, "\"%s\"", m->sname);
      strcat(m->sname, "y");
      snprintf(n, sizeof n, "\"%s\"", m->sname);
      exp_field(want, id, "studio.name", o, n);
    } else {
      snprintf(o, sizeof o, "%d", m->sfounded);
      m->sfounded += 7;
      snprintf(n, sizeof n, "%d", m->sfounded);
      exp_field(want, id, "studio.founded", o, n);
    }
  }
  if (mask & 16u) { /* the list: an element's field, or its length */
    const unsigned what = m->ncast == 0 ? 0 : below(g, 3);
    if (what == 0 && m->ncast < MAXC) {
      mcast c;
      gen_cast(g, &c);
      m->cast[m->ncast] = c;
      snprintf(o, sizeof o, "#%d", m->ncast);
      snprintf(n, sizeof n, "#%d", m->ncast + 1);
      exp_field(want, id, "cast", o, n);
      snprintf(path, sizeof path, "cast[%d]", m->ncast);
      cast_json(&c, n, sizeof n);
      exp_field(want, id, path, "_", n);
      m->ncast++;
    } else if (what == 1 || m->ncast == MAXC) {
      m->ncast--;
      snprintf(o, sizeof o, "#%d", m->ncast + 1);
      snprintf(n, sizeof n, "#%d", m->ncast);
      exp_field(want, id, "cast", o, n);
      snprintf(path, sizeof path, "cast[%d]", m->ncast);
      cast_json(&m->cast[m->ncast], o, sizeof o);
      exp_field(want, id, path, o, "_");
    } else {
      mcast *c = &m->cast[below(g, (unsigned)m->ncast)];
      snprintf(path, sizeof path, "cast[%d].name", (int)(c - m->cast));
      snprintf(o, sizeof o, "\"%s\"", c->name);
      strcat(c->name, "z");
      snprintf(n, sizeof n, "\"%s\"", c->name);
      exp_field(want, id, path, o, n);
    }
  }
  if (mask & 32u) { /* the set: one member added and/or one removed */
    const unsigned add = below(g, NTAGPOOL), del = below(g, NTAGPOOL);
    if (!(m->tags & (1u << add))) {
      m->tags |= 1u << add;
      snprintf(n, sizeof n, "\"g%u\"", add);
      exp_field(want, id, "tags", "_", n);
    } else {
      m->tags &= ~(1u << add);
      snprintf(o, sizeof o, "\"g%u\"", add);
      exp_field(want, id, "tags", o, "_");
    }
    if (del != add && (m->tags & (1u << del))) {
      m->tags &= ~(1u << del);
      snprintf(o, sizeof o, "\"g%u\"", del);
      exp_field(want, id, "tags", o, "_");
    }
  }
  if (mask & 64u) { /* the map: an entry changed, added or removed */
    const unsigned c = below(g, NCODEPOOL);
    snprintf(path, sizeof path, "ratings{\"%s\"}", code_pool[c]);
    if (!(m->codes & (1u << c))) {
      m->codes |= 1u << c;
      snprintf(n, sizeof n, "%d", m->score[c]);
      exp_field(want, id, path, "_", n);
    } else if (below(g, 2)) {
      m->codes &= ~(1u << c);
      snprintf(o, sizeof o, "%d", m->score[c]);
      exp_field(want, id, path, o, "_");
    } else {
      snprintf(o, sizeof o, "%d", m->score[c]);
      m->score[c] = m->score[c] % 9 + 1; /* 1..9, never the same */
      snprintf(n, sizeof n, "%d", m->score[c]);
      exp_field(want, id, path, o, n);
    }
  }
}

/* ---- the property ---------------------------------------------------------
 */

static void expect_same(evlist *got, evlist *want, const char *what) {
  size_t i;
  qsort(got->v, got->n, sizeof *got->v, cmp_str);
  qsort(want->v, want->n, sizeof *want->v, cmp_str);
  for (i = 0; i < got->n && i < want->n; i++)
    cr_assert_str_eq(got->v[i], want->v[i], "%s: event %zu: got [%s] want [%s]",
                     what, i, got->v[i], want->v[i]);
  cr_assert_eq(got->n, want->n, "%s: %zu events, expected %zu (next: %s)", what,
               got->n, want->n,
               got->n > want->n ? got->v[want->n] : want->v[got->n]);
}

static void run_diff(const hf_reader *a, const hf_reader *b, uint32_t type,
                     uint32_t flags, collect *k, hf_diff_counts *n) {
  hf_error err;
  memset(k, 0, sizeof *k);
  OK(hf_diff(a, b, type, flags, on_event, k, n, &err));
}

static void one_seed(uint64_t seed, size_t nmovies) {
  hf_schema *s = NULL;
  hf_error err;
  rng g = {seed};
  movie *v1 = calloc(nmovies, sizeof *v1);
  movie *v2 = calloc(nmovies * 2, sizeof *v2);
  size_t *perm = calloc(nmovies * 2, sizeof *perm);
  size_t i, n2 = 0;
  long long next_id = 1;
  evlist want = {0};
  uint64_t adds = 0, dels = 0, changes = 0;
  snap a, b_base, b_ind, b_perm;
  ids x;
  int variant;

  OK(hf_schema_parse(SCHEMA, strlen(SCHEMA), &s, &err));
  x = find_ids(s);
  for (i = 0; i < nmovies; i++) {
    next_id += 1 + below(&g, 3);
    gen_movie(&g, &v1[i], next_id);
  }
  for (i = 0; i < nmovies; i++) {
    const unsigned roll = below(&g, 100);
    char line[48];
    if (roll < 8) { /* deleted */
      snprintf(line, sizeof line, "- %lld", v1[i].id);
      ev_add(&want, line);
      dels++;
      continue;
    }
    v2[n2] = v1[i];
    if (roll < 30) {
      snprintf(line, sizeof line, "~ %lld", v1[i].id);
      ev_add(&want, line);
      edit(&g, &v2[n2], &want);
      changes++;
    }
    n2++;
  }
  for (i = 0; i < nmovies / 10 + 1; i++) { /* added */
    char line[48];
    next_id += 1 + below(&g, 3);
    gen_movie(&g, &v2[n2], next_id);
    snprintf(line, sizeof line, "+ %lld", next_id);
    ev_add(&want, line);
    n2++;
    adds++;
  }
  for (i = 0; i < n2; i++) /* a shuffled input order */
    perm[i] = i;
  for (i = n2; i > 1; i--) {
    const size_t j = below(&g, (unsigned)i), t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }

  build(s, v1, nmovies, NULL, NULL, &a);
  build(s, v2, n2, NULL, a.r, &b_base);
  build(s, v2, n2, NULL, NULL, &b_ind);
  build(s, v2, n2, perm, NULL, &b_perm);

  for (variant = 0; variant < 3; variant++) {
    const hf_reader *b = variant == 0   ? b_base.r
                         : variant == 1 ? b_ind.r
                                        : b_perm.r;
    const char *what = variant == 0   ? "built on A"
                       : variant == 1 ? "built alone"
                                      : "built alone, shuffled";
    collect k;
    hf_diff_counts n;
    evlist copy = {0};
    run_diff(a.r, b, x.movie, 0, &k, &n);
    for (i = 0; i < want.n; i++)
      ev_add(&copy, want.v[i]);
    expect_same(&k.ev, &copy, what);
    cr_assert_eq(n.added, adds, "%s", what);
    cr_assert_eq(n.removed, dels, "%s", what);
    cr_assert_eq(n.changed, changes, "%s", what);
    ev_free(&copy);
    ev_free(&k.ev);
    /* records only: same counts, no field events */
    run_diff(a.r, b, x.movie, HF_DIFF_RECORDS_ONLY, &k, &n);
    cr_assert_eq(k.fields, 0);
    cr_assert_eq(k.ev.n, adds + dels + changes);
    cr_assert_eq(n.changed, changes);
    ev_free(&k.ev);
    /* backwards: additions and removals swap */
    run_diff(b, a.r, x.movie, HF_DIFF_RECORDS_ONLY, &k, &n);
    cr_assert_eq(n.added, dels);
    cr_assert_eq(n.removed, adds);
    cr_assert_eq(n.changed, changes);
    ev_free(&k.ev);
  }
  /* the same records, however built, are equal */
  {
    collect k;
    hf_diff_counts n;
    run_diff(b_base.r, b_perm.r, x.movie, 0, &k, &n);
    cr_assert_eq(k.ev.n, 0, "first: %s", k.ev.n ? k.ev.v[0] : "");
    run_diff(a.r, a.r, x.movie, 0, &k, &n);
    cr_assert_eq(k.ev.n, 0);
  }
  ev_free(&want);
  drop(&a);
  drop(&b_base);
  drop(&b_ind);
  drop(&b_perm);
  hf_schema_free(s);
  free(v1);
  free(v2);
  free(perm);
}

Test(diff, reports_exactly_the_generated_changes) {
  uint64_t seed;
  for (seed = 1; seed <= 40; seed++)
    one_seed(seed, 20 + (size_t)(seed % 7) * 30);
}

Test(diff, large_version_with_carried_ordinals) {
  one_seed(4242, 5000);
}

/* ---- single records, errors, limits ---------------------------------------
 */

static void model_pair(snap *a, snap *b, movie *m1, movie *m2) {
  hf_schema *s = NULL;
  hf_error err;
  rng g = {7};
  OK(hf_schema_parse(SCHEMA, strlen(SCHEMA), &s, &err));
  gen_movie(&g, m1, 1);
  gen_movie(&g, m1 + 1, 2);
  m2[0] = m1[0];
  m2[1] = m1[1];
  strcat(m2[1].title, "!");
  build(s, m1, 2, NULL, NULL, a);
  build(s, m2, 2, NULL, a->r, b);
  /* the readers keep their own schema; the parsed one is ours to free */
  hf_schema_free(s);
}

Test(diff, one_record_by_ordinal) {
  snap a, b;
  movie m1[2], m2[2];
  collect k;
  hf_diff_counts n;
  hf_error err;
  model_pair(&a, &b, m1, m2);
  memset(&k, 0, sizeof k);
  OK(hf_diff_record(a.r, b.r, 0, 0, 0, 0, on_event, &k, &n, &err));
  cr_assert_eq(n.changed + n.added + n.removed, 0);
  OK(hf_diff_record(a.r, b.r, 0, 1, 1, 0, on_event, &k, &n, &err));
  cr_assert_eq(n.changed, 1);
  cr_assert_eq(k.ev.n, 2);
  OK(hf_diff_record(a.r, b.r, 0, HF_NO_ORDINAL, 1, 0, on_event, &k, &n, &err));
  cr_assert_eq(n.added, 1);
  cr_assert_eq(hf_diff_record(a.r, b.r, 0, 5, 1, 0, on_event, &k, &n, &err),
               HF_E_ARG);
  ev_free(&k.ev);
  drop(&a);
  drop(&b);
}

static int stop_at_first(void *ctx, const hf_diff_change *c) {
  (void)c;
  ++*(int *)ctx;
  return 77;
}

Test(diff, callback_value_stops_the_diff) {
  snap a, b;
  movie m1[2], m2[2];
  hf_error err;
  int calls = 0;
  model_pair(&a, &b, m1, m2);
  cr_assert_eq(hf_diff(a.r, b.r, 0, 0, stop_at_first, &calls, NULL, &err), 77);
  cr_assert_eq(calls, 1);
  drop(&a);
  drop(&b);
}

Test(diff, refuses_different_schemas) {
  snap a, b;
  movie m1[2], m2[2];
  hf_schema *s2 = NULL;
  hf_builder *bl = NULL;
  hf_reader *r2 = NULL;
  unsigned char *p;
  size_t len;
  hf_error err;
  const char *other = "Movie @PrimaryKey(id) { long id; string title; }\n";
  model_pair(&a, &b, m1, m2);
  OK(hf_schema_parse(other, strlen(other), &s2, &err));
  OK(hf_builder_new(s2, NULL, &bl, &err));
  OK(hf_builder_add_json(bl, 0, "{\"id\":1,\"title\":\"x\"}", 20, 1, &err));
  OK(hf_gen_snapshot(bl, &p, &len, &err));
  OK(hf_reader_open_mem(p, len, NULL, &r2, &err));
  cr_assert_eq(hf_diff(a.r, r2, 0, 0, on_event, NULL, NULL, &err), HF_E_SCHEMA);
  cr_assert(strstr(err.msg, "different schemas") != NULL, "%s", err.msg);
  cr_assert_eq(hf_diff(a.r, b.r, 99, 0, on_event, NULL, NULL, &err), HF_E_ARG);
  cr_assert_eq(hf_diff(NULL, b.r, 0, 0, on_event, NULL, NULL, &err), HF_E_ARG);
  hf_reader_close(r2);
  free(p);
  hf_builder_free(bl);
  hf_schema_free(s2);
  drop(&a);
  drop(&b);
}

static int keep_path(void *ctx, const hf_diff_change *c) {
  if (c->op == HF_DIFF_FIELD) {
    cr_assert_leq(c->path_len, HF_DIFF_PATH_MAX);
    cr_assert_eq(strlen(c->path), c->path_len);
    strcpy(ctx, c->path);
  }
  return 0;
}

Test(diff, long_paths_are_cut_with_an_ellipsis) {
  const char *sch = "Item @PrimaryKey(id) { int id; M m; }\n"
                    "K { string k; }\nV { int v; }\nM Map<K, V>;\n";
  hf_schema *s = NULL;
  hf_builder *bl;
  hf_error err;
  snap a, b;
  static char json[12000], got[HF_DIFF_PATH_MAX + 1], key[6001];
  int pass;
  OK(hf_schema_parse(sch, strlen(sch), &s, &err));
  memset(key, 'k', 6000);
  key[6000] = '\0';
  for (pass = 0; pass < 2; pass++) {
    snap *out = pass ? &b : &a;
    snprintf(json, sizeof json, "{\"id\":1,\"m\":{\"%s\":%d}}", key, pass);
    OK(hf_builder_new(s, NULL, &bl, &err));
    OK(hf_builder_add_json(bl, 0, json, strlen(json), 1, &err));
    OK(hf_gen_snapshot(bl, &out->p, &out->len, &err));
    OK(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err));
    hf_builder_free(bl);
  }
  OK(hf_diff(a.r, b.r, 0, 0, keep_path, got, NULL, &err));
  cr_assert_eq(strncmp(got, "m{\"kkk", 6), 0, "%.20s", got);
  cr_assert_eq(strcmp(got + strlen(got) - 3, "..."), 0);
  drop(&a);
  drop(&b);
  hf_schema_free(s);
}

/* The generator of the round-trip tests (every field kind, NaN, nested
 * collections, shared keyed records): the same roots give equal snapshots
 * whether built alone or on a base of other data, and any two versions'
 * record counts add up. */
Test(diff, generated_records_equal_however_built) {
  hf_schema *s = NULL;
  hf_error err;
  uint64_t seed;
  uint32_t root;
  OK(hf_schema_parse(hf_gen_schema, strlen(hf_gen_schema), &s, &err));
  OK(hf_schema_type_find(s, "Root", 4, &root));
  for (seed = 1; seed <= 8; seed++) {
    snap v[3];
    int i;
    collect k;
    hf_diff_counts n;
    for (i = 0; i < 3; i++) {
      hf_build_opts o;
      hf_builder *bl = NULL;
      memset(&o, 0, sizeof o);
      o.base = i == 2 ? v[1].r : NULL;
      OK(hf_builder_new(s, &o, &bl, &err));
      OK(hf_gen_roots(bl, s, i == 1 ? seed + 100 : seed, 30, &err));
      OK(hf_gen_snapshot(bl, &v[i].p, &v[i].len, &err));
      OK(hf_reader_open_mem(v[i].p, v[i].len, NULL, &v[i].r, &err));
      hf_builder_free(bl);
    }
    run_diff(v[0].r, v[2].r, root, 0, &k, &n);
    cr_assert_eq(k.ev.n, 0, "seed %llu: %s", (unsigned long long)seed,
                 k.ev.n ? k.ev.v[0] : "");
    run_diff(v[0].r, v[1].r, root, HF_DIFF_RECORDS_ONLY, &k, &n);
    cr_assert_eq(n.added + n.changed, hf_reader_record_count(v[1].r, root));
    cr_assert_eq(n.removed + n.changed, hf_reader_record_count(v[0].r, root));
    ev_free(&k.ev);
    for (i = 0; i < 3; i++)
      drop(&v[i]);
  }
  hf_schema_free(s);
}
