/*
 * hf_schema_parse.c - schema text (spec/SCHEMA.md) to struct hf_schema.
 *
 * Four phases, in the order SCHEMA.md §3.4 reports errors:
 *  1. lex + parse into raw records that point into the text (syntax, names,
 *     duplicates, counts, annotation placement);
 *  2. resolve type names (R-SCH-12, R-SCH-13);
 *  3. depth-first search for cycles, giving the type order (R-SCH-14);
 *  4. resolve key paths (§4).
 * Then the schema is laid out in one allocation (names, arrays, key texts)
 * and slot layouts are computed (FORMAT.md §6.4).
 *
 * Opening a snapshot parses its schema, so the success path is kept cheap:
 * the first few types, fields and key paths live on the stack, names are
 * hashed while they are lexed, and nothing is formatted unless it fails.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hf_internal.h"

/* ---- Raw parse results ---- */

/* Lines and columns fit 32 bits: the text is at most HF_MAX_SCHEMA_TEXT. */
typedef struct pos {
  uint32_t line, col;
} pos;

/* A piece of the text: a name or a token, with where it starts; names also
 * carry their hash (HASH0). */
typedef struct span {
  const char *s;
  uint32_t len, hash;
  pos at;
} span;

typedef struct raw_field {
  span name;
  span tname; /* the field type as written */
  hf_ftype ft;
  uint32_t ref; /* phase 2: the referenced type (HF_FT_REF), else NONE */
} raw_field;

/* Written key path; one segment more than a resolved path may have, which
 * is enough to detect R-SCH-19 (resolution never shortens a path).  `res`
 * is the resolved path (phase 4) but for its text, which is `text_len`
 * bytes long. */
typedef struct raw_path {
  span seg[HF_MAX_KEY_DEPTH + 1];
  uint32_t nseg;
  uint32_t text_len;
  hf_keypath res;
} raw_path;

typedef struct raw_type {
  span name;
  hf_kind kind;
  uint32_t first_field, nfields; /* into parser.f */
  span elem, value;              /* collections */
  uint32_t elem_t, value_t;      /* phase 2: their types */
  uint32_t first_path, npaths;   /* into parser.kp */
  uint32_t nextk;                /* phase 3: next edge to follow */
  unsigned char color;           /* phase 3: 0 new, 1 on stack, 2 done */
} raw_type;

enum { TK_EOF, TK_IDENT, TK_ANNOT, TK_PUNCT };

typedef struct token {
  int kind;
  span sp; /* TK_ANNOT: includes the '@' */
} token;

#define FTAB_CAP 2048 /* > 2 * HF_MAX_FIELDS: field-name table load <= 1/2 */
#define NONE UINT32_MAX

/* First chunks of the growing arrays, on the stack: enough for schemas the
 * size of bench/catalog.hsl without a call to malloc. */
#define T0 16  /* types */
#define F0 32  /* fields */
#define KP0 4  /* key paths */
#define TT0 32 /* type-name table slots (load <= 1/2) */
#define FT0 64 /* field-name table slots (load <= 1/2) */

typedef struct fslot {
  uint32_t stamp, field;
} fslot;

typedef struct parser {
  const char *p;
  size_t len, i, line_start;
  uint32_t line;
  token tok;
  hf_error *err;

  raw_type *t;
  uint32_t nt, capt;
  raw_field *f;
  uint32_t nf, capf;
  raw_path *kp;
  uint32_t nkp, capkp;
  size_t nchars; /* bytes of all names, NULs included */

  uint32_t *ttab; /* type-name hash table: type index or NONE */
  uint32_t ttab_cap;
  /* field-name table: owning type + 1 (stale entries are empty) and index
   * into f */
  fslot *ftab;
  uint32_t ftab_cap; /* a power of two above twice the type's fields */
  uint32_t *order;   /* phase 3: nt entries, see order_types() */

  raw_type t0[T0];
  raw_field f0[F0];
  raw_path kp0[KP0];
  uint32_t ttab0[TT0];
  fslot ftab0[FT0];
  uint32_t order0[T0];
} parser;

static const char *const prim_names[] = {
    NULL, "int", "long", "float", "double", "boolean", "string", "bytes"};

/* ---- Errors ---- */

