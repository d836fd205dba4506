/* helper_gen.c - seeded generator of records for round-trip tests. */
#include "helper_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char hf_gen_schema[] =
    "Root @PrimaryKey(id, code) {\n"
    "  long id; String code; int i; long l; float f; double d;\n"
    "  boolean b; string s; bytes y; Inner inner; ListOfInner items;\n"
    "  SetOfString tags; MapOfStringToInner byName; MapOfIntToString byNum;\n"
    "  Wrap wrap; Holder holder; MapHolder mh; Grid grid; Person owner;\n"
    "}\n"
    "String { string value; }\n"
    "Int { int value; }\n"
    "Float { float value; }\n"
    "Bytes { bytes value; }\n"
    "Wrap { Float value; }\n"
    "Inner { int n; string label; Bytes blob; double x; }\n"
    "Holder { Inner only; }\n"
    "MapHolder { MapOfStringToInner m; }\n"
    "ListOfInner List<Inner>;\n"
    "SetOfString Set<String>;\n"
    "MapOfStringToInner Map<String, Inner>;\n"
    "MapOfIntToString Map<Int, String>;\n"
    "ListOfInt List<Int>;\n"
    "Grid List<ListOfInt>;\n"
    "Person @PrimaryKey(name) { String name; int age; }\n";

typedef struct gen {
  uint64_t s;
  hf_builder *b;
  hf_error *err;
  const hf_schema *sc;
} gen;

static uint64_t rnd(gen *g) {
  uint64_t x = (g->s += UINT64_C(0x9e3779b97f4a7c15));
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static unsigned below(gen *g, unsigned n) {
  return (unsigned)(rnd(g) % n);
}

static uint32_t T(gen *g, const char *name) {
  uint32_t t = HF_NO_TYPE;
  hf_schema_type_find(g->sc, name, strlen(name), &t);
  return t;
}

static uint32_t F(gen *g, uint32_t type, const char *name) {
  uint32_t f = UINT32_MAX;
  hf_schema_field_find(g->sc, type, name, strlen(name), &f);
  return f;
}

/* Text pieces: ASCII, escapes, control characters, 2/3/4-byte UTF-8. */
static const char *const pieces[] = {"a",
                                     "Zz",
                                     " ",
                                     "\"",
                                     "\\",
                                     "/",
                                     "\n",
                                     "\t",
                                     "\x01",
                                     "\x1f",
                                     "\x7f",
                                     "\xc3\xa9",
                                     "\xe6\x9d\xb1",
                                     "\xf0\x9f\x8e\xac",
                                     "\xe2\x80\xa8",
                                     "0",
                                     "{}",
                                     "[,]",
                                     "null",
                                     "u00e9"};

static size_t gen_text(gen *g, char *buf, size_t cap) {
  size_t n = 0;
  unsigned k = below(g, 6) == 0 ? 0 : below(g, 12);
  if (below(g, 50) == 0)
    k = 200;
  while (k-- > 0) {
    const char *p = pieces[below(g, sizeof pieces / sizeof pieces[0])];
    const size_t l = strlen(p);
    if (n + l >= cap)
      break;
    memcpy(buf + n, p, l);
    n += l;
  }
  return n;
}

static double gen_double(gen *g) {
  uint64_t bits;
  double d;
  switch (below(g, 10)) {
  case 0:
    return NAN;
  case 1:
    return below(g, 2) ? INFINITY : -INFINITY;
  case 2:
    return below(g, 2) ? -0.0 : 0.0;
  case 3:
    return (double)below(g, 1000) / 10.0;
  default:
    do {
      bits = rnd(g);
      memcpy(&d, &bits, sizeof d);
    } while (!isfinite(d));
    return d;
  }
}

static float gen_float(gen *g) {
  uint32_t bits;
  float f;
  switch (below(g, 8)) {
  case 0:
    return NAN;
  case 1:
    return -INFINITY;
  case 2:
    return 0.1f;
  default:
    do {
      bits = (uint32_t)rnd(g);
      memcpy(&f, &bits, sizeof f);
    } while (!isfinite(f));
    return f;
  }
}

#define TRY(x)                                                                 \
  do {                                                                         \
    int rc_ = (x);                                                             \
    if (rc_ < 0)                                                               \
      return rc_;                                                              \
  } while (0)

/* One-field wrapper String; null_ok: sometimes a record with a null field. */
static int gen_string_rec(gen *g, int null_ok, hf_ref *out) {
  char buf[1024];
  TRY(hf_builder_begin(g->b, T(g, "String"), g->err));
  if (!(null_ok && below(g, 20) == 0)) {
    /* a small vocabulary, so String records are shared */
    if (below(g, 2)) {
      char w[8];
      snprintf(w, sizeof w, "w%u", below(g, 8));
      TRY(hf_builder_set_string(g->b, 0, w, strlen(w), g->err));
    } else {
      TRY(hf_builder_set_string(g->b, 0, buf, gen_text(g, buf, sizeof buf),
                                g->err));
    }
  }
  return hf_builder_end(g->b, out, g->err);
}

static int gen_inner(gen *g, hf_ref *out) {
  const uint32_t t = T(g, "Inner");
  char buf[256];
  /* a small pool of contents, so records are shared between roots */
  gen local = *g;
  local.s = below(g, 16) * UINT64_C(7919);
  TRY(hf_builder_begin(g->b, t, g->err));
  if (below(&local, 5))
    TRY(hf_builder_set_int(g->b, F(g, t, "n"), (int32_t)rnd(&local), g->err));
  if (below(&local, 5))
    TRY(hf_builder_set_string(g->b, F(g, t, "label"), buf,
                              gen_text(&local, buf, sizeof buf), g->err));
  if (below(&local, 3)) {
    hf_ref r;
    unsigned char y[40];
    size_t i, n = below(&local, sizeof y);
    for (i = 0; i < n; i++)
      y[i] = (unsigned char)rnd(&local);
    TRY(hf_builder_begin(g->b, T(g, "Bytes"), g->err));
    if (below(&local, 6))
      TRY(hf_builder_set_bytes(g->b, 0, y, n, g->err));
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "blob"), r, g->err));
  }
  if (below(&local, 4))
    TRY(hf_builder_set_double(g->b, F(g, t, "x"), gen_double(&local), g->err));
  return hf_builder_end(g->b, out, g->err);
}

