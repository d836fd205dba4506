/* hf_base64.c - base64 (RFC 4648 §4 alphabet, '=' padding), used for bytes
 * fields in JSON and for bytes keys given as text.  Decoding is strict: the
 * length must be a multiple of 4, padding only at the end, and the bits that
 * padding drops must be zero (RFC 4648 §3.5), so every byte string has exactly
 * one accepted encoding and a JSON round trip is byte-exact. */
#include "hf_internal.h"

static const char enc_tab[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t hf_base64_encode(const unsigned char *p, size_t len, char *out) {
  size_t i = 0, o = 0;
  for (; len - i >= 3; i += 3) {
    const uint32_t v =
        (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2];
    out[o++] = enc_tab[v >> 18];
    out[o++] = enc_tab[(v >> 12) & 63];
    out[o++] = enc_tab[(v >> 6) & 63];
    out[o++] = enc_tab[v & 63];
  }
  if (len - i == 1) {
    const uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = enc_tab[v >> 18];
    out[o++] = enc_tab[(v >> 12) & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (len - i == 2) {
    const uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    out[o++] = enc_tab[v >> 18];
    out[o++] = enc_tab[(v >> 12) & 63];
    out[o++] = enc_tab[(v >> 6) & 63];
    out[o++] = '=';
  }
  return o;
}

/* 0..63 for alphabet characters, -1 otherwise (including '='). */
static int dec_char(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int hf_base64_decode(const char *s, size_t len, unsigned char *out,
                     size_t *outlen) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i, o = 0;
  if (len % 4 != 0)
    return HF_E_INPUT;
  for (i = 0; i < len; i += 4) {
    const int last = (i + 4 == len);
    int d[4], k, npad = 0;
    uint32_t v;
    for (k = 0; k < 4; k++) {
      d[k] = dec_char(u[i + (size_t)k]);
      if (d[k] < 0) {
        /* '=' only in the last quantum, only in its last two places, and
         * nothing but '=' after the first one. */
        if (!last || u[i + (size_t)k] != '=' || k < 2)
          return HF_E_INPUT;
        npad++;
        d[k] = 0;
      } else if (npad > 0) {
        return HF_E_INPUT;
      }
    }
    v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
        (uint32_t)d[3];
    out[o++] = (unsigned char)(v >> 16);
    if (npad == 2) {
      if ((v & 0xffffu) != 0)
        return HF_E_INPUT; /* non-canonical trailing bits */
    } else {
      out[o++] = (unsigned char)(v >> 8);
      if (npad == 1) {
        if ((v & 0xffu) != 0)
          return HF_E_INPUT;
      } else {
        out[o++] = (unsigned char)v;
      }
    }
  }
  *outlen = o;
  return HF_OK;
}
