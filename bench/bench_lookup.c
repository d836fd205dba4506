/*
 * bench_lookup.c - warm primary-key lookup and field access on a snapshot.
 *
 *   bench_lookup [-n OPS] [-r RUNS] [-s SEED] [-t TYPE] [-f FIELD] [-k KEYS]
 *                FILE
 *
 * Maps FILE, takes every key of TYPE (default: the keyed object type with the
 * most records), shuffles them with a fixed seed and times, per run:
 *   lookup.hit         hf_reader_find on existing keys
 *   lookup.hit+string  the same, then hf_record_string of FIELD
 *   lookup.miss        hf_reader_find on keys that are absent
 *   record.locate      hf_reader_record on random ordinals
 *   field.<type>       one accessor on random pre-located records
 * then counts heap allocations (malloc, calloc, realloc, free) made during
 * OPS lookups + field reads and fails unless there are none.  Prints one
 * line per figure: median, min and max ns/op over RUNS runs.
 * Exit status: 0 success, 1 a lookup gave a wrong answer or allocated,
 * 2 usage or I/O error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "hformat.h"

/* ---- Allocation counting ------------------------------------------------
 * glibc exports its allocator under __libc_* names, so a program may define
 * malloc & co. itself and forward: every allocation in the process (the
 * library, liblz4, libxxhash, libc) passes through these while counting. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define HB_NO_ALLOC_COUNT 1 /* sanitizers bring their own allocator */
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(HB_NO_ALLOC_COUNT)
#define HB_NO_ALLOC_COUNT 1
#endif
#if defined(__GLIBC__) && !defined(HB_NO_ALLOC_COUNT)
#define HB_ALLOC_COUNT 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static volatile int g_counting;
static volatile unsigned long g_allocs;
static void *volatile g_probe;

void *malloc(size_t n) {
  if (g_counting)
    g_allocs++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  if (g_counting)
    g_allocs++;
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  if (g_counting)
    g_allocs++;
  return __libc_realloc(p, n);
}
void free(void *p) {
  if (g_counting && p)
    g_allocs++;
  __libc_free(p);
}
#endif

#define ME "bench_lookup"

typedef struct bench {
  const hf_reader *r;
  hb_target t;
  uint32_t count;  /* records of the target type */
  uint32_t *ords;  /* [count] populated ordinals, ascending */
  hf_value *keys;  /* [count * nkeys] key of ords[i] at i * nkeys */
  size_t ops;      /* operations per run */
  uint32_t *order; /* [ops] indices into ords/keys, shuffled */
  hf_value *miss;  /* [nmiss * nkeys] keys that are absent */
  size_t nmiss;
  char *miss_text; /* backing store of string miss keys */
  unsigned runs;
  uint32_t hot; /* -k: distinct keys drawn from, 0 = all */
  uint64_t seed;
} bench;

static volatile uint64_t g_sink; /* keeps timed work from being elided */

static void die(const char *what, const hf_error *e) {
  fprintf(stderr, ME ": %s: %s\n", what, e ? e->msg : strerror(errno));
  exit(2);
}

static void *xmalloc(size_t n, size_t size) {
  void *p = (n && size > SIZE_MAX / n) ? NULL : malloc(n * size + 1);
  if (!p) {
    fprintf(stderr, ME ": out of memory\n");
    exit(2);
  }
  return p;
}

static void report(const char *name, double *ns, unsigned runs, size_t ops) {
  const hb_stats s = hb_stats_of(ns, runs);
  printf("%-22s ns/op  median %8.1f  min %8.1f  max %8.1f  (%u runs x %zu)\n",
         name, s.median, s.min, s.max, runs, ops);
}

/* Every key of the target type, in ordinal order. */
static void load_keys(bench *b) {
  hf_error err;
  uint32_t o, i = 0;
  b->count = hf_reader_record_count(b->r, b->t.type);
  if (b->count == 0) {
    fprintf(stderr, ME ": type has no records\n");
    exit(2);
  }
  b->ords = xmalloc(b->count, sizeof *b->ords);
  b->keys = xmalloc((size_t)b->count * b->t.nkeys, sizeof *b->keys);
  for (o = hf_reader_next(b->r, b->t.type, 0);
       o != HF_NO_ORDINAL && i < b->count;
       o = hf_reader_next(b->r, b->t.type, o + 1), i++) {
    b->ords[i] = o;
    if (hb_key_values(b->r, &b->t, o, &b->keys[(size_t)i * b->t.nkeys], &err))
      die("reading keys", &err);
  }
  if (i != b->count) {
    fprintf(stderr, ME ": iterated %u records, header says %u\n", i, b->count);
    exit(1);
  }
}

/* ops indices into the key array: a seeded shuffle of all of them, repeated
 * (and reshuffled) when ops exceeds the record count.  With -k, only the
 * first `hot` keys of the first shuffle are drawn: a working set that stays
 * in cache, to separate the CPU cost of a lookup from memory latency. */
