/*
 * fuzz_delta.c - delta open, verify and apply (FORMAT.md §8) onto a small
 * fixed snapshot (fz_base_lines).  Any bytes: open, verify and apply end in
 * an error or succeed; a delta that applies must have verified, and its
 * result must be a snapshot that verifies, carries the delta's state, and
 * reads in full; the reverse delta computed from the result must take it
 * back to the base byte for byte.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hf_schema *schema;
static unsigned char *base_bytes;
static size_t base_len;
static hf_reader *base;

/* Bytes of slots the delta's target declares (its TYPES, section 1, which
 * the open has checked for position and length).  The harness skips the
 * apply above FZ_MAX_TARGET: the output of a small delta can legitimately
 * be large (dense ordinals), and the fuzzer's memory limit is not a bug. */
#define FZ_MAX_TARGET (UINT64_C(64) << 20)

static uint64_t target_bytes(const uint8_t *data) {
  const unsigned char *e = data + HF_HEADER_SIZE + HF_SECTION_ENTRY_SIZE;
  const uint64_t off = hf_le64(e + 8), len = hf_le64(e + 16);
  uint64_t i, total = 0;
  for (i = 0; i + HF_TYPES_ENTRY_SIZE <= len; i += HF_TYPES_ENTRY_SIZE)
    total +=
        (uint64_t)hf_le32(data + off + i) * (hf_le32(data + off + i + 8) + 1u);
  return total;
}

static void setup(void) {
  fz_build_lines(schema = fz_schema(), NULL, fz_base_lines,
                 sizeof fz_base_lines / sizeof *fz_base_lines, &base_bytes,
                 &base_len);
  base = fz_open_valid(base_bytes, base_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_reader *d = NULL, *res;
  hf_error err;
  hf_info di, ri;
  void *out = NULL, *back = NULL;
  size_t len = 0, blen = 0;
  int rc, vrc;

  if (base == NULL)
    setup();
  rc = hf_reader_open_mem(data, size, NULL, &d, &err);
  if (rc != HF_OK) {
    fz_check_error(&err, rc);
    return 0;
  }
  hf_reader_info(d, &di);
  vrc = hf_reader_verify(d, &err);
  if (vrc != HF_OK)
    fz_check_error(&err, vrc);
  if (di.kind != HF_BLOB_SNAPSHOT && di.section_count >= 2 &&
      target_bytes(data) > FZ_MAX_TARGET) {
    hf_reader_close(d);
    return 0;
  }
  {
    const hf_reader *const ds[1] = {d};
    rc = hf_apply_mem(base, ds, 1, &out, &len, &err);
  }
  if (rc != HF_OK) {
    fz_check_error(&err, rc);
    free(out);
    hf_reader_close(d);
    return 0;
  }
  FZ_CHECK(vrc == HF_OK);
  FZ_CHECK(di.kind == HF_BLOB_DELTA || di.kind == HF_BLOB_REVERSE_DELTA);
  res = fz_open_valid(out, len);
  hf_reader_info(res, &ri);
  FZ_CHECK(ri.state == di.state);
  FZ_CHECK(ri.dataset_version == di.dataset_version);
  fz_walk(res, 1);

  /* The reverse delta of base -> result rolls the result back. */
  rc = hf_delta_mem(res, base, HF_DELTA_REVERSE | (size & 1 ? HF_DELTA_LZ4 : 0),
                    &back, &blen, &err);
  if (rc != HF_OK)
    fprintf(stderr, "reverse delta: %s\n", err.msg);
  FZ_CHECK(rc == HF_OK);
  {
    hf_reader *rd = fz_open_valid(back, blen);
    const hf_reader *const ds[1] = {rd};
    void *again = NULL;
    size_t alen = 0;
    rc = hf_apply_mem(res, ds, 1, &again, &alen, &err);
    if (rc != HF_OK)
      fprintf(stderr, "apply reverse: %s\n", err.msg);
    FZ_CHECK(rc == HF_OK);
    FZ_CHECK(alen == base_len && memcmp(again, base_bytes, alen) == 0);
    free(again);
    hf_reader_close(rd);
  }
  free(back);
  hf_reader_close(res);
  free(out);
  hf_reader_close(d);
  return 0;
}
