/*
 * hf_jsonl.c - JSON Lines from a descriptor into a builder, streaming, with
 * the parsing on worker threads (hf_builder_add_jsonl()).
 *
 * The input is read in batches of whole lines (BATCH bytes, more for a
 * longer line), so memory stays bounded whatever the input's size.  With
 * one thread each line goes to hf_builder_add_json().  With N threads, N-1
 * workers take turns reading a batch and then parse it onto a tape
 * (hf_jtape.h) while the calling thread replays finished tapes in input
 * order; the tape design makes the result and the first error the same as
 * with one thread.  Builder calls all happen on the calling thread: the
 * builder needs no lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hf_builder_internal.h"
#include "hf_jtape.h"

#define BATCH ((size_t)1 << 20)
#define MAX_WORKERS 64

enum { B_FREE, B_BUSY, B_READY };

/* Store arrays whose fresh pages workers touch first (see prefault). */
#define PF_ARRAYS 5
#define PF_AHEAD ((size_t)16 << 20)
#define PF_MIN ((size_t)1 << 20)
#define PF_QUEUE 32

typedef struct pf_mark {
  const unsigned char *base; /* the array when last looked at */
  size_t upto;               /* bytes of it asked for so far */
} pf_mark;

typedef struct pf_range {
  unsigned char *p;
  size_t n;
} pf_range;

typedef struct batch {
  char *text; /* whole lines, the last one maybe without its newline */
  size_t len, cap;
  uint64_t first_line;
  hf_jtape tape;
  size_t taped;        /* text[0..taped) is on the tape, the rest is not */
  uint64_t taped_line; /* number of the first line not on the tape */
  int end_rc;          /* after the lines: an error to report, or HF_OK */
  hf_error end_err;
  int end_errno;
  int state; /* B_*, under ingest.mu */
} batch;

typedef struct ingest {
  hf_builder *b;
  const hf_schema *s;
  uint32_t flags, type;
  uint64_t max_line;
  /* the source, read under mu by whichever thread fills a batch */
  int fd;
  uint64_t line;   /* lines handed out so far */
  uint64_t offset; /* bytes read so far */
  char *carry;     /* the start of a line read past the last full line */
  size_t carry_len, carry_cap;
  int src_done; /* end of input or a read error has been handed out */
  /* the ring of batches; batch k is ring[k % nring] */
  pthread_mutex_t mu;
  pthread_cond_t ready, freed;
  batch *ring;
  unsigned nring;
  uint64_t next_fill;
  int stop; /* the calling thread is done: workers quit */
  /* ranges of fresh store memory for workers to fault in, under mu */
  pf_mark *marks; /* PF_ARRAYS per type; the building thread's */
  pf_range pfq[PF_QUEUE];
  unsigned pf_n;
  int pf_off; /* the kernel cannot: stop asking */
} ingest;

/* ---- reading ---------------------------------------------------------- */

/* Room for `need` bytes at *p; a buffer holds a whole batch at least. */
static int reserve(char **p, size_t *cap, size_t need) {
  return hf_grow(p, cap, need < BATCH ? BATCH : need, 1);
}

static void end_with(batch *bt, int rc, int e, hf_error *src) {
  bt->end_rc = rc;
  bt->end_err = *src;
  bt->end_errno = e;
}

/* read(2) into p[0..n), resuming after signals: bytes read, 0 at end of
 * input, -1 on error. */
static ssize_t read_some(int fd, char *p, size_t n) {
  for (;;) {
    ssize_t r = read(fd, p, n);
    if (r >= 0 || errno != EINTR)
      return r;
  }
}

/* Ends the batch with "line `line` is too long" (`len` bytes). */
static void line_too_long(const ingest *g, batch *bt, uint64_t line,
                          uint64_t len) {
  hf_error e;
  hf_fail_at(&e, HF_E_LIMIT, line, 0,
             "line of %llu bytes is longer than the limit of %llu bytes",
             (unsigned long long)len, (unsigned long long)g->max_line);
  end_with(bt, HF_E_LIMIT, 0, &e);
}

