/*
 * hf_jtape.c - recording builder calls and replaying them (see hf_jtape.h).
 */
#include <stdlib.h>

#include "hf_builder_internal.h"
#include "hf_jtape.h"

enum {
  JOP_LINE = 1, /* arg: line - first_line; v: text offset | len << 32 */
  JOP_DIRECT,   /* as JOP_LINE, for a line replay adds directly */
  JOP_BEGIN,    /* arg: type */
  JOP_END,      /* arg: type */
  JOP_SCALAR,   /* ft, arg: field; v: the value's bits */
  JOP_TEXT,     /* ft, arg: field; v: text offset | len << 32 */
  JOP_ARENA,    /* ft, arg: field; v: arena offset | len << 32 */
  JOP_REF,      /* arg: field; v: tape-local ref id */
  JOP_ADD,      /* v: tape-local ref id */
  JOP_PUT,      /* v: key id | value id << 32 */
  JOP_LEAF,     /* arg: type; v: arena offset | len << 32 of the blob, which
                   its 8-byte hash follows */
  JOP_OBJ       /* as JOP_LEAF, for a rendered record opened by JOP_BEGIN;
                   ft: 1 if the hash is its key's */
};

/* How a record of a type is recorded */
enum { HOW_TAPED = 0, HOW_LEAF = 1, HOW_RENDERED = 2 };

struct hf_jop {
  uint8_t op;
  uint8_t ft;
  uint32_t arg;
  uint64_t v;
};

static uint64_t pack(uint64_t lo, uint64_t hi) {
  return lo | hi << 32;
}

int hf_jtape_reset(hf_jtape *t, const hf_schema *s, const char *text,
                   size_t len, uint64_t first_line) {
  if (t->s != s) {
    uint32_t k;
    unsigned char *how = realloc(t->how, s->ntypes ? s->ntypes : 1);
    if (how == NULL)
      return HF_E_NOMEM;
    for (k = 0; k < s->ntypes; k++)
      how[k] = hf_bleaf_type(s, k)     ? HOW_LEAF
               : hf_brender_type(s, k) ? HOW_RENDERED
                                       : HOW_TAPED;
    t->how = how;
    t->s = s;
  }
  t->depth = 0;
  t->nops = 0;
  t->arena_len = 0;
  t->text = text;
  t->text_len = len;
  t->first_line = first_line;
  t->nends = 0;
  t->line_op = 0;
  t->line_arena = 0;
  return HF_OK;
}

void hf_jtape_free(hf_jtape *t) {
  size_t i;
  free(t->ops);
  free(t->arena);
  free(t->how);
  for (i = 0; i < t->open_cap; i++)
    hf_bleaf_free(&t->frames[i]);
  free(t->frames);
  free(t->open);
  memset(t, 0, sizeof *t);
}

/* Room for `n` more arena bytes. */
static int arena_room(hf_jtape *t, size_t n) {
  if (n > UINT32_MAX - t->arena_len)
    return HF_E_LIMIT; /* offsets are kept in 32 bits */
  return hf_grow(&t->arena, &t->arena_cap, t->arena_len + n, 1);
}

static hf_jop *push(hf_jtape *t, int op, uint32_t arg, uint64_t v) {
  hf_jop *o;
  if (t->nops == t->ops_cap &&
      hf_grow(&t->ops, &t->ops_cap, t->nops + 1, sizeof *t->ops) != HF_OK)
    return NULL;
  o = &t->ops[t->nops++];
  o->op = (uint8_t)op;
  o->ft = 0;
  o->arg = arg;
  o->v = v;
  return o;
}

int hf_jtape_line(hf_jtape *t, uint64_t line, const char *p, size_t len) {
  const size_t off = (size_t)(p - t->text);
  /* Offsets, lengths and line deltas are kept in 32 bits; a batch beyond
   * that cannot be recorded (hf_jsonl.c keeps batches far smaller). */
  if (off > UINT32_MAX || len > UINT32_MAX || line - t->first_line > UINT32_MAX)
    return HF_E_LIMIT;
  t->line_op = t->nops;
  t->line_arena = t->arena_len;
  t->nends = 0;
  t->depth = 0;
  return push(t, JOP_LINE, (uint32_t)(line - t->first_line), pack(off, len))
             ? HF_OK
             : HF_E_NOMEM;
}

int hf_jtape_direct(hf_jtape *t) {
  t->depth = 0;
  t->nops = t->line_op + 1;
  t->arena_len = t->line_arena;
  t->ops[t->line_op].op = JOP_DIRECT;
  return HF_OK;
}

