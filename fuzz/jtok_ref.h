/*
 * jtok_ref.h - holds hf_jtok (libhformat/hf_jtok.h) to its definition:
 * jsmn 1.1.0 in strict mode over the text with one blank appended.  Shared
 * by fuzz_jtok.c and tests/unit/test_jtok.c; everything here is static.
 */
#ifndef JTOK_REF_H
#define JTOK_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "hf_jtok.h"

/* Flags a string token of js[s..e) must carry. */
static unsigned jtok_ref_flags(const char *js, int s, int e) {
  unsigned f = 0;
  int i;
  for (i = s; i < e; i++) {
    const unsigned char c = (unsigned char)js[i];
    if (c == '\\')
      f |= HF_JT_ESC;
    else if (c >= 0x80)
      f |= HF_JT_HIGH;
    else if (c < 0x20)
      f |= HF_JT_CTRL;
  }
  return f;
}

/* NULL when hf_jtok_parse() and jsmn agree on js[0..len), else what
 * differs, in why[].  `small` starts hf_jtok in tiny buffers, so that
 * growing them is exercised too. */
static const char *jtok_ref_compare(const char *js, size_t len, int small,
                                    char *why, size_t why_len) {
  char *copy = malloc(len + 1);
  jsmntok_t *jt = malloc((len + 2) * sizeof *jt);
  hf_jtok local_tok[512];
  int32_t local_open[64];
  hf_jtoks tk;
  jsmn_parser p;
  int jn, n, i;
  const char *res = NULL;
  if (copy == NULL || jt == NULL) {
    snprintf(why, why_len, "out of memory");
    res = why;
    goto out;
  }
  if (len > 0)
    memcpy(copy, js, len);
  copy[len] = ' ';
  jsmn_init(&p);
  jn = jsmn_parse(&p, copy, len + 1, jt, (unsigned)(len + 2));
  hf_jtok_init(&tk, local_tok, small ? 1 : 512, local_open, small ? 1 : 64);
  n = hf_jtok_parse(&tk, js, len);
  if (n != jn) {
    snprintf(why, why_len, "result %d, jsmn %d", n, jn);
    res = why;
  } else if (n == HF_JT_INVAL && tk.pos != p.pos) {
    snprintf(why, why_len, "error at %zu, jsmn at %u", tk.pos, p.pos);
    res = why;
  } else if (n >= 0 && !tk.nul && len > 0 && memchr(js, '\0', len) != NULL) {
    snprintf(why, why_len, "tokens without the nul flag, but a NUL");
    res = why;
  }
  for (i = 0; res == NULL && i < n; i++) {
    const hf_jtok *a = &tk.tok[i];
    const jsmntok_t *b = &jt[i];
    if ((int)a->type != (int)b->type || a->start != b->start ||
        a->end != b->end || a->size != b->size) {
      snprintf(why, why_len,
               "token %d: type %d [%d,%d) size %d, jsmn type %d [%d,%d) "
               "size %d",
               i, a->type, a->start, a->end, a->size, (int)b->type, b->start,
               b->end, b->size);
      res = why;
    } else if (a->flags != (a->type == HF_JT_STRING
                                ? jtok_ref_flags(js, a->start, a->end)
                                : 0u)) {
      snprintf(why, why_len, "token %d: flags 0x%x", i, a->flags);
      res = why;
    }
  }
  hf_jtok_free(&tk);
out:
  free(copy);
  free(jt);
  return res;
}

#endif /* JTOK_REF_H */
