/*
 * hf_jtok.h - the JSON tokenizer behind hf_json.c.  Not installed.
 *
 * It finds token boundaries and nothing more, with the exact results of
 * jsmn 1.1.0 in strict mode (JSMN_STRICT, no parent links, enough tokens)
 * run over the text with one blank appended: the same tokens, the same
 * sizes, the same error and error position, on any input.  A test and a
 * fuzz target hold it to that, byte for byte.  The walk in hf_json.c checks
 * the grammar between tokens, as it did with jsmn.
 *
 * What it adds: open containers sit on a stack rather than being searched
 * for backwards on every `,` and closing bracket, strings are scanned eight
 * bytes at a time, and each string token says whether its bytes need a
 * second look (an escape, a control character, a byte from 0x80), so the
 * walk takes plain strings as they are.
 */
#ifndef HF_JTOK_H
#define HF_JTOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum hf_jtype {
  HF_JT_OBJECT = 1,
  HF_JT_ARRAY = 2,
  HF_JT_STRING = 3,
  HF_JT_PRIMITIVE = 4
} hf_jtype;

/* hf_jtok.flags of a string */
#define HF_JT_ESC 0x1u  /* a backslash */
#define HF_JT_HIGH 0x2u /* a byte from 0x80 */
#define HF_JT_CTRL 0x4u /* a byte below 0x20 */

/* A token: bytes [start, end) of the text (a string's without its quotes,
 * a container's with its brackets); size counts members (object: keys,
 * array: elements, key string: its value), as jsmn counts them. */
typedef struct hf_jtok {
  int32_t start, end, size;
  uint8_t type, flags;
} hf_jtok;

/* Results of hf_jtok_parse() other than a token count. */
#define HF_JT_NOMEM (-1) /* growing the token array or the stack failed */
#define HF_JT_INVAL (-2) /* an unexpected character, at pos */
#define HF_JT_PART (-3)  /* the text ends (or has a NUL) inside a value */

/* Token array and stack of open containers.  Both start in the caller's
 * buffers and move to the heap when those are full; hf_jtok_free() frees
 * what was allocated. */
typedef struct hf_jtoks {
  hf_jtok *tok;
  size_t cap;
  int32_t *open;
  size_t open_cap;
  hf_jtok *first_tok;
  int32_t *first_open;
  size_t pos; /* after HF_JT_INVAL: the offending byte (see hf_jtok.c) */
  int nul;    /* set when a NUL between values ended the text early; a
                 count returned without it means the text has no NUL */
} hf_jtoks;

void hf_jtok_init(hf_jtoks *p, hf_jtok *tok, size_t cap, int32_t *open,
                  size_t open_cap);
void hf_jtok_free(hf_jtoks *p);

/* Tokenizes js[0..len), len < INT32_MAX: the number of tokens (p->tok[0..)
 * holds them), or HF_JT_NOMEM / HF_JT_INVAL / HF_JT_PART. */
int hf_jtok_parse(hf_jtoks *p, const char *js, size_t len);

#endif /* HF_JTOK_H */
