/*
 * hf_json.c - JSON Lines ingest: one JSON text -> one root record, built
 * through the builder's stack API (SCHEMA.md §6 is the mapping).
 *
 * Tokens come from hf_jtok.c: jsmn's strict-mode results (jsmn was chosen
 * by measurement, see bench/README.md), found faster.  They are lenient
 * about what lies between tokens and inside primitives, so the walk below
 * checks the grammar itself: a cursor follows the text and every separator (`,`
 * `:`
 * `]` `}`) must sit exactly where the tokens say, and every primitive is
 * validated (number grammar, literal spelling).  Strings are unescaped and
 * numbers converted here, exactly (integers never go through double).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hf_internal.h"
#include "hf_builder_internal.h"
#include "hf_jtape.h"

#include "hf_jtok.h"

/* No per-builder state: a line's tokens and unescaped text live in buffers
 * on the stack (heap only for unusually large lines, freed before
 * returning), and field names are found without a table (see find_field). */
#define LOCAL_TOKS 512
#define LOCAL_OPEN 64
#define LOCAL_BUF 4096

/* A map whose key type is an object type with exactly one field, of type
 * string, is written as a JSON object (SCHEMA.md §6.4). */
static int key_qualifies(const hf_schema *s, uint32_t map) {
  const hf_type_def *k = &s->types[s->types[map].elem_type];
  return k->kind == HF_KIND_OBJECT && k->nfields == 1 &&
         k->fields[0].type == HF_FT_STRING;
}

/* Whether NUL-terminated `name` is p[0..len), which holds no NUL: a
 * mismatch at name's terminator stops the loop before it reads past it. */
static int name_is(const char *name, const char *p, size_t len) {
  size_t i;
  for (i = 0; i < len; i++)
    if (name[i] != p[i])
      return 0;
  return name[len] == '\0';
}

/* Field of `td` named p[0..len).  Input objects nearly always list their
 * fields in declaration order (hollow-dump writes them so), so the search
 * starts just after the previous match: one comparison per name in the
 * common case, and no hash table to build or keep per builder. */
static int find_field(const hf_type_def *td, uint32_t *hint, const char *p,
                      size_t len, int unescaped, uint32_t *field) {
  uint32_t i, f = *hint;
  /* An escaped NUL never names a field (raw NULs refuse the whole line). */
  if (unescaped && memchr(p, '\0', len) != NULL)
    return 0;
  for (i = 0; i < td->nfields; i++, f++) {
    const char *name;
    if (f >= td->nfields)
      f = 0;
    name = td->fields[f].name;
    if (name_is(name, p, len)) {
      *field = f;
      *hint = f + 1;
      return 1;
    }
  }
  return 0;
}

/* ---- walk state -------------------------------------------------------- */

/* One step of the path shown in messages: `.name`, `[index]`, or a map key
 * `["raw"]` as written in the input. */
typedef struct jstep {
  const char *name;
  size_t len;
  uint64_t index;
  char kind; /* '.', '[' or '"' */
} jstep;

#define MAX_STEPS (2 * HF_MAX_JSON_DEPTH + 8)

typedef struct jctx {
  hf_builder *b;  /* where the records go: the builder, */
  hf_jtape *tape; /* or, when not NULL, a recording (hf_jtape.h) */
  const hf_schema *s;
  const char *js;
  size_t len;
  const hf_jtok *t;
  int ntok;
  int next;   /* next token to take */
  size_t pos; /* cursor in js: everything before it has been checked */
  unsigned depth;
  uint32_t flags;
  uint32_t root;
  uint64_t line;
  hf_error *err;
  hf_error berr; /* what the builder said, wrapped with the path */
  unsigned nsteps;
  jstep steps[MAX_STEPS];
  hf_jtoks tk; /* tokens and open containers: local_* or heap */
  char *buf;   /* unescape / base64 / number scratch: local_buf or heap */
  size_t cap;
  hf_jtok local_toks[LOCAL_TOKS];
  int32_t local_open[LOCAL_OPEN];
  char local_buf[LOCAL_BUF];
} jctx;

static void push_name(jctx *j, const char *name, size_t len, char kind) {
  if (j->nsteps < MAX_STEPS) {
    j->steps[j->nsteps].name = name;
    j->steps[j->nsteps].len = len;
    j->steps[j->nsteps].kind = kind;
  }
  j->nsteps++;
}

static void push_index(jctx *j, uint64_t i) {
  if (j->nsteps < MAX_STEPS) {
    j->steps[j->nsteps].index = i;
    j->steps[j->nsteps].kind = '[';
  }
  j->nsteps++;
}

static void pop(jctx *j) {
  j->nsteps--;
}

static size_t path_text(const jctx *j, char *out, size_t cap) {
  size_t o;
  unsigned i;
  int n = snprintf(out, cap, "%s", j->s->types[j->root].name);
  o = n < 0 ? 0 : (size_t)n;
  for (i = 0; i < j->nsteps && i < MAX_STEPS && o < cap; i++) {
    const jstep *st = &j->steps[i];
    const int w = st->len > 40 ? 40 : (int)st->len;
    if (st->kind == '[')
      n = snprintf(out + o, cap - o, "[%llu]", (unsigned long long)st->index);
    else if (st->kind == '.')
      n = snprintf(out + o, cap - o, ".%.*s", w, st->name);
    else
      n = snprintf(out + o, cap - o, "[\"%.*s%s\"]", w, st->name,
                   st->len > 40 ? "..." : "");
    o += n < 0 ? 0 : (size_t)n;
  }
  return o < cap ? o : cap - 1;
}