/* The innermost open record's frame if it is rendered here, else NULL. */
static hf_bframe *rendering(const hf_jtape *t) {
  return t->depth > 0 && t->open[t->depth - 1] != HOW_TAPED
             ? &t->frames[t->depth - 1]
             : NULL;
}

/* Room for one more open record. */
static int open_room(hf_jtape *t) {
  size_t cap = t->open_cap;
  if (t->depth < cap)
    return HF_OK;
  if (hf_grow(&t->open, &cap, t->depth + 1, 1) != HF_OK)
    return HF_E_NOMEM;
  cap = t->open_cap;
  if (hf_grow(&t->frames, &cap, t->depth + 1, sizeof *t->frames) != HF_OK)
    return HF_E_NOMEM;
  memset(t->frames + t->open_cap, 0, (cap - t->open_cap) * sizeof *t->frames);
  t->open_cap = cap;
  return HF_OK;
}

int hf_jtape_begin(hf_jtape *t, uint32_t type) {
  unsigned how;
  if (type >= t->s->ntypes ||
      (t->depth > 0 && t->open[t->depth - 1] == HOW_LEAF))
    return HF_E_ARG; /* a leaf holds no record: never recorded so */
  how = t->how[type];
  if (open_room(t) != HF_OK)
    return HF_E_NOMEM;
  if (how != HOW_TAPED &&
      hf_bleaf_begin(&t->frames[t->depth], t->s, type) != HF_OK)
    return HF_E_NOMEM;
  if (how != HOW_LEAF && push(t, JOP_BEGIN, type, 0) == NULL)
    return HF_E_NOMEM;
  t->open[t->depth++] = (unsigned char)how;
  return HF_OK;
}

/* Renders the record of frame f into the arena, its hash after it (the
 * key's for a keyed type, else the blob's), and records op `op`. */
static int end_rendered(hf_jtape *t, const hf_bframe *f, int op,
                        uint32_t type) {
  const size_t bound = hf_bleaf_bound(t->s, f);
  unsigned char *blob;
  size_t len;
  uint64_t h = 0;
  int keyed = t->s->types[type].nkeys > 0, rc;
  hf_jop *o;
  if (bound > UINT32_MAX - 8)
    return HF_E_LIMIT;
  if ((rc = arena_room(t, bound + 8)) != HF_OK)
    return rc;
  blob = (unsigned char *)t->arena + t->arena_len;
  len = hf_bleaf_render(t->s, f, blob);
  if (keyed) {
    if (hf_bkey_hash_blob(t->s, type, blob, &h) != HF_OK)
      return HF_E_INPUT; /* the walk refuses null keys first */
  } else if (op == JOP_LEAF) {
    h = hf_xxh3(blob, len);
  }
  memcpy(blob + len, &h, 8);
  if ((o = push(t, op, type, pack(t->arena_len, len))) == NULL)
    return HF_E_NOMEM;
  o->ft = (uint8_t)keyed;
  t->arena_len += len + 8;
  return HF_OK;
}

int hf_jtape_end(hf_jtape *t, uint32_t type, hf_ref *out) {
  const unsigned how = t->depth > 0 ? t->open[--t->depth] : HOW_TAPED;
  int rc;
  if (how == HOW_TAPED)
    rc = push(t, JOP_END, type, 0) ? HF_OK : HF_E_NOMEM;
  else
    rc = end_rendered(t, &t->frames[t->depth],
                      how == HOW_LEAF ? JOP_LEAF : JOP_OBJ, type);
  if (rc != HF_OK)
    return rc;
  out->type = type;
  out->id = t->nends++;
  return HF_OK;
}

/* The little-endian bytes of scalar `bits` in a field of `size` bytes. */
static void le_of(unsigned char *le, uint64_t bits, uint32_t size) {
  if (size == 8)
    hf_put64(le, bits);
  else if (size == 4)
    hf_put32(le, (uint32_t)bits);
  else
    le[0] = (unsigned char)(bits != 0);
}

int hf_jtape_scalar(hf_jtape *t, hf_ftype ft, uint32_t field, uint64_t bits) {
  hf_bframe *f = rendering(t);
  hf_jop *o;
  if (f != NULL) {
    const hf_type_def *td = &t->s->types[f->type];
    unsigned char le[8];
    if (field >= td->nfields)
      return HF_E_ARG;
    le_of(le, bits, td->fields[field].size);
    return hf_bleaf_set(f, t->s, field, ft, le, td->fields[field].size);
  }
  o = push(t, JOP_SCALAR, field, bits);
  if (o == NULL)
    return HF_E_NOMEM;
  o->ft = (uint8_t)ft;
  return HF_OK;
}

