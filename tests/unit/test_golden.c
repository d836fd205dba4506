/*
 * test_golden.c - the golden reject files of tests/golden/ (FORMAT.md §9,
 * Appendix B).
 *
 * tests/golden/invalid/expected.txt lists "<file> <HF_E_NAME> <open|verify>";
 * each file must fail with exactly that code at that stage (and pass the open
 * when the stage is verify).  tests/golden/valid/expected.txt lists files a
 * reader must accept.  Finally every row of FORMAT.md §9 checked at open or
 * verify must have a file with its ID, code and stage, and every file must
 * name a row: the spec and the reader cannot drift apart silently.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hformat.h"

#define GOLDEN_DIR "tests/golden/"
#define SPEC "spec/FORMAT.md"
#define MAX_ROWS 256

typedef struct row {
  char id[32];    /* R-XXX-nn */
  char file[128]; /* golden files only */
  char code[32];  /* HF_E_* or HF_OK */
  char stage[16]; /* open / verify */
  char cites[32]; /* text the error message must contain */
} row;

static int code_of(const char *name) {
#define HF_NAME_(n, v, t)                                                      \
  if (strcmp(name, #n) == 0)                                                   \
    return v;
  HF_ERRORS(HF_NAME_)
#undef HF_NAME_
  cr_assert_fail("unknown code name %s", name);
  return 0;
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *p;
  long n;
  cr_assert_not_null(f, "cannot open %s (run from the repository root)", path);
  cr_assert_eq(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  rewind(f);
  p = malloc((size_t)n + 1);
  cr_assert_not_null(p);
  cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return p;
}

/* Reads an expected.txt; '#' starts a comment line. */
static size_t read_expected(const char *dir, row *rows) {
  char path[256], line[512];
  size_t n = 0;
  FILE *f;
  snprintf(path, sizeof path, GOLDEN_DIR "%s/expected.txt", dir);
  f = fopen(path, "r");
  cr_assert_not_null(f, "cannot open %s", path);
  while (fgets(line, sizeof line, f) != NULL) {
    row *r = &rows[n];
    char *dash;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    cr_assert_lt(n, MAX_ROWS);
    r->cites[0] = '\0';
    cr_assert_geq(sscanf(line, "%127s %31s %15s cites=%31s", r->file, r->code,
                         r->stage, r->cites),
                  3, "bad line in %s: %s", path, line);
    /* The ID is the file name up to the dash before the description. */
    dash = strchr(r->file, '-');
    cr_assert_not_null(dash);
    dash = strchr(dash + 1, '-');
    cr_assert_not_null(dash);
    dash = strchr(dash + 1, '-');
    cr_assert_not_null(dash, "file %s is not named <R-ID>-<what>", r->file);
    cr_assert_lt((size_t)(dash - r->file), sizeof r->id);
    memcpy(r->id, r->file, (size_t)(dash - r->file));
    r->id[dash - r->file] = '\0';
    if (r->cites[0] == '\0')
      memcpy(r->cites, r->id, sizeof r->cites);
    n++;
  }
  fclose(f);
  cr_assert_gt(n, 0, "%s lists no file", path);
  return n;
}

/* The message names the rule, so a file that trips a different rule with
 * the same code is caught (FORMAT.md §0.3). */
static void check_cites(const row *r, int rc, const hf_error *err) {
  if (rc != HF_OK)
    cr_expect(strstr(err->msg, r->cites) != NULL,
              "%s: message does not cite %s: %s", r->file, r->cites, err->msg);
}

/* Opens (and verifies, for stage "verify") one file; checks the outcome. */
static void check_file(const char *dir, const row *r) {
  char path[256];
  size_t len;
  unsigned char *p;
  hf_reader *rd = NULL;
  hf_error err;
  int want = code_of(r->code), rc;

  snprintf(path, sizeof path, GOLDEN_DIR "%s/%s", dir, r->file);
  p = slurp(path, &len);
  rc = hf_reader_open_mem(p, len, NULL, &rd, &err);
  if (strcmp(r->stage, "open") == 0) {
    cr_expect_eq(rc, want, "%s: open returned %s (%s), expected %s", r->file,
                 hf_strerror(rc), rc == HF_OK ? "" : err.msg, r->code);
    check_cites(r, rc, &err);
    if (rc == HF_OK)
      hf_reader_close(rd);
    /* The path-based open takes the same decisions. */
    rc = hf_reader_open(path, NULL, &rd, &err);
    cr_expect_eq(rc, want, "%s: hf_reader_open returned %d", r->file, rc);
    if (rc == HF_OK)
      hf_reader_close(rd);
  } else {
    cr_assert_eq(strcmp(r->stage, "verify"), 0, "bad stage %s", r->stage);
    cr_expect_eq(rc, HF_OK, "%s: open failed (%s), expected to pass", r->file,
                 rc == HF_OK ? "" : err.msg);
    if (rc == HF_OK) {
      rc = hf_reader_verify(rd, &err);
      cr_expect_eq(rc, want, "%s: verify returned %s (%s), expected %s",
                   r->file, hf_strerror(rc), rc == HF_OK ? "" : err.msg,
                   r->code);
      if (rc != HF_OK)
        cr_expect_eq(err.code, rc, "%s: err->code", r->file);
      check_cites(r, rc, &err);
      hf_reader_close(rd);
    }
  }
  free(p);
}

Test(golden, invalid_files_fail_with_their_code) {
  static row rows[MAX_ROWS];
  size_t n = read_expected("invalid", rows), i;
  for (i = 0; i < n; i++) {
    cr_expect_neq(code_of(rows[i].code), HF_OK, "%s", rows[i].file);
    check_file("invalid", &rows[i]);
  }
}

Test(golden, valid_files_are_accepted) {
  static row rows[MAX_ROWS];
  size_t n = read_expected("valid", rows), i;
  for (i = 0; i < n; i++) {
    cr_expect_eq(code_of(rows[i].code), HF_OK, "%s", rows[i].file);
    check_file("valid", &rows[i]);
  }
}

/* ---- FORMAT.md §9 against the golden files ------------------------------- */

static void trim(char *s) {
  size_t n = strlen(s), i = 0;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '`'))
    s[--n] = '\0';
  while (s[i] == ' ' || s[i] == '`')
    i++;
  memmove(s, s + i, n - i + 1);
}

static void copy(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  cr_assert_lt(n, cap, "cell too long: %s", src);
  memcpy(dst, src, n + 1);
}

/* Rows "| R-ID | condition | result | checked at |" of §9 whose stage is
 * exactly "open" or "verify". */
static size_t spec_rows(row *rows) {
  size_t len, n = 0;
  char *text = (char *)slurp(SPEC, &len), *line, *save = NULL;
  int in9 = 0;
  text[len] = '\0';
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char cell[4][256];
    if (strncmp(line, "## ", 3) == 0)
      in9 = strncmp(line, "## 9 ", 5) == 0;
    if (!in9 || strncmp(line, "| R-", 4) != 0)
      continue;
    if (sscanf(line, "|%255[^|]|%255[^|]|%255[^|]|%255[^|]|", cell[0], cell[1],
               cell[2], cell[3]) != 4)
      continue;
    trim(cell[0]);
    trim(cell[2]);
    trim(cell[3]);
    if (strcmp(cell[3], "open") != 0 && strcmp(cell[3], "verify") != 0)
      continue;
    cr_assert_lt(n, MAX_ROWS);
    copy(rows[n].id, sizeof rows[n].id, cell[0]);
    copy(rows[n].code, sizeof rows[n].code,
         strncmp(cell[2], "accept", 6) == 0 ? "HF_OK" : cell[2]);
    copy(rows[n].stage, sizeof rows[n].stage, cell[3]);
    n++;
  }
  free(text);
  return n;
}