static void make_order(bench *b) {
  uint64_t st = b->seed;
  uint32_t *perm = xmalloc(b->count, sizeof *perm);
  const uint32_t pool = b->hot && b->hot < b->count ? b->hot : b->count;
  size_t done = 0;
  uint32_t i;
  for (i = 0; i < b->count; i++)
    perm[i] = i;
  hb_shuffle_u32(perm, b->count, &st);
  b->order = xmalloc(b->ops, sizeof *b->order);
  while (done < b->ops) {
    size_t n = b->ops - done < pool ? b->ops - done : pool;
    if (done > 0)
      hb_shuffle_u32(perm, pool, &st);
    memcpy(b->order + done, perm, n * sizeof *perm);
    done += n;
  }
  free(perm);
}

/* Absent keys: existing keys with the first part changed, kept only if the
 * index confirms they are absent (checked here, untimed). */
static void make_misses(bench *b) {
  const uint32_t nk = b->t.nkeys;
  uint64_t st = b->seed ^ UINT64_C(0x6d697373);
  size_t i, n = 0;
  const size_t want = b->ops < 100000 ? b->ops : 100000;
  const size_t tlen = 24;
  b->miss = xmalloc(want * nk, sizeof *b->miss);
  b->miss_text = xmalloc(want, tlen);
  for (i = 0; i < want; i++) {
    hf_value *q = &b->miss[n * nk];
    const uint64_t x = hb_rand(&st);
    hf_record rec;
    memcpy(q, &b->keys[(size_t)b->order[i] * nk], nk * sizeof *q);
    switch (q[0].type) {
    case HF_FT_INT:
      q[0].u.i = (int32_t)(uint32_t)x;
      break;
    case HF_FT_LONG:
      q[0].u.l = (int64_t)(x >> 1);
      break;
    case HF_FT_FLOAT:
      q[0].u.f = (float)(x >> 40) + 0.5f;
      break;
    case HF_FT_DOUBLE:
      q[0].u.d = (double)(x >> 11) + 0.25;
      break;
    case HF_FT_BOOLEAN:
      q[0].u.b = !q[0].u.b;
      break;
    default: {
      char *s = b->miss_text + i * tlen;
      q[0].u.s.ptr = s;
      q[0].u.s.len = (size_t)snprintf(s, tlen, "~miss~%016" PRIx64, x);
    }
    }
    if (hf_reader_find(b->r, b->t.type, q, nk, &rec) == HF_NOTFOUND)
      n++;
  }
  b->nmiss = n;
}

/* One pass over all queries, untimed: every key must find its own ordinal.
 * Also faults the index and slots in. */
static void check_hits(const bench *b) {
  size_t i;
  for (i = 0; i < b->ops; i++) {
    const uint32_t k = b->order[i];
    hf_record rec;
    const int rc = hf_reader_find(
        b->r, b->t.type, &b->keys[(size_t)k * b->t.nkeys], b->t.nkeys, &rec);
    if (rc != HF_OK || rec.ordinal != b->ords[k]) {
      fprintf(stderr, ME ": key of ordinal %u: %s (got ordinal %u)\n",
              b->ords[k], hf_strerror(rc), rc == HF_OK ? rec.ordinal : 0);
      exit(1);
    }
  }
}

static uint64_t run_hits(const bench *b, int with_string) {
  const uint32_t nk = b->t.nkeys, sf = b->t.str_field;
  uint64_t sink = 0, t0;
  size_t i;
  t0 = hb_now_ns();
  for (i = 0; i < b->ops; i++) {
    hf_record rec;
    if (hf_reader_find(b->r, b->t.type, &b->keys[(size_t)b->order[i] * nk], nk,
                       &rec) != HF_OK)
      exit(1);
    sink += rec.ordinal;
    if (with_string) {
      hf_view v;
      if (hf_record_string(&rec, sf, &v) == HF_OK && v.len)
        sink += *(const unsigned char *)v.ptr;
    }
  }
  t0 = hb_now_ns() - t0;
  g_sink += sink;
  return t0;
}

static uint64_t run_misses(const bench *b) {
  const uint32_t nk = b->t.nkeys;
  uint64_t t0 = hb_now_ns(), found = 0;
  size_t i;
  for (i = 0; i < b->nmiss; i++) {
    hf_record rec;
    found +=
        hf_reader_find(b->r, b->t.type, &b->miss[i * nk], nk, &rec) == HF_OK;
  }
  t0 = hb_now_ns() - t0;
  if (found) {
    fprintf(stderr, ME ": %" PRIu64 " absent keys were found\n", found);
    exit(1);
  }
  return t0;
}