int hf_jtape_data(hf_jtape *t, hf_ftype ft, uint32_t field, const char *p,
                  size_t len) {
  hf_bframe *f = rendering(t);
  hf_jop *o;
  if (f != NULL)
    return hf_bleaf_set(f, t->s, field, ft, p, len);
  if (len > UINT32_MAX)
    return HF_E_LIMIT;
  if (len == 0)
    p = t->text; /* any view will do, and the arena may not exist */
  if (p >= t->text && p <= t->text + t->text_len &&
      len <= (size_t)(t->text + t->text_len - p)) {
    o = push(t, JOP_TEXT, field, pack((uint64_t)(p - t->text), len));
  } else {
    /* unescaped or decoded: the walk's scratch buffer is reused, copy */
    int rc = arena_room(t, len);
    if (rc != HF_OK)
      return rc;
    if (len > 0)
      memcpy(t->arena + t->arena_len, p, len);
    o = push(t, JOP_ARENA, field, pack(t->arena_len, len));
    t->arena_len += len;
  }
  if (o == NULL)
    return HF_E_NOMEM;
  o->ft = (uint8_t)ft;
  return HF_OK;
}

int hf_jtape_ref(hf_jtape *t, uint32_t field, hf_ref ref) {
  hf_bframe *f = rendering(t);
  if (f != NULL) {
    unsigned char le[4]; /* the tape-local id, mapped by replay */
    hf_put32(le, ref.id);
    return hf_bleaf_set(f, t->s, field, HF_FT_REF, le, 4);
  }
  return push(t, JOP_REF, field, ref.id) ? HF_OK : HF_E_NOMEM;
}

int hf_jtape_add(hf_jtape *t, hf_ref elem) {
  if (rendering(t) != NULL)
    return HF_E_ARG; /* an object takes no elements */
  return push(t, JOP_ADD, 0, elem.id) ? HF_OK : HF_E_NOMEM;
}

int hf_jtape_put(hf_jtape *t, hf_ref key, hf_ref value) {
  if (rendering(t) != NULL)
    return HF_E_ARG;
  return push(t, JOP_PUT, 0, pack(key.id, value.id)) ? HF_OK : HF_E_NOMEM;
}

/* ---- replay -------------------------------------------------------------- */

typedef struct replay {
  hf_builder *b;
  hf_ref *refs; /* builder refs of the records closed on the line */
  size_t nrefs, cap;
  hf_error berr;
} replay;

int hf_jtape_set_scalar(hf_builder *b, hf_ftype ft, uint32_t field,
                        uint64_t bits, hf_error *err) {
  const uint32_t u32 = (uint32_t)bits;
  float f;
  double d;
  switch (ft) {
  case HF_FT_INT:
    return hf_builder_set_int(b, field, (int32_t)u32, err);
  case HF_FT_LONG:
    return hf_builder_set_long(b, field, (int64_t)bits, err);
  case HF_FT_FLOAT:
    memcpy(&f, &u32, 4);
    return hf_builder_set_float(b, field, f, err);
  case HF_FT_DOUBLE:
    memcpy(&d, &bits, 8);
    return hf_builder_set_double(b, field, d, err);
  default:
    return hf_builder_set_bool(b, field, bits != 0, err);
  }
}

/* Builder ref of tape-local id `id`; a bad id (never recorded by the walk)
 * is refused as the builder refuses an unknown ref. */
static hf_ref local(const replay *r, uint64_t id) {
  hf_ref none = {HF_NO_TYPE, UINT32_MAX};
  return id < r->nrefs ? r->refs[id] : none;
}

/* Room for one more ref. */
static int grow_refs(replay *r) {
  return hf_grow(&r->refs, &r->cap, r->nrefs + 1, sizeof *r->refs);
}

/* The hash recorded after the blob of a JOP_LEAF or JOP_OBJ. */
static uint64_t leaf_hash(const hf_jtape *t, const hf_jop *o) {
  uint64_t h;
  memcpy(&h, t->arena + (uint32_t)o->v + (uint32_t)(o->v >> 32), 8);
  return h;
}

/* Leaf lookups are memory latency: the table position is fetched FAR ops
 * ahead, the blob it names NEAR ops ahead, so both are cached when the
 * lookup comes. */
#define FAR 96
#define NEAR 48

