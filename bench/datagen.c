/*
 * datagen.c - deterministic catalogue-like JSON Lines for benches and tests.
 *
 *   datagen -n N [-s SEED] [-v K] [--update P --delete P --add P]
 *
 * Writes version K (default 1) of a dataset of N `Movie` records (schema:
 * bench/catalog.hsl) to stdout, one record per line, about 500 bytes each.
 * Version 1 holds ids 1..N.  Version k+1 is derived from version k: each
 * record is deleted with probability P_delete %, else updated (new content)
 * with probability P_update %; then round(N * P_add / 100) new ids are added
 * after the highest id so far.  Defaults: 5 % update, 1 % delete, 1 % add.
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

static void words_out(rng *r, unsigned n, int cap_first) {
  unsigned i;
  for (i = 0; i < n; i++) {
    const char *w = words[below(r, (uint32_t)NWORDS)];
    if (i > 0)
      putchar(' ');
    if (i == 0 && cap_first && w[0] >= 'a' && w[0] <= 'z') {
      putchar(w[0] - 'a' + 'A');
      fputs(w + 1, stdout);
    } else {
      fputs(w, stdout);
    }
  }
}

/* One record: content is a pure function of (seed, id, revision). */
static void record_out(uint64_t seed, uint64_t id, uint64_t rev) {
  rng r = {mix64(seed ^ mix64(id * 31u + rev))};
  unsigned i, n;
  uint32_t pick[6];
  printf("{\"id\":%llu,\"title\":\"", (unsigned long long)id);
  words_out(&r, 1 + below(&r, 4), 1);
  fputs("\",\"originalTitle\":", stdout);
  if (below(&r, 4) == 0) {
    fputs("null", stdout);
  } else {
    putchar('"');
    words_out(&r, 1 + below(&r, 3), 1);
    putchar('"');
  }
  fputs(",\"overview\":\"", stdout);
  words_out(&r, 12 + below(&r, 16), 1);
  printf("\",\"year\":%u,\"runtime\":%u,\"rating\":%u.%u,\"votes\":%llu,"
         "\"adult\":%s,\"genres\":[",
         1920 + below(&r, 105), 60 + below(&r, 140), below(&r, 10),
         below(&r, 10), (unsigned long long)(next(&r) % 5000000u),
         below(&r, 10) == 0 ? "true" : "false");
  n = 1 + below(&r, 3);
  for (i = 0; i < n; i++)
    printf("%s\"%s\"", i ? "," : "", genres[below(&r, (uint32_t)NGENRES)]);
  fputs("],\"tags\":[", stdout);
  n = below(&r, 5);
  for (i = 0; i < n; i++) {
    pick[i] = below(&r, (uint32_t)NTAGS); /* repeats allowed: a set */
    printf("%s\"%s\"", i ? "," : "", tags[pick[i]]);
  }
  fputs("],\"cast\":[", stdout);
  n = 2 + below(&r, 4);
  for (i = 0; i < n; i++) {
    /* person ids from a pool, so cast members are shared across movies */
    const uint32_t p = below(&r, 50000);
    rng pr = {mix64(seed ^ (UINT64_C(0x5045) << 32) ^ p)};
    printf("%s{\"personId\":%u,\"name\":\"%s %s\",\"role\":\"%s\"}",
           i ? "," : "", 100000 + p, first[below(&pr, COUNT(first))],
           last[below(&pr, COUNT(last))], roles[below(&r, COUNT(roles))]);
  }
  fputs("]}\n", stdout);
}

typedef struct entry {
  uint64_t id;
  uint64_t rev;
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
  uint64_t count, nextid, v, i, j, s;
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
  /* enough room for every add of every version */
  e = malloc(sizeof *e *
             (size_t)(count + 1 + (uint64_t)(ver * (n * pa / 100.0 + 1))));
  if (e == NULL) {
    perror("datagen");
    return 2;
  }
  for (i = 0; i < count; i++) {
    e[i].id = i + 1;
    e[i].rev = 0;
  }
  nextid = count + 1;
  for (v = 2; v <= (uint64_t)ver; v++) {
    const uint64_t adds = (uint64_t)(n * pa / 100.0 + 0.5);
    const uint64_t dcut = (uint64_t)(pd * 100.0); /* per 10000 */
    const uint64_t ucut = dcut + (uint64_t)(pu * 100.0);
    for (i = j = 0; i < count; i++) {
      const uint64_t d = mix64(s ^ mix64(e[i].id ^ (v << 40))) % 10000u;
      if (d < dcut)
        continue;
      if (d < ucut)
        e[i].rev = v;
      e[j++] = e[i];
    }
    count = j;
    for (i = 0; i < adds; i++) {
      e[count].id = nextid++;
      e[count++].rev = v;
    }
  }
  for (i = 0; i < count; i++)
    record_out(s, e[i].id, e[i].rev);
  free(e);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    perror("datagen: stdout");
    return 2;
  }
  return 0;
}
