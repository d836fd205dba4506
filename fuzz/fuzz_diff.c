/*
 * fuzz_diff.c - the diff of two snapshots (hf_diff.c).  Input: u32le length
 * of blob A, one flags byte, A, then blob B (the rest).  Both blobs are
 * opened; when both are snapshots every type is diffed both ways with every
 * event's key, path and values written out.  Properties: event counts match
 * the totals; A against itself has no difference; A->B adds what B->A
 * removes.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct tally {
  hf_diff_counts seen;
  int in_change; /* a CHANGE was seen and FIELD events may follow */
} tally;

static int on_event(void *ctx, const hf_diff_change *c) {
  tally *t = (tally *)ctx;
  hf_error err;
  int rc;

  FZ_CHECK(c->reader_a != NULL && c->reader_b != NULL);
  rc = hf_diff_write_key(c, HF_DIFF_KEY_TEXT, fz_write_touch, NULL, &err);
  FZ_CHECK(rc == HF_OK);
  rc = hf_diff_write_key(c, HF_DIFF_KEY_JSON, fz_write_touch, NULL, &err);
  FZ_CHECK(rc == HF_OK);
  switch (c->op) {
  case HF_DIFF_ADD:
    FZ_CHECK(c->ordinal_a == HF_NO_ORDINAL);
    t->seen.added++;
    t->in_change = 0;
    break;
  case HF_DIFF_REMOVE:
    FZ_CHECK(c->ordinal_b == HF_NO_ORDINAL);
    t->seen.removed++;
    t->in_change = 0;
    break;
  case HF_DIFF_CHANGE:
    t->seen.changed++;
    t->in_change = 1;
    break;
  case HF_DIFF_FIELD:
    FZ_CHECK(t->in_change);
    FZ_CHECK(c->path != NULL && strlen(c->path) == c->path_len);
    FZ_CHECK(c->path_len <= HF_DIFF_PATH_MAX);
    FZ_CHECK(hf_diff_write_path(c, fz_write_touch, NULL, &err) == HF_OK);
    /* Values of a corrupt blob may fail to print, never crash. */
    rc = hf_diff_write_value(&c->old_value, fz_write_touch, NULL, &err);
    if (rc != HF_OK)
      fz_check_error(&err, rc);
    rc = hf_diff_write_value(&c->new_value, fz_write_touch, NULL, &err);
    if (rc != HF_OK)
      fz_check_error(&err, rc);
    break;
  default:
    FZ_CHECK(0);
  }
  return 0;
}

/* Diffs every type of a against b; returns HF_OK or the first error. */
static int diff_all(const hf_reader *a, const hf_reader *b, uint32_t flags,
                    hf_diff_counts *total) {
  const uint32_t nt = hf_schema_type_count(hf_reader_schema(a));
  uint32_t t;
  memset(total, 0, sizeof *total);
  for (t = 0; t < nt; t++) {
    tally tl;
    hf_diff_counts c;
    hf_error err;
    int rc;
    memset(&tl, 0, sizeof tl);
    rc = hf_diff(a, b, t, flags, on_event, &tl, &c, &err);
    if (rc != HF_OK) {
      fz_check_error(&err, rc);
      return rc;
    }
    FZ_CHECK(c.added == tl.seen.added && c.removed == tl.seen.removed &&
             c.changed == tl.seen.changed);
    total->added += c.added;
    total->removed += c.removed;
    total->changed += c.changed;
  }
  return HF_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_reader *a = NULL, *b = NULL;
  hf_error err;
  hf_info ia, ib;
  hf_diff_counts ab, ba, aa;
  size_t alen;
  uint32_t flags;
  int va, vb, rab, rba;

  if (size < 5)
    return 0;
  alen = hf_le32(data);
  flags = data[4] & 1 ? HF_DIFF_RECORDS_ONLY : 0;
  data += 5;
  size -= 5;
  if (alen > size)
    alen = size;
  if (hf_reader_open_mem(data, alen, NULL, &a, &err) != HF_OK)
    return 0;
  if (hf_reader_open_mem(data + alen, size - alen, NULL, &b, &err) != HF_OK) {
    hf_reader_close(a);
    return 0;
  }
  hf_reader_info(a, &ia);
  hf_reader_info(b, &ib);
  va = hf_reader_verify(a, &err) == HF_OK;
  vb = hf_reader_verify(b, &err) == HF_OK;
  if (ia.kind == HF_BLOB_SNAPSHOT && ib.kind == HF_BLOB_SNAPSHOT) {
    rab = diff_all(a, b, flags, &ab);
    rba = diff_all(b, a, flags, &ba);
    if (va && vb && rab == HF_OK && rba == HF_OK) {
      FZ_CHECK(ab.added == ba.removed && ab.removed == ba.added);
      FZ_CHECK(ab.changed == ba.changed);
    }
    if (va && diff_all(a, a, flags, &aa) == HF_OK)
      FZ_CHECK(aa.added == 0 && aa.removed == 0 && aa.changed == 0);
    /* One record both ways, the first populated ordinal of each type. */
    {
      const uint32_t nt = hf_schema_type_count(hf_reader_schema(a));
      uint32_t t;
      for (t = 0; t < nt && rab == HF_OK; t++) {
        const uint32_t oa = hf_reader_next(a, t, 0),
                       ob = hf_reader_next(b, t, 0);
        tally tl;
        int rc;
        memset(&tl, 0, sizeof tl);
        rc = hf_diff_record(a, b, t, oa, ob, flags, on_event, &tl, NULL, &err);
        if (rc != HF_OK)
          fz_check_error(&err, rc);
      }
    }
  } else {
    hf_diff_counts c;
    FZ_CHECK(hf_diff(a, b, 0, flags, on_event, NULL, &c, &err) == HF_E_ARG);
  }
  hf_reader_close(a);
  hf_reader_close(b);
  return 0;
}
