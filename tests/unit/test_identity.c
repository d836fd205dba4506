/* test_identity.c - ordinal identity across versions built from a base
 * (FORMAT.md §6.8): kept keys, kept unkeyed content, reuse of freed
 * ordinals, determinism; plus a property test over random version chains
 * checked against an independent model of the rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

static const char *SCHEMA = "Movie @PrimaryKey(id) {\n"
                            "  long id;\n"
                            "  string title;\n"
                            "  Genre genre;\n"
                            "  ListOfGenre tags;\n"
                            "}\n"
                            "Genre { string name; }\n"
                            "ListOfGenre List<Genre>;\n";
enum { T_MOVIE, T_GENRE, T_LIST };

static hf_schema *parse(const char *text) {
  hf_schema *s = NULL;
  hf_error err;
  cr_assert_eq(hf_schema_parse(text, strlen(text), &s, &err), HF_OK, "%s",
               err.msg);
  return s;
}

typedef struct blob {
  unsigned char *p;
  size_t len;
  hf_reader *r;
} blob;

static void finish(hf_builder *b, blob *out) {
  FILE *f = tmpfile();
  hf_error err;
  cr_assert_eq(hf_builder_write_fd(b, fileno(f), NULL, &err), HF_OK, "%s",
               err.msg);
  fseek(f, 0, SEEK_END);
  out->len = (size_t)ftell(f);
  rewind(f);
  out->p = malloc(out->len);
  cr_assert_eq(fread(out->p, 1, out->len, f), out->len);
  fclose(f);
  cr_assert_eq(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err), HF_OK,
               "%s", err.msg);
  cr_assert_eq(hf_reader_verify(out->r, &err), HF_OK, "verify: %s", err.msg);
}

static void blob_free(blob *bl) {
  hf_reader_close(bl->r);
  free(bl->p);
}

static hf_ref genre(hf_builder *b, const char *name) {
  hf_error err;
  hf_ref r;
  cr_assert_eq(hf_builder_begin(b, T_GENRE, &err), HF_OK);
  cr_assert_eq(hf_builder_set_string(b, 0, name, strlen(name), &err), HF_OK);
  cr_assert_eq(hf_builder_end(b, &r, &err), HF_OK);
  return r;
}

/* Adds a movie; g = NULL for a null genre, tags = NULL for a null list. */
static void movie(hf_builder *b, int64_t id, const char *title, const char *g,
                  const char *const *tags, int ntags) {
  hf_error err;
  hf_ref r;
  int i;
  cr_assert_eq(hf_builder_begin(b, T_MOVIE, &err), HF_OK);
  cr_assert_eq(hf_builder_set_long(b, 0, id, &err), HF_OK);
  cr_assert_eq(hf_builder_set_string(b, 1, title, strlen(title), &err), HF_OK);
  if (g != NULL)
    cr_assert_eq(hf_builder_set_ref(b, 2, genre(b, g), &err), HF_OK);
  if (tags != NULL) {
    hf_ref el[8];
    for (i = 0; i < ntags; i++)
      el[i] = genre(b, tags[i]);
    cr_assert_eq(hf_builder_begin(b, T_LIST, &err), HF_OK);
    for (i = 0; i < ntags; i++)
      cr_assert_eq(hf_builder_add(b, el[i], &err), HF_OK);
    cr_assert_eq(hf_builder_end(b, &r, &err), HF_OK, "%s", err.msg);
    cr_assert_eq(hf_builder_set_ref(b, 3, r, &err), HF_OK);
  }
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK, "%s", err.msg);
}

static uint32_t ord_of(const hf_reader *r, int64_t id) {
  hf_value k;
  hf_record rec;
  k.type = HF_FT_LONG;
  k.u.l = id;
  if (hf_reader_find(r, T_MOVIE, &k, 1, &rec) != HF_OK)
    return HF_NO_ORDINAL;
  return rec.ordinal;
}

static uint32_t genre_of(const hf_reader *r, int64_t id) {
  hf_value k;
  hf_record rec;
  uint32_t g;
  k.type = HF_FT_LONG;
  k.u.l = id;
  cr_assert_eq(hf_reader_find(r, T_MOVIE, &k, 1, &rec), HF_OK);
  cr_assert_eq(hf_record_ref(&rec, 2, &g), HF_OK);
  return g;
}

/* ---- Three versions, by hand -----------------------------------------------
 */

static void build_v2(const hf_schema *s, const hf_reader *base, uint64_t ver,
                     blob *out) {
  hf_build_opts o = {base, ver, 0};
  hf_builder *b;
  hf_error err;
  const char *t6[] = {"anim", "family"};
  cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_OK, "%s", err.msg);
  movie(b, 5, "Ran", "drama", NULL, 0);
  movie(b, 3, "Up (2009)", "family", NULL, 0); /* updated title */
  movie(b, 6, "Coco", "anim", t6, 2);
  movie(b, 1, "Alien", "scifi", NULL, 0);
  movie(b, 7, "Soul", "anim", NULL, 0);
  finish(b, out);
  hf_builder_free(b);
}