/* The rest of a line found too long: counts its bytes to the newline so the
 * message can say how long it is. */
static void too_long(ingest *g, batch *bt, uint64_t have, int cr_last) {
  char buf[65536];
  uint64_t n = have;
  for (;;) {
    ssize_t r = read_some(g->fd, buf, sizeof buf);
    const char *nl;
    if (r <= 0)
      break; /* a read error: the line is too long all the same */
    g->offset += (uint64_t)r;
    nl = memchr(buf, '\n', (size_t)r);
    if (nl != NULL) {
      n += (uint64_t)(nl - buf);
      cr_last = nl > buf ? nl[-1] == '\r' : cr_last;
      break;
    }
    n += (uint64_t)r;
    cr_last = buf[r - 1] == '\r';
  }
  if (cr_last && n > 0)
    n--;
  line_too_long(g, bt, g->line + 1, n);
}

/* Ends the batch and the input with an error (after bt's lines). */
static void fail_src(ingest *g, batch *bt, int code, int en, const char *fmt,
                     unsigned long long n) {
  hf_error e;
  hf_fail_at(&e, code, g->line + 1, 0, fmt, n);
  if (code == HF_E_IO)
    e.offset = g->offset;
  end_with(bt, code, en, &e);
  g->src_done = 1;
}

/* Length of p[0..n) after its last newline (n when there is none). */
static size_t tail_len(const char *p, size_t n) {
  size_t i = n;
  while (i > 0 && p[i - 1] != '\n')
    i--;
  return n - i;
}

static uint64_t count_lines(const char *p, size_t n) {
  const char *end = p + n;
  uint64_t lines = 0;
  while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    lines++;
    p++;
  }
  return lines + (n > 0 && end[-1] != '\n'); /* a last line without one */
}

/* Moves the partial line at the end of bt into g->carry. */
static int keep_tail(ingest *g, batch *bt) {
  const size_t keep = tail_len(bt->text, bt->len);
  if (reserve(&g->carry, &g->carry_cap, keep + 1) != HF_OK)
    return HF_E_NOMEM;
  memcpy(g->carry, bt->text + bt->len - keep, keep);
  g->carry_len = keep;
  bt->len -= keep;
  return HF_OK;
}

/* Reads until bt is full or the input ends; 1 at the end of input, 0 when
 * full, -1 on a read error. */
static int read_batch(ingest *g, batch *bt) {
  while (bt->len < bt->cap) {
    const ssize_t r = read_some(g->fd, bt->text + bt->len, bt->cap - bt->len);
    if (r <= 0)
      return r == 0 ? 1 : -1;
    g->offset += (uint64_t)r;
    bt->len += (size_t)r;
  }
  return 0;
}

/* Fills bt with the next whole lines (under mu when threaded).  At the end
 * of input or on an error g->src_done is set; an error is left in bt's end
 * fields, to be reported after bt's lines. */
static void fill(ingest *g, batch *bt) {
  int rd;
  bt->len = 0;
  bt->end_rc = HF_OK;
  bt->first_line = g->line + 1;
  if (reserve(&bt->text, &bt->cap, g->carry_len + 1) != HF_OK) {
    fail_src(g, bt, HF_E_NOMEM, 0, "out of memory for %llu bytes",
             (unsigned long long)g->carry_len);
    return;
  }
  if (g->carry_len > 0) /* carry is NULL before the first line is split */
    memcpy(bt->text, g->carry, g->carry_len);
  bt->len = g->carry_len;
  g->carry_len = 0;
  while ((rd = read_batch(g, bt)) == 0 &&
         tail_len(bt->text, bt->len) == bt->len) {
    /* a whole buffer without a newline: one long line */
    if (bt->len > g->max_line + 1) {
      too_long(g, bt, bt->len, bt->text[bt->len - 1] == '\r');
      bt->len = 0;
      g->src_done = 1;
      return;
    }
    if (reserve(&bt->text, &bt->cap, bt->len + 1) != HF_OK) {
      fail_src(g, bt, HF_E_NOMEM, 0, "out of memory for a line of %llu bytes",
               (unsigned long long)bt->len);
      bt->len = 0;
      return;
    }
  }
  if (rd < 0) {
    /* the lines read so far are added, the partial one is not */
    const int en = errno;
    bt->len -= tail_len(bt->text, bt->len);
    fail_src(g, bt, HF_E_IO, en, "read failed after %llu bytes",
             (unsigned long long)g->offset);
  } else if (rd > 0) {
    g->src_done = 1;
  } else if (keep_tail(g, bt) != HF_OK) {
    fail_src(g, bt, HF_E_NOMEM, 0, "out of memory for %llu bytes",
             (unsigned long long)bt->len);
    bt->len = 0;
  }
  g->line += count_lines(bt->text, bt->len);
}

