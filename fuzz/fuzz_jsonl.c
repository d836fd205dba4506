/*
 * fuzz_jsonl.c - hf_builder_add_jsonl(), differentially: the same JSON Lines
 * streamed through one thread and through several (both record builder
 * calls on tapes that the calling thread replays) must give the return
 * code, error, record count and snapshot bytes of a reference that splits
 * the lines itself and adds each with hf_builder_add_json(), and what was
 * kept must open and verify.  Input: one prefix byte, then the stream.
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

/* The reference: lines split, CRLF and blank lines handled, the limit
 * applied, each line added with hf_builder_add_json(), as FORMAT.md says
 * JSON Lines are read. */
static run by_lines(const uint8_t *p, size_t len, const hf_jsonl_opts *o,
                    uint32_t flags) {
  hf_build_opts bo = {NULL, 0, flags};
  hf_builder *b = NULL;
  hf_error err;
  const char *at = (const char *)p, *end = at + len;
  const uint64_t max_line = o->max_line ? o->max_line : HF_MAX_JSON_LINE;
  uint64_t line = 0;
  run r;
  memset(&r, 0, sizeof r);
  FZ_CHECK(hf_builder_new(schema, &bo, &b, &err) == HF_OK);
  while (at < end && r.rc == HF_OK) {
    const char *nl = memchr(at, '\n', (size_t)(end - at));
    size_t n = (size_t)((nl ? nl : end) - at), i;
    line++;
    if (n > 0 && at[n - 1] == '\r')
      n--;
    for (i = 0; i < n && (at[i] == ' ' || at[i] == '\t'); i++)
      ;
    if (n > max_line) {
      r.rc = HF_E_LIMIT;
      r.err.line = line;
    } else if (i < n) {
      r.rc = hf_builder_add_json(b, o->type, at, n, line, &r.err);
      if (r.rc == HF_OK)
        r.records++;
    }
    at = nl ? nl + 1 : end;
  }
  FZ_CHECK(fz_build_mem(b, &r.snap, &r.len, &err) == HF_OK);
  hf_builder_free(b);
  return r;
}

/* a against the reference: the limit's message is the stream's own. */
static void same_as_ref(const run *a, const run *ref) {
  FZ_CHECK(a->rc == ref->rc);
  FZ_CHECK(a->records == ref->records);
  if (a->rc != HF_OK) {
    FZ_CHECK(a->err.line == ref->err.line);
    if (a->rc != HF_E_LIMIT) {
      FZ_CHECK(a->err.column == ref->err.column);
      FZ_CHECK(strcmp(a->err.msg, ref->err.msg) == 0);
    }
  }
  FZ_CHECK(a->len == ref->len && memcmp(a->snap, ref->snap, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hf_error err;
  hf_jsonl_opts o;
  uint32_t flags;
  run one, many, ref;
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

  ref = by_lines(data + 1, size - 1, &o, flags);
  same_as_ref(&one, &ref);
  same_as_ref(&many, &ref);
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
  free(ref.snap);
  return 0;
}
