/* test_delta.c - delta blobs (FORMAT.md §8): every refusal of compute and
 * apply, and damaged deltas (a byte flipped in every section, with and
 * without resealed checksums; truncation at every section boundary; LZ4
 * lengths that lie) ending in a clear error, never a crash. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_delta_internal.h"

static const char *SCHEMA = "Movie @PrimaryKey(id) {\n"
                            "  long id;\n"
                            "  string title;\n"
                            "  ListOfString tags;\n"
                            "}\n"
                            "String { string value; }\n"
                            "ListOfString List<String>;\n";

typedef struct blob {
  unsigned char *p;
  size_t len;
  hf_reader *r;
} blob;

#define OK(x)                                                                  \
  do {                                                                         \
    int rc_ = (x);                                                             \
    cr_assert_eq(rc_, HF_OK, "%s: %d %s", #x, rc_, err.msg);                   \
  } while (0)

static hf_schema *schema(const char *text) {
  hf_schema *s;
  hf_error err;
  OK(hf_schema_parse(text, strlen(text), &s, &err));
  return s;
}

/* Builds records "id:title:tag,tag" separated by ';' on `base`. */
static void build(const hf_schema *s, const char *spec, const hf_reader *base,
                  blob *out) {
  hf_build_opts o = {.base = base};
  hf_builder *b;
  hf_error err;
  FILE *f = tmpfile();
  char *copy = strdup(spec), *save = NULL, *rec;
  OK(hf_builder_new(s, &o, &b, &err));
  for (rec = strtok_r(copy, ";", &save); rec != NULL;
       rec = strtok_r(NULL, ";", &save)) {
    char json[256], tags[128] = "", *t, *save2 = NULL;
    long id;
    char title[64], tl[64] = "";
    sscanf(rec, "%ld:%63[^:]:%63s", &id, title, tl);
    for (t = strtok_r(tl, ",", &save2); t != NULL;
         t = strtok_r(NULL, ",", &save2)) {
      strcat(tags, tags[0] ? ",\"" : "\"");
      strcat(tags, t);
      strcat(tags, "\"");
    }
    snprintf(json, sizeof json,
             "{\"id\": %ld, \"title\": \"%s\", \"tags\": [%s]}", id, title,
             tags);
    OK(hf_builder_add_json(b, 0, json, strlen(json), 1, &err));
  }
  free(copy);
  OK(hf_builder_write_fd(b, fileno(f), NULL, &err));
  hf_builder_free(b);
  fseek(f, 0, SEEK_END);
  out->len = (size_t)ftell(f);
  rewind(f);
  out->p = malloc(out->len);
  cr_assert_eq(fread(out->p, 1, out->len, f), out->len);
  fclose(f);
  OK(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err));
}

static void delta(const blob *a, const blob *b, uint32_t flags, blob *out) {
  hf_error err;
  void *p;
  OK(hf_delta_mem(a->r, b->r, flags, &p, &out->len, &err));
  out->p = p;
  OK(hf_reader_open_mem(out->p, out->len, NULL, &out->r, &err));
  OK(hf_reader_verify(out->r, &err));
}

static void blob_free(blob *b) {
  hf_reader_close(b->r);
  free(b->p);
}

typedef struct fx {
  hf_schema *s;
  blob v1, v2, v3, d12, d23, r21;
} fx;

static void fx_init(fx *f, uint32_t flags) {
  f->s = schema(SCHEMA);
  build(f->s, "1:a:x,y;2:b:y;3:c:;4:d:z,z,x", NULL, &f->v1);
  build(f->s, "1:a:x,y;2:bb:y,w;4:d:z,z,x;5:e:q;6:fffffffffffffffffffff:x",
        f->v1.r, &f->v2);
  build(f->s, "2:bb:y,w;7:g:x;5:e:q,q", f->v2.r, &f->v3);
  delta(&f->v1, &f->v2, flags, &f->d12);
  delta(&f->v2, &f->v3, flags, &f->d23);
  delta(&f->v2, &f->v1, flags | HF_DELTA_REVERSE, &f->r21);
}