Test(identity, three_versions_keep_and_reuse_ordinals) /* R-ORD-06..08 */ {
  hf_schema *s = parse(SCHEMA);
  hf_builder *b;
  hf_error err;
  blob v1, v2, v2b, v3;
  hf_info i1, i2, i3;
  const char *t1[] = {"scifi", "horror"};
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  movie(b, 1, "Alien", "scifi", t1, 2);
  movie(b, 2, "Heat", "crime", NULL, 0);
  movie(b, 3, "Up", "family", NULL, 0);
  movie(b, 4, "Brazil", "scifi", NULL, 0);
  movie(b, 5, "Ran", "drama", NULL, 0);
  finish(b, &v1);
  hf_builder_free(b);
  cr_assert_eq(ord_of(v1.r, 4), 3);
  /* Genres in input order: scifi 0, horror 1, crime 2, family 3, drama 4. */
  cr_assert_eq(genre_of(v1.r, 5), 4);

  build_v2(s, v1.r, 0, &v2);
  /* Kept keys keep their ordinals, updated or not. */
  cr_assert_eq(ord_of(v2.r, 1), 0);
  cr_assert_eq(ord_of(v2.r, 3), 2);
  cr_assert_eq(ord_of(v2.r, 5), 4);
  /* Deleted 2 and 4 free 1 and 3; new 6 then 7 take them ascending. */
  cr_assert_eq(ord_of(v2.r, 2), HF_NO_ORDINAL);
  cr_assert_eq(ord_of(v2.r, 6), 1);
  cr_assert_eq(ord_of(v2.r, 7), 3);
  cr_assert_eq(hf_reader_ordinal_limit(v2.r, T_MOVIE), 5);
  /* Unchanged unkeyed content keeps its ordinal; "anim" takes the first
   * hole (horror's 1); crime's 2 stays a hole. */
  cr_assert_eq(genre_of(v2.r, 5), 4);
  cr_assert_eq(genre_of(v2.r, 3), 3);
  cr_assert_eq(genre_of(v2.r, 1), 0);
  cr_assert_eq(genre_of(v2.r, 6), 1);
  cr_assert_eq(hf_reader_ordinal_limit(v2.r, T_GENRE), 5);
  cr_assert_eq(hf_reader_record_count(v2.r, T_GENRE), 4);
  hf_reader_info(v2.r, &i2);
  cr_assert_eq(i2.dataset_version, 2);

  /* Same input, same base: identical bytes. */
  build_v2(s, v1.r, 0, &v2b);
  cr_assert_eq(v2.len, v2b.len);
  cr_assert(memcmp(v2.p, v2b.p, v2.len) == 0);
  /* Same content on top of itself: same state, only the version moves. */
  build_v2(s, v2.r, 0, &v3);
  hf_reader_info(v1.r, &i1);
  hf_reader_info(v3.r, &i3);
  cr_assert_eq(i3.dataset_version, 3);
  cr_assert_eq(i3.state, i2.state);
  cr_assert_neq(i1.state, i2.state);
  blob_free(&v1);
  blob_free(&v2);
  blob_free(&v2b);
  blob_free(&v3);
  hf_schema_free(s);
}

Test(identity, base_with_other_schema_is_refused) /* R-ORD-10 */ {
  hf_schema *s = parse(SCHEMA), *s2 = parse("Genre { string name; }\n");
  hf_builder *b;
  hf_error err;
  hf_build_opts o = {NULL, 0, 0};
  blob v1;
  cr_assert_eq(hf_builder_new(s2, NULL, &b, &err), HF_OK);
  hf_builder_begin(b, 0, &err);
  hf_builder_set_string(b, 0, "x", 1, &err);
  hf_builder_end(b, NULL, &err);
  finish(b, &v1);
  hf_builder_free(b);
  o.base = v1.r;
  b = NULL;
  cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_E_SCHEMA);
  cr_assert_null(b);
  cr_assert(strstr(err.msg, "schema") != NULL, "%s", err.msg);
  blob_free(&v1);
  hf_schema_free(s);
  hf_schema_free(s2);
}

/* ---- Property: random version chains against a model of §6.8 ------------ */

#define NIDS 200
#define NNAMES 16
#define MAXTAGS 3
#define NVERSIONS 5

typedef struct mrec {
  int present;
  int title;         /* title number */
  int genre;         /* name index, -1 = null */
  int ntags;         /* -1 = null list */
  int tags[MAXTAGS]; /* name indices */
} mrec;

