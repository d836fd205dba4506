/*
 * test_jtok.c - hf_jtok gives jsmn's strict-mode results (jtok_ref.h) on
 * chosen texts, on random texts over JSON's own characters, and on
 * mutations of rich valid documents; string flags are checked byte by byte.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "../../fuzz/jtok_ref.h"

static void same_as_jsmn(const char *js, size_t len) {
  char why[200];
  int small;
  for (small = 0; small < 2; small++) {
    const char *d = jtok_ref_compare(js, len, small, why, sizeof why);
    cr_assert_null(d, "text \"%.*s\" (%zu bytes, small=%d): %s",
                   len > 80 ? 80 : (int)len, js, len, small, d);
  }
}

#define T(lit) same_as_jsmn(lit, sizeof(lit) - 1)

Test(jtok, chosen_texts) {
  /* valid, with every token kind, nesting and long strings */
  T("{\"id\":1,\"title\":\"The Long Goodbye of the Eighth Word\",\"a\":[1,2,"
    "{\"x\":null}],\"b\":{\"c\":[true,false,-1.5e+3]}}");
  T("[]");
  T("{}");
  T("  [ 1 , \"x\" , [ ] , { } ]  ");
  T("123");
  T("-0");
  T("\"bare string\"");
  T("true");
  T("");
  T("   ");
  /* strings: escapes, \\u, control, high bytes, at every word offset */
  T("[\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\\u00e9j\\uD83D\\uDE00\"]");
  T("[\"caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 0123456789abcdef\"]");
  T("[\"tab\tin\x01string\x1f\"]");
  T("[\"\\u12\"]");
  T("[\"\\u12");
  T("[\"\\u12G4\"]");
  T("[\"\\x\"]");
  T("[\"abc\\");
  T("\"abc\\");
  T("\"\\u");
  T("\"\\u0");
  T("\"abcdefghijklmnopqrstuvwxyz");
  T("\"abcdefghijklmnop\\");
  /* NUL ends the text for jsmn */
  same_as_jsmn("[1]\0[", 5);
  same_as_jsmn("[\"ab\0cd\"]", 9);
  same_as_jsmn("[12\0]", 5);
  same_as_jsmn("[\"\\u1\0\"]", 8);
  same_as_jsmn("[\"\\\0\"]", 6);
  /* jsmn's leniency and its odd rules */
  T("[1 2]");
  T("{\"a\":1,}");
  T("{\"a\" 1}");
  T("{\"a\":1:2}");
  T("{\"a\":[1]:2}");
  T("{\"a\":\"b\":\"c\"}");
  T("{\"a\":1 \"b\":2}");
  T("[\"a\":1]");
  T(":1");
  T(",1");
  T("1,2");
  T("{1:2}");
  T("{\"a\":{},\"b\":[]}");
  T("{[1]:2}");
  T("{{}}");
  T("[{]");
  T("[}");
  T("]");
  T("}");
  T("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]"
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
  T("[[[[");
  T("[1.5x]");
  T("[tru\x7f]");
  T("[1\xc3\xa9]");
  T("[1\x01]");
  T("x");
  T("@");
  T("[\"a\"\"b\"]");
  T("{\"a\":1}}");
  T("{\"a\":1}{");
  T("nul");
  T("[-]");
}

static uint64_t next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

Test(jtok, random_texts) {
  static const char alpha[] = "{}[]\":,\\ \t\n0123456789-+.eEtfnulrsaAbu/"
                              "\x00\x01\x1f\x7f\x80\xc3\xa9\xff";
  uint64_t s = 0x9e3779b97f4a7c15u;
  char buf[96];
  int k;
  for (k = 0; k < 40000; k++) {
    const size_t len = (size_t)(next(&s) % sizeof buf);
    size_t i;
    for (i = 0; i < len; i++)
      buf[i] = alpha[next(&s) % (sizeof alpha - 1)];
    same_as_jsmn(buf, len);
  }
}

Test(jtok, mutated_documents) {
  static const char *docs[] = {
      "{\"id\":42,\"title\":\"Caf\xc3\xa9 \\\"Noir\\\" \\u00e9t\\u00e9\","
      "\"year\":1999,\"rating\":7.25e0,\"adult\":false,\"genres\":[\"Drama\","
      "\"Crime\"],\"cast\":[{\"personId\":7,\"name\":\"A. Person\",\"role\":"
      "null},{\"personId\":-8,\"name\":\"\",\"role\":\"lead\\tvoice\"}],"
      "\"m\":{\"k\":[1,2,3],\"z\":{}}}",
      "[[\"key one\",{\"v\":\"\\ud83d\\ude00 smile and a long tail of text\"}"
      "],[\"k2\",{\"v\":\"x\"}]]",
  };
  uint64_t s = 12345;
  char buf[512];
  int k;
  for (k = 0; k < 30000; k++) {
    const char *d = docs[k % 2];
    size_t len = strlen(d), i, edits = 1 + next(&s) % 4;
    memcpy(buf, d, len);
    for (i = 0; i < edits && len > 0; i++) {
      const size_t at = (size_t)(next(&s) % len);
      switch (next(&s) % 4) {
      case 0: /* overwrite a byte with one of JSON's own or a stray */
        buf[at] = "{}[]\":,\\ 0aeu\x01\x80\x7f"[next(&s) % 17];
        break;
      case 1: /* delete it */
        memmove(buf + at, buf + at + 1, len - at - 1);
        len--;
        break;
      case 2: /* duplicate it */
        if (len + 1 < sizeof buf) {
          memmove(buf + at + 1, buf + at, len - at);
          len++;
        }
        break;
      default: /* cut the text there */
        len = at;
        break;
      }
    }
    same_as_jsmn(buf, len);
  }
}

Test(jtok, tokens_outgrow_first_buffers) {
  /* 3000 elements and 300 levels: tokens and stack move to the heap */
  static char buf[3 * 3000 + 2 * 300 + 8];
  size_t len = 0, i;
  for (i = 0; i < 300; i++)
    buf[len++] = '[';
  for (i = 0; i < 3000; i++) {
    memcpy(buf + len, "1,", 2);
    len += 2;
  }
  buf[len++] = '2';
  for (i = 0; i < 300; i++)
    buf[len++] = ']';
  same_as_jsmn(buf, len);
  same_as_jsmn(buf, len - 1);
}