static void fx_free(fx *f) {
  blob_free(&f->v1);
  blob_free(&f->v2);
  blob_free(&f->v3);
  blob_free(&f->d12);
  blob_free(&f->d23);
  blob_free(&f->r21);
  hf_schema_free(f->s);
}

static int apply(const hf_reader *base, const hf_reader *d1,
                 const hf_reader *d2, hf_error *err) {
  const hf_reader *ds[2] = {d1, d2};
  void *p = NULL;
  size_t len;
  int rc = hf_apply_mem(base, ds, d2 ? 2 : 1, &p, &len, err);
  free(p);
  return rc;
}

Test(delta, opens_and_refuses_record_access) { /* R-HDR-13 */
  fx f;
  hf_record rec;
  hf_coll c;
  hf_info info;
  fx_init(&f, 0);
  hf_reader_info(f.d12.r, &info);
  cr_assert_eq(info.kind, HF_BLOB_DELTA);
  cr_assert_eq(info.section_count, 2 + 6 + 6 + 4);
  {
    hf_info i1, i2;
    hf_reader_info(f.v1.r, &i1);
    hf_reader_info(f.v2.r, &i2);
    cr_assert_eq(info.base_state, i1.state);
    cr_assert_eq(info.state, i2.state);
    cr_assert_eq(info.dataset_version, i2.dataset_version);
  }
  cr_assert_eq(hf_reader_record(f.d12.r, 0, 0, &rec), HF_E_ARG);
  cr_assert_eq(hf_reader_coll(f.d12.r, 2, 0, &c), HF_E_ARG);
  cr_assert_eq(hf_reader_ordinal_limit(f.d12.r, 0), 0);
  fx_free(&f);
}

Test(delta, applies_forward_reverse_and_chain) {
  fx f;
  hf_error err;
  const hf_reader *ds[2];
  void *p;
  size_t len;
  fx_init(&f, 0);
  ds[0] = f.d12.r;
  ds[1] = f.d23.r;
  OK(hf_apply_mem(f.v1.r, ds, 2, &p, &len, &err));
  cr_assert(len == f.v3.len && memcmp(p, f.v3.p, len) == 0);
  free(p);
  ds[0] = f.r21.r;
  OK(hf_apply_mem(f.v2.r, ds, 1, &p, &len, &err));
  cr_assert(len == f.v1.len && memcmp(p, f.v1.p, len) == 0);
  free(p);
  OK(hf_apply_mem(f.v2.r, ds, 0, &p, &len, &err)); /* no delta: a copy */
  cr_assert(len == f.v2.len && memcmp(p, f.v2.p, len) == 0);
  free(p);
  fx_free(&f);
}

Test(delta, refuses_wrong_base) { /* R-DLT-01 */
  fx f;
  hf_error err;
  fx_init(&f, 0);
  cr_assert_eq(apply(f.v2.r, f.d12.r, NULL, &err), HF_E_STATE);
  cr_assert(strstr(err.msg, "delta applies to state 0x") != NULL, "%s",
            err.msg);
  cr_assert_eq(apply(f.v1.r, f.d23.r, NULL, &err), HF_E_STATE);
  fx_free(&f);
}

Test(delta, refuses_chain_out_of_order) { /* R-DLT-01 */
  fx f;
  hf_error err;
  fx_init(&f, 0);
  cr_assert_eq(apply(f.v1.r, f.d23.r, f.d12.r, &err), HF_E_STATE);
  cr_assert_eq(apply(f.v1.r, f.d12.r, f.d12.r, &err), HF_E_STATE);
  cr_assert(strstr(err.msg, "delta 2 of 2") != NULL, "%s", err.msg);
  fx_free(&f);
}

