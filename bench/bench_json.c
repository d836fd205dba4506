/*
 * bench_json.c - which JSON parser should JSON Lines ingest use?
 *
 *   bench_json PARSER FILE [RUNS]     PARSER: yajl jsmn jansson json-c scan
 *   bench_json hformat FILE RUNS SCHEMA
 *
 * Reads FILE (JSON Lines) into memory, then RUNS times (default 3) parses
 * every line with PARSER and walks every value the way ingest does: each
 * field name, each number converted (integers exactly as int64, others with
 * strtod), each string unescaped into a buffer.  Prints one line:
 *
 *   parser MB/s(median) ms(median) ms(min) ms(max) maxrss_kib input_kib sum
 *
 * `sum` folds every value seen, so the work cannot be optimised away and the
 * parsers can be checked against each other.  `scan` only finds line ends:
 * the floor.  `hformat` is the real ingest: hf_builder_add_json() of every
 * line into a builder for SCHEMA's first type (JSON parse, checks, the
 * builder's record stack, dedup and key index; no snapshot written).  Run
 * each parser in its own process so peak RSS is its own.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <hformat.h>
#include <jansson.h>
#include <yajl/yajl_parse.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

uint64_t sum; /* shared with bench_json_jsonc.c */

/* ---- shared value handling: what ingest does with each scalar ---------- */