static int fail(parser *ps, int code, pos at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Fills err with "line L, column C: <reason>" (SCHEMA.md §0.4). */
static int fail(parser *ps, int code, pos at, const char *fmt, ...) {
  char msg[sizeof ps->err->msg];
  va_list ap;
  if (ps->err == NULL)
    return code;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return hf_fail_at(ps->err, code, at.line, at.col, "line %llu, column %lu: %s",
                    (unsigned long long)at.line, (unsigned long)at.col, msg);
}

/* Names in messages: an over-long name is cut so the reason still fits. */
static int plen(size_t len) {
  return len > 64 ? 64 : (int)len;
}

/* ---- Lexer (SCHEMA.md §2.1) ---- */

enum {
  C_ID = 1,    /* letter, digit, '_' */
  C_START = 2, /* letter, '_' */
  C_PUNCT = 4, /* { } ( ) < > , ; . */
  C_BLANK = 8  /* space, tab, CR (not LF: it counts lines) */
};

#define L (C_ID | C_START)
#define D C_ID
#define P C_PUNCT
#define B C_BLANK
/* Bytes 0x80-0xFF are 0: not part of the language (R-SCH-02). */
static const unsigned char cls[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, B, 0, 0, 0, B, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    B, 0, 0, 0, 0, 0, 0, 0, P, P, 0, 0, P, 0, P, 0, /* 0x20  ()., */
    D, D, D, D, D, D, D, D, D, D, 0, P, P, 0, P, 0, /* 0x30 0-9 ;<> */
    0, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, /* 0x40 A-O */
    L, L, L, L, L, L, L, L, L, L, L, 0, 0, 0, 0, L, /* 0x50 P-Z _ */
    0, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, /* 0x60 a-o */
    L, L, L, L, L, L, L, L, L, L, L, P, 0, P, 0, 0, /* 0x70 p-z {} */
};
#undef L
#undef D
#undef P
#undef B

#define HASH0 2166136261u /* FNV-1a, computed by lex_ident() */
#define HASH_MUL 16777619u

static pos here(const parser *ps) {
  pos at;
  at.line = ps->line;
  at.col = (uint32_t)(ps->i - ps->line_start + 1);
  return at;
}

/* Skips a block comment that starts at ps->i; R-SCH-03 if it stays open. */
static int skip_block_comment(parser *ps) {
  const pos open = here(ps);
  size_t i = ps->i + 2;
  for (;;) {
    if (i >= ps->len) {
      ps->i = i;
      return fail(ps, HF_E_SCHEMA, open,
                  "unterminated block comment (R-SCH-03)");
    }
    if (ps->p[i] == '*' && ps->len - i > 1 && ps->p[i + 1] == '/') {
      ps->i = i + 2;
      return HF_OK;
    }
    if (ps->p[i] == '\n') {
      ps->line++;
      ps->line_start = i + 1;
    }
    i++;
  }
}

/* Skips whitespace and comments. */
static int skip_blank(parser *ps) {
  const unsigned char *p = (const unsigned char *)ps->p;
  size_t i = ps->i;
  int rc;
  while (i < ps->len) {
    const unsigned char c = p[i];
    if (cls[c] & C_BLANK) {
      i++;
    } else if (c == '\n') {
      i++;
      ps->line++;
      ps->line_start = i;
    } else if (c == '/' && ps->len - i > 1 && p[i + 1] == '/') {
      while (i < ps->len && p[i] != '\n')
        i++;
    } else if (c == '/' && ps->len - i > 1 && p[i + 1] == '*') {
      ps->i = i;
      if ((rc = skip_block_comment(ps)) != HF_OK)
        return rc;
      i = ps->i;
    } else {
      break;
    }
  }
  ps->i = i;
  return HF_OK;
}

/* The name that starts at `from` (after the '@' of an annotation): its
 * end, its hash, and R-SCH-04.  The token began at `start`. */
static int lex_ident(parser *ps, size_t start, size_t from) {
  const unsigned char *p = (const unsigned char *)ps->p;
  uint32_t h = HASH0;
  size_t i = from;
  while (i < ps->len && (cls[p[i]] & C_ID))
    h = (h ^ p[i++]) * HASH_MUL;
  ps->i = i;
  ps->tok.sp.hash = h;
  ps->tok.sp.len = (uint32_t)(i - start);
  if (i - from > HF_MAX_NAME)
    return fail(ps, HF_E_LIMIT, ps->tok.sp.at,
                "name '%.*s...' is %lu bytes long; the limit is %d "
                "(R-SCH-04)",
                32, ps->p + from, (unsigned long)(i - from), HF_MAX_NAME);
  return HF_OK;
}

/* Reads the next token into ps->tok. */
static int next(parser *ps) {
  const unsigned char *p = (const unsigned char *)ps->p;
  token *tk = &ps->tok;
  size_t start, from;
  unsigned char c;
  int rc;

  if ((rc = skip_blank(ps)) != HF_OK)
    return rc;
  start = from = ps->i;
  tk->sp.s = ps->p + start;
  tk->sp.at = here(ps);
  if (start >= ps->len) {
    tk->kind = TK_EOF;
    tk->sp.len = 0;
    return HF_OK;
  }
  c = p[start];
  if (cls[c] & C_PUNCT) {
    tk->kind = TK_PUNCT;
    tk->sp.len = 1;
    ps->i = start + 1;
    return HF_OK;
  }
  if (cls[c] & C_START) {
    tk->kind = TK_IDENT;
  } else if (c == '@' && ps->len - start > 1 && (cls[p[start + 1]] & C_START)) {
    tk->kind = TK_ANNOT;
    from = start + 1;
  } else if (c > ' ' && c < 0x7f) {
    return fail(ps, HF_E_SCHEMA, tk->sp.at,
                "unexpected character '%c' (R-SCH-02)", c);
  } else {
    return fail(ps, HF_E_SCHEMA, tk->sp.at, "unexpected byte 0x%02X (R-SCH-02)",
                c);
  }
  return lex_ident(ps, start, from);
}

static int is_punct(const parser *ps, char c) {
  return ps->tok.kind == TK_PUNCT && ps->tok.sp.s[0] == c;
}

/* R-SCH-05: "expected X, found Y" at the token found. */
static int expected(parser *ps, const char *what) {
  const token *tk = &ps->tok;
  if (tk->kind == TK_EOF)
    return fail(ps, HF_E_SCHEMA, tk->sp.at,
                "expected %s, found end of input (R-SCH-05)", what);
  return fail(ps, HF_E_SCHEMA, tk->sp.at,
              "expected %s, found '%.*s' (R-SCH-05)", what, plen(tk->sp.len),
              tk->sp.s);
}

/* Consumes punctuation `c` or fails naming `what`. */
static int expect_punct(parser *ps, char c, const char *what) {
  if (!is_punct(ps, c))
    return expected(ps, what);
  return next(ps);
}

/* ---- Keywords (SCHEMA.md §2.1) ---- */

enum { KW_NONE = 0, KW_LIST = 8, KW_SET, KW_MAP }; /* 1-7: hf_ftype */

static int is_word(span sp, const char *w, uint32_t n) {
  return memcmp(sp.s, w, n) == 0;
}

/* Which keyword a name is: its primitive type, KW_LIST/SET/MAP, KW_NONE. */
static int keyword(span sp) {
  switch (sp.len) {
  case 3:
    return is_word(sp, "int", 3)   ? HF_FT_INT
           : is_word(sp, "Set", 3) ? KW_SET
           : is_word(sp, "Map", 3) ? KW_MAP
                                   : KW_NONE;
  case 4:
    return is_word(sp, "long", 4)   ? HF_FT_LONG
           : is_word(sp, "List", 4) ? KW_LIST
                                    : KW_NONE;
  case 5:
    return is_word(sp, "float", 5)   ? HF_FT_FLOAT
           : is_word(sp, "bytes", 5) ? HF_FT_BYTES
                                     : KW_NONE;
  case 6:
    return is_word(sp, "double", 6)   ? HF_FT_DOUBLE
           : is_word(sp, "string", 6) ? HF_FT_STRING
                                      : KW_NONE;
  case 7:
    return is_word(sp, "boolean", 7) ? HF_FT_BOOLEAN : KW_NONE;
  default:
    return KW_NONE;
  }
}

/* A field type as written: its primitive, or HF_FT_REF for a type name. */
static hf_ftype prim_of(span sp) {
  const int kw = keyword(sp);
  return kw >= HF_FT_INT && kw <= HF_FT_BYTES ? (hf_ftype)kw : HF_FT_REF;
}

/* ---- Name tables and arrays ---- */

static int name_eq(const span *a, const span *b) {
  return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Looks a type name up; NONE if absent.  Works while parsing (raw names). */
static uint32_t ttab_find(const parser *ps, const span *sp) {
  const uint32_t mask = ps->ttab_cap - 1;
  uint32_t i;
  for (i = sp->hash & mask; ps->ttab[i] != NONE; i = (i + 1) & mask)
    if (name_eq(&ps->t[ps->ttab[i]].name, sp))
      return ps->ttab[i];
  return NONE;
}

static void ttab_put(parser *ps, uint32_t type) {
  const uint32_t mask = ps->ttab_cap - 1;
  uint32_t i = ps->t[type].name.hash & mask;
  while (ps->ttab[i] != NONE)
    i = (i + 1) & mask;
  ps->ttab[i] = type;
}

/* Adds type `type` to the name table, growing it to keep load <= 1/2. */
static int ttab_add(parser *ps, uint32_t type) {
  if ((type + 1) * 2 > ps->ttab_cap) {
    const uint32_t cap = ps->ttab_cap * 2;
    uint32_t *tab = malloc(cap * sizeof *tab), k;
    if (tab == NULL)
      return HF_E_NOMEM;
    if (ps->ttab != ps->ttab0)
      free(ps->ttab);
    ps->ttab = tab;
    ps->ttab_cap = cap;
    for (k = 0; k < cap; k++)
      tab[k] = NONE;
    for (k = 0; k < type; k++)
      ttab_put(ps, k);
  }
  ttab_put(ps, type);
  return HF_OK;
}

static void ftab_put(parser *ps, uint32_t owner, uint32_t field) {
  const uint32_t mask = ps->ftab_cap - 1;
  uint32_t i = ps->f[field].name.hash & mask;
  while (ps->ftab[i].stamp == owner + 1)
    i = (i + 1) & mask;
  ps->ftab[i].stamp = owner + 1;
  ps->ftab[i].field = field;
}

/* Doubles the field-name table once `owner` fills half of it, and enters
 * the owner's fields so far (the other types' entries are stale anyway). */
static int ftab_grow(parser *ps, uint32_t owner) {
  const uint32_t cap = ps->ftab_cap * 2, first = ps->t[owner].first_field;
  fslot *tab = calloc(cap, sizeof *tab);
  uint32_t k;
  if (tab == NULL)
    return HF_E_NOMEM;
  if (ps->ftab != ps->ftab0)
    free(ps->ftab);
  ps->ftab = tab;
  ps->ftab_cap = cap;
  for (k = first; k < ps->nf; k++)
    ftab_put(ps, owner, k);
  return HF_OK;
}

/* Field-name table of the type being parsed (`owner`); stamps make the
 * previous type's entries empty without clearing.  HF_OK, or HF_E_SCHEMA
 * naming the duplicate (R-SCH-11). */
static int ftab_add(parser *ps, uint32_t owner, uint32_t field) {
  const span *n = &ps->f[field].name;
  uint32_t mask, i;
  int rc;
  if ((ps->t[owner].nfields + 1) * 2 > ps->ftab_cap &&
      ps->ftab_cap < FTAB_CAP && (rc = ftab_grow(ps, owner)) != HF_OK)
    return rc;
  mask = ps->ftab_cap - 1;
  for (i = n->hash & mask; ps->ftab[i].stamp == owner + 1; i = (i + 1) & mask)
    if (name_eq(&ps->f[ps->ftab[i].field].name, n))
      return fail(ps, HF_E_SCHEMA, n->at,
                  "duplicate field '%.*s' in type '%.*s' (R-SCH-11)",
                  plen(n->len), n->s, plen(ps->t[owner].name.len),
                  ps->t[owner].name.s);
  ps->ftab[i].stamp = owner + 1;
  ps->ftab[i].field = field;
  return HF_OK;
}

/* Grows *arr (elements of `size` bytes; first chunk `first`, on the stack)
 * so that index n is valid. */
static int grow(void **arr, const void *first, uint32_t *cap, uint32_t n,
                size_t size) {
  void *p;
  uint32_t c;
  if (n < *cap)
    return HF_OK;
  c = *cap * 2;
  if (*arr == first) {
    if ((p = malloc((size_t)c * size)) != NULL)
      memcpy(p, first, (size_t)*cap * size);
  } else {
    p = realloc(*arr, (size_t)c * size);
  }
  if (p == NULL)
    return HF_E_NOMEM;
  *arr = p;
  *cap = c;
  return HF_OK;
}

/* ---- Parser (SCHEMA.md §2.2) ---- */

static int parse_path(parser *ps, raw_path *rp) {
  rp->nseg = 0;
  for (;;) {
    int rc;
    if (ps->tok.kind != TK_IDENT)
      return expected(ps, "a field name in a key path");
    if (rp->nseg <= HF_MAX_KEY_DEPTH)
      rp->seg[rp->nseg++] = ps->tok.sp;
    if ((rc = next(ps)) != HF_OK)
      return rc;
    if (!is_punct(ps, '.'))
      return HF_OK;
    if ((rc = next(ps)) != HF_OK)
      return rc;
  }
}

/* `(` path { `,` path } `)` after an annotation of type `type`. */
static int parse_keys(parser *ps, uint32_t type) {
  int rc;
  if ((rc = next(ps)) != HF_OK || (rc = expect_punct(ps, '(', "'('")) != HF_OK)
    return rc;
  ps->t[type].first_path = ps->nkp;
  if (is_punct(ps, ')'))
    return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                "annotation of '%.*s' lists no key path (R-SCH-16)",
                plen(ps->t[type].name.len), ps->t[type].name.s);
  for (;;) {
    if (ps->t[type].npaths == HF_MAX_KEYS)
      return fail(ps, HF_E_LIMIT, ps->tok.sp.at,
                  "type '%.*s' has more than %d key paths (R-SCH-16)",
                  plen(ps->t[type].name.len), ps->t[type].name.s, HF_MAX_KEYS);
    if (ps->nkp == ps->capkp && grow((void **)&ps->kp, ps->kp0, &ps->capkp,
                                     ps->nkp, sizeof *ps->kp) != HF_OK)
      return HF_E_NOMEM;
    if ((rc = parse_path(ps, &ps->kp[ps->nkp])) != HF_OK)
      return rc;
    ps->nkp++;
    ps->t[type].npaths++;
    if (is_punct(ps, ')'))
      return next(ps);
    if ((rc = expect_punct(ps, ',', "',' or ')'")) != HF_OK)
      return rc;
  }
}

/* 1 for @PrimaryKey, 2 for @HashKey; R-SCH-15 for any other name. */
static int annot_id(parser *ps, int *id) {
  const span a = ps->tok.sp;
  if (a.len == 11 && memcmp(a.s, "@PrimaryKey", 11) == 0)
    *id = 1;
  else if (a.len == 8 && memcmp(a.s, "@HashKey", 8) == 0)
    *id = 2;
  else
    return fail(ps, HF_E_SCHEMA, a.at,
                "unknown annotation '%.*s'; only @PrimaryKey and @HashKey "
                "exist (R-SCH-15)",
                plen(a.len), a.s);
  return HF_OK;
}

static int one_annotation(parser *ps, uint32_t type) {
  if (ps->tok.kind == TK_ANNOT)
    return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                "type '%.*s' has more than one annotation (R-SCH-15)",
                plen(ps->t[type].name.len), ps->t[type].name.s);
  return HF_OK;
}

