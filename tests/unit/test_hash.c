/* test_hash.c - hf_hash.c: UTF-8 validation (RFC 3629), PKINDEX bucket
 * counts (FORMAT.md §6.7) and the key hash (§6.7.1). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hf_internal.h"

/* ---- UTF-8 ---- */

typedef struct utf8_case {
  const char *bytes;
  size_t len;
  int valid;
  size_t bad; /* offset of the first bad byte when invalid */
} utf8_case;

#define OK(s)                                                                  \
  { s, sizeof(s) - 1, 1, 0 }
#define BAD(s, at)                                                             \
  { s, sizeof(s) - 1, 0, at }

static const utf8_case utf8_cases[] = {
    OK(""),
    OK("plain ASCII"),
    OK("\x00"), /* NUL is a valid scalar value */
    OK("\x7f"),
    OK("\xC2\x80"),         /* U+0080, smallest 2-byte */
    OK("\xDF\xBF"),         /* U+07FF */
    OK("\xE0\xA0\x80"),     /* U+0800, smallest 3-byte */
    OK("\xED\x9F\xBF"),     /* U+D7FF, below the surrogates */
    OK("\xEE\x80\x80"),     /* U+E000, above them */
    OK("\xEF\xBF\xBF"),     /* U+FFFF */
    OK("\xF0\x90\x80\x80"), /* U+10000, smallest 4-byte */
    OK("\xF4\x8F\xBF\xBF"), /* U+10FFFF, the last scalar */
    OK("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"),
    /* stray continuation bytes and impossible leads */
    BAD("\x80", 0),
    BAD("a\xBF", 1),
    BAD("\xFF", 0),
    BAD("\xFE", 0),
    BAD("\xF5\x80\x80\x80", 0),
    BAD("\xF8\x88\x80\x80\x80", 0),
    /* overlong forms */
    BAD("\xC0\x80", 0),
    BAD("\xC1\xBF", 0),
    BAD("\xE0\x80\x80", 0),
    BAD("\xE0\x9F\xBF", 0),
    BAD("\xF0\x80\x80\x80", 0),
    BAD("\xF0\x8F\xBF\xBF", 0),
    BAD("ok\xC0\xAF", 2),
    /* UTF-16 surrogates */
    BAD("\xED\xA0\x80", 0),
    BAD("\xED\xBF\xBF", 0),
    BAD("x\xED\xB2\x80y", 1),
    /* beyond U+10FFFF */
    BAD("\xF4\x90\x80\x80", 0),
    BAD("\xF7\xBF\xBF\xBF", 0),
    /* truncated sequences */
    BAD("\xC3", 0),
    BAD("\xE2\x82", 0),
    BAD("\xF0\x9F\x98", 0),
    BAD("ab\xC3", 2),
    BAD("a\xE2\x82\xAC"
        "b\xE2\x82",
        5),
    /* a continuation byte missing in the middle */
    BAD("\xC3\x28", 0),
    BAD("\xE2\x28\xA1", 0),
    BAD("\xF0\x9F\x28\x80", 0),
};

Test(utf8, accept_reject_table) {
  size_t i;
  for (i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
    const utf8_case *c = &utf8_cases[i];
    size_t bad = 12345;
    int v = hf_utf8_valid((const unsigned char *)c->bytes, c->len, &bad);
    cr_expect_eq(v, c->valid, "case %zu: valid=%d", i, v);
    if (!c->valid)
      cr_expect_eq(bad, c->bad, "case %zu: bad at %zu, want %zu", i, bad,
                   c->bad);
    else
      cr_expect_eq(bad, 12345, "case %zu: *bad written on success", i);
  }
  cr_assert_eq(hf_utf8_valid((const unsigned char *)"\x80", 1, NULL), 0);
}

