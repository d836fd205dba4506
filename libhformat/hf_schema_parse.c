/*
 * hf_schema_parse.c - schema text (spec/SCHEMA.md) to struct hf_schema.
 *
 * Four phases, in the order SCHEMA.md §3.4 reports errors:
 *  1. lex + parse into raw records that point into the text (syntax, names,
 *     duplicates, counts, annotation placement);
 *  2. build the schema and resolve type names (R-SCH-12, R-SCH-13);
 *  3. depth-first search for cycles, giving the type order (R-SCH-14);
 *  4. resolve key paths (§4) and compute slot layouts (FORMAT.md §6.4).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hf_internal.h"

/* ---- Raw parse results ---- */

typedef struct pos {
  uint64_t line;
  uint32_t col;
} pos;

/* A piece of the text: a name or a token, with where it starts. */
typedef struct span {
  const char *s;
  size_t len;
  pos at;
} span;

typedef struct raw_field {
  span name;
  span tname; /* the field type as written */
  hf_ftype ft;
} raw_field;

/* Written key path; one segment more than a resolved path may have, which
 * is enough to detect R-SCH-19 (resolution never shortens a path). */
typedef struct raw_path {
  span seg[HF_MAX_KEY_DEPTH + 1];
  uint32_t nseg;
} raw_path;

typedef struct raw_type {
  span name;
  hf_kind kind;
  uint32_t first_field, nfields; /* into parser.f */
  span elem, value;              /* collections */
  uint32_t first_path, npaths;   /* into parser.kp */
} raw_type;

enum { TK_EOF, TK_IDENT, TK_ANNOT, TK_PUNCT };

typedef struct token {
  int kind;
  span sp; /* TK_ANNOT: includes the '@' */
} token;

#define FTAB_CAP 2048 /* > 2 * HF_MAX_FIELDS: field-name table load <= 1/2 */
#define NONE UINT32_MAX

