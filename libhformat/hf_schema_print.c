/*
 * hf_schema_print.c - canonical schema text (SCHEMA.md §5) and the
 * read-only accessors of hformat.h.  The reader calls hf_schema_print() on
 * every open to check the SCHEMA section (FORMAT.md §6.1, R-SCH-30).
 */
#include "hf_internal.h"

static const char *const prim_names[] = {
    NULL, "int", "long", "float", "double", "boolean", "string", "bytes"};

/* snprintf-like sink: counts every byte, stores those that fit. */
typedef struct sink {
  char *buf;
  size_t cap, len;
} sink;

static void put(sink *o, const char *s, size_t n) {
  if (o->len < o->cap) {
    const size_t room = o->cap - o->len;
    memcpy(o->buf + o->len, s, n < room ? n : room);
  }
  o->len += n;
}

static void puts_(sink *o, const char *s) {
  put(o, s, strlen(s));
}

/* " @PrimaryKey(a, b.c)" or " @HashKey(...)"; nothing without keys. */
static void put_keys(sink *o, const hf_type_def *td, const char *annot) {
  uint32_t k;
  if (td->nkeys == 0)
    return;
  puts_(o, annot);
  for (k = 0; k < td->nkeys; k++) {
    if (k > 0)
      put(o, ", ", 2);
    puts_(o, td->keys[k].text);
  }
  put(o, ")", 1);
}

static void put_type(sink *o, const hf_schema *s, const hf_type_def *td) {
  uint32_t k;
  puts_(o, td->name);
  switch (td->kind) {
  case HF_KIND_OBJECT:
    put_keys(o, td, " @PrimaryKey(");
    put(o, " {\n", 3);
    for (k = 0; k < td->nfields; k++) {
      const hf_field_def *fd = &td->fields[k];
      put(o, "    ", 4);
      puts_(o, fd->type == HF_FT_REF ? s->types[fd->ref_type].name
                                     : prim_names[fd->type]);
      put(o, " ", 1);
      puts_(o, fd->name);
      put(o, ";\n", 2);
    }
    put(o, "}\n", 2);
    return;
  case HF_KIND_LIST:
  case HF_KIND_SET:
    puts_(o, td->kind == HF_KIND_LIST ? " List<" : " Set<");
    puts_(o, s->types[td->elem_type].name);
    break;
  case HF_KIND_MAP:
    puts_(o, " Map<");
    puts_(o, s->types[td->elem_type].name);
    put(o, ", ", 2);
    puts_(o, s->types[td->value_type].name);
    break;
  }
  put(o, ">", 1);
  put_keys(o, td, " @HashKey(");
  put(o, ";\n", 2);
}

size_t hf_schema_print(const hf_schema *s, char *buf, size_t cap) {
  sink o;
  uint32_t t;
  o.buf = buf;
  o.cap = buf != NULL ? cap : 0;
  o.len = 0;
  if (s == NULL) {
    if (o.cap > 0)
      buf[0] = '\0';
    return 0;
  }
  for (t = 0; t < s->ntypes; t++) {
    if (t > 0)
      put(&o, "\n", 1);
    put_type(&o, s, &s->types[t]);
  }
  if (o.cap > 0)
    buf[o.len < o.cap ? o.len : o.cap - 1] = '\0';
  return o.len;
}

uint32_t hf_schema_type_count(const hf_schema *s) {
  return s != NULL ? s->ntypes : 0;
}

/* Exact match of the counted name[0..len) against a NUL-terminated name. */
static int name_is(const char *def, const char *name, size_t len) {
  return strncmp(def, name, len) == 0 && def[len] == '\0';
}

int hf_schema_type_find(const hf_schema *s, const char *name, size_t len,
                        uint32_t *type) {
  uint32_t t;
  if (s == NULL || (name == NULL && len > 0))
    return HF_E_ARG;
  if (len == 0 || memchr(name, '\0', len) != NULL)
    return HF_NOTFOUND; /* names are never empty nor hold a NUL */
  for (t = 0; t < s->ntypes; t++)
    if (name_is(s->types[t].name, name, len)) {
      if (type != NULL)
        *type = t;
      return HF_OK;
    }
  return HF_NOTFOUND;
}

int hf_schema_type(const hf_schema *s, uint32_t type, hf_type_info *out) {
  const hf_type_def *td;
  if (s == NULL || out == NULL || type >= s->ntypes)
    return HF_E_ARG;
  td = &s->types[type];
  out->name = td->name;
  out->kind = td->kind;
  out->field_count = td->kind == HF_KIND_OBJECT ? td->nfields : 0;
  out->elem_type = td->elem_type;
  out->value_type = td->value_type;
  out->key_count = td->nkeys;
  return HF_OK;
}

int hf_schema_field(const hf_schema *s, uint32_t type, uint32_t field,
                    hf_field_info *out) {
  const hf_field_def *fd;
  if (s == NULL || out == NULL || type >= s->ntypes ||
      field >= s->types[type].nfields)
    return HF_E_ARG;
  fd = &s->types[type].fields[field];
  out->name = fd->name;
  out->type = fd->type;
  out->ref_type = fd->ref_type;
  return HF_OK;
}

int hf_schema_field_find(const hf_schema *s, uint32_t type, const char *name,
                         size_t len, uint32_t *field) {
  const hf_type_def *td;
  uint32_t k;
  if (s == NULL || type >= s->ntypes || (name == NULL && len > 0))
    return HF_E_ARG;
  td = &s->types[type];
  if (len == 0 || memchr(name, '\0', len) != NULL)
    return HF_NOTFOUND;
  for (k = 0; k < td->nfields; k++)
    if (name_is(td->fields[k].name, name, len)) {
      if (field != NULL)
        *field = k;
      return HF_OK;
    }
  return HF_NOTFOUND;
}

int hf_schema_key(const hf_schema *s, uint32_t type, uint32_t k,
                  const char **path, hf_ftype *leaf) {
  const hf_type_def *td;
  if (s == NULL || type >= s->ntypes || k >= s->types[type].nkeys)
    return HF_E_ARG;
  td = &s->types[type];
  if (path != NULL)
    *path = td->keys[k].text;
  if (leaf != NULL)
    *leaf = td->keys[k].leaf;
  return HF_OK;
}