typedef struct model {
  /* Ordinals of the previous version, -1 where absent. */
  int movie_ord[NIDS], movie_limit;
  int genre_ord[NNAMES], genre_limit;
  int nlists, list_limit;
  int list_len[NIDS], list_elems[NIDS][MAXTAGS], list_ord[NIDS];
} model;

/* §6.8 rule 5: items (in input order of first occurrence) whose kept[i] is
 * -1 take the free ordinals ascending, holes of [0, prev_limit) first.
 * Returns the new ordinal_limit. */
static int assign(int n, const int *kept, int prev_limit, int *out) {
  char *used = calloc((size_t)prev_limit + 1, 1);
  int i, o = 0, limit = 0;
  for (i = 0; i < n; i++)
    if (kept[i] >= 0)
      used[kept[i]] = 1;
  for (i = 0; i < n; i++) {
    if (kept[i] >= 0) {
      out[i] = kept[i];
    } else {
      while (o < prev_limit && used[o])
        o++;
      out[i] = o++;
    }
    if (out[i] + 1 > limit)
      limit = out[i] + 1;
  }
  free(used);
  return limit;
}

static void check_version(const model *prev, model *next, const mrec *recs,
                          const int *order, int n, const hf_reader *r) {
  int names[NNAMES], nnames = 0, kept[NIDS * (MAXTAGS + 1)], got[NIDS * 4];
  int gord[NNAMES], i, j, k;
  int lists[NIDS][MAXTAGS], llen[NIDS], nl = 0, lord_of_movie[NIDS];
  int ids[NIDS];
  memset(gord, -1, sizeof gord);
  /* Genres: first occurrence in input order (movie, genre, then tags). */
  for (i = 0; i < n; i++) {
    const mrec *m = &recs[order[i]];
    int seq[MAXTAGS + 1], ns = 0;
    if (m->genre >= 0)
      seq[ns++] = m->genre;
    for (j = 0; j < m->ntags; j++)
      seq[ns++] = m->tags[j];
    for (j = 0; j < ns; j++) {
      for (k = 0; k < nnames && names[k] != seq[j]; k++)
        ;
      if (k == nnames)
        names[nnames++] = seq[j];
    }
  }
  for (i = 0; i < nnames; i++)
    kept[i] = prev->genre_ord[names[i]];
  next->genre_limit = assign(nnames, kept, prev->genre_limit, got);
  memset(next->genre_ord, -1, sizeof next->genre_ord);
  for (i = 0; i < nnames; i++)
    next->genre_ord[names[i]] = got[i];
  /* Lists: content is the sequence of final genre ordinals. */
  for (i = 0; i < n; i++) {
    const mrec *m = &recs[order[i]];
    lord_of_movie[i] = -1;
    if (m->ntags < 0)
      continue;
    for (j = 0; j < m->ntags; j++)
      lists[nl][j] = next->genre_ord[m->tags[j]];
    for (k = 0; k < nl; k++)
      if (llen[k] == m->ntags &&
          memcmp(lists[k], lists[nl], sizeof(int) * (size_t)m->ntags) == 0)
        break;
    lord_of_movie[i] = k;
    if (k == nl)
      llen[nl++] = m->ntags;
  }
  for (k = 0; k < nl; k++) {
    kept[k] = -1;
    for (j = 0; j < prev->nlists; j++)
      if (prev->list_len[j] == llen[k] &&
          memcmp(prev->list_elems[j], lists[k],
                 sizeof(int) * (size_t)llen[k]) == 0)
        kept[k] = prev->list_ord[j];
  }
  next->list_limit = assign(nl, kept, prev->list_limit, got);
  next->nlists = nl;
  for (k = 0; k < nl; k++) {
    next->list_len[k] = llen[k];
    memcpy(next->list_elems[k], lists[k], sizeof lists[k]);
    next->list_ord[k] = got[k];
  }
  /* Movies: by key. */
  for (i = 0; i < n; i++) {
    ids[i] = order[i];
    kept[i] = prev->movie_ord[order[i]];
  }
  next->movie_limit = assign(n, kept, prev->movie_limit, got);
  memset(next->movie_ord, -1, sizeof next->movie_ord);
  for (i = 0; i < n; i++)
    next->movie_ord[ids[i]] = got[i];

  /* The snapshot agrees with the model. */
  cr_assert_eq(hf_reader_ordinal_limit(r, T_MOVIE),
               (uint32_t)next->movie_limit);
  cr_assert_eq(hf_reader_record_count(r, T_MOVIE), (uint32_t)n);
  cr_assert_eq(hf_reader_ordinal_limit(r, T_GENRE),
               (uint32_t)next->genre_limit);
  cr_assert_eq(hf_reader_record_count(r, T_GENRE), (uint32_t)nnames);
  cr_assert_eq(hf_reader_ordinal_limit(r, T_LIST), (uint32_t)next->list_limit);
  cr_assert_eq(hf_reader_record_count(r, T_LIST), (uint32_t)nl);
  for (i = 0; i < n; i++) {
    const mrec *m = &recs[order[i]];
    hf_value kv;
    hf_record rec;
    uint32_t g;
    kv.type = HF_FT_LONG;
    kv.u.l = order[i];
    cr_assert_eq(hf_reader_find(r, T_MOVIE, &kv, 1, &rec), HF_OK);
    cr_assert_eq(rec.ordinal, (uint32_t)got[i], "movie %d", order[i]);
    if (prev->movie_ord[order[i]] >= 0)
      cr_assert_eq(rec.ordinal, (uint32_t)prev->movie_ord[order[i]]);
    if (m->genre >= 0) {
      cr_assert_eq(hf_record_ref(&rec, 2, &g), HF_OK);
      cr_assert_eq(g, (uint32_t)next->genre_ord[m->genre]);
    } else {
      cr_assert_eq(hf_record_ref(&rec, 2, &g), HF_NULL);
    }
    if (m->ntags >= 0) {
      hf_coll c;
      cr_assert_eq(hf_record_ref(&rec, 3, &g), HF_OK);
      cr_assert_eq(g, (uint32_t)next->list_ord[lord_of_movie[i]]);
      cr_assert_eq(hf_reader_coll(r, T_LIST, g, &c), HF_OK);
      cr_assert_eq(c.n, (uint64_t)m->ntags);
      for (j = 0; j < m->ntags; j++)
        cr_assert_eq(hf_coll_elem(&c, (uint64_t)j),
                     (uint32_t)next->genre_ord[m->tags[j]]);
    } else {
      cr_assert_eq(hf_record_ref(&rec, 3, &g), HF_NULL);
    }
  }
}