/* ---- lines ------------------------------------------------------------ */

static int blank(const char *p, size_t len) {
  size_t i;
  for (i = 0; i < len; i++)
    if (p[i] != ' ' && p[i] != '\t')
      return 0;
  return 1;
}

/* Adds the lines of bt from byte `from` (line number `line`) on: to the
 * builder b, or, with b NULL, to bt's tape.  Lines longer than the limit end
 * the batch with an error.  Returns the builder's first error, HF_OK, or (on
 * a tape) HF_E_NOMEM when a line could not be recorded; bt->taped then
 * says where the tape stops. */
static int run_lines(ingest *g, batch *bt, size_t from, uint64_t line,
                     hf_builder *b, uint64_t *records, hf_error *err) {
  const char *p = bt->text + from, *end = bt->text + bt->len;
  for (; p < end; line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl != NULL ? nl : end;
    size_t len = (size_t)(stop - p);
    int rc = HF_OK;
    if (len > 0 && p[len - 1] == '\r') /* CRLF input */
      len--;
    if (len > g->max_line) {
      line_too_long(g, bt, line, len);
      bt->len = (size_t)(p - bt->text); /* nothing after it counts */
      break;
    }
    if (!blank(p, len)) {
      if (b != NULL) {
        if ((rc = hf_builder_add_json(b, g->type, p, len, line, err)) < 0)
          return rc;
        ++*records;
      } else if ((rc = hf_json_tape_line(g->s, g->flags, g->type, p, len, line,
                                         &bt->tape)) != HF_OK) {
        bt->taped = (size_t)(p - bt->text);
        bt->taped_line = line;
        return rc;
      }
    }
    p = nl != NULL ? nl + 1 : end;
  }
  if (b == NULL) {
    bt->taped = bt->len;
    bt->taped_line = line;
  }
  return HF_OK;
}

/* Parses bt onto its tape (a worker's part). */
static void tape_batch(ingest *g, batch *bt) {
  if (hf_jtape_reset(&bt->tape, g->s, bt->text, bt->len, bt->first_line) !=
      HF_OK) {
    bt->taped = 0; /* the building thread adds them all */
    bt->taped_line = bt->first_line;
    return;
  }
  run_lines(g, bt, 0, bt->first_line, NULL, NULL, NULL);
}

/* Adds bt to the builder (the calling thread's part): its tape, then any
 * lines the tape could not hold, then its end error. */
static int build_batch(ingest *g, batch *bt, int taped, uint64_t *records,
                       hf_error *err) {
  uint64_t n = 0;
  int rc = HF_OK;
  if (taped) {
    rc = hf_jtape_replay(&bt->tape, g->b, g->type, &n, err);
    *records += n;
    if (rc == HF_OK && bt->taped < bt->len)
      rc = run_lines(g, bt, bt->taped, bt->taped_line, g->b, records, err);
  } else {
    rc = run_lines(g, bt, 0, bt->first_line, g->b, records, err);
  }
  if (rc == HF_OK && bt->end_rc != HF_OK) {
    if (err != NULL)
      *err = bt->end_err;
    errno = bt->end_errno;
    rc = bt->end_rc;
  }
  return rc;
}

/* ---- prefaulting ----------------------------------------------------- */