Test(delta, refuses_new_not_built_from_old) { /* R-DLT-14 */
  fx f;
  blob nb;
  hf_error err;
  void *p = NULL;
  size_t len;
  fx_init(&f, 0);
  /* Same records as v2, built without a base: ordinals differ. */
  build(f.s, "5:e:q;1:a:x,y;2:bb:y,w;4:d:z,z,x", NULL, &nb);
  cr_assert_eq(hf_delta_mem(f.v1.r, nb.r, 0, &p, &len, &err), HF_E_ARG);
  cr_assert_null(p);
  cr_assert(strstr(err.msg, "not built from the old") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "hollow-build -b") != NULL, "%s", err.msg);
  blob_free(&nb);
  fx_free(&f);
}

Test(delta, refuses_schema_change) { /* R-DLT-13 */
  fx f;
  blob other;
  hf_schema *s2 = schema("Movie @PrimaryKey(id) {\n  long id;\n  string "
                         "title;\n  int year;\n}\n");
  hf_error err;
  void *p = NULL;
  size_t len;
  hf_builder *b;
  FILE *fp = tmpfile();
  fx_init(&f, 0);
  OK(hf_builder_new(s2, NULL, &b, &err));
  OK(hf_builder_add_json(b, 0, "{\"id\": 1}", 9, 1, &err));
  OK(hf_builder_write_fd(b, fileno(fp), NULL, &err));
  hf_builder_free(b);
  fseek(fp, 0, SEEK_END);
  other.len = (size_t)ftell(fp);
  rewind(fp);
  other.p = malloc(other.len);
  cr_assert_eq(fread(other.p, 1, other.len, fp), other.len);
  fclose(fp);
  OK(hf_reader_open_mem(other.p, other.len, NULL, &other.r, &err));
  cr_assert_eq(hf_delta_mem(f.v1.r, other.r, 0, &p, &len, &err), HF_E_SCHEMA);
  cr_assert(strstr(err.msg, "full snapshot") != NULL, "%s", err.msg);
  blob_free(&other);
  hf_schema_free(s2);
  fx_free(&f);
}

Test(delta, refuses_kinds_swapped) {
  fx f;
  hf_error err;
  void *p = NULL;
  size_t len;
  fx_init(&f, 0);
  cr_assert_eq(apply(f.v1.r, f.v2.r, NULL, &err), HF_E_ARG);
  cr_assert_eq(apply(f.d12.r, f.d23.r, NULL, &err), HF_E_ARG);
  cr_assert_eq(hf_delta_mem(f.v1.r, f.d12.r, 0, &p, &len, &err), HF_E_ARG);
  fx_free(&f);
}

/* Recomputes section i's checksum and the header checksum, so that damage
 * reaches the checks behind them. */
static void reseal(unsigned char *b, uint32_t i) {
  uint32_t n = hf_le32(b + HF_H_NSECTIONS);
  unsigned char *e = b + HF_HEADER_SIZE + 32 * (size_t)i;
  unsigned char *hb = malloc(HF_HEADER_CKSUM_OFF + 32 * (size_t)n);
  hf_put64(e + 24, hf_xxh3(b + hf_le64(e + 8), (size_t)hf_le64(e + 16)));
  memcpy(hb, b, HF_HEADER_CKSUM_OFF);
  memcpy(hb + HF_HEADER_CKSUM_OFF, b + HF_HEADER_SIZE, 32 * (size_t)n);
  hf_put64(b + HF_H_CHECKSUM,
           hf_xxh3(hb, HF_HEADER_CKSUM_OFF + 32 * (size_t)n));
  free(hb);
}

/* Opens the damaged delta and applies it to v1: must fail, and must not
 * crash (the sanitizer build runs this too).  HF_OK only when the result is
 * exactly v2 (*same set): damage that changes no decoded byte, such as an
 * LZ4 match offset moved onto an equal run, is harmless. */
static int damaged2(const fx *f, const unsigned char *p, size_t len,
                    hf_error *err, int *same) {
  const hf_reader *ds[1];
  hf_reader *r;
  void *out = NULL;
  size_t olen = 0;
  int rc = hf_reader_open_mem(p, len, NULL, &r, err);
  *same = 0;
  if (rc != HF_OK)
    return rc;
  ds[0] = r;
  rc = hf_apply_mem(f->v1.r, ds, 1, &out, &olen, err);
  if (rc == HF_OK)
    *same = olen == f->v2.len && memcmp(out, f->v2.p, olen) == 0;
  free(out);
  hf_reader_close(r);
  return rc;
}

