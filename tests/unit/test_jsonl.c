/* test_jsonl.c - hf_builder_add_jsonl(): streamed JSON Lines, parsed on
 * worker threads, give exactly what adding the lines one by one gives: the
 * same snapshot bytes, the same first error, the same lines kept. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_gen.h"

typedef struct text {
  char *p;
  size_t n, cap;
} text;

static void put(text *t, const void *p, size_t len) {
  if (t->n + len + 1 > t->cap) {
    t->cap = (t->n + len + 1) * 2;
    t->p = realloc(t->p, t->cap);
    cr_assert_not_null(t->p);
  }
  memcpy(t->p + t->n, p, len);
  t->n += len;
  t->p[t->n] = '\0';
}

static int sink(void *ctx, const void *p, size_t len) {
  put(ctx, p, len);
  return 0;
}

/* The schema and root type the helpers below use (each test runs in a
 * process of its own). */
static const char *cur_schema = hf_gen_schema, *cur_root = "Root";

static hf_schema *gen_schema(void) {
  hf_schema *s = NULL;
  hf_error err;
  cr_assert_eq(hf_schema_parse(cur_schema, strlen(cur_schema), &s, &err), HF_OK,
               "%s", err.msg);
  return s;
}

static uint32_t root_type(const hf_schema *s) {
  uint32_t t;
  cr_assert_eq(hf_schema_type_find(s, cur_root, strlen(cur_root), &t), HF_OK);
  return t;
}

/* n generated Root records as JSON Lines, one per line, with some lines
 * ending in CRLF, blank lines between some, and no newline after the last
 * when `open_end`. */
