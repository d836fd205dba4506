/*
 * datagen.c - deterministic catalogue-like JSON Lines for benches and tests.
 *
 *   datagen -n N [-s SEED] [-v K] [--update P --delete P --add P]
 *
 * Writes version K (default 1) of a dataset of N `Movie` records (schema:
 * bench/catalog.hsl) to stdout, one record per line, about 500 bytes each.
 * Version 1 holds ids 1..N.  Version k+1 is derived from version k: each
 * record is deleted with probability P_delete %, else updated with
 * probability P_update %; then round(N * P_add / 100) new ids are added
 * after the highest id so far.  Defaults: 5 % update, 1 % delete, 1 % add.
 * An update changes what a real one does, 1 to 3 things chosen at random
 * among: the rating; the year; the `adult` flag; the title or the overview
 * (one word replaced, or one appended); a tag added or removed; a cast
 * member's role changed, or a cast member appended; a genre swapped for
 * another.  Updates accumulate: version K of a record is its first version
 * with the edits of every version in which it was updated, in order.
 * Output depends only on (N, SEED, K, percentages): the same arguments give
 * the same bytes on every platform (integer PRNG, no floating point output
 * beyond fixed-precision printf of values built from integers).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: tiny, fast, good enough for test data, fully portable. */
static uint64_t mix64(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) {
  r->s += UINT64_C(0x9e3779b97f4a7c15);
  return mix64(r->s);
}

static uint32_t below(rng *r, uint32_t n) {
  return (uint32_t)(next(r) % n);
}

static const char *const words[] = {
    "the",        "night",       "river",        "of",
    "shadow",     "city",        "last",         "summer",
    "winter",     "dream",       "stone",        "house",
    "garden",     "blue",        "silent",       "empire",
    "return",     "journey",     "storm",        "light",
    "secret",     "glass",       "fire",         "north",
    "Amélie",     "Zürich",      "café",         "niño",
    "Ōkami",      "Сталкер",     "東京",         "物語",
    "Δέλτα",      "façade",      "naïve",        "smörgåsbord",
    "paper",      "moon",        "iron",         "garden",
    "harbour",    "echo",        "\\\"Best\\\"", "back\\\\slash",
    "tab\\there", "line\\nbreak"};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const genres[] = {
    "Drama",   "Comedy",    "Thriller", "Action",  "Documentary",
    "Horror",  "Animation", "Romance",  "Fantasy", "Science Fiction",
    "Western", "Crime",     "Mystery",  "Musical", "Film-Noir"};
#define NGENRES (sizeof genres / sizeof genres[0])

static const char *const tags[] = {
    "award-winning", "based-on-book", "cult",     "family", "indie",
    "remastered",    "subtitled",     "dubbed",   "4k",     "hdr",
    "classic",       "new-release",   "festival", "silent", "black-and-white",
    "director-cut",  "limited",       "série",    "größte", "人気"};
#define NTAGS (sizeof tags / sizeof tags[0])

static const char *const first[] = {
    "Anna", "Björn", "Chloé", "Dmitri", "Eva",   "François", "Giulia",
    "Hiro", "Ines",  "José",  "Kai",    "Lena",  "Miloš",    "Noor",
    "Olga", "Pablo", "Quinn", "Rúna",   "Søren", "Tomás",    "Ursula",
    "Vera", "Wei",   "Xenia", "Yusuf",  "Zoë"};
static const char *const last[] = {
    "Andersen", "Bianchi",  "Castillo", "Dubois", "Eriksson", "Fischer",
    "García",   "Horvat",   "Ivanova",  "Jensen", "Kowalski", "Lefèvre",
    "Müller",   "Nakamura", "O'Neill",  "Petrov", "Quiroga",  "Rossi",
    "Sato",     "Tanaka",   "Ueda",     "Varga",  "Wójcik",   "Yamada"};