static int parse_field(parser *ps, uint32_t type) {
  raw_type *rt = &ps->t[type];
  raw_field *rf;
  int rc;
  if (ps->tok.kind != TK_IDENT)
    return expected(ps, "a field type or '}'");
  if (rt->nfields == HF_MAX_FIELDS)
    return fail(ps, HF_E_LIMIT, ps->tok.sp.at,
                "type '%.*s' has more than %d fields (R-SCH-10)",
                plen(rt->name.len), rt->name.s, HF_MAX_FIELDS);
  if (ps->nf == ps->capf &&
      grow((void **)&ps->f, ps->f0, &ps->capf, ps->nf, sizeof *ps->f) != HF_OK)
    return HF_E_NOMEM;
  rf = &ps->f[ps->nf];
  rf->tname = ps->tok.sp;
  rf->ft = prim_of(rf->tname);
  rf->ref = NONE;
  if ((rc = next(ps)) != HF_OK)
    return rc;
  if (ps->tok.kind != TK_IDENT)
    return expected(ps, "a field name");
  rf->name = ps->tok.sp;
  if ((rc = ftab_add(ps, type, ps->nf)) != HF_OK)
    return rc;
  ps->nf++;
  rt->nfields++;
  ps->nchars += rf->name.len + 1;
  if ((rc = next(ps)) != HF_OK)
    return rc;
  return expect_punct(ps, ';', "';' after a field");
}