/* Fails with "<path>: <reason>" at byte `at` of the line (0-based). */
static int fail(jctx *j, int code, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int fail(jctx *j, int code, size_t at, const char *fmt, ...) {
  char path[128], why[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  path_text(j, path, sizeof path);
  return hf_fail_at(j->err, code, j->line,
                    at + 1 > UINT32_MAX ? 0 : (uint32_t)(at + 1), "%s: %s",
                    path, why);
}

/* Byte position of a token's first character (the quote for strings). */
static size_t tok_pos(const hf_jtok *t) {
  return (size_t)t->start - (t->type == HF_JT_STRING ? 1u : 0u);
}

static const char *kind_name(const jctx *j, const hf_jtok *t) {
  switch (t->type) {
  case HF_JT_OBJECT:
    return "object";
  case HF_JT_ARRAY:
    return "array";
  case HF_JT_STRING:
    return "string";
  default:
    break;
  }
  switch (j->js[t->start]) {
  case 't':
  case 'f':
    return "boolean";
  case 'n':
    return "null";
  default:
    return "number";
  }
}

static int wrong(jctx *j, const hf_jtok *t, const char *want) {
  return fail(j, HF_E_INPUT, tok_pos(t), "expected %s, got %s", want,
              kind_name(j, t));
}

static int builder_failed(jctx *j, int rc, const hf_jtok *t) {
  char path[128];
  const size_t n = path_text(j, path, sizeof path);
  const size_t at = tok_pos(t);
  /* The builder already names the record's type; do not say it twice. */
  if (strncmp(j->berr.msg, path, n) == 0 && j->berr.msg[n] == ':')
    return hf_fail_at(j->err, rc, j->line,
                      at + 1 > UINT32_MAX ? 0 : (uint32_t)(at + 1), "%s",
                      j->berr.msg);
  return fail(j, rc, at, "%s", j->berr.msg);
}

#define BUILD(j, t, call)                                                      \
  do {                                                                         \
    const int rc_ = (call);                                                    \
    if (rc_ < 0)                                                               \
      return builder_failed((j), rc_, (t));                                    \
  } while (0)

/* ---- output: the builder's calls, or their recording -------------------- */

static int out_begin(jctx *j, uint32_t type) {
  return j->tape ? hf_jtape_begin(j->tape, type)
                 : hf_builder_begin(j->b, type, &j->berr);
}

static int out_end(jctx *j, uint32_t type, hf_ref *out) {
  return j->tape ? hf_jtape_end(j->tape, type, out)
                 : hf_builder_end(j->b, out, &j->berr);
}

static int out_scalar(jctx *j, hf_ftype ft, uint32_t f, uint64_t bits) {
  return j->tape ? hf_jtape_scalar(j->tape, ft, f, bits)
                 : hf_jtape_set_scalar(j->b, ft, f, bits, &j->berr);
}

/* A string (already checked UTF-8) or bytes value. */
static int out_data(jctx *j, hf_ftype ft, uint32_t f, const char *p, size_t n) {
  if (j->tape)
    return hf_jtape_data(j->tape, ft, f, p, n);
  return ft == HF_FT_STRING
             ? hf_builder_set_string_valid(j->b, f, p, n, &j->berr)
             : hf_builder_set_bytes(j->b, f, p, n, &j->berr);
}

static int out_ref(jctx *j, uint32_t f, hf_ref ref) {
  return j->tape ? hf_jtape_ref(j->tape, f, ref)
                 : hf_builder_set_ref(j->b, f, ref, &j->berr);
}

static int out_add(jctx *j, hf_ref elem) {
  return j->tape ? hf_jtape_add(j->tape, elem)
                 : hf_builder_add(j->b, elem, &j->berr);
}

static int out_put(jctx *j, hf_ref key, hf_ref value) {
  return j->tape ? hf_jtape_put(j->tape, key, value)
                 : hf_builder_put(j->b, key, value, &j->berr);
}

/* ---- grammar between tokens -------------------------------------------- */

static void skip_blanks(jctx *j) {
  while (j->pos < j->len) {
    const char ch = j->js[j->pos];
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
      break;
    j->pos++;
  }
}

/* Compact JSON has no blank between tokens: test for one inline. */
static inline void skip_ws(jctx *j) {
  if (j->pos < j->len && (unsigned char)j->js[j->pos] <= ' ')
    skip_blanks(j);
}

static int syntax(jctx *j, const char *what) {
  if (j->pos >= j->len)
    return fail(j, HF_E_INPUT, j->pos, "invalid JSON: unexpected end of input");
  return fail(j, HF_E_INPUT, j->pos, "invalid JSON: %s", what);
}

static int expect(jctx *j, char ch) {
  skip_ws(j);
  if (j->pos >= j->len || j->js[j->pos] != ch) {
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", ch);
    return syntax(j, what);
  }
  j->pos++;
  return HF_OK;
}

#define VAL "a value"
#define KEY "a string key"

/* Takes the next token, `what` (for messages: "a value", "a string key");
 * it must start where the cursor (after blanks) is.  Strings and primitives
 * move the cursor past them, containers inside. */
static int take(jctx *j, const hf_jtok **out, const char *what) {
  const hf_jtok *t;
  skip_ws(j);
  if (j->next >= j->ntok || j->pos != tok_pos(&j->t[j->next])) {
    char msg[40];
    if (j->pos < j->len && strchr(",:]}", j->js[j->pos]) == NULL)
      return syntax(j, "unexpected character");
    snprintf(msg, sizeof msg, "expected %s", what);
    return syntax(j, msg);
  }
  t = &j->t[j->next++];
  if (t->type == HF_JT_STRING)
    j->pos = (size_t)t->end + 1;
  else if (t->type == HF_JT_PRIMITIVE)
    j->pos = (size_t)t->end;
  else
    j->pos = (size_t)t->start + 1;
  *out = t;
  return HF_OK;
}

/* Closes container t: the closing bracket must be its last byte. */
static int close_tok(jctx *j, const hf_jtok *t) {
  const char want = t->type == HF_JT_OBJECT ? '}' : ']';
  skip_ws(j);
  if (j->pos < j->len && j->js[j->pos] == ',') {
    /* the tokenizer counts no member after a trailing comma */
    j->pos++;
    skip_ws(j);
    return syntax(j,
                  want == '}' ? "expected a string key" : "expected a value");
  }
  if (j->pos >= j->len || j->js[j->pos] != want)
    return syntax(j,
                  want == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
  j->pos++;
  if (j->pos != (size_t)t->end) {
    j->pos--;
    return syntax(j, "unexpected character");
  }
  return HF_OK;
}

/* Before element i of a container: a comma unless it is the first. */
static int sep(jctx *j, int i) {
  return i > 0 ? expect(j, ',') : HF_OK;
}

static int enter(jctx *j, const hf_jtok *t) {
  if (++j->depth > HF_MAX_JSON_DEPTH)
    return fail(j, HF_E_LIMIT, tok_pos(t), "nesting deeper than %d",
                HF_MAX_JSON_DEPTH);
  return HF_OK;
}

/* ---- scalars ------------------------------------------------------------ */

static int is_lit(const jctx *j, const hf_jtok *t, const char *lit) {
  const size_t n = strlen(lit);
  return t->type == HF_JT_PRIMITIVE && (size_t)(t->end - t->start) == n &&
         memcmp(j->js + t->start, lit, n) == 0;
}

static int is_null(const jctx *j, const hf_jtok *t) {
  return t->type == HF_JT_PRIMITIVE && j->js[t->start] == 'n';
}

/* Checks a primitive token: a literal spelled right or a number matching
 * RFC 8259 §6.  Sets *integer when the number has no fraction or exponent. */
static int check_prim(jctx *j, const hf_jtok *t, int *integer) {
  const char *p = j->js + t->start;
  const size_t n = (size_t)(t->end - t->start);
  size_t i = 0;
  *integer = 0;
  if (p[0] == 't' || p[0] == 'f' || p[0] == 'n') {
    if (is_lit(j, t, "true") || is_lit(j, t, "false") || is_lit(j, t, "null"))
      return HF_OK;
    return fail(j, HF_E_INPUT, tok_pos(t), "invalid JSON: bad literal '%.*s'",
                n > 20 ? 20 : (int)n, p);
  }
  if (i < n && p[i] == '-')
    i++;
  if (i < n && p[i] == '0')
    i++;
  else if (i < n && p[i] >= '1' && p[i] <= '9')
    while (i < n && p[i] >= '0' && p[i] <= '9')
      i++;
  else
    goto bad;
  *integer = (i == n);
  if (i < n && p[i] == '.') {
    i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
      goto bad;
    while (i < n && p[i] >= '0' && p[i] <= '9')
      i++;
  }
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    if (i < n && (p[i] == '+' || p[i] == '-'))
      i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
      goto bad;
    while (i < n && p[i] >= '0' && p[i] <= '9')
      i++;
  }
  if (i == n)
    return HF_OK;
bad:
  return fail(j, HF_E_INPUT, (size_t)t->start + i,
              "invalid JSON: bad number '%.*s'", n > 24 ? 24 : (int)n, p);
}

/* Integer token -> int64 in [lo, hi], exactly (digits, not strtod). */
static int get_int(jctx *j, const hf_jtok *t, int64_t lo, int64_t hi,
                   const char *tname, int64_t *out) {
  const char *p = j->js + t->start;
  const size_t n = (size_t)(t->end - t->start);
  size_t i = 0;
  uint64_t mag = 0, lim;
  int neg = 0;
  /* the token passed check_prim() in set_field() */
  if (t->type != HF_JT_PRIMITIVE || p[0] == 't' || p[0] == 'f' || p[0] == 'n')
    return wrong(j, t, "integer");
  for (i = p[0] == '-'; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      return fail(j, HF_E_INPUT, tok_pos(t), "expected integer, got %.*s",
                  n > 24 ? 24 : (int)n, p);
  i = 0;
  if (p[0] == '-')
    neg = 1, i = 1;
  lim = neg ? (uint64_t)0 - (uint64_t)lo : (uint64_t)hi;
  for (; i < n; i++) {
    const unsigned d = (unsigned)(p[i] - '0');
    if (mag > (lim - d) / 10)
      return fail(j, HF_E_INPUT, tok_pos(t), "integer %.*s out of range for %s",
                  n > 24 ? 24 : (int)n, p, tname);
    mag = mag * 10 + d;
  }
  /* two's complement: -(2^63) is representable, so negate in unsigned */
  *out = neg ? (int64_t)((uint64_t)0 - mag) : (int64_t)mag;
  if (neg && mag == (uint64_t)INT64_MAX + 1)
    *out = INT64_MIN;
  return HF_OK;
}

/* Makes the scratch buffer hold at least `need` bytes (contents kept). */
static int grow(jctx *j, size_t need) {
  char *nb;
  size_t cap = j->cap;
  if (need <= cap)
    return HF_OK;
  while (cap < need)
    cap *= 2;
  nb = j->buf == j->local_buf ? malloc(cap) : realloc(j->buf, cap);
  if (nb == NULL)
    return fail(j, HF_E_NOMEM, j->pos, "out of memory");
  if (j->buf == j->local_buf)
    memcpy(nb, j->local_buf, j->cap);
  j->buf = nb;
  j->cap = cap;
  return HF_OK;
}

/* Number or "NaN" / "Infinity" / "-Infinity" -> double (or float, rounded
 * once by strtof).  Finite numbers must stay finite. */
static int get_real(jctx *j, const hf_jtok *t, int is_float, double *d,
                    float *f) {
  const char *p = j->js + t->start;
  const size_t n = (size_t)(t->end - t->start);
  int rc;
  if (t->type == HF_JT_STRING) {
    double v;
    if (n == 3 && memcmp(p, "NaN", 3) == 0)
      v = NAN;
    else if (n == 8 && memcmp(p, "Infinity", 8) == 0)
      v = INFINITY;
    else if (n == 9 && memcmp(p, "-Infinity", 9) == 0)
      v = -INFINITY;
    else
      return fail(j, HF_E_INPUT, tok_pos(t),
                  "expected number, got string other than NaN, Infinity, "
                  "-Infinity");
    *d = v;
    *f = (float)v;
    return HF_OK;
  }
  if (t->type != HF_JT_PRIMITIVE || p[0] == 't' || p[0] == 'f' || p[0] == 'n')
    return wrong(j, t, "number");
  if ((rc = grow(j, n + 1)) < 0) /* the token passed check_prim() */
    return rc;
  memcpy(j->buf, p, n);
  j->buf[n] = '\0';
  /* strtod/strtof follow LC_NUMERIC; JSON needs "C", the default unless the
   * program calls setlocale(). */
  if (is_float) {
    *f = strtof(j->buf, NULL);
    if (isinf(*f))
      return fail(j, HF_E_INPUT, tok_pos(t),
                  "number %.*s out of range for "
                  "float",
                  n > 24 ? 24 : (int)n, p);
  } else {
    *d = strtod(j->buf, NULL);
    if (isinf(*d))
      return fail(j, HF_E_INPUT, tok_pos(t),
                  "number %.*s out of range for "
                  "double",
                  n > 24 ? 24 : (int)n, p);
  }
  return HF_OK;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

static unsigned hex4(const char *p) {
  /* Callers pass four hex digits (hf_jtok checks them); unsigned shifts keep a
   * bad digit (-1) from being undefined behaviour all the same. */
  return (unsigned)hexval(p[0]) << 12 | (unsigned)hexval(p[1]) << 8 |
         (unsigned)hexval(p[2]) << 4 | (unsigned)hexval(p[3]);
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 63));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 63));
    o[2] = (char)(0x80 | (cp & 63));
    return 3;
  }
  o[0] = (char)(0xf0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 63));
  o[2] = (char)(0x80 | ((cp >> 6) & 63));
  o[3] = (char)(0x80 | (cp & 63));
  return 4;
}