/* Reference encoder (RFC 3629 §3). */
static size_t encode(uint32_t cp, unsigned char *p) {
  if (cp < 0x80) {
    p[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    p[0] = (unsigned char)(0xC0 | (cp >> 6));
    p[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    p[0] = (unsigned char)(0xE0 | (cp >> 12));
    p[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    p[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  p[0] = (unsigned char)(0xF0 | (cp >> 18));
  p[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  p[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  p[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

Test(utf8, every_code_point) {
  uint32_t cp;
  for (cp = 0; cp <= 0x10FFFF; cp++) {
    unsigned char b[4];
    size_t n = encode(cp, b), k, bad = 99;
    const int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    cr_assert_eq(hf_utf8_valid(b, n, &bad), !surrogate, "U+%04X", cp);
    /* every proper prefix of a multi-byte sequence is truncated */
    for (k = 1; k < n; k++)
      cr_assert_eq(hf_utf8_valid(b, k, &bad), 0, "U+%04X cut at %zu", cp, k);
  }
}

Test(utf8, every_two_byte_string) {
  unsigned a, b;
  for (a = 0; a < 256; a++)
    for (b = 0; b < 256; b++) {
      const unsigned char s[2] = {(unsigned char)a, (unsigned char)b};
      const int expect = (a < 0x80 && b < 0x80) ||
                         (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
      cr_assert_eq(hf_utf8_valid(s, 2, NULL), expect, "%02X %02X", a, b);
    }
}

/* ---- PKINDEX bucket count ---- */

Test(pk_buckets, table) /* FORMAT.md §6.7 */ {
  static const uint64_t in[] = {0, 1, 2, 3, 4, 6, 7, 12, 13, 24, 25, 768, 769};
  static const uint64_t out[] = {1,  2,  4,  4,  8,    8,   16,
                                 16, 32, 32, 64, 1024, 2048};
  size_t i;
  for (i = 0; i < sizeof in / sizeof in[0]; i++)
    cr_expect_eq(hf_pk_buckets(in[i]), out[i], "count %lu -> %lu",
                 (unsigned long)in[i], (unsigned long)hf_pk_buckets(in[i]));
}

Test(pk_buckets, smallest_power_of_two_with_load_three_quarters) {
  uint64_t c;
  for (c = 0; c < 200000; c += 1 + c / 64) {
    const uint64_t nb = hf_pk_buckets(c);
    cr_assert_eq(nb & (nb - 1), 0, "not a power of two");
    cr_assert_leq(4 * c, 3 * nb);
    if (nb > 1)
      cr_assert_gt(4 * c, 3 * (nb / 2), "count %lu: %lu not smallest",
                   (unsigned long)c, (unsigned long)nb);
  }
  /* the largest ordinal count of the format */
  cr_assert_eq(hf_pk_buckets(HF_MAX_ORDINALS), UINT64_C(1) << 32);
}

/* ---- key hash (§6.7.1) ---- */

static hf_value v_int(int32_t i) {
  hf_value v;
  v.type = HF_FT_INT;
  v.u.i = i;
  return v;
}

static hf_value v_str(hf_ftype t, const void *p, size_t len) {
  hf_value v;
  v.type = t;
  v.u.s.ptr = p;
  v.u.s.len = len;
  return v;
}

/* The specified encoding, written out by hand, little-endian. */
static size_t put_le(unsigned char *p, uint64_t v, size_t n) {
  size_t k;
  for (k = 0; k < n; k++)
    p[k] = (unsigned char)(v >> (8 * k));
  return n;
}

static size_t encode_key(const hf_value *vals, size_t n, unsigned char *p) {
  size_t pos = 0, i;
  for (i = 0; i < n; i++) {
    const hf_value *v = &vals[i];
    uint32_t u32;
    uint64_t u64;
    switch (v->type) {
    case HF_FT_INT:
      pos += put_le(p + pos, (uint32_t)v->u.i, 4);
      break;
    case HF_FT_LONG:
      pos += put_le(p + pos, (uint64_t)v->u.l, 8);
      break;
    case HF_FT_FLOAT:
      memcpy(&u32, &v->u.f, 4);
      pos += put_le(p + pos, u32, 4);
      break;
    case HF_FT_DOUBLE:
      memcpy(&u64, &v->u.d, 8);
      pos += put_le(p + pos, u64, 8);
      break;
    case HF_FT_BOOLEAN:
      p[pos++] = v->u.b ? 1 : 0;
      break;
    default:
      pos += put_le(p + pos, v->u.s.len, 4);
      memcpy(p + pos, v->u.s.ptr, v->u.s.len);
      pos += v->u.s.len;
      break;
    }
  }
  return pos;
}

static uint64_t manual_hash(const hf_value *vals, size_t n) {
  size_t cap = 64, i;
  unsigned char *buf;
  uint64_t h;
  for (i = 0; i < n; i++)
    cap += 8 + (vals[i].type >= HF_FT_STRING ? vals[i].u.s.len : 0);
  buf = malloc(cap);
  cr_assert_not_null(buf);
  h = XXH3_64bits(buf, encode_key(vals, n, buf));
  free(buf);
  return h;
}

Test(key_hash, xxh3_wrapper) {
  cr_assert_eq(hf_xxh3("hollow", 6), XXH3_64bits("hollow", 6));
  cr_assert_eq(hf_xxh3(NULL, 0), XXH3_64bits(NULL, 0));
}

Test(key_hash, short_key_matches_the_encoding) {
  hf_value v[7];
  v[0] = v_int(-7);
  v[1].type = HF_FT_LONG;
  v[1].u.l = INT64_MIN + 3;
  v[2].type = HF_FT_FLOAT;
  v[2].u.f = 1.5f;
  v[3].type = HF_FT_DOUBLE;
  v[3].u.d = -2.25;
  v[4].type = HF_FT_BOOLEAN;
  v[4].u.b = 1;
  v[5] = v_str(HF_FT_STRING, "abc", 3);
  v[6] = v_str(HF_FT_BYTES, "\0\1\2", 3);
  for (size_t n = 0; n <= 7; n++)
    cr_assert_eq(hf_key_hash(v, n), manual_hash(v, n), "n=%zu", n);
}

Test(key_hash, long_key_streaming_equals_one_shot) {
  /* the 256-byte stack buffer is the switch; cover both sides of it */
  static const size_t lens[] = {0,   1,   182, 183, 184,  200,  245,
                                246, 247, 252, 253, 1000, 70000};
  char *big = malloc(70000);
  size_t i, k;
  cr_assert_not_null(big);
  for (k = 0; k < 70000; k++)
    big[k] = (char)(k * 131 + 7);
  for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    hf_value v[3];
    v[0] = v_int(42);
    v[1] = v_str(HF_FT_STRING, big, lens[i]);
    v[2] = v_str(HF_FT_BYTES, big + 1, lens[i] / 3);
    cr_assert_eq(hf_key_hash(v, 3), manual_hash(v, 3), "len %zu", lens[i]);
    cr_assert_eq(hf_key_hash(v + 1, 1), manual_hash(v + 1, 1), "len %zu",
                 lens[i]);
  }
  free(big);
}

Test(key_hash, equal_values_hash_equal) {
  char a[] = "the same text", b[] = "the same text";
  hf_value x[2], y[2];
  x[0] = v_str(HF_FT_STRING, a, strlen(a));
  y[0] = v_str(HF_FT_STRING, b, strlen(b));
  x[1] = v_int(5);
  y[1] = v_int(5);
  cr_assert_neq(a, b);
  cr_assert_eq(hf_key_hash(x, 2), hf_key_hash(y, 2));
  cr_assert(hf_value_equal(&x[0], &y[0]));
  /* booleans: any nonzero is true and encodes as 1 */
  x[0].type = y[0].type = HF_FT_BOOLEAN;
  x[0].u.b = 1;
  y[0].u.b = 7;
  cr_assert_eq(hf_key_hash(x, 1), hf_key_hash(y, 1));
  cr_assert(hf_value_equal(&x[0], &y[0]));
}

Test(key_hash, length_prefix_separates_composite_parts) {
  hf_value x[2], y[2];
  x[0] = v_str(HF_FT_STRING, "ab", 2);
  x[1] = v_str(HF_FT_STRING, "c", 1);
  y[0] = v_str(HF_FT_STRING, "a", 1);
  y[1] = v_str(HF_FT_STRING, "bc", 2);
  cr_assert_neq(hf_key_hash(x, 2), hf_key_hash(y, 2));
}

Test(key_hash, floats_compare_bitwise) {
  hf_value p, m;
  p.type = m.type = HF_FT_DOUBLE;
  p.u.d = 0.0;
  m.u.d = -0.0;
  cr_assert_not(hf_value_equal(&p, &m));
  cr_assert_neq(hf_key_hash(&p, 1), hf_key_hash(&m, 1));
  p.u.d = m.u.d = __builtin_nan("");
  cr_assert(hf_value_equal(&p, &m));
  p = v_int(1);
  m.type = HF_FT_LONG;
  m.u.l = 1;
  cr_assert_not(hf_value_equal(&p, &m)); /* different leaf types */
}