static void bench_hits(const bench *b) {
  double *ns = xmalloc(b->runs, sizeof *ns);
  unsigned k;
  for (k = 0; k < b->runs; k++)
    ns[k] = (double)run_hits(b, 0) / (double)b->ops;
  report("lookup.hit", ns, b->runs, b->ops);
  if (b->t.str_field != HF_NO_TYPE) {
    for (k = 0; k < b->runs; k++)
      ns[k] = (double)run_hits(b, 1) / (double)b->ops;
    report("lookup.hit+string", ns, b->runs, b->ops);
  }
  if (b->nmiss) {
    for (k = 0; k < b->runs; k++)
      ns[k] = (double)run_misses(b) / (double)b->nmiss;
    report("lookup.miss", ns, b->runs, b->nmiss);
  }
  free(ns);
}

/* ---- Field access -------------------------------------------------------- */

static const hf_ftype k_ftypes[] = {HF_FT_INT,    HF_FT_LONG,    HF_FT_FLOAT,
                                    HF_FT_DOUBLE, HF_FT_BOOLEAN, HF_FT_STRING};
static const char *const k_fnames[] = {"int",    "long",    "float",
                                       "double", "boolean", "string"};

/* First field of `ft` in the target type, or HF_NO_TYPE. */
static uint32_t field_of(const bench *b, hf_ftype ft) {
  const hf_schema *s = hf_reader_schema(b->r);
  hf_type_info ti;
  uint32_t f;
  hf_schema_type(s, b->t.type, &ti);
  for (f = 0; f < ti.field_count; f++) {
    hf_field_info fi;
    if (hf_schema_field(s, b->t.type, f, &fi) == HF_OK && fi.type == ft)
      return f;
  }
  return HF_NO_TYPE;
}

/* Reads field f of every record once; returns a value-dependent sum.
 * Counts results that are neither HF_OK nor HF_NULL in *bad. */
static uint64_t read_field(const hf_record *recs, size_t n, uint32_t f,
                           hf_ftype ft, size_t *bad) {
  uint64_t sink = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    int rc;
    union {
      int32_t i;
      int64_t l;
      float fl;
      double d;
      int b;
      hf_view v;
    } u;
    memset(&u, 0, sizeof u);
    switch (ft) {
    case HF_FT_INT:
      rc = hf_record_int(&recs[i], f, &u.i);
      sink += (uint64_t)u.i;
      break;
    case HF_FT_LONG:
      rc = hf_record_long(&recs[i], f, &u.l);
      sink += (uint64_t)u.l;
      break;
    case HF_FT_FLOAT:
      rc = hf_record_float(&recs[i], f, &u.fl);
      sink += (uint64_t)(u.fl > 0);
      break;
    case HF_FT_DOUBLE:
      rc = hf_record_double(&recs[i], f, &u.d);
      sink += (uint64_t)(u.d > 0);
      break;
    case HF_FT_BOOLEAN:
      rc = hf_record_bool(&recs[i], f, &u.b);
      sink += (uint64_t)u.b;
      break;
    default:
      rc = hf_record_string(&recs[i], f, &u.v);
      sink += u.v.len;
      break;
    }
    *bad += rc != HF_OK && rc != HF_NULL;
  }
  return sink;
}

static void bench_fields(const bench *b) {
  hf_record *recs = xmalloc(b->ops, sizeof *recs);
  double *ns = xmalloc(b->runs, sizeof *ns);
  size_t i, j, bad = 0;
  unsigned k;
  char name[32];

  for (k = 0; k < b->runs; k++) {
    uint64_t t0 = hb_now_ns();
    for (i = 0; i < b->ops; i++)
      if (hf_reader_record(b->r, b->t.type, b->ords[b->order[i]], &recs[i]) !=
          HF_OK)
        exit(1);
    ns[k] = (double)(hb_now_ns() - t0) / (double)b->ops;
  }
  report("record.locate", ns, b->runs, b->ops);

  for (j = 0; j < sizeof k_ftypes / sizeof k_ftypes[0]; j++) {
    const uint32_t f = field_of(b, k_ftypes[j]);
    if (f == HF_NO_TYPE)
      continue;
    for (k = 0; k < b->runs; k++) {
      uint64_t t0 = hb_now_ns();
      g_sink += read_field(recs, b->ops, f, k_ftypes[j], &bad);
      ns[k] = (double)(hb_now_ns() - t0) / (double)b->ops;
    }
    snprintf(name, sizeof name, "field.%s", k_fnames[j]);
    report(name, ns, b->runs, b->ops);
  }
  free(ns);
  free(recs);
  if (bad) {
    fprintf(stderr, ME ": %zu field reads failed\n", bad);
    exit(1);
  }
}

/* ---- Allocations ----------------------------------------------------------
 */

/* ops lookups, each followed by a read of every field kind; no allocation
 * may happen in between (STYLE.md §4: the read path does not allocate). */