static int damaged(const fx *f, const unsigned char *p, size_t len,
                   hf_error *err) {
  int same;
  return damaged2(f, p, len, err, &same);
}

static void flip_every_section(uint32_t flags) {
  fx f;
  hf_error err;
  uint32_t i, n;
  fx_init(&f, flags);
  n = hf_le32(f.d12.p + HF_H_NSECTIONS);
  for (i = 0; i < n; i++) {
    const unsigned char *e = f.d12.p + HF_HEADER_SIZE + 32 * (size_t)i;
    uint64_t off = hf_le64(e + 8), len = hf_le64(e + 16), k;
    for (k = 0; k < len; k++) {
      unsigned char *b = malloc(f.d12.len);
      int rc, same;
      memcpy(b, f.d12.p, f.d12.len);
      b[off + k] ^= 0x01;
      rc = damaged(&f, b, f.d12.len, &err);
      cr_assert(rc < 0, "section %u byte %llu: flip accepted", i,
                (unsigned long long)k);
      cr_assert(rc == HF_E_CHECKSUM, "section %u: code %d: %s", i, rc, err.msg);
      reseal(b, i);
      rc = damaged2(&f, b, f.d12.len, &err, &same);
      if (rc == HF_OK) /* only LZ4 can encode the same bytes differently */
        cr_assert(same && (hf_le32(e) & HF_SEC_LZ4),
                  "section %u byte %llu: resealed flip accepted", i,
                  (unsigned long long)k);
      else
        cr_assert(rc < 0 && err.msg[0] != '\0');
      free(b);
    }
  }
  for (i = 0; i < HF_HEADER_SIZE; i++) {
    unsigned char *b = malloc(f.d12.len);
    memcpy(b, f.d12.p, f.d12.len);
    b[i] ^= 0x10;
    cr_assert(damaged(&f, b, f.d12.len, &err) < 0, "header byte %u", i);
    free(b);
  }
  fx_free(&f);
}

Test(delta_corrupt, flip_in_every_section) {
  flip_every_section(0);
}
Test(delta_corrupt, flip_in_every_section_lz4) {
  flip_every_section(HF_DELTA_LZ4);
}

Test(delta_corrupt, truncated_anywhere) {
  fx f;
  hf_error err;
  size_t cut;
  fx_init(&f, HF_DELTA_LZ4);
  for (cut = 0; cut < f.d12.len; cut++) {
    unsigned char *b = malloc(cut + 1);
    int rc;
    memcpy(b, f.d12.p, cut);
    rc = damaged(&f, b, cut, &err);
    cr_assert(rc < 0, "cut at %zu accepted", cut);
    if (cut >= HF_HEADER_SIZE)
      cr_assert_eq(rc, HF_E_TRUNCATED, "cut at %zu: %s", cut, err.msg);
    free(b);
  }
  fx_free(&f);
}