static int parse_object(parser *ps, uint32_t type) {
  int rc, id;
  if (ps->tok.kind == TK_ANNOT) {
    if ((rc = annot_id(ps, &id)) != HF_OK)
      return rc;
    if (id != 1)
      return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                  "@HashKey is not allowed on object type '%.*s'; use "
                  "@PrimaryKey (R-SCH-15)",
                  plen(ps->t[type].name.len), ps->t[type].name.s);
    if ((rc = parse_keys(ps, type)) != HF_OK ||
        (rc = one_annotation(ps, type)) != HF_OK)
      return rc;
  }
  if ((rc = expect_punct(ps, '{', "'{'")) != HF_OK)
    return rc;
  ps->t[type].first_field = ps->nf;
  while (!is_punct(ps, '}'))
    if ((rc = parse_field(ps, type)) != HF_OK)
      return rc;
  if (ps->t[type].nfields == 0)
    return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                "object type '%.*s' has no fields (R-SCH-10)",
                plen(ps->t[type].name.len), ps->t[type].name.s);
  return next(ps);
}

static int parse_coll(parser *ps, uint32_t type, int kw) {
  raw_type *rt = &ps->t[type];
  const char *const kwname = kw == KW_LIST  ? "list"
                             : kw == KW_SET ? "set"
                                            : "map";
  int rc, id;
  rt->kind = kw == KW_LIST  ? HF_KIND_LIST
             : kw == KW_SET ? HF_KIND_SET
                            : HF_KIND_MAP;
  if ((rc = next(ps)) != HF_OK || (rc = expect_punct(ps, '<', "'<'")) != HF_OK)
    return rc;
  if (ps->tok.kind != TK_IDENT)
    return expected(ps, "a type name");
  rt->elem = ps->tok.sp;
  if ((rc = next(ps)) != HF_OK)
    return rc;
  if (rt->kind == HF_KIND_MAP) {
    if ((rc = expect_punct(ps, ',', "','")) != HF_OK)
      return rc;
    if (ps->tok.kind != TK_IDENT)
      return expected(ps, "a type name");
    rt->value = ps->tok.sp;
    if ((rc = next(ps)) != HF_OK)
      return rc;
  }
  if ((rc = expect_punct(ps, '>', "'>'")) != HF_OK)
    return rc;
  if (ps->tok.kind == TK_ANNOT) {
    if ((rc = annot_id(ps, &id)) != HF_OK)
      return rc;
    if (rt->kind == HF_KIND_LIST)
      return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                  "list type '%.*s' takes no annotation (R-SCH-15)",
                  plen(rt->name.len), rt->name.s);
    if (id != 2)
      return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                  "@PrimaryKey is not allowed on %s type '%.*s'; use "
                  "@HashKey (R-SCH-15)",
                  kwname, plen(rt->name.len), rt->name.s);
    if ((rc = parse_keys(ps, type)) != HF_OK ||
        (rc = one_annotation(ps, type)) != HF_OK)
      return rc;
  }
  return expect_punct(ps, ';',
                      rt->kind == HF_KIND_LIST ? "';'"
                      : ps->t[type].npaths     ? "';'"
                                               : "'@HashKey' or ';'");
}