static const char *const roles[] = {"actor",    "director", "writer",
                                    "producer", "composer", "voice"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A record as word, genre, tag, person and role indices, so an update can
 * change one thing and leave the rest as it was. */
#define MAXW 48
#define MAXL 12
typedef struct movie {
  uint8_t title[MAXW], orig[MAXW], over[MAXW];
  unsigned ntitle, norig, nover; /* norig 0: originalTitle null */
  unsigned year, runtime, rating10, adult, ngenres, ntags, ncast;
  unsigned long long votes;
  uint8_t genres[MAXL], tags[MAXL], role[MAXL];
  uint32_t person[MAXL];
} movie;

static void words_gen(rng *r, uint8_t *w, unsigned *n, unsigned count) {
  unsigned i;
  for (i = 0; i < count; i++)
    w[i] = (uint8_t)below(r, (uint32_t)NWORDS);
  *n = count;
}

static void words_out(const uint8_t *w, unsigned n) {
  unsigned i;
  for (i = 0; i < n; i++) {
    const char *s = words[w[i]];
    if (i > 0)
      putchar(' ');
    if (i == 0 && s[0] >= 'a' && s[0] <= 'z') {
      putchar(s[0] - 'a' + 'A');
      fputs(s + 1, stdout);
    } else {
      fputs(s, stdout);
    }
  }
}

/* First version of a record: a pure function of (seed, id, born). */
static void movie_gen(uint64_t seed, uint64_t id, uint64_t born, movie *m) {
  rng r = {mix64(seed ^ mix64(id * 31u + born))};
  unsigned i;
  words_gen(&r, m->title, &m->ntitle, 1 + below(&r, 4));
  m->norig = 0;
  if (below(&r, 4) != 0)
    words_gen(&r, m->orig, &m->norig, 1 + below(&r, 3));
  words_gen(&r, m->over, &m->nover, 12 + below(&r, 16));
  m->year = 1920 + below(&r, 105);
  m->runtime = 60 + below(&r, 140);
  m->rating10 = below(&r, 10) * 10;
  m->rating10 += below(&r, 10);
  m->votes = (unsigned long long)(next(&r) % 5000000u);
  m->adult = below(&r, 10) == 0;
  m->ngenres = 1 + below(&r, 3);
  for (i = 0; i < m->ngenres; i++)
    m->genres[i] = (uint8_t)below(&r, (uint32_t)NGENRES);
  m->ntags = below(&r, 5);
  for (i = 0; i < m->ntags; i++) /* repeats allowed: a set */
    m->tags[i] = (uint8_t)below(&r, (uint32_t)NTAGS);
  m->ncast = 2 + below(&r, 4);
  for (i = 0; i < m->ncast; i++) {
    /* person ids from a pool, so cast members are shared across movies */
    m->person[i] = below(&r, 50000);
    m->role[i] = (uint8_t)below(&r, COUNT(roles));
  }
}

/* A small text edit: one word replaced, or one appended when there is room. */
static void words_edit(rng *r, uint8_t *w, unsigned *n) {
  if (*n < MAXW && below(r, 2) == 0)
    w[(*n)++] = (uint8_t)below(r, (uint32_t)NWORDS);
  else
    w[below(r, *n)] = (uint8_t)below(r, (uint32_t)NWORDS);
}

/* The update of version v: 1 to 3 changes, a pure function of (seed, id, v). */
static void movie_update(uint64_t seed, uint64_t id, uint64_t v, movie *m) {
  rng r = {mix64(seed ^ mix64(id * 31u + v) ^ UINT64_C(0xed17))};
  unsigned k, n = 1 + below(&r, 3);
  for (k = 0; k < n; k++) {
    switch (below(&r, 7)) {
    case 0:
      m->rating10 = below(&r, 100);
      break;
    case 1:
      m->year = m->year + 1 + below(&r, 3);
      break;
    case 2:
      m->adult = !m->adult;
      break;
    case 3:
      if (below(&r, 3) == 0)
        words_edit(&r, m->title, &m->ntitle);
      else
        words_edit(&r, m->over, &m->nover);
      break;
    case 4:
      if (m->ntags > 0 && (m->ntags == MAXL || below(&r, 2) == 0)) {
        const uint32_t t = below(&r, m->ntags);
        m->ntags--;
        m->tags[t] = m->tags[m->ntags];
      } else
        m->tags[m->ntags++] = (uint8_t)below(&r, (uint32_t)NTAGS);
      break;
    case 5:
      if (m->ncast < MAXL && below(&r, 2) == 0) {
        m->person[m->ncast] = below(&r, 50000);
        m->role[m->ncast++] = (uint8_t)below(&r, COUNT(roles));
      } else {
        m->role[below(&r, m->ncast)] = (uint8_t)below(&r, COUNT(roles));
      }
      break;
    default:
      m->genres[below(&r, m->ngenres)] = (uint8_t)below(&r, (uint32_t)NGENRES);
      break;
    }
  }
}

static void movie_out(uint64_t seed, uint64_t id, const movie *m) {
  unsigned i;
  printf("{\"id\":%llu,\"title\":\"", (unsigned long long)id);
  words_out(m->title, m->ntitle);
  fputs("\",\"originalTitle\":", stdout);
  if (m->norig == 0) {
    fputs("null", stdout);
  } else {
    putchar('"');
    words_out(m->orig, m->norig);
    putchar('"');
  }
  fputs(",\"overview\":\"", stdout);
  words_out(m->over, m->nover);
  printf("\",\"year\":%u,\"runtime\":%u,\"rating\":%u.%u,\"votes\":%llu,"
         "\"adult\":%s,\"genres\":[",
         m->year, m->runtime, m->rating10 / 10, m->rating10 % 10, m->votes,
         m->adult ? "true" : "false");
  for (i = 0; i < m->ngenres; i++)
    printf("%s\"%s\"", i ? "," : "", genres[m->genres[i]]);
  fputs("],\"tags\":[", stdout);
  for (i = 0; i < m->ntags; i++)
    printf("%s\"%s\"", i ? "," : "", tags[m->tags[i]]);
  fputs("],\"cast\":[", stdout);
  for (i = 0; i < m->ncast; i++) {
    const uint32_t p = m->person[i];
    rng pr = {mix64(seed ^ (UINT64_C(0x5045) << 32) ^ p)};
    printf("%s{\"personId\":%u,\"name\":\"%s %s\",\"role\":\"%s\"}",
           i ? "," : "", 100000 + p, first[below(&pr, COUNT(first))],
           last[below(&pr, COUNT(last))], roles[m->role[i]]);
  }
  fputs("]}\n", stdout);
}

/* What version v does to id: < dcut deleted, < ucut updated (per 10000). */
static uint64_t fate(uint64_t seed, uint64_t id, uint64_t v) {
  return mix64(seed ^ mix64(id ^ (v << 40))) % 10000u;
}

/* Version `ver` of a record born in version `born` (0 for version 1). */
static void record_out(uint64_t seed, uint64_t id, uint64_t born, uint64_t ver,
                       uint64_t dcut, uint64_t ucut) {
  movie m;
  uint64_t v;
  movie_gen(seed, id, born, &m);
  for (v = (born < 2 ? 2 : born + 1); v <= ver; v++) {
    const uint64_t d = fate(seed, id, v);
    if (d >= dcut && d < ucut)
      movie_update(seed, id, v, &m);
  }
  movie_out(seed, id, &m);
}

typedef struct entry {
  uint64_t id;
  uint64_t born; /* version that added it; 0 for version 1 */
} entry;

static int usage(void) {
  fputs("usage: datagen -n N [-s SEED] [-v K] [--update P] [--delete P] "
        "[--add P]\n",
        stderr);
  return 2;
}

static int num_arg(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return errno == 0 && end != s && *end == '\0' && *out >= 0;
}

int main(int argc, char **argv) {
  double n = 0, seed = 1, ver = 1, pu = 5, pd = 1, pa = 1, *dst;
  uint64_t count, nextid, v, i, j, s, dcut, ucut;
  entry *e;
  int a;
  for (a = 1; a < argc; a++) {
    const char *o = argv[a];
    if (strcmp(o, "-n") == 0)
      dst = &n;
    else if (strcmp(o, "-s") == 0)
      dst = &seed;
    else if (strcmp(o, "-v") == 0)
      dst = &ver;
    else if (strcmp(o, "--update") == 0)
      dst = &pu;
    else if (strcmp(o, "--delete") == 0)
      dst = &pd;
    else if (strcmp(o, "--add") == 0)
      dst = &pa;
    else if (strcmp(o, "-h") == 0)
      return usage() - 2;
    else
      return usage();
    if (++a >= argc || !num_arg(argv[a], dst))
      return usage();
  }
  if (n < 1 || ver < 1 || pu + pd > 100)
    return usage();
  count = (uint64_t)n;
  s = (uint64_t)seed;
  dcut = (uint64_t)(pd * 100.0); /* per 10000 */
  ucut = dcut + (uint64_t)(pu * 100.0);
  /* enough room for every add of every version */
  e = malloc(sizeof *e *
             (size_t)(count + 1 + (uint64_t)(ver * (n * pa / 100.0 + 1))));
  if (e == NULL) {
    perror("datagen");
    return 2;
  }
  for (i = 0; i < count; i++) {
    e[i].id = i + 1;
    e[i].born = 0;
  }
  nextid = count + 1;
  for (v = 2; v <= (uint64_t)ver; v++) {
    const uint64_t adds = (uint64_t)(n * pa / 100.0 + 0.5);
    for (i = j = 0; i < count; i++)
      if (fate(s, e[i].id, v) >= dcut)
        e[j++] = e[i];
    count = j;
    for (i = 0; i < adds; i++) {
      e[count].id = nextid++;
      e[count++].born = v;
    }
  }
  for (i = 0; i < count; i++)
    record_out(s, e[i].id, e[i].born, (uint64_t)ver, dcut, ucut);
  free(e);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    perror("datagen: stdout");
    return 2;
  }
  return 0;
}
