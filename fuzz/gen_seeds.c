/*
 * gen_seeds.c - writes the generated seeds of fuzz/corpus/ (`make
 * fuzz-seeds`): real deltas and reverse deltas from the fixed base of
 * fuzz_delta to each variant of fuzz_common.h, plain and LZ4, and the same
 * pairs of snapshots as diff inputs.  Deterministic: the same library
 * writes the same files.
 */
#include "fuzz_common.h"

static void put(const char *dir, const char *name, const void *a, size_t alen,
                const void *b, size_t blen) {
  char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  FZ_CHECK(f != NULL);
  FZ_CHECK(fwrite(a, 1, alen, f) == alen);
  if (blen > 0)
    FZ_CHECK(fwrite(b, 1, blen, f) == blen);
  FZ_CHECK(fclose(f) == 0);
}

/* A diff input: u32le length of A, flags byte, A, B. */
static void put_pair(const char *dir, const char *name, const unsigned char *a,
                     size_t alen, const unsigned char *b, size_t blen,
                     unsigned flags) {
  unsigned char *p = malloc(5 + alen + blen);
  FZ_CHECK(p != NULL);
  hf_put32(p, (uint32_t)alen);
  p[4] = (unsigned char)flags;
  memcpy(p + 5, a, alen);
  memcpy(p + 5 + alen, b, blen);
  put(dir, name, p, 5 + alen + blen, NULL, 0);
  free(p);
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : "fuzz/corpus";
  char ddir[256], xdir[256], name[64];
  hf_schema *s = fz_schema();
  unsigned char *base, *v;
  size_t blen, vlen, i;
  hf_reader *rb, *rv;
  hf_error err;

  snprintf(ddir, sizeof ddir, "%s/delta", root);
  snprintf(xdir, sizeof xdir, "%s/diff", root);
  fz_build_lines(s, NULL, fz_base_lines,
                 sizeof fz_base_lines / sizeof *fz_base_lines, &base, &blen);
  rb = fz_open_valid(base, blen);
  put(ddir, "base.hollow", base, blen, NULL, 0);
  put_pair(xdir, "self", base, blen, base, blen, 0);
  for (i = 0; i < sizeof fz_variants / sizeof *fz_variants; i++) {
    unsigned flags;
    fz_build_lines(s, rb, &fz_variants[i], 1, &v, &vlen);
    rv = fz_open_valid(v, vlen);
    for (flags = 0; flags < 4; flags++) {
      void *d = NULL;
      size_t dlen = 0;
      const int rev = (flags & HF_DELTA_REVERSE) != 0;
      int rc = rev ? hf_delta_mem(rv, rb, flags, &d, &dlen, &err)
                   : hf_delta_mem(rb, rv, flags, &d, &dlen, &err);
      if (rc != HF_OK)
        fprintf(stderr, "gen_seeds: delta: %s\n", err.msg);
      FZ_CHECK(rc == HF_OK);
      snprintf(name, sizeof name, "v%zu-%s%s.delta", i,
               rev ? "reverse" : "forward", flags & HF_DELTA_LZ4 ? "-lz4" : "");
      put(ddir, name, d, dlen, NULL, 0);
      free(d);
    }
    snprintf(name, sizeof name, "base-v%zu", i);
    put_pair(xdir, name, base, blen, v, vlen, (unsigned)i & 1);
    hf_reader_close(rv);
    free(v);
  }
  hf_reader_close(rb);
  free(base);
  hf_schema_free(s);
  return 0;
}