static int same_rule(const row *a, const row *b) {
  return strcmp(a->id, b->id) == 0 && strcmp(a->code, b->code) == 0 &&
         strcmp(a->stage, b->stage) == 0;
}

Test(golden, every_reader_rule_has_a_golden_file) {
  static row spec[MAX_ROWS], inv[MAX_ROWS], val[MAX_ROWS];
  size_t ns = spec_rows(spec), ni = read_expected("invalid", inv),
         nv = read_expected("valid", val), i, j;

  cr_assert_gt(ns, 40, "FORMAT.md §9 table not found or too short");
  for (i = 0; i < ns; i++) {
    int found = 0;
    for (j = 0; j < ni && !found; j++)
      found = same_rule(&spec[i], &inv[j]);
    for (j = 0; j < nv && !found; j++)
      found = same_rule(&spec[i], &val[j]);
    cr_expect(found, "FORMAT.md §9: %s (%s at %s) has no golden file",
              spec[i].id, spec[i].code, spec[i].stage);
  }
  for (j = 0; j < ni + nv; j++) {
    const row *g = j < ni ? &inv[j] : &val[j - ni];
    int found = 0;
    for (i = 0; i < ns && !found; i++)
      found = same_rule(&spec[i], g);
    cr_expect(found, "%s: no FORMAT.md §9 row says %s gives %s at %s", g->file,
              g->id, g->code, g->stage);
  }
}