static int gen_int_rec(gen *g, int32_t v, hf_ref *out) {
  TRY(hf_builder_begin(g->b, T(g, "Int"), g->err));
  TRY(hf_builder_set_int(g->b, 0, v, g->err));
  return hf_builder_end(g->b, out, g->err);
}

static unsigned coll_len(gen *g) {
  const unsigned k = below(g, 20);
  return k == 0 ? 0 : k == 1 ? 300 + below(g, 700) : below(g, 6);
}

static int gen_map_string_inner(gen *g, hf_ref *out) {
  unsigned i, n = coll_len(g) % 40;
  TRY(hf_builder_begin(g->b, T(g, "MapOfStringToInner"), g->err));
  for (i = 0; i < n; i++) {
    hf_ref k, v;
    char w[16];
    TRY(hf_builder_begin(g->b, T(g, "String"), g->err));
    /* distinct keys; a null key field now and then forces [k, v] pairs */
    if (below(g, 30) != 0 || i != 0) {
      snprintf(w, sizeof w, "k%u\xc3\xa9", i);
      TRY(hf_builder_set_string(g->b, 0, w, strlen(w), g->err));
    }
    TRY(hf_builder_end(g->b, &k, g->err));
    TRY(gen_inner(g, &v));
    TRY(hf_builder_put(g->b, k, v, g->err));
  }
  return hf_builder_end(g->b, out, g->err);
}