static int check_allocs(const bench *b) {
  const uint32_t nk = b->t.nkeys;
  uint32_t fields[sizeof k_ftypes / sizeof k_ftypes[0]];
  size_t i, j, bad = 0;
  uint64_t sink = 0;
  for (j = 0; j < sizeof k_ftypes / sizeof k_ftypes[0]; j++)
    fields[j] = field_of(b, k_ftypes[j]);
#ifdef HB_ALLOC_COUNT
  /* The counter must see a known allocation, or a zero below means nothing
   * (volatile keeps the compiler from pairing malloc with free away). */
  g_allocs = 0;
  g_counting = 1;
  g_probe = malloc(16);
  free(g_probe);
  g_counting = 0;
  if (g_allocs != 2) {
    fprintf(stderr, ME ": allocation counter does not work (%lu)\n", g_allocs);
    return 1;
  }
  g_allocs = 0;
  g_counting = 1;
#endif
  for (i = 0; i < b->ops; i++) {
    hf_record rec;
    if (hf_reader_find(b->r, b->t.type, &b->keys[(size_t)b->order[i] * nk], nk,
                       &rec) != HF_OK)
      bad++;
    for (j = 0; j < sizeof k_ftypes / sizeof k_ftypes[0]; j++)
      if (fields[j] != HF_NO_TYPE)
        sink += read_field(&rec, 1, fields[j], k_ftypes[j], &bad);
  }
  for (i = 0; i < b->nmiss; i++) {
    hf_record rec;
    bad += hf_reader_find(b->r, b->t.type, &b->miss[i * nk], nk, &rec) !=
           HF_NOTFOUND;
  }
#ifdef HB_ALLOC_COUNT
  g_counting = 0;
  g_sink += sink;
  printf(
      "allocations            %lu in %zu lookups + field reads, %zu misses\n",
      g_allocs, b->ops, b->nmiss);
  if (bad || g_allocs) {
    fprintf(stderr, ME ": %s\n",
            bad ? "lookups failed" : "lookup path allocates");
    return 1;
  }
#else
  g_sink += sink;
  printf("allocations            not counted in this build (needs glibc, no "
         "sanitizer)\n");
  if (bad)
    return 1;
#endif
  return 0;
}

static void usage(FILE *f) {
  fprintf(f, "usage: " ME " [-n OPS] [-r RUNS] [-s SEED] [-t TYPE] [-f FIELD] "
             "[-k KEYS] FILE\n"
             "  -n OPS    lookups per run (default 1000000)\n"
             "  -r RUNS   runs per figure (default 5)\n"
             "  -s SEED   shuffle seed (default 42)\n"
             "  -t TYPE   keyed type (default: keyed type with most records)\n"
             "  -k KEYS   draw lookups from KEYS distinct keys only (cache-"
             "resident)\n"
             "  -f FIELD  string field read after lookups (default: first "
             "non-key string)\n");
}

int main(int argc, char **argv) {
  bench b;
  const char *type_name = NULL, *field_name = NULL;
  hf_reader *r;
  hf_error err;
  hf_info info;
  int c;

  memset(&b, 0, sizeof b);
  b.ops = 1000000;
  b.runs = 5;
  b.seed = 42;
  while ((c = getopt(argc, argv, "n:r:s:t:f:k:h")) != -1) {
    switch (c) {
    case 'n':
      b.ops = (size_t)strtoull(optarg, NULL, 10);
      break;
    case 'r':
      b.runs = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 's':
      b.seed = strtoull(optarg, NULL, 10);
      break;
    case 'k':
      b.hot = (uint32_t)strtoul(optarg, NULL, 10);
      break;
    case 't':
      type_name = optarg;
      break;
    case 'f':
      field_name = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc - 1 || b.ops == 0 || b.runs == 0) {
    usage(stderr);
    return 2;
  }
  if (hf_reader_open(argv[optind], NULL, &r, &err) != HF_OK)
    die(argv[optind], &err);
  b.r = r;
  if (hb_target_pick(r, type_name, field_name, &b.t, &err) != HF_OK)
    die(argv[optind], &err);
  hf_reader_info(r, &info);
  load_keys(&b);
  make_order(&b);
  make_misses(&b);
  check_hits(&b);
  printf("file %s: %" PRIu64 " bytes, type %u: %u records, %u key part(s), "
         "seed %" PRIu64 ", %u distinct keys queried\n",
         argv[optind], info.file_size, b.t.type, b.count, b.t.nkeys, b.seed,
         b.hot && b.hot < b.count ? b.hot : b.count);
  bench_hits(&b);
  bench_fields(&b);
  c = check_allocs(&b);
  free(b.miss_text);
  free(b.miss);
  free(b.order);
  free(b.keys);
  free(b.ords);
  hf_reader_close(r);
  return c;
}