/* The building thread is the ingest's critical path, and a good part of
 * its time went to first touches of the stores' fresh pages (the kernel
 * zeroing them).  So after each batch it posts the next PF_AHEAD bytes
 * past the end of each store array, and a worker has the kernel fault
 * them in (MADV_POPULATE_WRITE changes no byte; a range that realloc has
 * moved since is at worst faulted in for nothing).  A hint: without the
 * call (older kernels, other systems) nothing changes. */
static void plan_one(ingest *g, pf_mark *m, void *arr, size_t used,
                     size_t cap) {
  unsigned char *base = arr;
  size_t want;
  if (base == NULL)
    return;
  if (base != m->base || m->upto < used) {
    m->base = base;
    m->upto = used;
  }
  want = cap - used < PF_AHEAD ? cap : used + PF_AHEAD;
  if (want >= m->upto + PF_MIN && g->pf_n < PF_QUEUE) {
    g->pfq[g->pf_n].p = base + m->upto;
    g->pfq[g->pf_n].n = want - m->upto;
    g->pf_n++;
    m->upto = want;
  }
}

/* The building thread, between batches, under mu. */
static void plan_prefault(ingest *g) {
#if defined(MADV_POPULATE_WRITE)
  uint32_t t;
  if (g->marks == NULL || g->pf_off)
    return;
  for (t = 0; t < g->s->ntypes; t++) {
    const hf_bstore *st = &g->b->stores[t];
    pf_mark *m = &g->marks[(size_t)t * PF_ARRAYS];
    plan_one(g, &m[0], st->data, (size_t)st->data_len, (size_t)st->data_cap);
    if (st->cap == 0)
      continue;
    plan_one(g, &m[1], st->off, ((size_t)st->n + 1) * 8,
             ((size_t)st->cap + 1) * 8);
    plan_one(g, &m[2], st->hash, (size_t)st->n * 8, (size_t)st->cap * 8);
    plan_one(g, &m[3], st->line, (size_t)st->n * 8, (size_t)st->cap * 8);
    plan_one(g, &m[4], st->flags, st->n, st->cap);
  }
#else
  (void)g;
#endif
}

/* A worker, under mu: faults in what is posted (mu released meanwhile). */
static void run_prefault(ingest *g) {
#if defined(MADV_POPULATE_WRITE)
  while (g->pf_n > 0 && !g->pf_off && !g->stop) {
    const pf_range r = g->pfq[--g->pf_n];
    int rc;
    pthread_mutex_unlock(&g->mu);
    rc = hf_populate(r.p, r.n);
    pthread_mutex_lock(&g->mu);
    if (rc != 0 && errno == EINVAL)
      g->pf_off = 1;
  }
#else
  (void)g;
#endif
}

/* ---- threads ---------------------------------------------------------- */