typedef struct parser {
  const char *p;
  size_t len, i, line_start;
  uint64_t line;
  token tok;
  hf_error *err;

  raw_type *t;
  uint32_t nt, capt;
  raw_field *f;
  uint32_t nf, capf;
  raw_path *kp;
  uint32_t nkp, capkp;

  uint32_t *ttab; /* type-name hash table: type index or NONE */
  uint32_t ttab_cap;
  /* field-name table: owning type + 1 (stale entries are empty) and index
   * into f; sized from the text, so that opening a small schema zeroes
   * little */
  struct fslot {
    uint32_t stamp, field;
  } * ftab;
  uint32_t ftab_cap; /* a power of two above twice any type's fields */
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

static int is_ident_start(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident_char(int c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

static pos here(const parser *ps) {
  pos at;
  at.line = ps->line;
  at.col = (uint32_t)(ps->i - ps->line_start + 1);
  return at;
}

static int span_eq(span a, const char *s) {
  size_t n = strlen(s);
  return a.len == n && memcmp(a.s, s, n) == 0;
}

/* Skips whitespace and comments; R-SCH-03 for an open block comment. */
static int skip_blank(parser *ps) {
  while (ps->i < ps->len) {
    const char c = ps->p[ps->i];
    if (c == ' ' || c == '\t' || c == '\r') {
      ps->i++;
    } else if (c == '\n') {
      ps->i++;
      ps->line++;
      ps->line_start = ps->i;
    } else if (c == '/' && ps->len - ps->i > 1 && ps->p[ps->i + 1] == '/') {
      while (ps->i < ps->len && ps->p[ps->i] != '\n')
        ps->i++;
    } else if (c == '/' && ps->len - ps->i > 1 && ps->p[ps->i + 1] == '*') {
      const pos open = here(ps);
      ps->i += 2;
      for (;;) {
        if (ps->i >= ps->len)
          return fail(ps, HF_E_SCHEMA, open,
                      "unterminated block comment (R-SCH-03)");
        if (ps->p[ps->i] == '*' && ps->len - ps->i > 1 &&
            ps->p[ps->i + 1] == '/') {
          ps->i += 2;
          break;
        }
        if (ps->p[ps->i] == '\n') {
          ps->line++;
          ps->line_start = ps->i + 1;
        }
        ps->i++;
      }
    } else {
      break;
    }
  }
  return HF_OK;
}

static int lex_ident(parser *ps, size_t start, pos at) {
  size_t n;
  ps->i = start;
  while (ps->i < ps->len && is_ident_char((unsigned char)ps->p[ps->i]))
    ps->i++;
  n = ps->i - start;
  if (n > HF_MAX_NAME)
    return fail(ps, HF_E_LIMIT, at,
                "name '%.*s...' is %lu bytes long; the limit is %d "
                "(R-SCH-04)",
                32, ps->p + start, (unsigned long)n, HF_MAX_NAME);
  return HF_OK;
}

/* Reads the next token into ps->tok. */
static int next(parser *ps) {
  int rc = skip_blank(ps);
  const size_t start = ps->i;
  unsigned char c;
  token *tk = &ps->tok;

  if (rc != HF_OK)
    return rc;
  tk->sp.s = ps->p + start;
  tk->sp.at = here(ps);
  if (start >= ps->len) {
    tk->kind = TK_EOF;
    tk->sp.len = 0;
    return HF_OK;
  }
  c = (unsigned char)ps->p[start];
  if (is_ident_start(c)) {
    tk->kind = TK_IDENT;
    rc = lex_ident(ps, start, tk->sp.at);
  } else if (c == '@' && ps->len - start > 1 &&
             is_ident_start((unsigned char)ps->p[start + 1])) {
    tk->kind = TK_ANNOT;
    rc = lex_ident(ps, start + 1, tk->sp.at);
  } else if (c != '\0' && strchr("{}()<>,;.", c) != NULL) {
    tk->kind = TK_PUNCT;
    ps->i++;
  } else if (c > ' ' && c < 0x7f) {
    return fail(ps, HF_E_SCHEMA, tk->sp.at,
                "unexpected character '%c' (R-SCH-02)", c);
  } else {
    return fail(ps, HF_E_SCHEMA, tk->sp.at, "unexpected byte 0x%02X (R-SCH-02)",
                c);
  }
  tk->sp.len = ps->i - start;
  return rc;
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

static hf_ftype prim_of(span sp) {
  int k;
  for (k = HF_FT_INT; k <= HF_FT_BYTES; k++)
    if (span_eq(sp, prim_names[k]))
      return (hf_ftype)k;
  return HF_FT_REF;
}

static int is_reserved(span sp) {
  return prim_of(sp) != HF_FT_REF || span_eq(sp, "List") ||
         span_eq(sp, "Set") || span_eq(sp, "Map");
}

/* ---- Name tables ---- */

static uint32_t name_hash(const char *s, size_t len, uint32_t salt) {
  uint32_t h = 2166136261u ^ salt;
  size_t k;
  for (k = 0; k < len; k++)
    h = (h ^ (unsigned char)s[k]) * 16777619u;
  return h;
}

/* Looks a type name up; NONE if absent.  Works while parsing (raw names). */
static uint32_t ttab_find(const parser *ps, const char *s, size_t len) {
  uint32_t i, mask;
  if (ps->ttab_cap == 0)
    return NONE;
  mask = ps->ttab_cap - 1;
  for (i = name_hash(s, len, 0) & mask; ps->ttab[i] != NONE;
       i = (i + 1) & mask) {
    const span *n = &ps->t[ps->ttab[i]].name;
    if (n->len == len && memcmp(n->s, s, len) == 0)
      return ps->ttab[i];
  }
  return NONE;
}

static void ttab_put(parser *ps, uint32_t type) {
  const uint32_t mask = ps->ttab_cap - 1;
  const span *n = &ps->t[type].name;
  uint32_t i = name_hash(n->s, n->len, 0) & mask;
  while (ps->ttab[i] != NONE)
    i = (i + 1) & mask;
  ps->ttab[i] = type;
}

/* Adds type `type` to the name table, growing it to keep load <= 1/2. */
static int ttab_add(parser *ps, uint32_t type) {
  if ((type + 1) * 2 > ps->ttab_cap) {
    const uint32_t cap = ps->ttab_cap ? ps->ttab_cap * 2 : 64;
    uint32_t *tab = malloc(cap * sizeof *tab), k;
    if (tab == NULL)
      return HF_E_NOMEM;
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

/* Field-name table of the type being parsed (`owner`); stamps make the
 * previous type's entries empty without clearing.  HF_OK, or HF_E_SCHEMA
 * naming the duplicate (R-SCH-11). */
static int ftab_add(parser *ps, uint32_t owner, uint32_t field) {
  const span *n = &ps->f[field].name;
  const uint32_t mask = ps->ftab_cap - 1;
  uint32_t i = name_hash(n->s, n->len, owner) & mask;
  while (ps->ftab[i].stamp == owner + 1) {
    const span *o = &ps->f[ps->ftab[i].field].name;
    if (o->len == n->len && memcmp(o->s, n->s, n->len) == 0)
      return fail(ps, HF_E_SCHEMA, n->at,
                  "duplicate field '%.*s' in type '%.*s' (R-SCH-11)",
                  plen(n->len), n->s, plen(ps->t[owner].name.len),
                  ps->t[owner].name.s);
    i = (i + 1) & mask;
  }
  ps->ftab[i].stamp = owner + 1;
  ps->ftab[i].field = field;
  return HF_OK;
}

/* Grows *arr (elements of `size` bytes) so that index n is valid. */
static int grow(void **arr, uint32_t *cap, uint32_t n, size_t size) {
  void *p;
  uint32_t c;
  if (n < *cap)
    return HF_OK;
  c = *cap ? *cap * 2 : 16;
  p = realloc(*arr, (size_t)c * size);
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
    if (grow((void **)&ps->kp, &ps->capkp, ps->nkp, sizeof *ps->kp) != HF_OK)
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
  if (span_eq(a, "@PrimaryKey"))
    *id = 1;
  else if (span_eq(a, "@HashKey"))
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
  if (grow((void **)&ps->f, &ps->capf, ps->nf, sizeof *ps->f) != HF_OK)
    return HF_E_NOMEM;
  rf = &ps->f[ps->nf];
  rf->tname = ps->tok.sp;
  rf->ft = prim_of(rf->tname);
  if ((rc = next(ps)) != HF_OK)
    return rc;
  if (ps->tok.kind != TK_IDENT)
    return expected(ps, "a field name");
  rf->name = ps->tok.sp;
  if ((rc = ftab_add(ps, type, ps->nf)) != HF_OK)
    return rc;
  ps->nf++;
  rt->nfields++;
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

static int parse_coll(parser *ps, uint32_t type) {
  raw_type *rt = &ps->t[type];
  const char *kw = span_eq(ps->tok.sp, "List")  ? "list"
                   : span_eq(ps->tok.sp, "Set") ? "set"
                                                : "map";
  int rc, id;
  rt->kind = kw[0] == 'l'   ? HF_KIND_LIST
             : kw[0] == 's' ? HF_KIND_SET
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
                  kw, plen(rt->name.len), rt->name.s);
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
  uint32_t type;
  int rc;
  if (ps->tok.kind != TK_IDENT)
    return expected(ps, "a type name");
  if (is_reserved(name))
    return fail(ps, HF_E_SCHEMA, name.at,
                "'%.*s' is a keyword and cannot name a type (R-SCH-07)",
                plen(name.len), name.s);
  if (ps->nt == HF_MAX_TYPES)
    return fail(ps, HF_E_LIMIT, name.at, "more than %d types (R-SCH-09)",
                HF_MAX_TYPES);
  if (ttab_find(ps, name.s, name.len) != NONE)
    return fail(ps, HF_E_SCHEMA, name.at, "duplicate type '%.*s' (R-SCH-08)",
                plen(name.len), name.s);
  if (grow((void **)&ps->t, &ps->capt, ps->nt, sizeof *ps->t) != HF_OK)
    return HF_E_NOMEM;
  type = ps->nt++;
  memset(&ps->t[type], 0, sizeof ps->t[type]);
  ps->t[type].name = name;
  ps->t[type].kind = HF_KIND_OBJECT;
  if (ttab_add(ps, type) != HF_OK)
    return HF_E_NOMEM;
  if ((rc = next(ps)) != HF_OK)
    return rc;
  if (is_punct(ps, '{') || ps->tok.kind == TK_ANNOT)
    return parse_object(ps, type);
  if (ps->tok.kind == TK_IDENT &&
      (span_eq(ps->tok.sp, "List") || span_eq(ps->tok.sp, "Set") ||
       span_eq(ps->tok.sp, "Map")))
    return parse_coll(ps, type);
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

/* ---- Building and resolving (phases 2 and 3) ---- */

static char *dup_span(span sp) {
  char *s = malloc(sp.len + 1);
  if (s != NULL) {
    memcpy(s, sp.s, sp.len);
    s[sp.len] = '\0';
  }
  return s;
}

static int build(parser *ps, hf_schema *s) {
  uint32_t t, k;
  s->types = calloc(ps->nt, sizeof *s->types);
  s->topo = malloc(ps->nt * sizeof *s->topo);
  if (s->types == NULL || s->topo == NULL)
    return HF_E_NOMEM;
  s->ntypes = ps->nt;
  for (t = 0; t < ps->nt; t++) {
    const raw_type *rt = &ps->t[t];
    hf_type_def *td = &s->types[t];
    td->kind = rt->kind;
    td->elem_type = td->value_type = HF_NO_TYPE;
    if ((td->name = dup_span(rt->name)) == NULL)
      return HF_E_NOMEM;
    if (rt->kind != HF_KIND_OBJECT)
      continue;
    if ((td->fields = calloc(rt->nfields, sizeof *td->fields)) == NULL)
      return HF_E_NOMEM;
    td->nfields = rt->nfields;
    for (k = 0; k < rt->nfields; k++) {
      const raw_field *rf = &ps->f[rt->first_field + k];
      td->fields[k].type = rf->ft;
      td->fields[k].ref_type = HF_NO_TYPE;
      if ((td->fields[k].name = dup_span(rf->name)) == NULL)
        return HF_E_NOMEM;
    }
  }
  return HF_OK;
}

/* Resolves the element (role 0), key (1) or value (2) type of a collection;
 * R-SCH-13 for primitives, R-SCH-12 for unknown names. */
static int resolve_member(parser *ps, uint32_t t, span sp, int role,
                          uint32_t *out) {
  static const char *const roles[] = {"element", "key", "value"};
  const span *n = &ps->t[t].name;
  if (prim_of(sp) != HF_FT_REF)
    return fail(ps, HF_E_SCHEMA, sp.at,
                "%s type of '%.*s' must be a declared type, not '%.*s' "
                "(R-SCH-13)",
                roles[role], plen(n->len), n->s, plen(sp.len), sp.s);
  if ((*out = ttab_find(ps, sp.s, sp.len)) == NONE)
    return fail(ps, HF_E_SCHEMA, sp.at,
                "unknown type '%.*s' as %s type of '%.*s' (R-SCH-12)",
                plen(sp.len), sp.s, roles[role], plen(n->len), n->s);
  return HF_OK;
}

static int resolve_names(parser *ps, hf_schema *s) {
  uint32_t t, k;
  int rc;
  for (t = 0; t < s->ntypes; t++) {
    const raw_type *rt = &ps->t[t];
    hf_type_def *td = &s->types[t];
    for (k = 0; k < td->nfields; k++) {
      const raw_field *rf = &ps->f[rt->first_field + k];
      if (rf->ft != HF_FT_REF)
        continue;
      td->fields[k].ref_type = ttab_find(ps, rf->tname.s, rf->tname.len);
      if (td->fields[k].ref_type == NONE)
        return fail(ps, HF_E_SCHEMA, rf->tname.at,
                    "unknown type '%.*s' in field '%s' of '%s' (R-SCH-12)",
                    plen(rf->tname.len), rf->tname.s, td->fields[k].name,
                    td->name);
    }
    if (td->kind == HF_KIND_OBJECT)
      continue;
    rc = resolve_member(ps, t, rt->elem, td->kind == HF_KIND_MAP,
                        &td->elem_type);
    if (rc == HF_OK && td->kind == HF_KIND_MAP)
      rc = resolve_member(ps, t, rt->value, 2, &td->value_type);
    if (rc != HF_OK)
      return rc;
  }
  return HF_OK;
}

/* Reference `k` of type t (SCHEMA.md §3.3 order): the referenced type, or
 * NONE for a primitive field; *at = where it is written. */
static uint32_t edge(const parser *ps, const hf_schema *s, uint32_t t,
                     uint32_t k, pos *at) {
  const hf_type_def *td = &s->types[t];
  if (td->kind == HF_KIND_OBJECT) {
    *at = ps->f[ps->t[t].first_field + k].tname.at;
    return td->fields[k].ref_type;
  }
  *at = k == 0 ? ps->t[t].elem.at : ps->t[t].value.at;
  return k == 0 ? td->elem_type : td->value_type;
}

static uint32_t edge_count(const hf_type_def *td) {
  return td->kind == HF_KIND_OBJECT ? td->nfields
         : td->kind == HF_KIND_MAP  ? 2
                                    : 1;
}

/* R-SCH-14: names the cycle stack[from..depth) -> stack[from]. */
static int cycle_error(parser *ps, const hf_schema *s, const uint32_t *stack,
                       uint32_t from, uint32_t depth, pos at) {
  char path[200];
  size_t n = 0;
  uint32_t k;
  for (k = from; k <= depth && n < sizeof path; k++) {
    const uint32_t t = k < depth ? stack[k] : stack[from];
    int w = snprintf(path + n, sizeof path - n, "%s%s", k > from ? " -> " : "",
                     s->types[t].name);
    if (w < 0)
      break;
    n += (size_t)w;
  }
  if (n >= sizeof path)
    memcpy(path + sizeof path - 4, "...", 4);
  return fail(ps, HF_E_SCHEMA, at, "types form a cycle: %s (R-SCH-14)", path);
}

/* Depth-first search from every type in id order; post-order is s->topo. */
static int order_types(parser *ps, hf_schema *s) {
  const uint32_t nt = s->ntypes;
  uint32_t *stack = malloc(nt * sizeof *stack);
  uint32_t *nextk = malloc(nt * sizeof *nextk);
  unsigned char *color = calloc(nt, 1); /* 0 new, 1 on stack, 2 done */
  uint32_t root, depth, ntopo = 0;
  int rc = HF_OK;

  if (stack == NULL || nextk == NULL || color == NULL) {
    rc = HF_E_NOMEM;
    goto out;
  }
  for (root = 0; root < nt && rc == HF_OK; root++) {
    if (color[root] != 0)
      continue;
    depth = 0;
    stack[depth] = root;
    nextk[depth++] = 0;
    color[root] = 1;
    while (depth > 0 && rc == HF_OK) {
      const uint32_t t = stack[depth - 1];
      pos at;
      uint32_t c, from;
      if (nextk[depth - 1] == edge_count(&s->types[t])) {
        color[t] = 2;
        s->topo[ntopo++] = t;
        depth--;
        continue;
      }
      c = edge(ps, s, t, nextk[depth - 1]++, &at);
      if (c == NONE || color[c] == 2)
        continue;
      if (color[c] == 1) {
        for (from = 0; stack[from] != c; from++)
          ;
        rc = cycle_error(ps, s, stack, from, depth, at);
      } else {
        color[c] = 1;
        stack[depth] = c;
        nextk[depth++] = 0;
      }
    }
  }
out:
  free(stack);
  free(nextk);
  free(color);
  return rc;
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

static uint32_t field_index(const hf_type_def *td, span sp) {
  uint32_t k;
  for (k = 0; k < td->nfields; k++)
    if (strlen(td->fields[k].name) == sp.len &&
        memcmp(td->fields[k].name, sp.s, sp.len) == 0)
      return k;
  return NONE;
}

static int add_step(parser *ps, hf_keypath *kp, uint32_t type, uint32_t field,
                    const char *wr, const char *owner, pos at) {
  if (kp->depth == HF_MAX_KEY_DEPTH)
    return fail(ps, HF_E_LIMIT, at,
                "key path '%s' of '%s' resolves to more than %d steps "
                "(R-SCH-19)",
                wr, owner, HF_MAX_KEY_DEPTH);
  kp->step_types[kp->depth] = type;
  kp->steps[kp->depth++] = field;
  return HF_OK;
}

/* Steps through the written segments (R-SCH-17). */
static int walk_written(parser *ps, const hf_schema *s, const raw_path *rp,
                        uint32_t keyed, hf_keypath *kp, const char *wr,
                        const char *owner) {
  uint32_t cur = keyed, k, f;
  int rc;
  for (k = 0; k < rp->nseg; k++) {
    const hf_type_def *td = &s->types[cur];
    const span sg = rp->seg[k];
    if (td->kind != HF_KIND_OBJECT)
      return fail(ps, HF_E_SCHEMA, sg.at,
                  "key path '%s' of '%s' steps into %s type '%s'; key paths "
                  "cannot step through a collection (R-SCH-17)",
                  wr, owner, kind_name(td->kind), td->name);
    if ((f = field_index(td, sg)) == NONE)
      return fail(ps, HF_E_SCHEMA, sg.at,
                  "key path '%s' of '%s': no field '%.*s' in type '%s' "
                  "(R-SCH-17)",
                  wr, owner, plen(sg.len), sg.s, td->name);
    if ((rc = add_step(ps, kp, cur, f, wr, owner, rp->seg[0].at)) != HF_OK)
      return rc;
    if (k + 1 == rp->nseg)
      break;
    if (td->fields[f].type != HF_FT_REF)
      return fail(ps, HF_E_SCHEMA, sg.at,
                  "key path '%s' of '%s': field '%s' of '%s' has type %s, "
                  "not a reference (R-SCH-17)",
                  wr, owner, td->fields[f].name, td->name,
                  prim_names[td->fields[f].type]);
    cur = td->fields[f].ref_type;
  }
  return HF_OK;
}

/* Implicit continuation and the leaf check (§4.2 steps 4-5). */
static int finish_path(parser *ps, const hf_schema *s, const raw_path *rp,
                       hf_keypath *kp, const char *wr, const char *owner) {
  for (;;) {
    const hf_field_def *fd = &s->types[kp->step_types[kp->depth - 1]]
                                  .fields[kp->steps[kp->depth - 1]];
    const hf_type_def *rt;
    int rc;
    if (fd->type != HF_FT_REF) {
      kp->leaf = fd->type;
      return HF_OK;
    }
    rt = &s->types[fd->ref_type];
    if (rt->kind != HF_KIND_OBJECT)
      return fail(ps, HF_E_SCHEMA, rp->seg[0].at,
                  "key path '%s' of '%s' ends at %s type '%s'; key paths "
                  "cannot step through a collection (R-SCH-18)",
                  wr, owner, kind_name(rt->kind), rt->name);
    if (rt->nfields != 1)
      return fail(ps, HF_E_SCHEMA, rp->seg[0].at,
                  "key path '%s' of '%s' ends at a reference to '%s', which "
                  "has %lu fields; name one (R-SCH-18)",
                  wr, owner, rt->name, (unsigned long)rt->nfields);
    rc = add_step(ps, kp, fd->ref_type, 0, wr, owner, rp->seg[0].at);
    if (rc != HF_OK)
      return rc;
  }
}

static int path_text(const hf_schema *s, hf_keypath *kp) {
  size_t n = 0;
  uint32_t k;
  char *p;
  for (k = 0; k < kp->depth; k++)
    n += strlen(s->types[kp->step_types[k]].fields[kp->steps[k]].name) + 1;
  if ((kp->text = p = malloc(n)) == NULL)
    return HF_E_NOMEM;
  for (k = 0; k < kp->depth; k++) {
    const char *nm = s->types[kp->step_types[k]].fields[kp->steps[k]].name;
    const size_t len = strlen(nm);
    if (k > 0)
      *p++ = '.';
    memcpy(p, nm, len);
    p += len;
  }
  *p = '\0';
  return HF_OK;
}

static int resolve_keys(parser *ps, hf_schema *s, uint32_t t) {
  const raw_type *rt = &ps->t[t];
  hf_type_def *td = &s->types[t];
  const uint32_t keyed = td->kind == HF_KIND_OBJECT ? t : td->elem_type;
  uint32_t k, j;
  int rc;

  if (rt->npaths == 0)
    return HF_OK;
  if ((td->keys = calloc(rt->npaths, sizeof *td->keys)) == NULL)
    return HF_E_NOMEM;
  for (k = 0; k < rt->npaths; k++) {
    const raw_path *rp = &ps->kp[rt->first_path + k];
    hf_keypath *kp = &td->keys[k];
    char wr[160];
    written(rp, wr, sizeof wr);
    if ((rc = walk_written(ps, s, rp, keyed, kp, wr, td->name)) != HF_OK ||
        (rc = finish_path(ps, s, rp, kp, wr, td->name)) != HF_OK)
      return rc;
    if (path_text(s, kp) != HF_OK)
      return HF_E_NOMEM;
    td->nkeys = k + 1; /* so hf_schema_free() frees the text */
    for (j = 0; j < k; j++)
      if (strcmp(td->keys[j].text, kp->text) == 0)
        return fail(
            ps, HF_E_SCHEMA, rp->seg[0].at,
            "duplicate key path '%s' in %s of '%s' (R-SCH-20)", kp->text,
            td->kind == HF_KIND_OBJECT ? "@PrimaryKey" : "@HashKey", td->name);
  }
  return HF_OK;
}

/* FORMAT.md §6.4. */
static void layout(hf_type_def *td) {
  static const uint32_t sizes[] = {8, 4, 1};
  uint32_t off = 0, maxsz = 0, pass, k;
  if (td->kind != HF_KIND_OBJECT) {
    td->slot_width = 8;
    return;
  }
  for (pass = 0; pass < 3; pass++) {
    for (k = 0; k < td->nfields; k++) {
      hf_field_def *fd = &td->fields[k];
      const hf_ftype ft = fd->type;
      const uint32_t sz =
          ft == HF_FT_BOOLEAN                                       ? 1
          : ft == HF_FT_INT || ft == HF_FT_FLOAT || ft == HF_FT_REF ? 4
                                                                    : 8;
      if (sz != sizes[pass])
        continue;
      fd->offset = off;
      fd->size = sz;
      off += sz;
      if (sz > maxsz)
        maxsz = sz;
    }
  }
  td->present_off = off;
  td->present_len = (td->nfields + 7) / 8;
  off += td->present_len;
  td->slot_width = (off + maxsz - 1) / maxsz * maxsz;
}

/* ---- Entry points ---- */

void hf_schema_free(hf_schema *s) {
  uint32_t t, k;
  if (s == NULL)
    return;
  for (t = 0; s->types != NULL && t < s->ntypes; t++) {
    hf_type_def *td = &s->types[t];
    free(td->name);
    for (k = 0; td->fields != NULL && k < td->nfields; k++)
      free(td->fields[k].name);
    free(td->fields);
    for (k = 0; td->keys != NULL && k < td->nkeys; k++)
      free(td->keys[k].text);
    free(td->keys);
  }
  free(s->types);
  free(s->topo);
  free(s);
}

static int run(parser *ps, hf_schema *s) {
  uint32_t t;
  int rc;
  if ((rc = parse_text(ps)) != HF_OK || (rc = build(ps, s)) != HF_OK ||
      (rc = resolve_names(ps, s)) != HF_OK ||
      (rc = order_types(ps, s)) != HF_OK)
    return rc;
  for (t = 0; t < s->ntypes; t++) {
    if ((rc = resolve_keys(ps, s, t)) != HF_OK)
      return rc;
    layout(&s->types[t]);
  }
  return HF_OK;
}

int hf_schema_parse(const char *text, size_t len, hf_schema **out,
                    hf_error *err) {
  parser *ps;
  hf_schema *s;
  int rc;

  if (out == NULL || (text == NULL && len > 0))
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "hf_schema_parse: NULL argument");
  *out = NULL;
  if (len > HF_MAX_SCHEMA_TEXT)
    return hf_fail_at(err, HF_E_LIMIT, 0, 0,
                      "schema text is %llu bytes; the limit is %lu (R-SCH-01)",
                      (unsigned long long)len,
                      (unsigned long)HF_MAX_SCHEMA_TEXT);
  ps = calloc(1, sizeof *ps);
  s = calloc(1, sizeof *s);
  if (ps != NULL) {
    /* a field's declaration ends in ';': no type has more fields */
    const char *q = text, *end = text != NULL ? text + len : NULL;
    uint32_t semis = 0;
    while (q != NULL && q < end && (q = memchr(q, ';', (size_t)(end - q))))
      q++, semis++;
    ps->ftab_cap = 16;
    while (ps->ftab_cap < FTAB_CAP && ps->ftab_cap <= 2 * semis)
      ps->ftab_cap *= 2;
    ps->ftab = calloc(ps->ftab_cap, sizeof *ps->ftab);
  }
  if (ps == NULL || s == NULL || ps->ftab == NULL) {
    if (ps != NULL)
      free(ps->ftab);
    free(ps);
    free(s);
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory parsing schema");
  }
  ps->p = text != NULL ? text : "";
  ps->len = len;
  ps->line = 1;
  ps->err = err;
  rc = run(ps, s);
  free(ps->t);
  free(ps->f);
  free(ps->kp);
  free(ps->ttab);
  free(ps->ftab);
  free(ps);
  if (rc != HF_OK) {
    hf_schema_free(s);
    if (rc == HF_E_NOMEM)
      return hf_fail(err, HF_E_NOMEM, UINT64_MAX,
                     "out of memory parsing schema");
    return rc;
  }
  hf_error_clear(err);
  *out = s;
  return HF_OK;
}