static int parse_decl(parser *ps) {
  const span name = ps->tok.sp;
  raw_type *rt;
  uint32_t type;
  int rc, kw;
  if (ps->tok.kind != TK_IDENT)
    return expected(ps, "a type name");
  if (keyword(name) != KW_NONE)
    return fail(ps, HF_E_SCHEMA, name.at,
                "'%.*s' is a keyword and cannot name a type (R-SCH-07)",
                plen(name.len), name.s);
  if (ps->nt == HF_MAX_TYPES)
    return fail(ps, HF_E_LIMIT, name.at, "more than %d types (R-SCH-09)",
                HF_MAX_TYPES);
  if (ttab_find(ps, &name) != NONE)
    return fail(ps, HF_E_SCHEMA, name.at, "duplicate type '%.*s' (R-SCH-08)",
                plen(name.len), name.s);
  if (ps->nt == ps->capt &&
      grow((void **)&ps->t, ps->t0, &ps->capt, ps->nt, sizeof *ps->t) != HF_OK)
    return HF_E_NOMEM;
  type = ps->nt++;
  rt = &ps->t[type];
  memset(rt, 0, sizeof *rt);
  rt->name = name;
  rt->kind = HF_KIND_OBJECT;
  rt->elem_t = rt->value_t = NONE;
  ps->nchars += name.len + 1;
  if (ttab_add(ps, type) != HF_OK)
    return HF_E_NOMEM;
  if ((rc = next(ps)) != HF_OK)
    return rc;
  if (is_punct(ps, '{') || ps->tok.kind == TK_ANNOT)
    return parse_object(ps, type);
  if (ps->tok.kind == TK_IDENT &&
      ((kw = keyword(ps->tok.sp)) == KW_LIST || kw == KW_SET || kw == KW_MAP))
    return parse_coll(ps, type, kw);
  return expected(ps, "'{', '@PrimaryKey', 'List', 'Set' or 'Map'");
}

static int parse_text(parser *ps) {
  int rc = next(ps);
  if (rc != HF_OK)
    return rc;
  if (ps->tok.kind == TK_EOF)
    return fail(ps, HF_E_SCHEMA, ps->tok.sp.at,
                "the schema declares no type (R-SCH-06)");
  while (ps->tok.kind != TK_EOF)
    if ((rc = parse_decl(ps)) != HF_OK)
      return rc;
  return HF_OK;
}

/* ---- Resolving (phases 2 and 3) ---- */

/* Resolves the element (role 0), key (1) or value (2) type of a collection;
 * R-SCH-13 for primitives, R-SCH-12 for unknown names. */
static int resolve_member(parser *ps, uint32_t t, const span *sp, int role,
                          uint32_t *out) {
  static const char *const roles[] = {"element", "key", "value"};
  const span *n = &ps->t[t].name;
  if (prim_of(*sp) != HF_FT_REF)
    return fail(ps, HF_E_SCHEMA, sp->at,
                "%s type of '%.*s' must be a declared type, not '%.*s' "
                "(R-SCH-13)",
                roles[role], plen(n->len), n->s, plen(sp->len), sp->s);
  if ((*out = ttab_find(ps, sp)) == NONE)
    return fail(ps, HF_E_SCHEMA, sp->at,
                "unknown type '%.*s' as %s type of '%.*s' (R-SCH-12)",
                plen(sp->len), sp->s, roles[role], plen(n->len), n->s);
  return HF_OK;
}

static int resolve_names(parser *ps) {
  uint32_t t, k;
  int rc;
  for (t = 0; t < ps->nt; t++) {
    raw_type *rt = &ps->t[t];
    for (k = 0; k < rt->nfields; k++) {
      raw_field *rf = &ps->f[rt->first_field + k];
      if (rf->ft != HF_FT_REF)
        continue;
      if ((rf->ref = ttab_find(ps, &rf->tname)) == NONE)
        return fail(ps, HF_E_SCHEMA, rf->tname.at,
                    "unknown type '%.*s' in field '%.*s' of '%.*s' "
                    "(R-SCH-12)",
                    plen(rf->tname.len), rf->tname.s, (int)rf->name.len,
                    rf->name.s, (int)rt->name.len, rt->name.s);
    }
    if (rt->kind == HF_KIND_OBJECT)
      continue;
    rc = resolve_member(ps, t, &rt->elem, rt->kind == HF_KIND_MAP, &rt->elem_t);
    if (rc == HF_OK && rt->kind == HF_KIND_MAP)
      rc = resolve_member(ps, t, &rt->value, 2, &rt->value_t);
    if (rc != HF_OK)
      return rc;
  }
  return HF_OK;
}

/* Reference `k` of type t (SCHEMA.md §3.3 order): the referenced type, or
 * NONE for a primitive field; *at = where it is written. */
static uint32_t edge(const parser *ps, uint32_t t, uint32_t k, pos *at) {
  const raw_type *rt = &ps->t[t];
  if (rt->kind == HF_KIND_OBJECT) {
    const raw_field *rf = &ps->f[rt->first_field + k];
    *at = rf->tname.at;
    return rf->ref;
  }
  *at = k == 0 ? rt->elem.at : rt->value.at;
  return k == 0 ? rt->elem_t : rt->value_t;
}

static uint32_t edge_count(const raw_type *rt) {
  return rt->kind == HF_KIND_OBJECT ? rt->nfields
         : rt->kind == HF_KIND_MAP  ? 2
                                    : 1;
}

/* R-SCH-14: names the cycle from type c, on the stack of order_types(), to
 * the top of that stack (`depth` entries) and back to c. */