static void *worker(void *arg) {
  ingest *g = arg;
  pthread_mutex_lock(&g->mu);
  for (;;) {
    batch *bt = &g->ring[g->next_fill % g->nring];
    while (!g->stop && !g->src_done && bt->state != B_FREE) {
      pthread_cond_wait(&g->freed, &g->mu);
      bt = &g->ring[g->next_fill % g->nring];
    }
    if (g->stop || g->src_done)
      break;
    bt->state = B_BUSY;
    g->next_fill++;
    fill(g, bt); /* reading stays in input order: under the lock */
    pthread_mutex_unlock(&g->mu);
    tape_batch(g, bt);
    pthread_mutex_lock(&g->mu);
    bt->state = B_READY;
    pthread_cond_broadcast(&g->ready);
    run_prefault(g);
  }
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

/* The calling thread: replays batches in order as they become ready. */
static int consume(ingest *g, uint64_t *records, hf_error *err) {
  uint64_t k;
  int rc = HF_OK;
  for (k = 0; rc == HF_OK; k++) {
    batch *bt = &g->ring[k % g->nring];
    int ready;
    pthread_mutex_lock(&g->mu);
    while (bt->state != B_READY && !(g->src_done && k >= g->next_fill))
      pthread_cond_wait(&g->ready, &g->mu);
    ready = bt->state == B_READY;
    pthread_mutex_unlock(&g->mu);
    if (!ready)
      break; /* all batches consumed */
    rc = build_batch(g, bt, 1, records, err);
    pthread_mutex_lock(&g->mu);
    plan_prefault(g);
    bt->state = B_FREE;
    pthread_cond_broadcast(&g->freed);
    pthread_mutex_unlock(&g->mu);
  }
  return rc;
}

static int threaded(ingest *g, unsigned workers, uint64_t *records,
                    hf_error *err) {
  pthread_t tid[MAX_WORKERS];
  unsigned i, started = 0;
  int rc, e;
  /* Four batches per worker, and four more: where threads outnumber CPUs,
   * workers that run ahead keep busy while the building thread waits for
   * a CPU, instead of stopping at a full ring (bench/README.md). */
  g->nring = 4 * workers + 4;
  g->ring = calloc(g->nring, sizeof *g->ring);
  if (g->ring == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  /* without marks there is no prefaulting, and nothing else changes */
  g->marks = calloc((size_t)g->s->ntypes * PF_ARRAYS + 1, sizeof *g->marks);
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->ready, NULL);
  pthread_cond_init(&g->freed, NULL);
  for (i = 0; i < workers; i++)
    if (pthread_create(&tid[i], NULL, worker, g) == 0)
      started++;
  if (started == 0) {
    rc = hf_fail(err, HF_E_NOMEM, UINT64_MAX, "cannot start a thread");
  } else {
    rc = consume(g, records, err);
  }
  e = errno; /* an I/O error's errno, past the joins */
  pthread_mutex_lock(&g->mu);
  g->stop = 1;
  pthread_cond_broadcast(&g->freed);
  pthread_mutex_unlock(&g->mu);
  for (i = 0; i < started; i++)
    pthread_join(tid[i], NULL);
  for (i = 0; i < g->nring; i++) {
    free(g->ring[i].text);
    hf_jtape_free(&g->ring[i].tape);
  }
  free(g->ring);
  free(g->marks);
  pthread_cond_destroy(&g->freed);
  pthread_cond_destroy(&g->ready);
  pthread_mutex_destroy(&g->mu);
  errno = e;
  return rc;
}

/* One thread: each batch is taped, then replayed, as the threads do it.
 * Replaying a tape is what lets the builder prefetch its tables and blobs
 * ops ahead; building straight from the lines left it waiting on each
 * miss. */
static int sequential(ingest *g, uint64_t *records, hf_error *err) {
  batch bt;
  int rc = HF_OK;
  memset(&bt, 0, sizeof bt);
  while (rc == HF_OK && !g->src_done) {
    fill(g, &bt);
    tape_batch(g, &bt);
    rc = build_batch(g, &bt, 1, records, err);
  }
  free(bt.text);
  hf_jtape_free(&bt.tape);
  return rc;
}

int hf_builder_add_jsonl(hf_builder *b, int fd, const hf_jsonl_opts *opts,
                         uint64_t *records, hf_error *err) {
  const hf_jsonl_opts none = {0, 0, 0};
  const hf_jsonl_opts *o = opts != NULL ? opts : &none;
  ingest g;
  uint64_t n = 0;
  int rc;
  if (records != NULL)
    *records = 0;
  if (b == NULL || fd < 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder or descriptor");
  if (o->type >= hf_builder_schema(b)->ntypes)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "type %u out of range",
                   (unsigned)o->type);
  if (hf_builder_depth(b) != 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX,
                   "a record is open: JSON adds root records only");
  memset(&g, 0, sizeof g);
  g.b = b;
  g.s = hf_builder_schema(b);
  g.flags = hf_builder_flags(b);
  g.type = o->type;
  g.max_line = o->max_line > 0 && o->max_line < HF_MAX_JSON_LINE
                   ? o->max_line
                   : HF_MAX_JSON_LINE;
  g.fd = fd;
  if (o->threads > 1)
    rc = threaded(&g,
                  o->threads - 1 < MAX_WORKERS ? o->threads - 1 : MAX_WORKERS,
                  &n, err);
  else
    rc = sequential(&g, &n, err);
  free(g.carry);
  if (records != NULL)
    *records = n;
  return rc;
}