static int gen_root(gen *g, uint64_t id) {
  const uint32_t t = T(g, "Root");
  char buf[1024];
  unsigned i, n;
  hf_ref r;
  TRY(hf_builder_begin(g->b, t, g->err));
  TRY(hf_builder_set_long(g->b, F(g, t, "id"), (int64_t)(id * 0x100000001ull),
                          g->err));
  TRY(hf_builder_begin(g->b, T(g, "String"), g->err));
  snprintf(buf, sizeof buf, "c\xe2\x82\xac%u", below(g, 3));
  TRY(hf_builder_set_string(g->b, 0, buf, strlen(buf), g->err));
  TRY(hf_builder_end(g->b, &r, g->err));
  TRY(hf_builder_set_ref(g->b, F(g, t, "code"), r, g->err));
  if (below(g, 4)) {
    static const int32_t edge[] = {INT32_MIN, INT32_MAX, 0, -1};
    TRY(hf_builder_set_int(g->b, F(g, t, "i"),
                           below(g, 3) ? (int32_t)rnd(g) : edge[below(g, 4)],
                           g->err));
  }
  if (below(g, 4)) {
    static const int64_t edge[] = {INT64_MIN, INT64_MAX, 0, -1};
    TRY(hf_builder_set_long(g->b, F(g, t, "l"),
                            below(g, 3) ? (int64_t)rnd(g) : edge[below(g, 4)],
                            g->err));
  }
  if (below(g, 4))
    TRY(hf_builder_set_float(g->b, F(g, t, "f"), gen_float(g), g->err));
  if (below(g, 4))
    TRY(hf_builder_set_double(g->b, F(g, t, "d"), gen_double(g), g->err));
  if (below(g, 4))
    TRY(hf_builder_set_bool(g->b, F(g, t, "b"), (int)below(g, 2), g->err));
  if (below(g, 4))
    TRY(hf_builder_set_string(g->b, F(g, t, "s"), buf,
                              gen_text(g, buf, sizeof buf), g->err));
  if (below(g, 4)) {
    unsigned char y[300];
    size_t k, len = below(g, sizeof y);
    for (k = 0; k < len; k++)
      y[k] = (unsigned char)rnd(g);
    TRY(hf_builder_set_bytes(g->b, F(g, t, "y"), y, len, g->err));
  }
  if (below(g, 3)) {
    TRY(gen_inner(g, &r));
    TRY(hf_builder_set_ref(g->b, F(g, t, "inner"), r, g->err));
  }
  if (below(g, 3)) {
    TRY(hf_builder_begin(g->b, T(g, "ListOfInner"), g->err));
    for (i = 0, n = coll_len(g); i < n; i++) {
      TRY(gen_inner(g, &r));
      TRY(hf_builder_add(g->b, r, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "items"), r, g->err));
  }
  if (below(g, 3)) {
    TRY(hf_builder_begin(g->b, T(g, "SetOfString"), g->err));
    for (i = 0, n = coll_len(g); i < n; i++) {
      TRY(gen_string_rec(g, 1, &r));
      TRY(hf_builder_add(g->b, r, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "tags"), r, g->err));
  }
  if (below(g, 3)) {
    TRY(gen_map_string_inner(g, &r));
    TRY(hf_builder_set_ref(g->b, F(g, t, "byName"), r, g->err));
  }
  if (below(g, 3)) {
    TRY(hf_builder_begin(g->b, T(g, "MapOfIntToString"), g->err));
    for (i = 0, n = coll_len(g); i < n; i++) {
      hf_ref k, v;
      TRY(gen_int_rec(g, (int32_t)i - 2, &k));
      TRY(gen_string_rec(g, 1, &v));
      TRY(hf_builder_put(g->b, k, v, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "byNum"), r, g->err));
  }
  if (below(g, 3)) {
    hf_ref fr;
    TRY(hf_builder_begin(g->b, T(g, "Wrap"), g->err));
    if (below(g, 4)) {
      TRY(hf_builder_begin(g->b, T(g, "Float"), g->err));
      if (below(g, 4))
        TRY(hf_builder_set_float(g->b, 0, gen_float(g), g->err));
      TRY(hf_builder_end(g->b, &fr, g->err));
      TRY(hf_builder_set_ref(g->b, 0, fr, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "wrap"), r, g->err));
  }
  if (below(g, 3)) {
    hf_ref ir;
    TRY(hf_builder_begin(g->b, T(g, "Holder"), g->err));
    if (below(g, 4)) {
      TRY(gen_inner(g, &ir));
      TRY(hf_builder_set_ref(g->b, 0, ir, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "holder"), r, g->err));
  }
  if (below(g, 3)) {
    hf_ref mr;
    TRY(hf_builder_begin(g->b, T(g, "MapHolder"), g->err));
    if (below(g, 4)) {
      TRY(gen_map_string_inner(g, &mr));
      TRY(hf_builder_set_ref(g->b, 0, mr, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "mh"), r, g->err));
  }
  if (below(g, 3)) {
    unsigned k, m;
    TRY(hf_builder_begin(g->b, T(g, "Grid"), g->err));
    for (i = 0, n = below(g, 4); i < n; i++) {
      hf_ref row, cell;
      TRY(hf_builder_begin(g->b, T(g, "ListOfInt"), g->err));
      for (k = 0, m = below(g, 5); k < m; k++) {
        TRY(gen_int_rec(g, (int32_t)below(g, 7), &cell));
        TRY(hf_builder_add(g->b, cell, g->err));
      }
      TRY(hf_builder_end(g->b, &row, g->err));
      TRY(hf_builder_add(g->b, row, g->err));
    }
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "grid"), r, g->err));
  }
  if (below(g, 3)) {
    /* keyed nested records shared by several roots: same key, same age */
    const unsigned who = below(g, 5);
    const uint32_t pt = T(g, "Person");
    hf_ref nr;
    TRY(hf_builder_begin(g->b, pt, g->err));
    TRY(hf_builder_begin(g->b, T(g, "String"), g->err));
    snprintf(buf, sizeof buf, "person %u", who);
    TRY(hf_builder_set_string(g->b, 0, buf, strlen(buf), g->err));
    TRY(hf_builder_end(g->b, &nr, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, pt, "name"), nr, g->err));
    TRY(hf_builder_set_int(g->b, F(g, pt, "age"), (int32_t)(20 + who), g->err));
    TRY(hf_builder_end(g->b, &r, g->err));
    TRY(hf_builder_set_ref(g->b, F(g, t, "owner"), r, g->err));
  }
  return hf_builder_end(g->b, NULL, g->err);
}

int hf_gen_roots(hf_builder *b, const hf_schema *s, uint64_t seed, unsigned n,
                 hf_error *err) {
  gen g;
  unsigned i;
  g.s = seed;
  g.b = b;
  g.err = err;
  g.sc = s;
  for (i = 0; i < n; i++)
    TRY(gen_root(&g, i + 1));
  return HF_OK;
}

int hf_gen_snapshot(hf_builder *b, unsigned char **out, size_t *len,
                    hf_error *err) {
  FILE *f = tmpfile();
  long size;
  int rc;
  if (f == NULL)
    return HF_E_IO;
  rc = hf_builder_write_fd(b, fileno(f), NULL, err);
  if (rc < 0) {
    fclose(f);
    return rc;
  }
  size = lseek(fileno(f), 0, SEEK_END);
  *out = malloc((size_t)size + 1);
  *len = (size_t)size;
  if (*out == NULL || pread(fileno(f), *out, (size_t)size, 0) != size)
    rc = HF_E_IO;
  fclose(f);
  return rc;
}