static text gen_lines(uint64_t seed, unsigned n, int open_end) {
  hf_schema *s = gen_schema();
  hf_builder *b;
  hf_reader *r;
  hf_error err;
  unsigned char *snap;
  size_t len;
  text out = {0};
  uint32_t t = root_type(s), o;
  unsigned k = 0;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(hf_gen_roots(b, s, seed, n, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_gen_snapshot(b, &snap, &len, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_open_mem(snap, len, NULL, &r, &err), HF_OK);
  put(&out, "", 0);
  for (o = hf_reader_next(r, t, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(r, t, o + 1), k++) {
    cr_assert_eq(hf_json_write_record(r, t, o, sink, &out, &err), HF_OK);
    if (k % 7 == 3)
      put(&out, "\r\n", 2);
    else
      put(&out, "\n", 1);
    if (k % 11 == 5)
      put(&out, k % 2 ? " \t \n" : "\n", k % 2 ? 4 : 1);
  }
  if (open_end && out.n > 0 && out.p[out.n - 1] == '\n')
    out.p[--out.n] = '\0';
  hf_reader_close(r);
  free(snap);
  hf_builder_free(b);
  hf_schema_free(s);
  return out;
}

/* The outcome of one ingest: return code, error, records added, and the
 * snapshot of what the builder kept. */
typedef struct outcome {
  int rc;
  hf_error err;
  uint64_t records;
  unsigned char *snap;
  size_t len;
} outcome;

static void finish(hf_builder *b, hf_schema *s, outcome *out) {
  hf_error err;
  cr_assert_eq(hf_gen_snapshot(b, &out->snap, &out->len, &err), HF_OK, "%s",
               err.msg);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* Reference: the lines split and added one by one, as the format says. */
static outcome by_lines(const text *in, uint64_t max_line) {
  hf_schema *s = gen_schema();
  hf_builder *b;
  outcome out;
  const char *p = in->p, *end = in->p + in->n;
  uint64_t line = 0;
  memset(&out, 0, sizeof out);
  cr_assert_eq(hf_builder_new(s, NULL, &b, &out.err), HF_OK);
  while (p < end && out.rc == HF_OK) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((nl ? nl : end) - p), i;
    line++;
    if (len > 0 && p[len - 1] == '\r')
      len--;
    for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
      ;
    if (max_line > 0 && len > max_line) {
      out.rc = HF_E_LIMIT;
      out.err.line = line;
    } else if (i < len) {
      out.rc = hf_builder_add_json(b, root_type(s), p, len, line, &out.err);
      if (out.rc == HF_OK)
        out.records++;
    }
    p = nl ? nl + 1 : end;
  }
  finish(b, s, &out);
  return out;
}

static int file_of(const text *in) {
  FILE *f = tmpfile();
  int fd;
  cr_assert_not_null(f);
  fd = dup(fileno(f));
  fclose(f);
  cr_assert_eq(write(fd, in->p, in->n), (ssize_t)in->n);
  cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

static outcome by_stream(int fd, uint32_t threads, uint64_t max_line) {
  hf_schema *s = gen_schema();
  hf_builder *b;
  hf_jsonl_opts o;
  outcome out;
  memset(&out, 0, sizeof out);
  memset(&o, 0, sizeof o);
  cr_assert_eq(hf_builder_new(s, NULL, &b, &out.err), HF_OK);
  o.type = root_type(s);
  o.threads = threads;
  o.max_line = max_line;
  out.rc = hf_builder_add_jsonl(b, fd, &o, &out.records, &out.err);
  close(fd);
  finish(b, s, &out);
  return out;
}

static void same(const outcome *a, const outcome *c, const char *what) {
  cr_assert_eq(a->rc, c->rc, "%s: rc %d vs %d (%s / %s)", what, a->rc, c->rc,
               a->err.msg, c->err.msg);
  cr_assert_eq(a->records, c->records, "%s: records %llu vs %llu", what,
               (unsigned long long)a->records, (unsigned long long)c->records);
  if (a->rc != HF_OK) {
    cr_assert_eq(a->err.line, c->err.line, "%s: line %llu vs %llu", what,
                 (unsigned long long)a->err.line,
                 (unsigned long long)c->err.line);
    if (a->rc != HF_E_LIMIT) { /* the reference makes no limit message */
      cr_assert_str_eq(a->err.msg, c->err.msg, "%s", what);
      cr_assert_eq(a->err.column, c->err.column, "%s", what);
    }
  }
  cr_assert_eq(a->len, c->len, "%s: snapshot length", what);
  cr_assert(memcmp(a->snap, c->snap, a->len) == 0, "%s: snapshot bytes", what);
}

static void drop(outcome *o) {
  free(o->snap);
}

/* Every thread count against the reference, from a file. */
static void check_all(const text *in, uint64_t max_line, const char *what) {
  outcome ref = by_lines(in, max_line);
  static const uint32_t threads[] = {0, 1, 2, 3, 5};
  size_t i;
  for (i = 0; i < sizeof threads / sizeof threads[0]; i++) {
    outcome got = by_stream(file_of(in), threads[i], max_line);
    char label[96];
    snprintf(label, sizeof label, "%s, %u threads", what, (unsigned)threads[i]);
    same(&ref, &got, label);
    drop(&got);
  }
  drop(&ref);
}

Test(jsonl, threads_build_the_same_bytes) {
  uint64_t seed;
  for (seed = 1; seed <= 6; seed++) {
    text in = gen_lines(seed, 40 + 60 * (unsigned)seed, (int)(seed % 2));
    check_all(&in, 0, "generated");
    free(in.p);
  }
}

/* Several batches: about 3 MiB of lines, so batch boundaries split lines. */
Test(jsonl, many_batches) {
  text in = gen_lines(77, 6000, 0);
  cr_assert_gt(in.n, (size_t)2 << 20, "input of %zu bytes", in.n);
  check_all(&in, 0, "batches");
  {
    /* and a bad line in the third batch: its number counts every line of
     * the batches before */
    const char *nl = memchr(in.p + ((size_t)5 << 19), '\n', in.n);
    const size_t pos = (size_t)(nl - in.p) + 1;
    text bad = {0};
    put(&bad, in.p, pos);
    put(&bad, "{\"id\": 1}\n", 11);
    put(&bad, in.p + pos, in.n - pos);
    check_all(&bad, 0, "batches, bad line");
    free(bad.p);
  }
  free(in.p);
}

/* One bad line at many positions and of many kinds; the walk refuses some,
 * the builder others (only while replaying a tape). */
Test(jsonl, first_error_is_the_sequential_one) {
  static const char *const bad[] = {
      "{\"id\": 1,",                               /* syntax */
      "{\"id\": 1, \"code\": \"a\", \"nope\": 2}", /* unknown field */
      "{\"code\": \"a\"}",                         /* missing key */
      "{\"id\": 1, \"code\": \"a\", \"i\": 99999999999}",
      "\"\\ud800\"",
      "null",
      "[1, 2]",
  };
  text base = gen_lines(5, 300, 0);
  size_t k, at;
  for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    for (at = 0; at < 3; at++) {
      /* insert the bad line at the start, the middle or the end */
      const size_t cut = at == 0 ? 0 : at == 1 ? base.n / 2 : base.n;
      const char *nl = cut == 0
                           ? base.p - 1
                           : memchr(base.p + cut - 1, '\n', base.n - cut + 1);
      const size_t pos = nl ? (size_t)(nl - base.p) + 1 : base.n;
      text in = {0};
      put(&in, base.p, pos);
      put(&in, bad[k], strlen(bad[k]));
      put(&in, "\n", 1);
      put(&in, base.p + pos, base.n - pos);
      check_all(&in, 0, bad[k]);
      free(in.p);
    }
  }
  free(base.p);
}

/* A duplicate primary key passes the walk and fails only in the builder. */
Test(jsonl, builder_refusal_during_replay) {
  text base = gen_lines(9, 200, 0), in = {0};
  const char *second = (const char *)memchr(base.p, '\n', base.n) + 1;
  const char *third = memchr(second, '\n', base.n - (size_t)(second - base.p));
  /* line 1 again after line 2: same key, maybe different content */
  put(&in, base.p, (size_t)(third + 1 - base.p));
  put(&in, base.p, (size_t)(second - base.p));
  put(&in, third + 1, base.n - (size_t)(third + 1 - base.p));
  {
    outcome ref = by_lines(&in, 0);
    cr_assert_eq(ref.rc, HF_E_DUPKEY, "%s", ref.err.msg);
    drop(&ref);
  }
  check_all(&in, 0, "duplicate key");
  free(in.p);
  free(base.p);
}

/* Keyed objects with references, rendered on the parsing threads: roots,
 * nested keyed records repeated (the same record) or conflicting (refused),
 * and unkeyed objects with references inside them. */
static const char keyed_schema[] =
    "Movie @PrimaryKey(id) { long id; string title; Person director;\n"
    "  ListOfPerson cast; Tag tag; }\n"
    "Person @PrimaryKey(pid) { long pid; string name; Tag tag; }\n"
    "Tag { string t; Note note; }\n"
    "Note { string n; }\n"
    "ListOfPerson List<Person>;\n";

static void put_person(text *t, unsigned pid, const char *name) {
  char buf[160];
  int n;
  if (pid % 4 == 0) /* fields in another order; the note as a bare value */
    n = snprintf(buf, sizeof buf,
                 "{\"name\": \"%s%u\", \"pid\": %u, \"tag\": {\"note\": "
                 "\"n%u\", \"t\": \"t%u\"}}",
                 name, pid, pid, pid % 3, pid % 5);
  else
    n = snprintf(buf, sizeof buf,
                 "{\"pid\": %u, \"name\": \"%s%u\", \"tag\": {\"t\": "
                 "\"t%u\", \"note\": {\"n\": \"n%u\"}}}",
                 pid, name, pid, pid % 5, pid % 3);
  put(t, buf, (size_t)n);
}

/* n movies; `clash` > 0: movie `clash` names person 3 "other"; `again` > 0:
 * movie `again` repeats movie 0's id. */
static text keyed_lines(unsigned n, unsigned clash, unsigned again) {
  text t = {0};
  uint64_t r = 88172645463325252u;
  unsigned k, c;
  for (k = 0; k < n; k++) {
    char buf[96];
    unsigned ncast;
    int len;
    r ^= r << 13, r ^= r >> 7, r ^= r << 17;
    len = snprintf(buf, sizeof buf,
                   "{\"id\": %u, \"title\": \"m%u \u00e9\", \"director\": ",
                   k == again && again > 0 ? 1u : 7 * k + 1, k);
    put(&t, buf, (size_t)len);
    put_person(&t, (unsigned)(r % 50), k == clash && clash > 0 ? "other" : "p");
    put(&t, ", \"cast\": [", 11);
    ncast = (unsigned)(r >> 20) % 5;
    for (c = 0; c < ncast; c++) {
      if (c > 0)
        put(&t, ", ", 2);
      put_person(&t, (unsigned)(r >> (24 + 6 * c)) % 50, "p");
    }
    put(&t, "]", 1);
    if (k % 3 != 0) {
      len = snprintf(buf, sizeof buf, ", \"tag\": {\"t\": \"x%u\"}", k % 7);
      put(&t, buf, (size_t)len);
    }
    put(&t, "}\n", 2);
  }
  return t;
}

Test(jsonl, rendered_keyed_records) {
  text in;
  cur_schema = keyed_schema;
  cur_root = "Movie";
  in = keyed_lines(6000, 0, 0);
  cr_assert_gt(in.n, (size_t)1 << 20, "input of %zu bytes", in.n);
  check_all(&in, 0, "keyed");
  free(in.p);
  in = keyed_lines(3000, 2500, 0);
  {
    outcome ref = by_lines(&in, 0);
    cr_assert_eq(ref.rc, HF_E_DUPKEY, "%s", ref.err.msg);
    cr_assert_eq(ref.err.line, 2501);
    drop(&ref);
  }
  check_all(&in, 0, "nested key clash");
  free(in.p);
  in = keyed_lines(3000, 0, 1700);
  {
    outcome ref = by_lines(&in, 0);
    cr_assert_eq(ref.rc, HF_E_DUPKEY, "%s", ref.err.msg);
    cr_assert_eq(ref.err.line, 1701);
    drop(&ref);
  }
  check_all(&in, 0, "root key again");
  free(in.p);
}

Test(jsonl, line_limit) {
  text in = {0};
  char *long_line;
  size_t n = (size_t)3 << 20, i; /* longer than a batch */
  outcome got;
  const char *l1 = "{\"id\": 1, \"code\": \"a\"}\n";
  const char *l2 = "{\"id\": 2, \"code\": \"bb\"}\r\n"; /* 23 + CRLF */
  put(&in, l1, strlen(l1));
  put(&in, l2, strlen(l2));
  check_all(&in, 23, "exactly the limit");
  got = by_stream(file_of(&in), 2, 22);
  cr_assert_eq(got.rc, HF_E_LIMIT);
  cr_assert_eq(got.err.line, 2);
  cr_assert_eq(got.records, 1);
  cr_assert_str_eq(got.err.msg,
                   "line of 23 bytes is longer than the limit of 22 bytes");
  drop(&got);
  /* a line of 3 MiB: refused with its length, or accepted when allowed */
  long_line = malloc(n + 1);
  memcpy(long_line, "{\"id\": 3, \"code\": \"c\", \"s\": \"", 29);
  for (i = 29; i < n - 2; i++)
    long_line[i] = (char)('a' + i % 26);
  memcpy(long_line + n - 2, "\"}", 2);
  put(&in, long_line, n);
  put(&in, "\n{\"id\": 4, \"code\": \"d\"}", 23); /* no final newline */
  free(long_line);
  check_all(&in, (uint64_t)n, "long line allowed");
  check_all(&in, (uint64_t)1 << 20, "long line refused");
  got = by_stream(file_of(&in), 3, (uint64_t)1 << 20);
  cr_assert_eq(got.rc, HF_E_LIMIT);
  cr_assert_eq(got.err.line, 3);
  cr_assert_eq(got.records, 2);
  cr_assert(strstr(got.err.msg, "line of 3145728 bytes") != NULL, "%s",
            got.err.msg);
  drop(&got);
  free(in.p);
}

typedef struct feeder {
  int fd;
  const text *in;
} feeder;

/* Writes the input into a pipe in uneven small pieces. */
static void *feed(void *arg) {
  feeder *f = arg;
  size_t done = 0, step = 1;
  while (done < f->in->n) {
    size_t k = f->in->n - done < step ? f->in->n - done : step;
    ssize_t w = write(f->fd, f->in->p + done, k);
    if (w <= 0)
      break;
    done += (size_t)w;
    step = step * 7 % 40000 + 1;
  }
  close(f->fd);
  return NULL;
}

Test(jsonl, from_a_pipe) {
  text in = gen_lines(21, 2500, 1);
  outcome ref = by_lines(&in, 0);
  uint32_t threads;
  for (threads = 1; threads <= 3; threads++) {
    int p[2];
    pthread_t tid;
    feeder f;
    outcome got;
    cr_assert_eq(pipe(p), 0);
    f.fd = p[1];
    f.in = &in;
    cr_assert_eq(pthread_create(&tid, NULL, feed, &f), 0);
    got = by_stream(p[0], threads, 0);
    pthread_join(tid, NULL);
    same(&ref, &got, "pipe");
    drop(&got);
  }
  drop(&ref);
  free(in.p);
}

Test(jsonl, read_error_and_arguments) {
  hf_schema *s = gen_schema();
  hf_builder *b;
  hf_jsonl_opts o;
  hf_error err;
  uint64_t n = 7;
  int fd = open(".", O_RDONLY | O_DIRECTORY);
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  memset(&o, 0, sizeof o);
  o.type = root_type(s);
  o.threads = 2;
  errno = 0;
  cr_assert_eq(hf_builder_add_jsonl(b, fd, &o, &n, &err), HF_E_IO);
  cr_assert_eq(errno, EISDIR);
  cr_assert_eq(n, 0);
  close(fd);
  cr_assert_eq(hf_builder_add_jsonl(b, -1, &o, &n, &err), HF_E_ARG);
  o.type = 9999;
  cr_assert_eq(hf_builder_add_jsonl(b, 0, &o, &n, &err), HF_E_ARG);
  cr_assert_eq(hf_builder_add_jsonl(NULL, 0, &o, &n, &err), HF_E_ARG);
  hf_builder_free(b);
  hf_schema_free(s);
}
