/* hf_hash.c - XXH3-64 wrappers, primary-key hashing, UTF-8 validation. */
#define XXH_STATIC_LINKING_ONLY
#define XXH_INLINE_ALL /* header-only XXH3: no libxxhash.so to load at exec */
#include <xxhash.h>

#include "hf_internal.h"

uint64_t hf_xxh3(const void *p, size_t len) {
  return XXH3_64bits(p, len);
}

/* Encoded size of one key value (FORMAT.md §6.7.1). */
static size_t enc_len(const hf_value *v) {
  switch (v->type) {
  case HF_FT_INT:
  case HF_FT_FLOAT:
    return 4;
  case HF_FT_LONG:
  case HF_FT_DOUBLE:
    return 8;
  case HF_FT_BOOLEAN:
    return 1;
  default:
    return 4 + v->u.s.len;
  }
}

/* Writes the fixed-size part of one key value (everything but string
 * bytes) into p and returns its length. */
static size_t enc_fixed(const hf_value *v, unsigned char *p) {
  uint32_t u32;
  uint64_t u64;
  switch (v->type) {
  case HF_FT_INT:
    hf_put32(p, (uint32_t)v->u.i);
    return 4;
  case HF_FT_FLOAT:
    memcpy(&u32, &v->u.f, 4);
    hf_put32(p, u32);
    return 4;
  case HF_FT_LONG:
    hf_put64(p, (uint64_t)v->u.l);
    return 8;
  case HF_FT_DOUBLE:
    memcpy(&u64, &v->u.d, 8);
    hf_put64(p, u64);
    return 8;
  case HF_FT_BOOLEAN:
    p[0] = (unsigned char)(v->u.b != 0);
    return 1;
  default:
    hf_put32(p, (uint32_t)v->u.s.len);
    return 4;
  }
}

#define KEY_STACK_BUF 256

uint64_t hf_key_hash(const hf_value *vals, size_t n) {
  unsigned char buf[KEY_STACK_BUF];
  size_t total = 0, i, pos = 0;
  XXH3_state_t st;

  if (n == 1 && vals[0].type != HF_FT_STRING && vals[0].type != HF_FT_BYTES)
    /* one fixed-size key, the common case of a lookup: the same bytes */
    return XXH3_64bits(buf, enc_fixed(&vals[0], buf));
  for (i = 0; i < n; i++)
    total += enc_len(&vals[i]);
  if (total <= sizeof buf) {
    for (i = 0; i < n; i++) {
      pos += enc_fixed(&vals[i], buf + pos);
      if (vals[i].type == HF_FT_STRING || vals[i].type == HF_FT_BYTES) {
        if (vals[i].u.s.len > 0)
          memcpy(buf + pos, vals[i].u.s.ptr, vals[i].u.s.len);
        pos += vals[i].u.s.len;
      }
    }
    return XXH3_64bits(buf, pos);
  }
  /* Long keys: same bytes, streamed, still without allocating. */
  XXH3_64bits_reset(&st);
  for (i = 0; i < n; i++) {
    size_t k = enc_fixed(&vals[i], buf);
    XXH3_64bits_update(&st, buf, k);
    if ((vals[i].type == HF_FT_STRING || vals[i].type == HF_FT_BYTES) &&
        vals[i].u.s.len > 0)
      XXH3_64bits_update(&st, vals[i].u.s.ptr, vals[i].u.s.len);
  }
  return XXH3_64bits_digest(&st);
}

int hf_value_equal(const hf_value *a, const hf_value *b) {
  if (a->type != b->type)
    return 0;
  switch (a->type) {
  case HF_FT_INT:
    return a->u.i == b->u.i;
  case HF_FT_LONG:
    return a->u.l == b->u.l;
  case HF_FT_FLOAT:
    return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
  case HF_FT_DOUBLE:
    return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
  case HF_FT_BOOLEAN:
    return (a->u.b != 0) == (b->u.b != 0);
  default:
    return a->u.s.len == b->u.s.len &&
           (a->u.s.len == 0 || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
  }
}

uint64_t hf_pk_buckets(uint64_t count) {
  uint64_t nb = 1;
  while (nb * 3 < count * 4)
    nb <<= 1;
  return nb;
}

int hf_utf8_valid(const unsigned char *p, size_t len, size_t *bad) {
  size_t i = 0;
  while (i < len) {
    unsigned c = p[i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
      /* ASCII runs, mostly: skip them a word at a time */
      uint64_t w;
      i++;
      while (i + 8 <= len &&
             (memcpy(&w, p + i, 8), !(w & UINT64_C(0x8080808080808080))))
        i += 8;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      goto fail;
    }
    if (len - i <= n)
      goto fail;
    for (size_t k = 1; k <= n; k++) {
      unsigned cc = p[i + k];
      if ((cc & 0xC0) != 0x80)
        goto fail;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      goto fail;
    i += n + 1;
  }
  return 1;
fail:
  if (bad != NULL)
    *bad = i;
  return 0;
}
