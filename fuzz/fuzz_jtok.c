/*
 * fuzz_jtok.c - differential: hf_jtok_parse() against jsmn (jtok_ref.h) on
 * any bytes, with roomy and with tiny first buffers.  Tokens, sizes, the
 * error and its position must be the same.
 */
#include <stdint.h>

#include "jtok_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char why[200];
  int small;
  for (small = 0; small < 2; small++)
    if (jtok_ref_compare((const char *)data, size, small, why, sizeof why) !=
        NULL) {
      fprintf(stderr, "hf_jtok differs from jsmn: %s\n", why);
      abort();
    }
  return 0;
}
