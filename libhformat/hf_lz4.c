/*
 * hf_lz4.c - hf_lz4.h over liblz4 (lz4.h, lz4hc.h).  With BUNDLE_LZ4 the
 * Makefile links this object with liblz4.a's lz4.o and lz4hc.o and keeps
 * only the hf_lz4_* symbols global.
 */
#include <lz4.h>
#include <lz4hc.h>

#include "hf_lz4.h"

/* HF_LZ4_MAX_INPUT is spelled out so that callers need no lz4.h. */
typedef char
    hf_lz4_limit_check[HF_LZ4_MAX_INPUT == LZ4_MAX_INPUT_SIZE ? 1 : -1];

int hf_lz4_bound(int len) {
  return LZ4_compressBound(len);
}

int hf_lz4_compress_max(const char *src, char *dst, int len, int cap) {
  return LZ4_compress_HC(src, dst, len, cap, LZ4HC_CLEVEL_MAX);
}

int hf_lz4_decompress(const char *src, char *dst, int len, int cap) {
  return LZ4_decompress_safe(src, dst, len, cap);
}