static void take_number(const char *p, size_t len) {
  size_t i = 0;
  int neg = 0, frac = 0;
  uint64_t v = 0;
  if (i < len && p[i] == '-')
    neg = 1, i++;
  for (; i < len; i++) {
    if (p[i] < '0' || p[i] > '9') {
      frac = 1;
      break;
    }
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  if (frac) {
    char tmp[64];
    if (len >= sizeof tmp)
      len = sizeof tmp - 1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    sum += (uint64_t)(strtod(tmp, NULL) * 10.0);
  } else {
    sum += neg ? (uint64_t)0 - v : v;
  }
}

void take_string(const char *p, size_t len) {
  sum += len + (len ? (unsigned char)p[0] : 0u);
}

void take_key(const char *p, size_t len) {
  sum += len * 7u + (len ? (unsigned char)p[len - 1] : 0u);
}

/* ---- yajl: callbacks, raw number text (exact int64 needs it) ------------ */

static int y_null(void *c) {
  (void)c;
  sum += 1;
  return 1;
}
static int y_bool(void *c, int b) {
  (void)c;
  sum += (uint64_t)b + 2;
  return 1;
}
static int y_number(void *c, const char *s, size_t l) {
  (void)c;
  take_number(s, l);
  return 1;
}
static int y_string(void *c, const unsigned char *s, size_t l) {
  (void)c;
  take_string((const char *)s, l);
  return 1;
}
static int y_key(void *c, const unsigned char *s, size_t l) {
  (void)c;
  take_key((const char *)s, l);
  return 1;
}
static int y_start(void *c) {
  (void)c;
  sum += 3;
  return 1;
}
static int y_end(void *c) {
  (void)c;
  return 1;
}
static const yajl_callbacks ycb = {y_null,   y_bool,   NULL,    NULL,
                                   y_number, y_string, y_start, y_key,
                                   y_end,    y_start,  y_end};

static int run_yajl(const char *p, size_t len) {
  yajl_handle h = yajl_alloc(&ycb, NULL, NULL);
  int ok = yajl_parse(h, (const unsigned char *)p, len) == yajl_status_ok &&
           yajl_complete_parse(h) == yajl_status_ok;
  yajl_free(h);
  return ok;
}

/* ---- jsmn: tokens, then our own unescape and number parse -------------- */

static jsmntok_t *toks;
static unsigned ntoks = 256;
static char *ubuf;

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Unescapes p[0..len) into ubuf (len bytes suffice); returns the length. */
static size_t unescape(const char *p, size_t len) {
  size_t i = 0, o = 0;
  while (i < len) {
    const char *q = memchr(p + i, '\\', len - i);
    const size_t run = q ? (size_t)(q - (p + i)) : len - i;
    memcpy(ubuf + o, p + i, run);
    o += run, i += run;
    if (i >= len)
      break;
    i++;
    switch (p[i++]) {
    case 'n':
      ubuf[o++] = '\n';
      break;
    case 't':
      ubuf[o++] = '\t';
      break;
    case 'u': {
      unsigned cp = 0;
      int k;
      for (k = 0; k < 4; k++)
        cp = cp * 16 + (unsigned)hexval(p[i++]);
      if (cp < 0x80) {
        ubuf[o++] = (char)cp;
      } else if (cp < 0x800) {
        ubuf[o++] = (char)(0xc0 | cp >> 6);
        ubuf[o++] = (char)(0x80 | (cp & 63));
      } else {
        ubuf[o++] = (char)(0xe0 | cp >> 12);
        ubuf[o++] = (char)(0x80 | ((cp >> 6) & 63));
        ubuf[o++] = (char)(0x80 | (cp & 63));
      }
      break;
    }
    default:
      ubuf[o++] = p[i - 1]; /* \" \\ \/ and friends */
    }
  }
  return o;
}

static int run_jsmn(const char *p, size_t len) {
  jsmn_parser jp;
  int n, i;
  for (;;) {
    jsmn_init(&jp);
    n = jsmn_parse(&jp, p, len, toks, ntoks);
    if (n != JSMN_ERROR_NOMEM)
      break;
    ntoks *= 2;
    toks = realloc(toks, ntoks * sizeof *toks);
  }
  if (n < 1)
    return 0;
  for (i = 0; i < n; i++) {
    const jsmntok_t *t = &toks[i];
    const char *s = p + t->start;
    const size_t l = (size_t)(t->end - t->start);
    if (t->type == JSMN_STRING) {
      const size_t u = unescape(s, l);
      if (t->size == 1)
        take_key(ubuf, u);
      else
        take_string(ubuf, u);
    } else if (t->type == JSMN_PRIMITIVE) {
      if (s[0] == 'n')
        sum += 1;
      else if (s[0] == 't')
        sum += 3;
      else if (s[0] == 'f')
        sum += 2;
      else
        take_number(s, l);
    } else {
      sum += 3;
    }
  }
  return 1;
}

/* ---- jansson: tree per line ------------------------------------------- */

static void walk_jansson(json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    sum += 3;
    json_object_foreach(v, k, x) {
      take_key(k, strlen(k));
      walk_jansson(x);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *x;
    sum += 3;
    json_array_foreach(v, i, x) walk_jansson(x);
    break;
  }
  case JSON_STRING:
    take_string(json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    sum += (uint64_t)json_integer_value(v);
    break;
  case JSON_REAL:
    sum += (uint64_t)(json_real_value(v) * 10.0);
    break;
  case JSON_TRUE:
    sum += 3;
    break;
  case JSON_FALSE:
    sum += 2;
    break;
  case JSON_NULL:
    sum += 1;
    break;
  }
}

static int run_jansson(const char *p, size_t len) {
  json_error_t e;
  json_t *v = json_loadb(p, len, JSON_DECODE_ANY, &e);
  if (v == NULL)
    return 0;
  walk_jansson(v);
  json_decref(v);
  return 1;
}

static char *slurp(const char *path, size_t *len);
static hf_builder *hb;
static uint64_t hline;

static int run_hformat(const char *p, size_t len) {
  hf_error err;
  if (hf_builder_add_json(hb, 0, p, len, ++hline, &err) < 0) {
    fprintf(stderr, "bench_json: line %llu: %s\n", (unsigned long long)err.line,
            err.msg);
    return 0;
  }
  sum += len;
  return 1;
}

static hf_schema *load_schema(const char *path) {
  size_t len;
  char *text = slurp(path, &len);
  hf_schema *s = NULL;
  hf_error err;
  if (text == NULL || hf_schema_parse(text, len, &s, &err) != HF_OK) {
    fprintf(stderr, "bench_json: %s: %s\n", path,
            text ? err.msg : strerror(errno));
    exit(2);
  }
  free(text);
  return s;
}

static int run_scan(const char *p, size_t len) {
  sum += len + (unsigned char)p[0];
  return 1;
}

/* bench_json_jsonc.c: json-c and jansson cannot share a translation unit
 * (both declare json_object_iter). */
int run_jsonc(const char *p, size_t len);
void jsonc_init(void);
void jsonc_done(void);

/* ---- driver ------------------------------------------------------------ */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  if (f == NULL)
    return NULL;
  do {
    if (cap - n < 1 << 20) {
      cap = cap ? cap * 2 : 1 << 24;
      buf = realloc(buf, cap);
      if (buf == NULL)
        return NULL;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  int (*run)(const char *, size_t);
  const char *name;
  char *buf;
  size_t len, off;
  double ms[16];
  int runs, r;
  struct rusage ru;
  hf_schema *schema = NULL;
  if (argc < 3) {
    fputs("usage: bench_json yajl|jsmn|jansson|json-c|scan FILE [RUNS]\n"
          "       bench_json hformat FILE RUNS SCHEMA\n",
          stderr);
    return 2;
  }
  name = argv[1];
  if (strcmp(name, "yajl") == 0)
    run = run_yajl;
  else if (strcmp(name, "jsmn") == 0)
    run = run_jsmn;
  else if (strcmp(name, "jansson") == 0)
    run = run_jansson;
  else if (strcmp(name, "json-c") == 0)
    run = run_jsonc;
  else if (strcmp(name, "scan") == 0)
    run = run_scan;
  else if (strcmp(name, "hformat") == 0 && argc > 4)
    run = run_hformat;
  else
    return 2;
  runs = argc > 3 ? atoi(argv[3]) : 3;
  if (runs < 1 || runs > 16)
    runs = 3;
  buf = slurp(argv[2], &len);
  if (buf == NULL) {
    fprintf(stderr, "bench_json: %s: %s\n", argv[2], strerror(errno));
    return 2;
  }
  toks = malloc(ntoks * sizeof *toks);
  ubuf = malloc(len + 1);
  jsonc_init();
  if (run == run_hformat)
    schema = load_schema(argv[4]);
  for (r = 0; r < runs; r++) {
    double t0;
    if (schema != NULL && hf_builder_new(schema, NULL, &hb, NULL) != HF_OK)
      return 2;
    hline = 0;
    t0 = now_ms();
    sum = 0;
    for (off = 0; off < len;) {
      const char *nl = memchr(buf + off, '\n', len - off);
      const size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
      if (l > 0 && !run(buf + off, l)) {
        fprintf(stderr, "bench_json: %s: parse error at byte %zu\n", name, off);
        return 2;
      }
      off += l + 1;
    }
    ms[r] = now_ms() - t0;
    hf_builder_free(hb);
    hb = NULL;
  }
  getrusage(RUSAGE_SELF, &ru);
  {
    double sorted[16];
    memcpy(sorted, ms, sizeof ms);
    qsort(sorted, (size_t)runs, sizeof *sorted, cmp_double);
    printf("%-8s %8.1f MB/s  median %8.1f ms  min %8.1f  max %8.1f  "
           "maxrss %ld KiB  input %zu KiB  sum %llu\n",
           name, (double)len / 1e6 / (sorted[runs / 2] / 1e3), sorted[runs / 2],
           sorted[0], sorted[runs - 1], ru.ru_maxrss, len / 1024,
           (unsigned long long)sum);
  }
  jsonc_done();
  hf_schema_free(schema);
  free(ubuf);
  free(toks);
  free(buf);
  return 0;
}