/* String token -> its UTF-8 value: a view of the input when there is no
 * escape, else unescaped into the cache buffer.  hf_jtok has checked that
 * escapes are well formed (\uXXXX has 4 hex digits); we check control
 * characters, surrogates and UTF-8. */
static int get_str(jctx *j, const hf_jtok *t, const char **out,
                   size_t *outlen) {
  const char *p = j->js + t->start;
  const size_t n = (size_t)(t->end - t->start);
  size_t i, o = 0, bad;
  int high = 0, esc = 0;
  char *w;
  /* The tokenizer has looked at every byte: most strings need no more. */
  if (t->flags == 0 || t->flags == HF_JT_HIGH) {
    if (t->flags != 0 && !hf_utf8_valid((const unsigned char *)p, n, &bad))
      return fail(j, HF_E_INPUT, (size_t)t->start + bad,
                  "invalid UTF-8 in string");
    *out = p;
    *outlen = n;
    return HF_OK;
  }
  /* Eight bytes at a time while none is a control character.  Each word
   * test is exact ("a byte below 0x20", "a byte from 0x80", "a byte
   * 0x5c"); a control character stops them and the loop below names its
   * position. */
  for (i = 0; i + 8 <= n; i += 8) {
    const uint64_t ones = UINT64_C(0x0101010101010101), top = ones << 7;
    uint64_t word, x;
    memcpy(&word, p + i, 8);
    if ((word - ones * 0x20) & ~word & top)
      break;
    x = word ^ (ones * '\\');
    high |= (word & top) != 0;
    esc |= ((x - ones) & ~x & top) != 0;
  }
  for (; i < n; i++) {
    const unsigned char ch = (unsigned char)p[i];
    if (ch < 0x20)
      return fail(j, HF_E_INPUT, (size_t)t->start + i,
                  "invalid JSON: control character 0x%02x in string", ch);
    if (ch >= 0x80)
      high = 1;
    else if (ch == '\\')
      esc = 1;
  }
  if (high && !hf_utf8_valid((const unsigned char *)p, n, &bad))
    return fail(j, HF_E_INPUT, (size_t)t->start + bad,
                "invalid UTF-8 in string");
  if (!esc) {
    *out = p;
    *outlen = n;
    return HF_OK;
  }
  if (grow(j, n) < 0)
    return HF_E_NOMEM;
  w = j->buf;
  for (i = 0; i < n;) {
    const char *q = memchr(p + i, '\\', n - i);
    const size_t run = q ? (size_t)(q - (p + i)) : n - i;
    unsigned cp;
    memcpy(w + o, p + i, run);
    o += run;
    i += run;
    if (i >= n)
      break;
    switch (p[i + 1]) {
    case 'b':
      w[o++] = '\b';
      break;
    case 'f':
      w[o++] = '\f';
      break;
    case 'n':
      w[o++] = '\n';
      break;
    case 'r':
      w[o++] = '\r';
      break;
    case 't':
      w[o++] = '\t';
      break;
    case 'u':
      cp = hex4(p + i + 2);
      if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(j, HF_E_INPUT, (size_t)t->start + i,
                    "lone surrogate \\u%04X in string", cp);
      if (cp >= 0xd800 && cp <= 0xdbff) {
        unsigned lo;
        if (i + 12 > n || p[i + 6] != '\\' || p[i + 7] != 'u' ||
            (lo = hex4(p + i + 8)) < 0xdc00 || lo > 0xdfff)
          return fail(j, HF_E_INPUT, (size_t)t->start + i,
                      "lone surrogate \\u%04X in string", cp);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
      o += put_utf8(w + o, cp);
      i += 4;
      break;
    default: /* \" \\ \/ */
      w[o++] = p[i + 1];
      break;
    }
    i += 2;
  }
  *out = w;
  *outlen = o;
  return HF_OK;
}

/* ---- records ----------------------------------------------------------- */

static int record(jctx *j, uint32_t type, const hf_jtok *t, hf_ref *out);

/* Skips an ignored value, still checking its grammar. */
static int skip_value(jctx *j, const hf_jtok *t) {
  int i, rc, integer;
  const char *s;
  size_t n;
  if (t->type == HF_JT_PRIMITIVE)
    return check_prim(j, t, &integer);
  if (t->type == HF_JT_STRING)
    return get_str(j, t, &s, &n);
  if ((rc = enter(j, t)) < 0)
    return rc;
  for (i = 0; i < t->size; i++) {
    const hf_jtok *k, *v;
    if ((rc = sep(j, i)) < 0 ||
        (rc = take(j, &k, t->type == HF_JT_OBJECT ? KEY : VAL)) < 0)
      return rc;
    if (t->type == HF_JT_OBJECT) {
      if (k->type != HF_JT_STRING)
        return syntax(j, "expected a string key");
      if ((rc = get_str(j, k, &s, &n)) < 0 || (rc = expect(j, ':')) < 0 ||
          (rc = take(j, &v, VAL)) < 0)
        return rc;
    } else {
      v = k;
    }
    if ((rc = skip_value(j, v)) < 0)
      return rc;
  }
  j->depth--;
  return close_tok(j, t);
}

/* Sets field f of the open record from token t (null leaves it null). */
static int set_field(jctx *j, const hf_field_def *fd, uint32_t f,
                     const hf_jtok *t) {
  int64_t v;
  double d = 0;
  float fl = 0;
  uint32_t u32;
  uint64_t u64;
  const char *s;
  size_t n;
  int rc, integer;
  hf_ref ref;
  /* a primitive is checked before its type is judged, so a misspelt
   * literal is reported as such */
  if (t->type == HF_JT_PRIMITIVE && (rc = check_prim(j, t, &integer)) < 0)
    return rc;
  if (is_null(j, t))
    return HF_OK;
  switch (fd->type) {
  case HF_FT_INT:
    if ((rc = get_int(j, t, INT32_MIN, INT32_MAX, "int", &v)) < 0)
      return rc;
    BUILD(j, t, out_scalar(j, HF_FT_INT, f, (uint32_t)(int32_t)v));
    return HF_OK;
  case HF_FT_LONG:
    if ((rc = get_int(j, t, INT64_MIN, INT64_MAX, "long", &v)) < 0)
      return rc;
    BUILD(j, t, out_scalar(j, HF_FT_LONG, f, (uint64_t)v));
    return HF_OK;
  case HF_FT_FLOAT:
    if ((rc = get_real(j, t, 1, &d, &fl)) < 0)
      return rc;
    memcpy(&u32, &fl, 4);
    BUILD(j, t, out_scalar(j, HF_FT_FLOAT, f, u32));
    return HF_OK;
  case HF_FT_DOUBLE:
    if ((rc = get_real(j, t, 0, &d, &fl)) < 0)
      return rc;
    memcpy(&u64, &d, 8);
    BUILD(j, t, out_scalar(j, HF_FT_DOUBLE, f, u64));
    return HF_OK;
  case HF_FT_BOOLEAN:
    if (is_lit(j, t, "true") || is_lit(j, t, "false")) {
      BUILD(j, t, out_scalar(j, HF_FT_BOOLEAN, f, j->js[t->start] == 't'));
      return HF_OK;
    }
    return wrong(j, t, "boolean");
  case HF_FT_STRING:
    if (t->type != HF_JT_STRING)
      return wrong(j, t, "string");
    if ((rc = get_str(j, t, &s, &n)) < 0)
      return rc;
    BUILD(j, t, out_data(j, HF_FT_STRING, f, s, n));
    return HF_OK;
  case HF_FT_BYTES: {
    size_t outlen;
    char *dst;
    if (t->type != HF_JT_STRING)
      return wrong(j, t, "base64 string");
    if ((rc = get_str(j, t, &s, &n)) < 0)
      return rc;
    /* decode behind the unescaped text in the same buffer */
    if (s == j->buf) {
      if ((rc = grow(j, 2 * n + 1)) < 0)
        return rc;
      s = j->buf;
    } else if ((rc = grow(j, n + 1)) < 0) {
      return rc;
    }
    dst = s == j->buf ? j->buf + n : j->buf;
    if (hf_base64_decode(s, n, (unsigned char *)dst, &outlen) != HF_OK)
      return fail(j, HF_E_INPUT, tok_pos(t), "invalid base64 in bytes value");
    BUILD(j, t, out_data(j, HF_FT_BYTES, f, dst, outlen));
    return HF_OK;
  }
  case HF_FT_REF:
    if ((rc = record(j, fd->ref_type, t, &ref)) < 0)
      return rc;
    BUILD(j, t, out_ref(j, f, ref));
    return HF_OK;
  }
  return fail(j, HF_E_SCHEMA, tok_pos(t), "field of unknown type");
}

/* JSON object -> fields of the open object record of `type`. */
static int fields(jctx *j, uint32_t type, const hf_jtok *t) {
  const hf_type_def *td = &j->s->types[type];
  uint64_t seen[(HF_MAX_FIELDS + 63) / 64], have[(HF_MAX_FIELDS + 63) / 64];
  const size_t words = (td->nfields + 63) / 64;
  uint32_t k, hint = 0;
  int i, rc;
  memset(seen, 0, words * sizeof seen[0]);
  memset(have, 0, words * sizeof have[0]);
  for (i = 0; i < t->size; i++) {
    const hf_jtok *kt, *vt;
    const char *name;
    size_t n;
    uint32_t f;
    if ((rc = sep(j, i)) < 0 || (rc = take(j, &kt, KEY)) < 0)
      return rc;
    if (kt->type != HF_JT_STRING)
      return syntax(j, "expected a string key");
    if ((rc = get_str(j, kt, &name, &n)) < 0 || (rc = expect(j, ':')) < 0 ||
        (rc = take(j, &vt, VAL)) < 0)
      return rc;
    if (!find_field(td, &hint, name, n, name == j->buf, &f)) {
      if (j->flags & HF_BUILD_IGNORE_UNKNOWN) {
        push_name(j, j->js + kt->start, (size_t)(kt->end - kt->start), '.');
        if ((rc = skip_value(j, vt)) < 0)
          return rc;
        pop(j);
        continue;
      }
      return fail(j, HF_E_INPUT, tok_pos(kt), "unknown field '%.*s'",
                  n > 64 ? 64 : (int)n, name);
    }
    if (seen[f / 64] >> (f % 64) & 1u)
      return fail(j, HF_E_INPUT, tok_pos(kt), "repeated field '%s'",
                  td->fields[f].name);
    seen[f / 64] |= (uint64_t)1 << (f % 64);
    push_name(j, td->fields[f].name, strlen(td->fields[f].name), '.');
    if ((rc = set_field(j, &td->fields[f], f, vt)) < 0)
      return rc;
    if (!is_null(j, vt))
      have[f / 64] |= (uint64_t)1 << (f % 64);
    pop(j);
  }
  /* SCHEMA.md §6.6: a primary key whose first step is absent or null */
  for (k = 0; k < td->nkeys; k++) {
    const uint32_t f = td->keys[k].steps[0];
    if (!(have[f / 64] >> (f % 64) & 1u)) {
      push_name(j, td->fields[f].name, strlen(td->fields[f].name), '.');
      return fail(j, HF_E_INPUT, tok_pos(t), "primary key is null");
    }
  }
  return HF_OK;
}

static int object_rec(jctx *j, uint32_t type, const hf_jtok *t, hf_ref *out) {
  const hf_type_def *td = &j->s->types[type];
  int rc;
  BUILD(j, t, out_begin(j, type));
  if (t->type == HF_JT_OBJECT) {
    if ((rc = enter(j, t)) < 0 || (rc = fields(j, type, t)) < 0 ||
        (rc = close_tok(j, t)) < 0)
      return rc;
    j->depth--;
  } else if (td->nfields == 1) {
    /* bare value fills the only field; a null field never gets here */
    if ((rc = set_field(j, &td->fields[0], 0, t)) < 0)
      return rc;
  } else {
    return wrong(j, t, "object");
  }
  BUILD(j, t, out_end(j, type, out));
  return HF_OK;
}

static int elements(jctx *j, uint32_t elem, const hf_jtok *t) {
  int i, rc;
  for (i = 0; i < t->size; i++) {
    const hf_jtok *e;
    hf_ref r;
    if ((rc = sep(j, i)) < 0 || (rc = take(j, &e, VAL)) < 0)
      return rc;
    push_index(j, (uint64_t)i);
    if (is_null(j, e))
      return fail(j, HF_E_INPUT, tok_pos(e), "null element");
    if ((rc = record(j, elem, e, &r)) < 0)
      return rc;
    BUILD(j, e, out_add(j, r));
    pop(j);
  }
  return HF_OK;
}

/* A map key given as a JSON object member name: a record of the key type
 * whose only (string) field is the name. */
static int name_key(jctx *j, uint32_t ktype, const hf_jtok *kt, hf_ref *r) {
  const char *s;
  size_t n;
  int rc;
  if ((rc = get_str(j, kt, &s, &n)) < 0)
    return rc;
  BUILD(j, kt, out_begin(j, ktype));
  BUILD(j, kt, out_data(j, HF_FT_STRING, 0, s, n));
  BUILD(j, kt, out_end(j, ktype, r));
  return HF_OK;
}

static int entries(jctx *j, uint32_t type, const hf_jtok *t) {
  const hf_type_def *td = &j->s->types[type];
  int i, rc;
  for (i = 0; i < t->size; i++) {
    const hf_jtok *kt, *vt, *pt = NULL;
    hf_ref kr, vr;
    if ((rc = sep(j, i)) < 0 ||
        (rc = take(j, &kt, t->type == HF_JT_OBJECT ? KEY : VAL)) < 0)
      return rc;
    if (t->type == HF_JT_OBJECT) {
      if (kt->type != HF_JT_STRING)
        return syntax(j, "expected a string key");
      push_name(j, j->js + kt->start, (size_t)(kt->end - kt->start), '"');
      if ((rc = name_key(j, td->elem_type, kt, &kr)) < 0 ||
          (rc = expect(j, ':')) < 0 || (rc = take(j, &vt, VAL)) < 0)
        return rc;
    } else {
      /* [key, value] */
      pt = kt;
      push_index(j, (uint64_t)i);
      if (pt->type != HF_JT_ARRAY || pt->size != 2)
        return pt->type == HF_JT_ARRAY
                   ? fail(j, HF_E_INPUT, tok_pos(pt),
                          "map entry must be a [key, value] pair")
                   : wrong(j, pt, "[key, value] array");
      if ((rc = enter(j, pt)) < 0 || (rc = take(j, &kt, VAL)) < 0)
        return rc;
      push_index(j, 0);
      if (is_null(j, kt))
        return fail(j, HF_E_INPUT, tok_pos(kt), "null map key");
      if ((rc = record(j, td->elem_type, kt, &kr)) < 0)
        return rc;
      pop(j);
      if ((rc = expect(j, ',')) < 0 || (rc = take(j, &vt, VAL)) < 0)
        return rc;
      push_index(j, 1);
    }
    if (is_null(j, vt))
      return fail(j, HF_E_INPUT, tok_pos(vt), "null map value");
    if ((rc = record(j, td->value_type, vt, &vr)) < 0)
      return rc;
    if (pt != NULL) {
      pop(j);
      if ((rc = close_tok(j, pt)) < 0)
        return rc;
      j->depth--;
      kt = pt;
    }
    BUILD(j, kt, out_put(j, kr, vr));
    pop(j);
  }
  return HF_OK;
}

/* Token t (not null) as a record of `type`; *out is its ref. */
static int record(jctx *j, uint32_t type, const hf_jtok *t, hf_ref *out) {
  const hf_type_def *td = &j->s->types[type];
  int rc;
  if (td->kind == HF_KIND_OBJECT)
    return object_rec(j, type, t, out);
  if (td->kind == HF_KIND_MAP) {
    const int kq = key_qualifies(j->s, type);
    if (t->type != HF_JT_ARRAY && !(t->type == HF_JT_OBJECT && kq))
      return wrong(j, t, kq ? "object or array" : "array");
  } else if (t->type != HF_JT_ARRAY) {
    return wrong(j, t, "array");
  }
  if ((rc = enter(j, t)) < 0)
    return rc;
  BUILD(j, t, out_begin(j, type));
  rc = td->kind == HF_KIND_MAP ? entries(j, type, t)
                               : elements(j, td->elem_type, t);
  if (rc < 0 || (rc = close_tok(j, t)) < 0)
    return rc;
  j->depth--;
  BUILD(j, t, out_end(j, type, out));
  return HF_OK;
}

/* ---- entry point ------------------------------------------------------- */

static int tokenize(jctx *j) {
  const int n = hf_jtok_parse(&j->tk, j->js, j->len);
  const char *nul;
  /* A NUL anywhere refuses the line, before any other fault.  Tokens
   * returned without the nul flag mean there is none; else look. */
  if ((n < 0 || j->tk.nul) && (nul = memchr(j->js, '\0', j->len)) != NULL)
    return fail(j, HF_E_INPUT, (size_t)(nul - j->js), "invalid JSON: NUL byte");
  if (n == HF_JT_NOMEM)
    return fail(j, HF_E_NOMEM, 0, "out of memory for tokens");
  if (n == HF_JT_PART) {
    j->pos = j->len;
    return syntax(j, "unexpected end of input");
  }
  if (n < 0) {
    j->pos = j->tk.pos;
    return syntax(j, "unexpected character");
  }
  if (n == 0) {
    j->pos = j->len;
    return syntax(j, "empty input");
  }
  j->t = j->tk.tok;
  j->ntok = n;
  return HF_OK;
}

static int add_json(jctx *j) {
  const hf_jtok *t;
  hf_ref ref;
  int rc;
  if (j->len > HF_MAX_JSON_LINE)
    return fail(j, HF_E_LIMIT, 0, "line longer than 2 GiB");
  if ((rc = tokenize(j)) < 0 || (rc = take(j, &t, VAL)) < 0)
    return rc;
  if (is_null(j, t))
    return fail(j, HF_E_INPUT, tok_pos(t), "record is null");
  {
    /* Trailing text is refused before the record is built: once record()
     * has closed the root, the builder keeps it, and a failed call must
     * keep nothing (hf_builder_add_json()). */
    const size_t after = j->pos;
    j->pos = (size_t)t->end + (t->type == HF_JT_STRING);
    skip_ws(j);
    if (j->pos != j->len)
      return syntax(j, "trailing characters after the JSON value");
    j->pos = after;
  }
  if ((rc = record(j, j->root, t, &ref)) < 0)
    return rc;
  return HF_OK;
}

/* Walks one JSON text into j->b or j->tape (set by the caller). */
static int walk(jctx *j, const hf_schema *s, uint32_t flags, uint32_t type,
                const char *json, size_t len, uint64_t line, hf_error *err) {
  int rc;
  j->s = s;
  j->js = json ? json : "";
  j->len = len;
  j->t = NULL;
  j->ntok = 0;
  j->next = 0;
  j->pos = 0;
  j->depth = 0;
  j->flags = flags;
  j->root = type;
  j->line = line;
  j->err = err;
  j->nsteps = 0;
  hf_jtok_init(&j->tk, j->local_toks, LOCAL_TOKS, j->local_open, LOCAL_OPEN);
  j->buf = j->local_buf;
  j->cap = LOCAL_BUF;
  hf_error_clear(&j->berr);
  rc = add_json(j);
  hf_jtok_free(&j->tk);
  if (j->buf != j->local_buf)
    free(j->buf);
  return rc;
}

int hf_builder_add_json(hf_builder *b, uint32_t type, const char *json,
                        size_t len, uint64_t line, hf_error *err) {
  const hf_schema *s;
  jctx j;
  int rc;
  if (b == NULL || (json == NULL && len > 0))
    return hf_fail_at(err, HF_E_ARG, line, 0, "null builder or text");
  s = hf_builder_schema(b);
  if (type >= s->ntypes)
    return hf_fail_at(err, HF_E_ARG, line, 0, "type %u out of range",
                      (unsigned)type);
  if (hf_builder_depth(b) != 0)
    return hf_fail_at(err, HF_E_ARG, line, 0,
                      "a record is open: JSON adds root records only");
  j.b = b;
  j.tape = NULL;
  hf_builder_set_line(b, line);
  rc = walk(&j, s, hf_builder_flags(b), type, json, len, line, err);
  if (rc < 0)
    hf_builder_discard(b);
  return rc;
}

int hf_json_tape_line(const hf_schema *s, uint32_t flags, uint32_t type,
                      const char *json, size_t len, uint64_t line,
                      hf_jtape *t) {
  hf_error ignored;
  jctx j;
  int rc = hf_jtape_line(t, line, json, len);
  if (rc != HF_OK)
    return rc;
  j.b = NULL;
  j.tape = t;
  if (walk(&j, s, flags, type, json, len, line, &ignored) < 0)
    return hf_jtape_direct(t);
  return HF_OK;
}