static void random_chain(unsigned seed) {
  hf_schema *s = parse(SCHEMA);
  static mrec recs[NIDS];
  static model prev, next;
  blob cur = {NULL, 0, NULL}, old = {NULL, 0, NULL};
  int v, i, order[NIDS], n;
  srand(seed);
  memset(recs, 0, sizeof recs);
  memset(&prev, 0, sizeof prev);
  memset(prev.movie_ord, -1, sizeof prev.movie_ord);
  memset(prev.genre_ord, -1, sizeof prev.genre_ord);
  for (v = 0; v < NVERSIONS; v++) {
    hf_build_opts o = {old.r, 0, 0};
    hf_builder *b;
    hf_error err;
    /* Random adds, updates and deletes. */
    for (i = 0; i < NIDS; i++) {
      mrec *m = &recs[i];
      int dice = rand() % 100, j;
      if (v == 0 ? dice < 50 : dice < 8) {
        m->present = !m->present;
        dice = 100; /* a new record: everything fresh */
      }
      if (dice == 100 || (dice >= 8 && dice < 20))
        m->title = rand() % 1000;
      if (dice == 100 || (dice >= 20 && dice < 25))
        m->genre = rand() % 5 == 0 ? -1 : rand() % NNAMES;
      if (dice == 100 || (dice >= 25 && dice < 30)) {
        m->ntags = rand() % (MAXTAGS + 2) - 1;
        for (j = 0; j < m->ntags; j++)
          m->tags[j] = rand() % NNAMES;
      }
    }
    /* Input order: the present records, shuffled. */
    for (n = 0, i = 0; i < NIDS; i++)
      if (recs[i].present)
        order[n++] = i;
    for (i = n - 1; i > 0; i--) {
      int j = rand() % (i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_OK, "%s", err.msg);
    for (i = 0; i < n; i++) {
      const mrec *m = &recs[order[i]];
      char title[16];
      const char *tags[MAXTAGS];
      char tbuf[MAXTAGS][8], gbuf[8];
      int j;
      snprintf(title, sizeof title, "t%d", m->title);
      snprintf(gbuf, sizeof gbuf, "g%d", m->genre);
      for (j = 0; j < m->ntags; j++) {
        snprintf(tbuf[j], sizeof tbuf[j], "g%d", m->tags[j]);
        tags[j] = tbuf[j];
      }
      movie(b, order[i], title, m->genre >= 0 ? gbuf : NULL,
            m->ntags >= 0 ? tags : NULL, m->ntags);
    }
    finish(b, &cur);
    hf_builder_free(b);
    {
      hf_info info;
      hf_reader_info(cur.r, &info);
      cr_assert_eq(info.dataset_version, (uint64_t)v + 1);
    }
    check_version(&prev, &next, recs, order, n, cur.r);
    prev = next;
    if (old.r != NULL)
      blob_free(&old);
    old = cur;
  }
  blob_free(&old);
  hf_schema_free(s);
}

Test(identity, random_version_chains_follow_ordinal_rules) {
  unsigned seed;
  for (seed = 1; seed <= 20; seed++)
    random_chain(seed);
}