static int cycle_error(parser *ps, uint32_t c, uint32_t depth, pos at) {
  const uint32_t *const top = ps->order + ps->nt - depth;
  char path[200];
  size_t n = 0;
  uint32_t k, from = depth - 1; /* top[from] is the bottom of the stack */
  while (top[from] != c)
    from--;
  for (k = 0; k <= from + 1 && n < sizeof path; k++) {
    const span *nm = &ps->t[k <= from ? top[from - k] : c].name;
    int w = snprintf(path + n, sizeof path - n, "%s%.*s", k > 0 ? " -> " : "",
                     (int)nm->len, nm->s);
    if (w < 0)
      break;
    n += (size_t)w;
  }
  if (n >= sizeof path)
    memcpy(path + sizeof path - 4, "...", 4);
  return fail(ps, HF_E_SCHEMA, at, "types form a cycle: %s (R-SCH-14)", path);
}

/* Depth-first search from every type in id order; the post-order goes to
 * ps->order from the front.  A type is on the stack or done, never both,
 * so the stack fits in the same nt entries: its bottom is order[nt - 1],
 * its top order[nt - depth]. */
static int order_types(parser *ps) {
  const uint32_t nt = ps->nt;
  uint32_t *const ord = ps->order;
  uint32_t root, depth, ntopo = 0;

  for (root = 0; root < nt; root++) {
    if (ps->t[root].color != 0)
      continue;
    depth = 1;
    ord[nt - 1] = root;
    ps->t[root].color = 1;
    while (depth > 0) {
      const uint32_t t = ord[nt - depth];
      raw_type *rt = &ps->t[t];
      pos at;
      uint32_t c;
      if (rt->nextk == edge_count(rt)) {
        rt->color = 2;
        ord[ntopo++] = t;
        depth--;
        continue;
      }
      c = edge(ps, t, rt->nextk++, &at);
      if (c == NONE || ps->t[c].color == 2)
        continue;
      if (ps->t[c].color == 1)
        return cycle_error(ps, c, depth, at);
      ps->t[c].color = 1;
      ord[nt - ++depth] = c;
    }
  }
  return HF_OK;
}

/* ---- Keys (phase 4, SCHEMA.md §4) ---- */

static const char *kind_name(hf_kind k) {
  return k == HF_KIND_LIST ? "list" : k == HF_KIND_SET ? "set" : "map";
}

/* The path as written, for messages. */
static void written(const raw_path *rp, char *buf, size_t cap) {
  size_t n = 0;
  uint32_t k;
  buf[0] = '\0';
  for (k = 0; k < rp->nseg && n < cap; k++) {
    int w = snprintf(buf + n, cap - n, "%s%.*s", k ? "." : "",
                     plen(rp->seg[k].len), rp->seg[k].s);
    if (w < 0)
      return;
    n += (size_t)w;
  }
}

/* Messages about a key path start "key path '<written>' of '<owner>'". */
#define WRITTEN_CAP 160

static uint32_t field_index(const parser *ps, const raw_type *rt,
                            const span *sp) {
  uint32_t k;
  for (k = 0; k < rt->nfields; k++)
    if (name_eq(&ps->f[rt->first_field + k].name, sp))
      return k;
  return NONE;
}

static int add_step(parser *ps, raw_path *rp, uint32_t type, uint32_t field,
                    const span *owner) {
  hf_keypath *kp = &rp->res;
  if (kp->depth == HF_MAX_KEY_DEPTH) {
    char wr[WRITTEN_CAP];
    written(rp, wr, sizeof wr);
    return fail(ps, HF_E_LIMIT, rp->seg[0].at,
                "key path '%s' of '%.*s' resolves to more than %d steps "
                "(R-SCH-19)",
                wr, (int)owner->len, owner->s, HF_MAX_KEY_DEPTH);
  }
  kp->step_types[kp->depth] = type;
  kp->steps[kp->depth++] = field;
  rp->text_len += ps->f[ps->t[type].first_field + field].name.len + 1;
  return HF_OK;
}

/* Steps through the written segments (R-SCH-17). */
static int walk_written(parser *ps, raw_path *rp, uint32_t keyed,
                        const span *owner) {
  uint32_t cur = keyed, k, f;
  char wr[WRITTEN_CAP];
  int rc;
  for (k = 0; k < rp->nseg; k++) {
    const raw_type *rt = &ps->t[cur];
    const span *sg = &rp->seg[k];
    const raw_field *rf;
    if (rt->kind != HF_KIND_OBJECT) {
      written(rp, wr, sizeof wr);
      return fail(ps, HF_E_SCHEMA, sg->at,
                  "key path '%s' of '%.*s' steps into %s type '%.*s'; key "
                  "paths cannot step through a collection (R-SCH-17)",
                  wr, (int)owner->len, owner->s, kind_name(rt->kind),
                  (int)rt->name.len, rt->name.s);
    }
    if ((f = field_index(ps, rt, sg)) == NONE) {
      written(rp, wr, sizeof wr);
      return fail(ps, HF_E_SCHEMA, sg->at,
                  "key path '%s' of '%.*s': no field '%.*s' in type '%.*s' "
                  "(R-SCH-17)",
                  wr, (int)owner->len, owner->s, plen(sg->len), sg->s,
                  (int)rt->name.len, rt->name.s);
    }
    if ((rc = add_step(ps, rp, cur, f, owner)) != HF_OK)
      return rc;
    if (k + 1 == rp->nseg)
      break;
    rf = &ps->f[rt->first_field + f];
    if (rf->ft != HF_FT_REF) {
      written(rp, wr, sizeof wr);
      return fail(ps, HF_E_SCHEMA, sg->at,
                  "key path '%s' of '%.*s': field '%.*s' of '%.*s' has type "
                  "%s, not a reference (R-SCH-17)",
                  wr, (int)owner->len, owner->s, (int)rf->name.len, rf->name.s,
                  (int)rt->name.len, rt->name.s, prim_names[rf->ft]);
    }
    cur = rf->ref;
  }
  return HF_OK;
}

