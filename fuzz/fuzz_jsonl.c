/*
 * fuzz_jsonl.c - hf_builder_add_jsonl(), differentially: the same JSON Lines
 * streamed through one thread and through several (where worker threads
 * record builder calls on tapes that the calling thread replays) must give
 * the same return code, error, record count and snapshot bytes, and what
 * was kept must open and verify.  Input: one prefix byte, then the stream.
 * The prefix picks the top type (low 4 bits), 2 to 5 threads (bits 4-5), a
 * line limit of 64 bytes (bit 6) and HF_BUILD_IGNORE_UNKNOWN (bit 7).
 */
#include <sys/mman.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hf_schema *schema;

typedef struct run {
  int rc;
  hf_error err;
  uint64_t records;
  unsigned char *snap;
  size_t len;
} run;

/* The stream p[0..len) as a descriptor positioned at its start. */
static int stream_of(const uint8_t *p, size_t len) {
  int fd = memfd_create("fuzz_jsonl", 0);
  size_t done = 0;
  FZ_CHECK(fd >= 0);
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    FZ_CHECK(w > 0);
    done += (size_t)w;
  }
  FZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
  return fd;
}

static run ingest(const uint8_t *p, size_t len, const hf_jsonl_opts *o,
                  uint32_t flags) {
  hf_build_opts bo = {NULL, 0, flags};
  hf_builder *b = NULL;
  hf_error err;
  run r;
  int fd = stream_of(p, len);
  memset(&r, 0, sizeof r);
  FZ_CHECK(hf_builder_new(schema, &bo, &b, &err) == HF_OK);
  r.rc = hf_builder_add_jsonl(b, fd, o, &r.records, &r.err);
  close(fd);
  if (r.rc != HF_OK) {
    fz_check_error(&r.err, r.rc);
    FZ_CHECK(r.err.line > r.records);
  }
  FZ_CHECK(fz_build_mem(b, &r.snap, &r.len, &err) == HF_OK);
  hf_builder_free(b);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_error err;
  hf_jsonl_opts o;
  uint32_t flags;
  run one, many;
  hf_reader *r;

  if (schema == NULL)
    FZ_CHECK(hf_schema_parse(fz_schema_text, sizeof fz_schema_text - 1, &schema,
                             &err) == HF_OK);
  if (size < 1)
    return 0;
  memset(&o, 0, sizeof o);
  o.type = (uint32_t)(data[0] & 0x0f) % hf_schema_type_count(schema);
  o.max_line = data[0] & 0x40 ? 64 : 0;
  flags = data[0] & 0x80 ? HF_BUILD_IGNORE_UNKNOWN : 0;
  o.threads = 1;
  one = ingest(data + 1, size - 1, &o, flags);
  o.threads = 2u + ((data[0] >> 4) & 3u);
  many = ingest(data + 1, size - 1, &o, flags);

  FZ_CHECK(one.rc == many.rc);
  FZ_CHECK(one.records == many.records);
  if (one.rc != HF_OK) {
    FZ_CHECK(one.err.line == many.err.line);
    FZ_CHECK(one.err.column == many.err.column);
    FZ_CHECK(strcmp(one.err.msg, many.err.msg) == 0);
  }
  FZ_CHECK(one.len == many.len && memcmp(one.snap, many.snap, one.len) == 0);
  r = fz_open_valid(one.snap, one.len);
  fz_walk(r, 1);
  FZ_CHECK(hf_reader_record_count(r, o.type) <= one.records);
  hf_reader_close(r);
  free(one.snap);
  free(many.snap);
  return 0;
}