static void prefetch(const hf_jtape *t, hf_builder *b, size_t i, int blob) {
  if (i >= t->nops)
    return;
  if (t->ops[i].op == JOP_LEAF)
    hf_builder_prefetch(b, t->ops[i].arg, leaf_hash(t, &t->ops[i]), blob);
  else if (t->ops[i].op == JOP_OBJ && t->ops[i].ft && !blob)
    /* a key's table position; its blob is read only for a repeated key */
    hf_builder_prefetch(b, t->ops[i].arg, leaf_hash(t, &t->ops[i]), 0);
}

/* Makes one recorded call; negative on failure. */
static int step(replay *r, const hf_jtape *t, const hf_jop *o) {
  hf_builder *b = r->b;
  const uint32_t off = (uint32_t)o->v, len = (uint32_t)(o->v >> 32);
  const char *p;
  int rc;
  switch (o->op) {
  case JOP_BEGIN:
    return hf_builder_begin(b, o->arg, &r->berr);
  case JOP_END:
    if ((rc = grow_refs(r)) != HF_OK)
      return rc;
    rc = hf_builder_end(b, &r->refs[r->nrefs], &r->berr);
    if (rc >= 0)
      r->nrefs++;
    return rc;
  case JOP_SCALAR:
    return hf_jtape_set_scalar(b, (hf_ftype)o->ft, o->arg, o->v, &r->berr);
  case JOP_TEXT:
  case JOP_ARENA:
    p = (o->op == JOP_TEXT ? t->text : t->arena) + off;
    if (o->ft == HF_FT_BYTES)
      return hf_builder_set_bytes(b, o->arg, p, len, &r->berr);
    return hf_builder_set_string_valid(b, o->arg, p, len, &r->berr);
  case JOP_REF:
    return hf_builder_set_ref(b, o->arg, local(r, o->v), &r->berr);
  case JOP_ADD:
    return hf_builder_add(b, local(r, o->v), &r->berr);
  case JOP_PUT:
    return hf_builder_put(b, local(r, off), local(r, len), &r->berr);
  case JOP_LEAF:
    if ((rc = grow_refs(r)) != HF_OK)
      return rc;
    rc =
        hf_builder_add_leaf(b, o->arg, (const unsigned char *)t->arena + off,
                            len, leaf_hash(t, o), &r->refs[r->nrefs], &r->berr);
    if (rc >= 0)
      r->nrefs++;
    return rc;
  case JOP_OBJ:
    if ((rc = grow_refs(r)) != HF_OK)
      return rc;
    rc = hf_builder_end_blob(b, o->arg, (const unsigned char *)t->arena + off,
                             len, leaf_hash(t, o), r->refs, r->nrefs,
                             &r->refs[r->nrefs], &r->berr);
    if (rc >= 0)
      r->nrefs++;
    return rc;
  default:
    return HF_E_ARG;
  }
}

/* Adds line op `lo` directly, as a sequential run would. */
static int direct(const hf_jtape *t, const hf_jop *lo, hf_builder *b,
                  uint32_t type, hf_error *err) {
  const uint32_t off = (uint32_t)lo->v, len = (uint32_t)(lo->v >> 32);
  hf_builder_discard(b);
  return hf_builder_add_json(b, type, t->text + off, len,
                             t->first_line + lo->arg, err);
}

int hf_jtape_replay(const hf_jtape *t, hf_builder *b, uint32_t type,
                    uint64_t *records, hf_error *err) {
  replay r;
  size_t i = 0;
  int rc = HF_OK;
  memset(&r, 0, sizeof r);
  r.b = b;
  *records = 0;
  while (i < t->nops) {
    const hf_jop *lo = &t->ops[i++];
    if (lo->op == JOP_LINE) {
      r.nrefs = 0;
      hf_builder_set_line(b, t->first_line + lo->arg);
      for (; i < t->nops && t->ops[i].op > JOP_DIRECT; i++) {
        prefetch(t, b, i + FAR, 0);
        prefetch(t, b, i + NEAR, 1);
        if (step(&r, t, &t->ops[i]) < 0)
          break;
      }
      /* a line's calls close its root: anything else is a refusal too */
      if ((i < t->nops && t->ops[i].op > JOP_DIRECT) ||
          hf_builder_depth(b) != 0) {
        /* the builder refused a call: let the sequential path say why */
        rc = direct(t, lo, b, type, err);
        while (i < t->nops && t->ops[i].op > JOP_DIRECT)
          i++;
      }
    } else {
      rc = direct(t, lo, b, type, err);
    }
    if (rc < 0)
      break;
    ++*records;
  }
  free(r.refs);
  return rc;
}