/* Implicit continuation and the leaf check (§4.2 steps 4-5). */
static int finish_path(parser *ps, raw_path *rp, const span *owner) {
  hf_keypath *kp = &rp->res;
  char wr[WRITTEN_CAP];
  for (;;) {
    const raw_field *fd =
        &ps->f[ps->t[kp->step_types[kp->depth - 1]].first_field +
               kp->steps[kp->depth - 1]];
    const raw_type *rt;
    int rc;
    if (fd->ft != HF_FT_REF) {
      kp->leaf = fd->ft;
      return HF_OK;
    }
    rt = &ps->t[fd->ref];
    if (rt->kind != HF_KIND_OBJECT) {
      written(rp, wr, sizeof wr);
      return fail(ps, HF_E_SCHEMA, rp->seg[0].at,
                  "key path '%s' of '%.*s' ends at %s type '%.*s'; key paths "
                  "cannot step through a collection (R-SCH-18)",
                  wr, (int)owner->len, owner->s, kind_name(rt->kind),
                  (int)rt->name.len, rt->name.s);
    }
    if (rt->nfields != 1) {
      written(rp, wr, sizeof wr);
      return fail(ps, HF_E_SCHEMA, rp->seg[0].at,
                  "key path '%s' of '%.*s' ends at a reference to '%.*s', "
                  "which has %lu fields; name one (R-SCH-18)",
                  wr, (int)owner->len, owner->s, (int)rt->name.len, rt->name.s,
                  (unsigned long)rt->nfields);
    }
    if ((rc = add_step(ps, rp, fd->ref, 0, owner)) != HF_OK)
      return rc;
  }
}

/* Writes the dotted field names of a resolved path (text_len bytes, NUL
 * included) to out. */
static void path_text(const parser *ps, const raw_path *rp, char *out) {
  const hf_keypath *kp = &rp->res;
  uint32_t k;
  for (k = 0; k < kp->depth; k++) {
    const span *nm =
        &ps->f[ps->t[kp->step_types[k]].first_field + kp->steps[k]].name;
    if (k > 0)
      *out++ = '.';
    memcpy(out, nm->s, nm->len);
    out += nm->len;
  }
  *out = '\0';
}

/* Two paths of one keyed type have the same text exactly when they take
 * the same steps: field names are unique in a type (R-SCH-11). */
static int same_steps(const hf_keypath *a, const hf_keypath *b) {
  return a->depth == b->depth &&
         memcmp(a->steps, b->steps, a->depth * sizeof a->steps[0]) == 0 &&
         memcmp(a->step_types, b->step_types,
                a->depth * sizeof a->step_types[0]) == 0;
}

static int resolve_keys(parser *ps, uint32_t t) {
  const raw_type *rt = &ps->t[t];
  const uint32_t keyed = rt->kind == HF_KIND_OBJECT ? t : rt->elem_t;
  uint32_t k, j;
  int rc;

  for (k = 0; k < rt->npaths; k++) {
    raw_path *rp = &ps->kp[rt->first_path + k];
    memset(&rp->res, 0, sizeof rp->res);
    rp->text_len = 0;
    if ((rc = walk_written(ps, rp, keyed, &rt->name)) != HF_OK ||
        (rc = finish_path(ps, rp, &rt->name)) != HF_OK)
      return rc;
    ps->nchars += rp->text_len;
    for (j = 0; j < k; j++)
      if (same_steps(&ps->kp[rt->first_path + j].res, &rp->res)) {
        char text[HF_MAX_KEY_DEPTH * (HF_MAX_NAME + 1)];
        path_text(ps, rp, text);
        return fail(ps, HF_E_SCHEMA, rp->seg[0].at,
                    "duplicate key path '%s' in %s of '%.*s' (R-SCH-20)", text,
                    rt->kind == HF_KIND_OBJECT ? "@PrimaryKey" : "@HashKey",
                    (int)rt->name.len, rt->name.s);
      }
  }
  return HF_OK;
}

/* ---- The schema, in one allocation ---- */

/* Alignment of the arrays inside the block: enough for every member. */
typedef union arena_align {
  void *p;
  uint64_t u;
  double d;
} arena_align;

static size_t round_up(size_t n) {
  const size_t a = sizeof(arena_align);
  return (n + a - 1) / a * a;
}

static char *copy_name(char *dst, const span *sp) {
  memcpy(dst, sp->s, sp->len);
  dst[sp->len] = '\0';
  return dst + sp->len + 1;
}

static uint32_t slot_size(hf_ftype ft) {
  return ft == HF_FT_BOOLEAN                                       ? 1
         : ft == HF_FT_INT || ft == HF_FT_FLOAT || ft == HF_FT_REF ? 4
                                                                   : 8;
}

/* FORMAT.md §6.4: the 8-byte values in field order, then the 4-byte ones,
 * then the 1-byte ones, then the presence bitmap. */
static void layout(hf_type_def *td) {
  uint32_t n[9] = {0}, off[9], k, maxsz;
  if (td->kind != HF_KIND_OBJECT) {
    td->slot_width = 8;
    return;
  }
  for (k = 0; k < td->nfields; k++) {
    td->fields[k].size = slot_size(td->fields[k].type);
    n[td->fields[k].size]++;
  }
  off[8] = 0;
  off[4] = 8 * n[8];
  off[1] = off[4] + 4 * n[4];
  for (k = 0; k < td->nfields; k++) {
    hf_field_def *fd = &td->fields[k];
    fd->offset = off[fd->size];
    off[fd->size] += fd->size;
  }
  maxsz = n[8] ? 8 : n[4] ? 4 : 1;
  td->present_off = off[1];
  td->present_len = (td->nfields + 7) / 8;
  td->slot_width =
      (td->present_off + td->present_len + maxsz - 1) / maxsz * maxsz;
}