Test(delta_corrupt, lz4_raw_length_must_match) { /* R-DLT-11, R-DLT-12 */
  fx f;
  hf_error err;
  blob big;
  blob d;
  uint32_t i, n, hits = 0;
  char spec[4096] = "";
  fx_init(&f, 0);
  /* Enough repetition for LZ4 to pay. */
  for (i = 0; i < 60; i++) {
    char one[64];
    snprintf(one, sizeof one, "%u:aaaaaaaaaaaaaaaaaaaaaaaa:x,y;", i + 10);
    strcat(spec, one);
  }
  build(f.s, spec, f.v1.r, &big);
  delta(&f.v1, &big, HF_DELTA_LZ4, &d);
  n = hf_le32(d.p + HF_H_NSECTIONS);
  for (i = 0; i < n; i++) {
    unsigned char *e = d.p + HF_HEADER_SIZE + 32 * (size_t)i;
    uint64_t off = hf_le64(e + 8), raw;
    int j;
    if (!(hf_le32(e) & HF_SEC_LZ4))
      continue;
    hits++;
    raw = hf_le64(d.p + off);
    for (j = 0; j < 4; j++) {
      static const int64_t adj[4] = {-1, 1, 1000000, -1000};
      unsigned char *b = malloc(d.len);
      hf_reader *r;
      int rc;
      memcpy(b, d.p, d.len);
      hf_put64(b + off, raw + (uint64_t)adj[j]);
      reseal(b, i);
      rc = hf_reader_open_mem(b, d.len, NULL, &r, &err);
      cr_assert_eq(rc, HF_OK, "%s", err.msg);
      rc = hf_reader_verify(r, &err);
      cr_assert(rc == HF_E_CORRUPT || rc == HF_E_LIMIT, "%d %s", rc, err.msg);
      cr_assert(strstr(err.msg, "R-DLT-1") != NULL, "%s", err.msg);
      hf_reader_close(r);
      free(b);
    }
  }
  cr_assert(hits > 0, "no section was compressed");
  blob_free(&big);
  blob_free(&d);
  fx_free(&f);
}

/* A delta whose promised result state is wrong fails only after the result
 * was rendered into its mapped temporary (with the prefaulting thread
 * running): nothing is left in the directory. */
Test(delta, write_path_failure_after_render_leaves_nothing) {
  fx f;
  hf_error err;
  char dir[] = "/tmp/hf-delta-XXXXXX", path[64];
  unsigned char *b, *hb;
  uint32_t n;
  hf_reader *r;
  DIR *d;
  struct dirent *e;
  int entries = 0;
  fx_init(&f, 0);
  b = malloc(f.d12.len);
  memcpy(b, f.d12.p, f.d12.len);
  hf_put64(b + HF_H_STATE, hf_le64(b + HF_H_STATE) ^ 1);
  n = hf_le32(b + HF_H_NSECTIONS);
  hb = malloc(56 + 32 * (size_t)n);
  memcpy(hb, b, 56);
  memcpy(hb + 56, b + 64, 32 * (size_t)n);
  hf_put64(b + HF_H_CHECKSUM, hf_xxh3(hb, 56 + 32 * (size_t)n));
  free(hb);
  OK(hf_reader_open_mem(b, f.d12.len, NULL, &r, &err));
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/v2.hollow", dir);
  {
    const hf_reader *one[1] = {r};
    cr_assert_eq(hf_apply_write_path(f.v1.r, one, 1, path, &err), HF_E_CORRUPT);
  }
  cr_assert(strstr(err.msg, "R-DLT-02") != NULL, "%s", err.msg);
  cr_assert_not_null(d = opendir(dir));
  while ((e = readdir(d)) != NULL)
    entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  cr_assert_eq(entries, 0);
  cr_assert_eq(rmdir(dir), 0);
  hf_reader_close(r);
  free(b);
  fx_free(&f);
}

Test(delta, write_path_publishes_atomically) {
  fx f;
  hf_error err;
  char dir[] = "/tmp/hf-delta-XXXXXX", path[64];
  hf_reader *r;
  fx_init(&f, 0);
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/out.delta", dir);
  OK(hf_delta_write_path(f.v1.r, f.v2.r, 0, path, &err));
  OK(hf_reader_open(path, NULL, &r, &err));
  {
    const hf_reader *one[1] = {r};
    snprintf(path, sizeof path, "%s/v2.hollow", dir);
    OK(hf_apply_write_path(f.v1.r, one, 1, path, &err));
  }
  hf_reader_close(r);
  {
    FILE *fp = fopen(path, "rb");
    unsigned char *b = malloc(f.v2.len + 1);
    cr_assert_eq(fread(b, 1, f.v2.len + 1, fp), f.v2.len);
    cr_assert(memcmp(b, f.v2.p, f.v2.len) == 0);
    fclose(fp);
    free(b);
  }
  {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
  }
  fx_free(&f);
}
