/*
 * fuzz_open.c - blob open, full verify and traversal of every record and
 * field (FORMAT.md §9, §12).  Any bytes: the open and verify must end in an
 * error or succeed; accessors must stay in bounds either way; on a blob that
 * verifies, every accessor answers, every reference and element points at a
 * populated ordinal, and every keyed record is found by its own key.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_reader *r = NULL;
  hf_error err;
  hf_info info;
  hf_section_info si;
  uint32_t i;
  int rc, vrc;

  rc = hf_reader_open_mem(data, size, NULL, &r, &err);
  if (rc != HF_OK) {
    fz_check_error(&err, rc);
    FZ_CHECK(r == NULL);
    return 0;
  }
  hf_reader_info(r, &info);
  FZ_CHECK(info.file_size == size);
  for (i = 0; i < info.section_count; i++) {
    FZ_CHECK(hf_reader_section(r, i, &si) == HF_OK);
    FZ_CHECK(si.offset <= size && si.length <= size - si.offset);
    fz_touch(hf_section_kind_name(si.kind), 1);
  }
  FZ_CHECK(hf_reader_section(r, info.section_count, &si) == HF_E_ARG);
  vrc = hf_reader_verify(r, &err);
  if (vrc != HF_OK)
    fz_check_error(&err, vrc);
  if (info.kind == HF_BLOB_SNAPSHOT)
    fz_walk(r, vrc == HF_OK);
  hf_reader_close(r);

  /* The open with HF_OPEN_VERIFY gives the same answer as the two steps. */
  {
    hf_open_opts o = {HF_OPEN_VERIFY, 0};
    rc = hf_reader_open_mem(data, size, &o, &r, &err);
    FZ_CHECK(rc == vrc);
    hf_reader_close(r);
  }
  return 0;
}