static void fill_type(const parser *ps, uint32_t t, hf_type_def *td,
                      hf_field_def *fields, hf_keypath *keys, char **chars) {
  const raw_type *rt = &ps->t[t];
  uint32_t k;
  td->name = *chars;
  *chars = copy_name(*chars, &rt->name);
  td->kind = rt->kind;
  td->elem_type = rt->kind == HF_KIND_OBJECT ? HF_NO_TYPE : rt->elem_t;
  td->value_type = rt->kind == HF_KIND_MAP ? rt->value_t : HF_NO_TYPE;
  if (rt->kind == HF_KIND_OBJECT) {
    td->fields = fields;
    td->nfields = rt->nfields;
    for (k = 0; k < rt->nfields; k++) {
      const raw_field *rf = &ps->f[rt->first_field + k];
      fields[k].name = *chars;
      *chars = copy_name(*chars, &rf->name);
      fields[k].type = rf->ft;
      fields[k].ref_type = rf->ft == HF_FT_REF ? rf->ref : HF_NO_TYPE;
    }
  }
  if (rt->npaths > 0) {
    td->keys = keys;
    td->nkeys = rt->npaths;
    for (k = 0; k < rt->npaths; k++) {
      const raw_path *rp = &ps->kp[rt->first_path + k];
      keys[k] = rp->res;
      keys[k].text = *chars;
      path_text(ps, rp, *chars);
      *chars += rp->text_len;
    }
  }
  layout(td);
}

/* The schema, its types, fields, key paths, type order and every string
 * in one block, which hf_schema_free() frees with one call. */
static hf_schema *assemble(const parser *ps) {
  const size_t o_types = round_up(sizeof(hf_schema));
  const size_t o_fields = o_types + round_up(ps->nt * sizeof(hf_type_def));
  const size_t o_keys = o_fields + round_up(ps->nf * sizeof(hf_field_def));
  const size_t o_topo = o_keys + round_up(ps->nkp * sizeof(hf_keypath));
  const size_t o_chars = o_topo + ps->nt * sizeof(uint32_t);
  /* no overflow: nt <= HF_MAX_TYPES, and nf, nkp and nchars are bounded by
   * the text length (HF_MAX_SCHEMA_TEXT) times small constants */
  unsigned char *mem = malloc(o_chars + ps->nchars);
  hf_schema *s = (hf_schema *)(void *)mem;
  hf_field_def *fields;
  hf_keypath *keys;
  char *chars;
  uint32_t t;

  if (mem == NULL)
    return NULL;
  memset(mem, 0, o_topo);
  s->ntypes = ps->nt;
  s->types = (hf_type_def *)(void *)(mem + o_types);
  s->topo = (uint32_t *)(void *)(mem + o_topo);
  memcpy(s->topo, ps->order, ps->nt * sizeof(uint32_t));
  fields = (hf_field_def *)(void *)(mem + o_fields);
  keys = (hf_keypath *)(void *)(mem + o_keys);
  chars = (char *)(mem + o_chars);
  for (t = 0; t < ps->nt; t++) {
    const raw_type *rt = &ps->t[t];
    fill_type(ps, t, &s->types[t], fields + rt->first_field,
              keys + rt->first_path, &chars);
  }
  return s;
}

/* ---- Entry points ---- */

void hf_schema_free(hf_schema *s) {
  free(s); /* one block: see assemble() */
}

static int run(parser *ps, hf_schema **out) {
  uint32_t t;
  int rc;
  if ((rc = parse_text(ps)) != HF_OK || (rc = resolve_names(ps)) != HF_OK)
    return rc;
  if (ps->nt > T0 && (ps->order = malloc(ps->nt * sizeof *ps->order)) == NULL)
    return HF_E_NOMEM;
  if ((rc = order_types(ps)) != HF_OK)
    return rc;
  for (t = 0; t < ps->nt; t++)
    if ((rc = resolve_keys(ps, t)) != HF_OK)
      return rc;
  if ((*out = assemble(ps)) == NULL)
    return HF_E_NOMEM;
  return HF_OK;
}

static void parser_init(parser *ps, const char *text, size_t len,
                        hf_error *err) {
  uint32_t k;
  ps->p = text != NULL ? text : "";
  ps->len = len;
  ps->i = ps->line_start = 0;
  ps->line = 1;
  ps->err = err;
  ps->t = ps->t0;
  ps->capt = T0;
  ps->f = ps->f0;
  ps->capf = F0;
  ps->kp = ps->kp0;
  ps->capkp = KP0;
  ps->nt = ps->nf = ps->nkp = 0;
  ps->nchars = 0;
  ps->ttab = ps->ttab0;
  ps->ttab_cap = TT0;
  for (k = 0; k < TT0; k++)
    ps->ttab0[k] = NONE;
  ps->ftab = ps->ftab0;
  ps->ftab_cap = FT0;
  memset(ps->ftab0, 0, sizeof ps->ftab0);
  ps->order = ps->order0;
}

static void parser_free(parser *ps) {
  if (ps->t != ps->t0)
    free(ps->t);
  if (ps->f != ps->f0)
    free(ps->f);
  if (ps->kp != ps->kp0)
    free(ps->kp);
  if (ps->ttab != ps->ttab0)
    free(ps->ttab);
  if (ps->ftab != ps->ftab0)
    free(ps->ftab);
  if (ps->order != ps->order0)
    free(ps->order);
}

int hf_schema_parse(const char *text, size_t len, hf_schema **out,
                    hf_error *err) {
  parser ps;
  int rc;

  if (out == NULL || (text == NULL && len > 0))
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "hf_schema_parse: NULL argument");
  *out = NULL;
  if (len > HF_MAX_SCHEMA_TEXT)
    return hf_fail_at(err, HF_E_LIMIT, 0, 0,
                      "schema text is %llu bytes; the limit is %lu (R-SCH-01)",
                      (unsigned long long)len,
                      (unsigned long)HF_MAX_SCHEMA_TEXT);
  parser_init(&ps, text, len, err);
  rc = run(&ps, out);
  parser_free(&ps);
  if (rc != HF_OK) {
    *out = NULL;
    if (rc == HF_E_NOMEM)
      return hf_fail(err, HF_E_NOMEM, UINT64_MAX,
                     "out of memory parsing schema");
    return rc;
  }
  hf_error_clear(err);
  return HF_OK;
}
