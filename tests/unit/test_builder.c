/* test_builder.c - hf_builder: API misuse, dedup, keys, canonical bytes of a
 * tiny snapshot checked against FORMAT.md, collections, atomic publish,
 * rendering on several threads. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf_builder_internal.h"

static hf_schema *parse(const char *text) {
  hf_schema *s = NULL;
  hf_error err;
  int rc = hf_schema_parse(text, strlen(text), &s, &err);
  cr_assert_eq(rc, HF_OK, "schema: %s", err.msg);
  return s;
}

/* Writes the snapshot through write_fd into a temporary file and returns
 * its bytes (malloc'd). */
static unsigned char *snapshot(hf_builder *b, size_t *len) {
  FILE *f = tmpfile();
  hf_error err;
  long n;
  unsigned char *buf;
  cr_assert_not_null(f);
  cr_assert_eq(hf_builder_write_fd(b, fileno(f), NULL, &err), HF_OK, "%s",
               err.msg);
  n = ftell(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  buf = malloc((size_t)n + 1);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static hf_reader *open_verified(const unsigned char *buf, size_t len) {
  hf_reader *r = NULL;
  hf_error err;
  cr_assert_eq(hf_reader_open_mem(buf, len, NULL, &r, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "verify: %s", err.msg);
  return r;
}

static hf_ref str_rec(hf_builder *b, uint32_t type, const char *v) {
  hf_ref r;
  hf_error err;
  cr_assert_eq(hf_builder_begin(b, type, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_set_string(b, 0, v, strlen(v), &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_builder_end(b, &r, &err), HF_OK, "%s", err.msg);
  return r;
}

/* ---- API misuse ------------------------------------------------------------
 */

static const char *MISC = "Movie @PrimaryKey(id) {\n"
                          "  long id;\n"
                          "  string title;\n"
                          "  Genre genre;\n"
                          "  bytes blob;\n"
                          "}\n"
                          "Genre { string name; }\n"
                          "Other { string name; }\n"
                          "SetOfGenre Set<Genre>;\n"
                          "MapOfGenre Map<Genre, Other>;\n";

Test(builder, misuse_errors_name_type_and_field) {
  hf_schema *s = parse(MISC);
  hf_builder *b;
  hf_error err;
  hf_ref g, o;
  static char big[HF_MAX_STRING + 1];
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);

  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_E_ARG);
  cr_assert_eq(hf_builder_set_long(b, 0, 1, &err), HF_E_ARG);
  cr_assert_eq(hf_builder_begin(b, 99, &err), HF_E_ARG);

  g = str_rec(b, 1, "drama");
  o = str_rec(b, 2, "x");
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  cr_assert_eq(hf_builder_set_int(b, 0, 1, &err), HF_E_TYPE);
  cr_assert(strstr(err.msg, "Movie.id") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "long") != NULL, "%s", err.msg);
  cr_assert_eq(hf_builder_set_long(b, 7, 1, &err), HF_E_ARG);
  cr_assert(strstr(err.msg, "Movie") != NULL, "%s", err.msg);
  cr_assert_eq(hf_builder_set_ref(b, 2, o, &err), HF_E_TYPE);
  cr_assert(strstr(err.msg, "Genre") && strstr(err.msg, "Other"), "%s",
            err.msg);
  cr_assert_eq(hf_builder_set_ref(b, 2, (hf_ref){1, 42}, &err), HF_E_ARG);
  cr_assert_eq(hf_builder_set_string(b, 1, "\xff", 1, &err), HF_E_INPUT);
  cr_assert(strstr(err.msg, "Movie.title") != NULL, "%s", err.msg);
  cr_assert_eq(hf_builder_set_string(b, 1, "\xed\xa0\x80", 3, &err),
               HF_E_INPUT); /* surrogate */
  cr_assert_eq(hf_builder_set_string(b, 1, big, sizeof big, &err), HF_E_LIMIT);
  cr_assert_eq(hf_builder_set_bytes(b, 3, big, sizeof big, &err), HF_E_LIMIT);
  cr_assert_eq(hf_builder_set_bytes(b, 3, "\xff", 1, &err), HF_OK);
  cr_assert_eq(hf_builder_add(b, g, &err), HF_E_TYPE);
  cr_assert_eq(hf_builder_put(b, g, o, &err), HF_E_TYPE);
  cr_assert_eq(hf_builder_set_ref(b, 2, g, &err), HF_OK);
  cr_assert_eq(hf_builder_set_long(b, 0, 1, &err), HF_OK);

  /* Collections: element types and map keys are checked. */
  cr_assert_eq(hf_builder_begin(b, 3, &err), HF_OK);
  cr_assert_eq(hf_builder_set_string(b, 0, "a", 1, &err), HF_E_TYPE);
  cr_assert_eq(hf_builder_add(b, o, &err), HF_E_TYPE);
  cr_assert_eq(hf_builder_put(b, g, o, &err), HF_E_TYPE);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  cr_assert_eq(hf_builder_begin(b, 4, &err), HF_OK);
  cr_assert_eq(hf_builder_put(b, o, g, &err), HF_E_TYPE);
  cr_assert_eq(hf_builder_put(b, g, o, &err), HF_OK);
  cr_assert_eq(hf_builder_put(b, g, o, &err), HF_E_INPUT);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);

  /* Writing with a record open is refused; afterwards nothing is added. */
  cr_assert_eq(hf_builder_write_fd(b, 1, NULL, &err), HF_E_ARG);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  {
    size_t len;
    free(snapshot(b, &len));
  }
  cr_assert_eq(hf_builder_begin(b, 1, &err), HF_E_ARG);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* ---- Dedup and keys --------------------------------------------------------
 */

static const char *MOVIES = "Movie @PrimaryKey(id) {\n"
                            "  long id;\n"
                            "  string title;\n"
                            "  Genre genre;\n"
                            "  Person director;\n"
                            "}\n"
                            "Genre { string name; }\n"
                            "Person @PrimaryKey(pid) { int pid; string name; }"
                            "\n";

static int add_movie(hf_builder *b, int64_t id, const char *title,
                     const char *genre, int pid, const char *dname,
                     hf_error *err) {
  hf_ref g, p;
  int rc;
  if ((rc = hf_builder_begin(b, 0, err)) != HF_OK)
    return rc;
  hf_builder_set_long(b, 0, id, err);
  if (title)
    hf_builder_set_string(b, 1, title, strlen(title), err);
  if (genre) {
    g = str_rec(b, 1, genre);
    hf_builder_set_ref(b, 2, g, err);
  }
  if (dname) {
    hf_builder_begin(b, 2, err);
    if (pid >= 0)
      hf_builder_set_int(b, 0, pid, err);
    hf_builder_set_string(b, 1, dname, strlen(dname), err);
    if ((rc = hf_builder_end(b, &p, err)) != HF_OK)
      return rc;
    hf_builder_set_ref(b, 3, p, err);
  }
  return hf_builder_end(b, NULL, err);
}

Test(builder, unkeyed_content_is_deduplicated_and_shared) {
  hf_schema *s = parse(MOVIES);
  hf_builder *b;
  hf_error err;
  hf_reader *r;
  unsigned char *buf;
  size_t len;
  int i;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  for (i = 0; i < 100; i++)
    cr_assert_eq(
        add_movie(b, i, "t", i % 3 ? "drama" : "comedy", 7, "Kim", &err), HF_OK,
        "%s", err.msg);
  buf = snapshot(b, &len);
  r = open_verified(buf, len);
  cr_assert_eq(hf_reader_record_count(r, 0), 100);
  cr_assert_eq(hf_reader_record_count(r, 1), 2);
  cr_assert_eq(hf_reader_record_count(r, 2), 1);
  for (i = 0; i < 100; i++) {
    hf_record rec;
    uint32_t g;
    cr_assert_eq(hf_reader_record(r, 0, (uint32_t)i, &rec), HF_OK);
    cr_assert_eq(hf_record_ref(&rec, 2, &g), HF_OK);
    /* Movie 0 brings "comedy" first, so it is ordinal 0 (§6.8 input order). */
    cr_assert_eq(g, i % 3 ? 1u : 0u);
  }
  hf_reader_close(r);
  free(buf);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(builder, duplicate_root_key_names_first_line) /* R-ORD-03 */ {
  hf_schema *s = parse(MOVIES);
  hf_builder *b;
  hf_error err;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  hf_builder_set_line(b, 7);
  cr_assert_eq(add_movie(b, 42, "a", NULL, 0, NULL, &err), HF_OK);
  hf_builder_set_line(b, 9);
  cr_assert_eq(add_movie(b, 42, "a", NULL, 0, NULL, &err), HF_E_DUPKEY);
  cr_assert(strstr(err.msg, "duplicate primary key 42 (first at line 7)"), "%s",
            err.msg);
  cr_assert_eq(err.line, 9);
  hf_builder_discard(b);
  cr_assert_eq(add_movie(b, 43, "a", NULL, 0, NULL, &err), HF_OK);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(builder, nested_keys_same_content_is_one_record_else_dupkey) {
  hf_schema *s = parse(MOVIES);
  hf_builder *b;
  hf_error err;
  hf_reader *r;
  unsigned char *buf;
  size_t len;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(add_movie(b, 1, "a", NULL, 5, "Lee", &err), HF_OK);
  cr_assert_eq(add_movie(b, 2, "b", NULL, 5, "Lee", &err), HF_OK);
  cr_assert_eq(add_movie(b, 3, "c", NULL, 5, "Other", &err), HF_E_DUPKEY);
  cr_assert(strstr(err.msg, "Person") != NULL, "%s", err.msg);
  hf_builder_discard(b);
  /* The rejected root left nothing behind: its key is free again. */
  cr_assert_eq(add_movie(b, 3, "c", NULL, 6, "Other", &err), HF_OK);
  buf = snapshot(b, &len);
  r = open_verified(buf, len);
  cr_assert_eq(hf_reader_record_count(r, 0), 3);
  cr_assert_eq(hf_reader_record_count(r, 2), 2);
  hf_reader_close(r);
  free(buf);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(builder, null_key_is_input_error_naming_path) {
  hf_schema *s = parse(MOVIES);
  hf_builder *b;
  hf_error err;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(add_movie(b, 1, "a", NULL, -1, "Lee", &err), HF_E_INPUT);
  cr_assert(strstr(err.msg, "pid") != NULL, "%s", err.msg);
  hf_builder_discard(b);
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_E_INPUT);
  cr_assert(strstr(err.msg, "Movie") && strstr(err.msg, "id"), "%s", err.msg);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(builder, unreachable_records_are_not_written) /* R-ORD-02 */ {
  hf_schema *s = parse(MOVIES);
  hf_builder *b;
  hf_error err;
  hf_reader *r;
  unsigned char *buf;
  size_t len;
  hf_ref g;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  g = str_rec(b, 1, "orphan"); /* made inside a root, never referenced */
  (void)g;
  hf_builder_set_long(b, 0, 1, &err);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  buf = snapshot(b, &len);
  r = open_verified(buf, len);
  cr_assert_eq(hf_reader_record_count(r, 1), 0);
  cr_assert_eq(hf_reader_ordinal_limit(r, 1), 0);
  hf_reader_close(r);
  free(buf);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* ---- Determinism -----------------------------------------------------------
 */

static unsigned char *random_build(const hf_schema *s, unsigned seed,
                                   size_t *len) {
  hf_builder *b;
  hf_error err;
  unsigned char *buf;
  char t[32], g[32];
  int i;
  srand(seed);
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  for (i = 0; i < 500; i++) {
    snprintf(t, sizeof t, "title %d", rand() % 50);
    snprintf(g, sizeof g, "g%d", rand() % 7);
    cr_assert_eq(add_movie(b, i * 3 + rand() % 3, t, g, rand() % 20, "d", &err),
                 HF_OK, "%s", err.msg);
  }
  buf = snapshot(b, len);
  hf_builder_free(b);
  return buf;
}

Test(builder, same_input_gives_identical_bytes) /* R-ORD-01 */ {
  hf_schema *s = parse(MOVIES);
  size_t l1, l2;
  unsigned char *a = random_build(s, 11, &l1), *c = random_build(s, 11, &l2);
  hf_reader_close(open_verified(a, l1));
  cr_assert_eq(l1, l2);
  cr_assert(memcmp(a, c, l1) == 0);
  free(a);
  free(c);
  hf_schema_free(s);
}

/* ---- The bytes of a tiny snapshot (FORMAT.md §4-§6) -----------------------
 */

Test(builder, tiny_snapshot_bytes_follow_format) {
  const char *text = "Item @PrimaryKey(id) { int id; string name; }\n";
  hf_schema *s = parse(text);
  hf_builder *b;
  hf_error err;
  hf_build_opts opts = {NULL, 5, 0};
  unsigned char *buf, *p, hdr[56 + 6 * 32], sums[6 * 8];
  size_t len, slen;
  char stext[256];
  uint64_t off[6], ln[6], state, exp_off;
  uint32_t kinds[6] = {HF_SEC_SCHEMA, HF_SEC_TYPES, HF_SEC_BITMAP,
                       HF_SEC_SLOTS,  HF_SEC_HEAP,  HF_SEC_PKINDEX};
  int i;
  hf_value kv;
  uint64_t h, nb = 4;

  cr_assert_eq(hf_builder_new(s, &opts, &b, &err), HF_OK);
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  hf_builder_set_int(b, 0, 10, &err);
  hf_builder_set_string(b, 1, "ab", 2, &err);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  hf_builder_set_int(b, 0, -3, &err); /* name null */
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  buf = snapshot(b, &len);
  {
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(hf_builder_write_fd(b, fileno(null), &state, &err), HF_OK);
    fclose(null);
  }

  /* §4 header */
  cr_assert(memcmp(buf, HF_MAGIC, 8) == 0);
  cr_assert_eq(hf_le16(buf + 8), 1);
  cr_assert_eq(hf_le16(buf + 10), 0);
  cr_assert_eq(buf[12], 1);
  cr_assert_eq(buf[13], 0);
  cr_assert_eq(hf_le16(buf + 14), 0);
  cr_assert_eq(hf_le32(buf + 16), 6);
  cr_assert_eq(hf_le32(buf + 20), 0);
  cr_assert_eq(hf_le64(buf + 24), len);
  cr_assert_eq(hf_le64(buf + 32), 5);
  cr_assert_eq(hf_le64(buf + 40), 0);

  /* §5 section table: order, offsets, lengths, checksums */
  exp_off = hf_align8(64 + 32 * 6);
  slen = hf_schema_print(s, stext, sizeof stext);
  for (i = 0; i < 6; i++) {
    p = buf + 64 + 32 * i;
    cr_assert_eq(hf_le32(p), kinds[i], "section %d", i);
    cr_assert_eq(hf_le32(p + 4), i < 2 ? UINT32_MAX : 0u);
    off[i] = hf_le64(p + 8);
    ln[i] = hf_le64(p + 16);
    cr_assert_eq(off[i], exp_off, "section %d offset", i);
    cr_assert_eq(hf_le64(p + 24), hf_xxh3(buf + off[i], ln[i]));
    memcpy(sums + 8 * i, p + 24, 8);
    for (uint64_t z = off[i] + ln[i]; z < hf_align8(off[i] + ln[i]); z++)
      cr_assert_eq(buf[z], 0, "padding after section %d", i);
    exp_off = hf_align8(off[i] + ln[i]);
  }
  cr_assert_eq(exp_off, len);
  cr_assert_eq(ln[0], slen);
  cr_assert(memcmp(buf + off[0], stext, slen) == 0);
  cr_assert_eq(ln[1], 16);
  cr_assert_eq(ln[2], 8);
  cr_assert_eq(ln[3], 2 * 16); /* name@0, id@8, presence@12 -> width 16 */
  cr_assert_eq(ln[4], 2);
  cr_assert_eq(ln[5], 8 * nb); /* nb(2) = 4 */

  /* §4.9 state and §4.8 header checksum */
  cr_assert_eq(hf_le64(buf + 48), hf_xxh3(sums, sizeof sums));
  cr_assert_eq(hf_le64(buf + 48), state);
  memcpy(hdr, buf, 56);
  memcpy(hdr + 56, buf + 64, 6 * 32);
  cr_assert_eq(hf_le64(buf + 56), hf_xxh3(hdr, sizeof hdr));

  /* §6.2 TYPES */
  p = buf + off[1];
  cr_assert_eq(hf_le32(p), 2);
  cr_assert_eq(hf_le32(p + 4), 2);
  cr_assert_eq(hf_le32(p + 8), 16);
  cr_assert_eq(hf_le32(p + 12), 0);
  /* §6.3 BITMAP */
  cr_assert_eq(hf_le64(buf + off[2]), 3);
  /* §6.4/§6.5 SLOTS: ordinal 0 = id 10 "ab", ordinal 1 = id -3, null name */
  p = buf + off[3];
  cr_assert_eq(hf_le64(p), (uint64_t)2 << 40 | 0);
  cr_assert_eq(hf_le32(p + 8), 10);
  cr_assert_eq(p[12], 0x3);
  for (i = 13; i < 16; i++)
    cr_assert_eq(p[i], 0);
  p += 16;
  cr_assert_eq(hf_le64(p), 0);
  cr_assert_eq((int32_t)hf_le32(p + 8), -3);
  cr_assert_eq(p[12], 0x1);
  /* §6.6 HEAP */
  cr_assert(memcmp(buf + off[4], "ab", 2) == 0);
  /* §6.7 PKINDEX, rebuilt by its construction */
  {
    unsigned char pk[32];
    int32_t ids[2] = {10, -3};
    memset(pk, 0, sizeof pk);
    for (i = 0; i < 4; i++)
      hf_put32(pk + 8 * i, UINT32_MAX);
    for (i = 0; i < 2; i++) {
      uint64_t j;
      kv.type = HF_FT_INT;
      kv.u.i = ids[i];
      h = hf_key_hash(&kv, 1);
      for (j = h & (nb - 1); hf_le32(pk + 8 * j) != UINT32_MAX;
           j = (j + 1) & (nb - 1))
        ;
      hf_put32(pk + 8 * j, (uint32_t)i);
      hf_put32(pk + 8 * j + 4, (uint32_t)(h >> 32));
    }
    cr_assert(memcmp(buf + off[5], pk, sizeof pk) == 0);
  }
  hf_reader_close(open_verified(buf, len));
  free(buf);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* ---- Collections ------------------------------------------------------------
 */

Test(builder, sets_sorted_and_deduplicated_maps_sorted) /* R-ORD-09 */ {
  const char *text = "Box { SetOfTag tags; MapOfTag m; ListOfTag l; }\n"
                     "Tag { string value; }\n"
                     "SetOfTag Set<Tag>;\n"
                     "MapOfTag Map<Tag, Tag>;\n"
                     "ListOfTag List<Tag>;\n";
  hf_schema *s = parse(text);
  hf_builder *b;
  hf_error err;
  hf_reader *r;
  hf_coll c;
  unsigned char *buf;
  size_t len;
  hf_ref t[40], set1, set2, map, list;
  char v[8];
  int i;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  for (i = 0; i < 40; i++) {
    snprintf(v, sizeof v, "t%d", i);
    t[i] = str_rec(b, 1, v);
  }
  /* List (declared last) is given t5..t0: but the set field comes first. */
  cr_assert_eq(hf_builder_begin(b, 4, &err), HF_OK);
  for (i = 5; i >= 0; i--)
    hf_builder_add(b, t[i], &err);
  hf_builder_add(b, t[5], &err);
  cr_assert_eq(hf_builder_end(b, &list, &err), HF_OK);
  /* Set given 39..0 with each element twice (large: uses the hash set). */
  cr_assert_eq(hf_builder_begin(b, 2, &err), HF_OK);
  for (i = 39; i >= 0; i--) {
    cr_assert_eq(hf_builder_add(b, t[i], &err), HF_OK);
    cr_assert_eq(hf_builder_add(b, t[i], &err), HF_OK);
  }
  cr_assert_eq(hf_builder_end(b, &set1, &err), HF_OK);
  /* The same set in another order is the same record. */
  cr_assert_eq(hf_builder_begin(b, 2, &err), HF_OK);
  for (i = 0; i < 40; i++)
    hf_builder_add(b, t[i], &err);
  cr_assert_eq(hf_builder_end(b, &set2, &err), HF_OK);
  cr_assert_eq(set1.id, set2.id);
  cr_assert_eq(hf_builder_begin(b, 3, &err), HF_OK);
  for (i = 39; i >= 0; i--)
    cr_assert_eq(hf_builder_put(b, t[i], t[39 - i], &err), HF_OK);
  cr_assert_eq(hf_builder_put(b, t[3], t[3], &err), HF_E_INPUT);
  cr_assert_eq(hf_builder_end(b, &map, &err), HF_OK);
  hf_builder_set_ref(b, 0, set1, &err);
  hf_builder_set_ref(b, 1, map, &err);
  hf_builder_set_ref(b, 2, list, &err);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  buf = snapshot(b, &len);
  r = open_verified(buf, len);
  /* Input order (§6.8): the set (field 0) is walked first, as given, so
   * t39 is Tag ordinal 0 ... t0 ordinal 39. */
  cr_assert_eq(hf_reader_coll(r, 2, 0, &c), HF_OK);
  cr_assert_eq(c.n, 40);
  for (i = 0; i < 40; i++)
    cr_assert_eq(hf_coll_elem(&c, (uint64_t)i), (uint32_t)i);
  cr_assert_eq(hf_reader_coll(r, 3, 0, &c), HF_OK);
  cr_assert_eq(c.n, 40);
  for (i = 0; i < 40; i++) {
    cr_assert_eq(hf_coll_key(&c, (uint64_t)i), (uint32_t)i);
    cr_assert_eq(hf_coll_value(&c, (uint64_t)i), (uint32_t)(39 - i));
  }
  cr_assert_eq(hf_reader_coll(r, 4, 0, &c), HF_OK);
  cr_assert_eq(c.n, 7);
  cr_assert_eq(hf_coll_elem(&c, 0), 34); /* t5 */
  cr_assert_eq(hf_coll_elem(&c, 5), 39); /* t0 */
  cr_assert_eq(hf_coll_elem(&c, 6), 34);
  hf_reader_close(r);
  free(buf);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* ---- Atomic publish --------------------------------------------------------
 */

static hf_builder *small_builder(hf_schema *s) {
  hf_builder *b;
  hf_error err;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(add_movie(b, 1, "x", "g", 1, "d", &err), HF_OK);
  return b;
}

static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  cr_assert_not_null(d);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

Test(builder, write_path_publishes_and_cleans_up_on_failure) {
  hf_schema *s = parse(MOVIES);
  hf_builder *b = small_builder(s);
  hf_error err;
  char dir[] = "/tmp/hf-builder-XXXXXX", path[256], sub[256];
  uint64_t st1, st2;
  struct stat sb;
  hf_reader *r;
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/out.hollow", dir);
  snprintf(sub, sizeof sub, "%s/adir", dir);
  cr_assert_eq(hf_builder_write_path(b, path, &st1, &err), HF_OK, "%s",
               err.msg);
  cr_assert_eq(hf_reader_open(path, NULL, &r, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_reader_verify(r, &err), HF_OK, "%s", err.msg);
  hf_reader_close(r);
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_mode & 0777, 0644);
  cr_assert_eq(hf_builder_write_path(b, path, &st2, &err), HF_OK);
  cr_assert_eq(st1, st2);

  /* The rename target is a directory: error, no temporary left. */
  cr_assert_eq(mkdir(sub, 0755), 0);
  cr_assert_eq(hf_builder_write_path(b, sub, NULL, &err), HF_E_IO);
  cr_assert_eq(dir_entries(dir), 2);

  /* No room in a read-only directory (root ignores modes: skip then). */
  if (geteuid() != 0) {
    char p2[300];
    cr_assert_eq(chmod(sub, 0555), 0);
    snprintf(p2, sizeof p2, "%s/x.hollow", sub);
    cr_assert_eq(hf_builder_write_path(b, p2, NULL, &err), HF_E_IO);
    cr_assert_eq(dir_entries(sub), 0);
    chmod(sub, 0755);
  }
  rmdir(sub);
  unlink(path);
  rmdir(dir);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(builder, failed_write_leaves_existing_file_untouched) {
  hf_schema *s = parse(MOVIES);
  hf_builder *b = small_builder(s);
  hf_error err;
  char dir[] = "/tmp/hf-builder-XXXXXX", path[256];
  const char good[] = "previous good version";
  char back[64];
  struct rlimit rl = {16, 16};
  FILE *f;
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/out.hollow", dir);
  f = fopen(path, "w");
  fputs(good, f);
  fclose(f);
  /* A file size limit makes the write fail part way (EFBIG). */
  signal(SIGXFSZ, SIG_IGN);
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
  cr_assert_eq(hf_builder_write_path(b, path, NULL, &err), HF_E_IO);
  cr_assert_eq(dir_entries(dir), 1);
  f = fopen(path, "r");
  memset(back, 0, sizeof back);
  cr_assert_eq(fread(back, 1, sizeof back, f), strlen(good));
  fclose(f);
  cr_assert_str_eq(back, good);
  unlink(path);
  rmdir(dir);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* ---- Store table: growth, undo, long blobs ---------------------------------
 */

static const char *TAGGED = "Movie @PrimaryKey(id) { long id; Genre genre; }\n"
                            "Genre { string name; }\n"
                            "Tag @PrimaryKey(name) { string name; }\n";

static hf_ref genre_n(hf_builder *b, const char *prefix, int i) {
  char name[32];
  snprintf(name, sizeof name, "%s%d", prefix, i);
  return str_rec(b, 1, name);
}

static void root_movie(hf_builder *b, int64_t id, hf_ref g) {
  hf_error err;
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_set_long(b, 0, id, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_set_ref(b, 1, g, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK, "%s", err.msg);
}

Test(builder, dedup_finds_every_record_after_growth_and_undo) {
  hf_schema *s = parse(TAGGED);
  hf_builder *b;
  hf_error err;
  const hf_bstore *st;
  uint32_t n0, ids[3000];
  int i;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  st = &b->stores[1];
  /* 3000 distinct genres: the table grows from 1024 to 8192 positions. */
  for (i = 0; i < 3000; i++) {
    hf_ref g;
    cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
    g = genre_n(b, "g", i);
    ids[i] = g.id;
    cr_assert_eq(g.id, (uint32_t)i);
    hf_builder_set_long(b, 0, i, &err);
    hf_builder_set_ref(b, 1, g, &err);
    cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  }
  cr_assert_eq(st->tmask + 1, 8192);
  n0 = st->n;
  /* An abandoned root that made 2000 new genres (growing the table again)
   * and reused old ones: discard pops exactly the new ones, newest first,
   * moving entries back over the holes. */
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  for (i = 0; i < 2000; i++) {
    cr_assert_eq(genre_n(b, "x", i).id, n0 + (uint32_t)i);
    cr_assert_eq(genre_n(b, "g", i).id, ids[i]);
  }
  cr_assert_eq(st->tmask + 1, 16384);
  hf_builder_discard(b);
  cr_assert_eq(st->n, n0);
  /* Every surviving record is still found; the popped ones are new again. */
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  for (i = 2999; i >= 0; i--)
    cr_assert_eq(genre_n(b, "g", i).id, ids[i], "g%d", i);
  for (i = 0; i < 10; i++)
    cr_assert_eq(genre_n(b, "x", i).id, n0 + (uint32_t)i);
  hf_builder_discard(b);
  cr_assert_eq(st->n, n0);
  root_movie(b, 5000, genre_n(b, "g", 7));
  cr_assert_eq(st->n, n0);
  hf_builder_free(b);
  hf_schema_free(s);
}

Test(builder, string_keys_and_undo_across_growth) {
  hf_schema *s = parse(TAGGED);
  hf_builder *b;
  hf_error err;
  char name[32];
  int i;
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  for (i = 0; i < 1500; i++) {
    snprintf(name, sizeof name, "tag-%d", i);
    cr_assert_eq(hf_builder_begin(b, 2, &err), HF_OK);
    cr_assert_eq(hf_builder_set_string(b, 0, name, strlen(name), &err), HF_OK);
    cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK, "%s", err.msg);
  }
  cr_assert_eq(b->stores[2].n, 1500);
  for (i = 0; i < 1500; i += 7) {
    snprintf(name, sizeof name, "tag-%d", i);
    cr_assert_eq(hf_builder_begin(b, 2, &err), HF_OK);
    hf_builder_set_string(b, 0, name, strlen(name), &err);
    cr_assert_eq(hf_builder_end(b, NULL, &err), HF_E_DUPKEY, "%s", name);
    cr_assert(strstr(err.msg, name) != NULL, "%s", err.msg);
    hf_builder_discard(b);
  }
  cr_assert_eq(b->stores[2].n, 1500);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* Blobs longer than a table position can describe are found through off[]. */
Test(builder, blobs_too_long_for_the_table_entry_dedup_and_key_check) {
  hf_schema *s = parse(TAGGED);
  hf_builder *b;
  hf_error err;
  hf_reader *r;
  hf_ref g1, g2, g3;
  unsigned char *out;
  size_t len, big = HF_MAX_STRING;
  char *v = malloc(big);
  cr_assert_not_null(v);
  memset(v, 'a', big);
  cr_assert_eq(hf_builder_new(s, NULL, &b, &err), HF_OK);
  cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
  hf_builder_set_long(b, 0, 1, &err);
  cr_assert_eq(hf_builder_begin(b, 1, &err), HF_OK);
  cr_assert_eq(hf_builder_set_string(b, 0, v, big, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_end(b, &g1, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_begin(b, 1, &err), HF_OK);
  cr_assert_eq(hf_builder_set_string(b, 0, v, big, &err), HF_OK);
  cr_assert_eq(hf_builder_end(b, &g2, &err), HF_OK);
  v[big - 1] = 'b'; /* same length, differs in the last byte */
  cr_assert_eq(hf_builder_begin(b, 1, &err), HF_OK);
  cr_assert_eq(hf_builder_set_string(b, 0, v, big, &err), HF_OK);
  cr_assert_eq(hf_builder_end(b, &g3, &err), HF_OK);
  cr_assert_eq(g1.id, g2.id);
  cr_assert_neq(g1.id, g3.id);
  cr_assert_eq(
      b->stores[1].table[b->stores[1].hash[g1.id] & b->stores[1].tmask].loc,
      HF_B_FAR);
  hf_builder_set_ref(b, 1, g3, &err);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
  /* A keyed record with a long blob: found again by key, and a different
   * record under the same key is a conflict. */
  cr_assert_eq(hf_builder_begin(b, 2, &err), HF_OK);
  hf_builder_set_string(b, 0, v, big, &err);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_begin(b, 2, &err), HF_OK);
  hf_builder_set_string(b, 0, v, big, &err);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_E_DUPKEY);
  hf_builder_discard(b);
  out = snapshot(b, &len);
  r = open_verified(out, len);
  cr_assert_eq(hf_reader_record_count(r, 1), 1);
  cr_assert_eq(hf_reader_record_count(r, 2), 1);
  hf_reader_close(r);
  free(out);
  free(v);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* The whole of an open file, from its start. */
static unsigned char *slurp_file(FILE *f, size_t *n) {
  unsigned char *p;
  long size;
  cr_assert_eq(fseek(f, 0, SEEK_END), 0);
  size = ftell(f);
  cr_assert_gt(size, 0);
  rewind(f);
  p = malloc((size_t)size);
  cr_assert_not_null(p);
  cr_assert_eq(fread(p, 1, (size_t)size, f), (size_t)size);
  *n = (size_t)size;
  return p;
}

static unsigned char *slurp_path(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  unsigned char *p;
  cr_assert_not_null(f, "%s", path);
  p = slurp_file(f, n);
  fclose(f);
  return p;
}

/* write_path renders straight into its (mapped) output file; the bytes are
 * those write_fd writes from memory, and a second write_path or write_fd
 * of the same builder repeats them. */
Test(builder, write_path_bytes_equal_write_fd) {
  hf_schema *s = parse(MOVIES);
  hf_builder *a = small_builder(s), *c = small_builder(s);
  hf_error err;
  char dir[] = "/tmp/hf-builder-XXXXXX", p1[256], p2[256];
  FILE *f = tmpfile();
  unsigned char *mem, *file1, *file2, *again;
  size_t n, n1, n2, n3;
  cr_assert_not_null(mkdtemp(dir));
  snprintf(p1, sizeof p1, "%s/a.hollow", dir);
  snprintf(p2, sizeof p2, "%s/b.hollow", dir);
  cr_assert_eq(hf_builder_write_path(a, p1, NULL, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_write_path(a, p2, NULL, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_write_fd(c, fileno(f), NULL, &err), HF_OK);
  mem = slurp_file(f, &n);
  file1 = slurp_path(p1, &n1);
  file2 = slurp_path(p2, &n2);
  cr_assert(n == n1 && memcmp(mem, file1, n) == 0);
  cr_assert(n == n2 && memcmp(mem, file2, n) == 0);
  fclose(f);
  f = tmpfile();
  cr_assert_eq(hf_builder_write_fd(a, fileno(f), NULL, &err), HF_OK);
  again = slurp_file(f, &n3);
  cr_assert(n == n3 && memcmp(mem, again, n) == 0);
  fclose(f);
  free(mem);
  free(file1);
  free(file2);
  free(again);
  unlink(p1);
  unlink(p2);
  rmdir(dir);
  hf_builder_free(a);
  hf_builder_free(c);
  hf_schema_free(s);
}

/* ---- Rendering on several threads (hf_build_opts.threads) ------------------
 */

static const char *SPLIT =
    "Movie @PrimaryKey(id) {\n"
    "  long id; string title; string overview; int year; Genre genre;\n"
    "  Tags tags; Cast cast; Roles roles; bytes poster;\n"
    "}\n"
    "Genre { string name; }\n"
    "Tag { string v; }\n"
    "Tags Set<Tag>;\n"
    "Person { long pid; string name; }\n"
    "Cast List<Person>;\n"
    "Roles Map<Tag, Person>;\n"
    "Nobody @PrimaryKey(k) { int k; }\n"
    "Nobodies List<Nobody>;\n";

enum { S_MOVIE, S_GENRE, S_TAG, S_TAGS, S_PERSON, S_CAST, S_ROLES };

static uint64_t split_mix(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static hf_ref split_str(hf_builder *b, uint32_t type, const char *prefix,
                        unsigned n) {
  char v[32];
  snprintf(v, sizeof v, "%s%u", prefix, n);
  return str_rec(b, type, v);
}

static hf_ref split_person(hf_builder *b, unsigned pid) {
  hf_error err;
  hf_ref r;
  char name[32];
  snprintf(name, sizeof name, "person %u", pid);
  cr_assert_eq(hf_builder_begin(b, S_PERSON, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_set_long(b, 0, pid, &err), HF_OK);
  if (pid % 5 != 0) /* some persons without a name */
    cr_assert_eq(hf_builder_set_string(b, 1, name, strlen(name), &err), HF_OK);
  cr_assert_eq(hf_builder_end(b, &r, &err), HF_OK, "%s", err.msg);
  return r;
}

/* Movie `id`: its content is a function of id, each field present or
 * absent by a bit of the hash; small value ranges make records shared. */
static void split_movie(hf_builder *b, int64_t id) {
  const uint64_t r = split_mix((uint64_t)id), r2 = split_mix(r);
  hf_error err;
  hf_ref x;
  char text[256];
  unsigned i, n;
  cr_assert_eq(hf_builder_begin(b, S_MOVIE, &err), HF_OK, "%s", err.msg);
  cr_assert_eq(hf_builder_set_long(b, 0, id, &err), HF_OK);
  if (r & 1) {
    snprintf(text, sizeof text, "title of movie %lld", (long long)id);
    cr_assert_eq(hf_builder_set_string(b, 1, text, strlen(text), &err), HF_OK);
  }
  if (r & 2) {
    n = (unsigned)(r2 % 200);
    memset(text, 'a' + (int)(id % 26), n);
    cr_assert_eq(hf_builder_set_string(b, 2, text, n, &err), HF_OK);
  }
  if (r & 4)
    cr_assert_eq(hf_builder_set_int(b, 3, (int32_t)(r >> 33), &err), HF_OK);
  if (r & 8) {
    x = split_str(b, S_GENRE, "genre ", (unsigned)(r >> 8) % 13);
    cr_assert_eq(hf_builder_set_ref(b, 4, x, &err), HF_OK);
  }
  if (r & 16) {
    cr_assert_eq(hf_builder_begin(b, S_TAGS, &err), HF_OK);
    for (i = 0, n = (unsigned)(r >> 12) % 6; i < n; i++)
      cr_assert_eq(hf_builder_add(
                       b,
                       split_str(b, S_TAG, "t", (unsigned)(r2 >> (3 * i)) % 40),
                       &err),
                   HF_OK);
    cr_assert_eq(hf_builder_end(b, &x, &err), HF_OK, "%s", err.msg);
    cr_assert_eq(hf_builder_set_ref(b, 5, x, &err), HF_OK);
  }
  if (r & 32) {
    cr_assert_eq(hf_builder_begin(b, S_CAST, &err), HF_OK);
    for (i = 0, n = (unsigned)(r >> 16) % 9; i < n; i++)
      cr_assert_eq(
          hf_builder_add(b, split_person(b, (unsigned)(r2 >> (7 * i)) % 30000),
                         &err),
          HF_OK);
    cr_assert_eq(hf_builder_end(b, &x, &err), HF_OK, "%s", err.msg);
    cr_assert_eq(hf_builder_set_ref(b, 6, x, &err), HF_OK);
  }
  if (r & 64) {
    cr_assert_eq(hf_builder_begin(b, S_ROLES, &err), HF_OK);
    for (i = 0, n = (unsigned)(r >> 20) % 4; i < n; i++) {
      hf_ref k = split_str(b, S_TAG, "role ", i);
      hf_ref v = split_person(b, (unsigned)(r2 >> (5 * i + 20)) % 30000);
      cr_assert_eq(hf_builder_put(b, k, v, &err), HF_OK, "%s", err.msg);
    }
    cr_assert_eq(hf_builder_end(b, &x, &err), HF_OK, "%s", err.msg);
    cr_assert_eq(hf_builder_set_ref(b, 7, x, &err), HF_OK);
  }
  if (r & 128)
    cr_assert_eq(hf_builder_set_bytes(b, 8, &r2, sizeof r2, &err), HF_OK);
  cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK, "%s", err.msg);
}

#define SPLIT_N 20000

/* The base holds movies [0, SPLIT_N); the next version drops every third
 * (their ordinals and the unkeyed records only they used become holes, more
 * than the SPLIT_N / 8 new movies refill) and adds new ones. */
static hf_builder *split_builder(const hf_schema *s, const hf_reader *base,
                                 uint32_t threads) {
  hf_build_opts o;
  hf_builder *b;
  hf_error err;
  int64_t id;
  memset(&o, 0, sizeof o);
  o.base = base;
  o.threads = threads;
  cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_OK, "%s", err.msg);
  for (id = 0; id < SPLIT_N + (base != NULL ? SPLIT_N / 8 : 0); id++)
    if (base == NULL || id >= SPLIT_N || id % 3 != 1)
      split_movie(b, id);
  return b;
}

static unsigned char *split_snapshot(const hf_schema *s, const hf_reader *base,
                                     uint32_t threads, size_t *len) {
  hf_builder *b = split_builder(s, base, threads);
  unsigned char *p = snapshot(b, len);
  hf_builder_free(b);
  return p;
}

static uint64_t section_len(const unsigned char *p, uint32_t kind,
                            uint32_t type) {
  uint32_t i, n = hf_le32(p + HF_H_NSECTIONS);
  for (i = 0; i < n; i++) {
    const unsigned char *e = p + HF_HEADER_SIZE + i * HF_SECTION_ENTRY_SIZE;
    if (hf_le32(e) == kind && hf_le32(e + 4) == type)
      return hf_le64(e + 16);
  }
  return 0;
}

/* The bytes are canonical: every thread count renders the same file, with
 * the big types cut into ranges (more and smaller ones for more threads),
 * keyed and unkeyed types, sets, lists and maps, absent fields, empty types
 * (Nobody, Nobodies) and ordinal holes from the base. */
Test(builder, threads_render_identical_bytes) {
  static const uint32_t threads[] = {0, 1, 2, 3, 5};
  hf_schema *s = parse(SPLIT);
  hf_reader *base;
  size_t blen, len1, i;
  unsigned char *bbuf = split_snapshot(s, NULL, 1, &blen), *one;
  base = open_verified(bbuf, blen);
  one = split_snapshot(s, base, 1, &len1);
  {
    hf_reader *r = open_verified(one, len1);
    /* what the test is meant to cover is there */
    cr_assert_gt(section_len(one, HF_SEC_HEAP, S_MOVIE), (uint64_t)512 << 10);
    cr_assert_gt(section_len(one, HF_SEC_ELEMENTS, S_CAST), (uint64_t)64 << 10);
    cr_assert_lt(hf_reader_record_count(r, S_MOVIE),
                 hf_reader_ordinal_limit(r, S_MOVIE));
    cr_assert_lt(hf_reader_record_count(r, S_PERSON),
                 hf_reader_ordinal_limit(r, S_PERSON));
    cr_assert_lt(hf_reader_record_count(r, S_CAST),
                 hf_reader_ordinal_limit(r, S_CAST));
    cr_assert_gt(hf_reader_record_count(r, S_TAGS), 1);
    cr_assert_gt(hf_reader_record_count(r, S_ROLES), 1);
    cr_assert_eq(hf_reader_record_count(r, 7), 0);
    cr_assert_eq(hf_reader_record_count(r, 8), 0);
    hf_reader_close(r);
  }
  for (i = 0; i < sizeof threads / sizeof threads[0]; i++) {
    size_t len;
    unsigned char *p = split_snapshot(s, base, threads[i], &len);
    cr_assert_eq(len, len1, "threads %u", threads[i]);
    cr_assert(memcmp(p, one, len) == 0, "threads %u: bytes differ", threads[i]);
    free(p);
  }
  free(one);
  hf_reader_close(base);
  free(bbuf);
  hf_schema_free(s);
}

/* write_path renders into the mapped output file: the same bytes again. */
Test(builder, threads_render_into_mapped_file) {
  hf_schema *s = parse(SPLIT);
  size_t len1, n;
  unsigned char *one = split_snapshot(s, NULL, 1, &len1), *file;
  hf_builder *b = split_builder(s, NULL, 4);
  hf_error err;
  char dir[] = "/tmp/hf-builder-XXXXXX", path[256];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/t.hollow", dir);
  cr_assert_eq(hf_builder_write_path(b, path, NULL, &err), HF_OK, "%s",
               err.msg);
  file = slurp_path(path, &n);
  cr_assert(n == len1 && memcmp(file, one, n) == 0);
  free(file);
  free(one);
  unlink(path);
  rmdir(dir);
  hf_builder_free(b);
  hf_schema_free(s);
}

/* Failure injection for the next tests: this program's realloc and
 * pthread_create stand in for the C library's (which they call), and can be
 * made to fail.  Sanitizers intercept both themselves: no injection there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_INJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_INJECT 1
#endif
#endif

#ifndef NO_INJECT
static size_t fail_realloc_above = SIZE_MAX; /* bytes */
static int fail_threads;
static unsigned threads_started;

extern void *__libc_realloc(void *p, size_t n);

void *realloc(void *p, size_t n) {
  if (n > fail_realloc_above) {
    errno = ENOMEM;
    return NULL;
  }
  return __libc_realloc(p, n);
}

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *),
                   void *arg) {
  int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
  *(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
  if (fail_threads || real == NULL)
    return EAGAIN;
  threads_started++;
  return real(t, a, f, arg);
}
#endif

/* Threads are started as asked, or, when none can be, the calling thread
 * renders alone: the same bytes either way. */
Test(builder, threads_fall_back_when_threads_cannot_start) {
#ifdef NO_INJECT
  cr_skip_test("sanitizers intercept pthread_create");
#else
  hf_schema *s = parse(SPLIT);
  size_t len1, len;
  unsigned char *one, *p;
  hf_builder *b;
  unsigned n0 = threads_started;
  one = split_snapshot(s, NULL, 1, &len1);
  cr_assert_eq(threads_started, n0);
  p = split_snapshot(s, NULL, 3, &len);
  cr_assert_eq(threads_started, n0 + 2, "started %u", threads_started - n0);
  cr_assert(len == len1 && memcmp(p, one, len) == 0);
  free(p);
  b = split_builder(s, NULL, 5);
  fail_threads = 1;
  p = snapshot(b, &len);
  fail_threads = 0;
  cr_assert_eq(threads_started, n0 + 2);
  cr_assert(len == len1 && memcmp(p, one, len) == 0);
  free(p);
  free(one);
  hf_builder_free(b);
  hf_schema_free(s);
#endif
}

/* A render job that runs out of memory (its scratch for one list of 2^20
 * elements, 8 MiB) fails the write with HF_E_NOMEM and publishes nothing,
 * on whichever thread it ran; the builder can write later. */
Test(builder, threads_out_of_memory_in_a_job_is_an_error) {
#ifdef NO_INJECT
  cr_skip_test("sanitizers intercept realloc");
#else
  static const uint32_t threads[] = {1, 2, 3};
  hf_schema *s = parse("Item { int v; }\nItems List<Item>;\n");
  size_t t;
  for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    hf_build_opts o;
    hf_builder *b;
    hf_error err;
    hf_ref item[3];
    char dir[] = "/tmp/hf-builder-XXXXXX", path[256];
    uint32_t i;
    int rc;
    memset(&o, 0, sizeof o);
    o.threads = threads[t];
    cr_assert_eq(hf_builder_new(s, &o, &b, &err), HF_OK);
    for (i = 0; i < 3; i++) {
      cr_assert_eq(hf_builder_begin(b, 0, &err), HF_OK);
      cr_assert_eq(hf_builder_set_int(b, 0, (int32_t)i, &err), HF_OK);
      cr_assert_eq(hf_builder_end(b, &item[i], &err), HF_OK);
    }
    cr_assert_eq(hf_builder_begin(b, 1, &err), HF_OK);
    for (i = 0; i < (1u << 20); i++)
      cr_assert_eq(hf_builder_add(b, item[i % 3], &err), HF_OK);
    cr_assert_eq(hf_builder_end(b, NULL, &err), HF_OK);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/x.hollow", dir);
    fail_realloc_above = (size_t)6 << 20;
    rc = hf_builder_write_path(b, path, NULL, &err);
    fail_realloc_above = SIZE_MAX;
    cr_assert_eq(rc, HF_E_NOMEM, "threads %u: %d", threads[t], rc);
    cr_assert(strstr(err.msg, "out of memory") != NULL, "%s", err.msg);
    cr_assert_eq(dir_entries(dir), 0, "threads %u: output left", threads[t]);
    cr_assert_eq(hf_builder_write_path(b, path, NULL, &err), HF_OK, "%s",
                 err.msg);
    cr_assert_eq(dir_entries(dir), 1);
    unlink(path);
    rmdir(dir);
    hf_builder_free(b);
  }
  hf_schema_free(s);
#endif
}

/* hf_populate (growing dedup tables, ingest prefaulting) is a hint: it
 * faults pages in and changes no byte, aligned or not. */
Test(builder, populate_changes_no_byte) {
  const size_t n = (size_t)1 << 20;
  unsigned char *p = calloc(1, n);
  size_t i;
  cr_assert_not_null(p);
  for (i = 0; i < n; i += 4093)
    p[i] = (unsigned char)(i * 7 + 1);
  for (i = 0; i < 3; i++) {
    const size_t off = i * 1234, len = n - off - i * 999;
    const int rc = hf_populate(p + off, len);
    cr_assert(rc == 0 || errno == EINVAL, "rc %d errno %d", rc, errno);
  }
  cr_assert_eq(hf_populate(p + 5, 100), 0); /* no whole page: nothing */
  for (i = 0; i < n; i++)
    cr_assert_eq(p[i], i % 4093 ? 0 : (unsigned char)(i * 7 + 1), "byte %zu",
                 i);
  free(p);
}
