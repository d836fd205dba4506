/*
 * hf_jtok.c - JSON tokens with jsmn's strict-mode results (hf_jtok.h).
 *
 * jsmn is run over a copy of the text with a blank appended, so that a
 * number or literal at the very end is delimited.  Here the text is read as
 * if that blank were there (byte len reads as ' '), with no copy.  Every
 * decision below is jsmn's, in jsmn's order, so that results and error
 * positions match; the comments say where that makes for odd rules.
 */
#include <stdlib.h>
#include <string.h>

#include "hf_jtok.h"

#define ONES UINT64_C(0x0101010101010101)
#define TOP (ONES << 7)

/* Byte i of the text with the blank appended (i <= len). */
static unsigned char at(const char *js, size_t len, size_t i) {
  return i < len ? (unsigned char)js[i] : (unsigned char)' ';
}

/* Top bit of each byte of w that is zero; exact up to the lowest one. */
static uint64_t zero_bytes(uint64_t w) {
  return (w - ONES) & ~w & TOP;
}

/* Bytes to skip before the first flagged byte of a nonzero mask. */
static size_t first_flagged(uint64_t m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return (size_t)__builtin_ctzll(m) / 8;
#else
  (void)m;
  return 0; /* look at the word byte by byte */
#endif
}

void hf_jtok_init(hf_jtoks *p, hf_jtok *tok, size_t cap, int32_t *open,
                  size_t open_cap) {
  p->tok = p->first_tok = tok;
  p->cap = cap;
  p->open = p->first_open = open;
  p->open_cap = open_cap;
  p->pos = 0;
}

void hf_jtok_free(hf_jtoks *p) {
  if (p->tok != p->first_tok)
    free(p->tok);
  if (p->open != p->first_open)
    free(p->open);
  p->tok = p->first_tok;
  p->open = p->first_open;
}

/* Makes room for one more element in *arr (of cap elements of `size`
 * bytes), moving it off the caller's buffer the first time. */
static int grow(void **arr, size_t *cap, const void *first, size_t size) {
  const size_t ncap = *cap ? 2 * *cap : 64;
  void *na;
  if (ncap > SIZE_MAX / size)
    return HF_JT_NOMEM;
  if (*arr == first) {
    if ((na = malloc(ncap * size)) != NULL && *cap > 0)
      memcpy(na, *arr, *cap * size);
  } else {
    na = realloc(*arr, ncap * size);
  }
  if (na == NULL)
    return HF_JT_NOMEM;
  *arr = na;
  *cap = ncap;
  return 0;
}

static hf_jtok *new_tok(hf_jtoks *p, size_t *n, hf_jtype type, size_t start,
                        size_t end) {
  hf_jtok *t;
  if (*n == p->cap &&
      grow((void **)&p->tok, &p->cap, p->first_tok, sizeof *p->tok) != 0)
    return NULL;
  t = &p->tok[(*n)++];
  t->type = (uint8_t)type;
  t->flags = 0;
  t->start = (int32_t)start;
  t->end = (int32_t)end;
  t->size = 0;
  return t;
}

static int is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
         (c >= 'a' && c <= 'f');
}

/* The string whose opening quote is at *pos; *pos ends on its closing
 * quote.  Escapes are checked as jsmn checks them: a known letter, or `u`
 * and up to four hex digits (fewer when a NUL cuts them short).  Errors
 * leave *pos at the opening quote. */
static int string(hf_jtoks *p, size_t *n, const char *js, size_t len,
                  size_t *pos) {
  const size_t start = *pos, L = len + 1;
  size_t i = start + 1;
  unsigned flags = 0;
  uint64_t high = TOP; /* stop at bytes from 0x80 until the first one */
  hf_jtok *t;
  while (i < L) {
    unsigned char c;
    while (i + 8 <= len) {
      uint64_t w, m;
      memcpy(&w, js + i, 8);
      m = zero_bytes(w ^ (ONES * '"')) | zero_bytes(w ^ (ONES * '\\')) |
          ((w - ONES * 0x20) & ~w & TOP) | (w & high);
      if (m != 0) {
        i += first_flagged(m);
        break;
      }
      i += 8;
    }
    c = at(js, len, i);
    if (c == '"') {
      if ((t = new_tok(p, n, HF_JT_STRING, start + 1, i)) == NULL)
        return HF_JT_NOMEM;
      t->flags = (uint8_t)flags;
      *pos = i;
      return 0;
    }
    if (c == '\0')
      break;
    if (c == '\\') {
      /* i < len here, so the escaped byte exists (it may be the blank) */
      unsigned k;
      flags |= HF_JT_ESC;
      switch (at(js, len, i + 1)) {
      case '"':
      case '/':
      case '\\':
      case 'b':
      case 'f':
      case 'r':
      case 'n':
      case 't':
        i += 2;
        continue;
      case 'u':
        for (i += 2, k = 0; k < 4 && i < L && at(js, len, i) != '\0'; k++, i++)
          if (!is_hex(at(js, len, i))) {
            p->pos = start;
            return HF_JT_INVAL;
          }
        continue;
      default:
        p->pos = start;
        return HF_JT_INVAL;
      }
    }
    if (c < 0x20) {
      flags |= HF_JT_CTRL;
    } else if (c >= 0x80) {
      flags |= HF_JT_HIGH;
      high = 0;
    }
    i++;
  }
  return HF_JT_PART;
}

/* What may follow a primitive's first byte (jsmn_parse_primitive): a
 * delimiter ends it; a control byte, DEL or any byte from 0x80 is an error
 * (jsmn compares signed chars); NUL ends the text. */
enum { P_IN = 0, P_END = 1, P_BAD = 2, P_NUL = 3 };

static int prim_class(unsigned char c) {
  switch (c) {
  case '\t':
  case '\r':
  case '\n':
  case ' ':
  case ',':
  case ']':
  case '}':
    return P_END;
  case '\0':
    return P_NUL;
  default:
    return c < 32 || c >= 127 ? P_BAD : P_IN;
  }
}

/* The primitive starting at *pos; *pos ends on its last byte. */
static int primitive(hf_jtoks *p, size_t *n, const char *js, size_t len,
                     size_t *pos) {
  const size_t start = *pos;
  size_t i;
  for (i = start; i < len; i++) {
    const unsigned char c = (unsigned char)js[i];
    if (c >= '0' && c <= '9')
      continue;
    switch (prim_class(c)) {
    case P_IN:
      continue;
    case P_END:
      goto end;
    case P_BAD:
      p->pos = start;
      return HF_JT_INVAL;
    default:
      return HF_JT_PART;
    }
  }
end: /* at a delimiter, or at the blank after the text */
  if (new_tok(p, n, HF_JT_PRIMITIVE, start, i) == NULL)
    return HF_JT_NOMEM;
  *pos = i - 1;
  return 0;
}

/* jsmn's `,`: back to the innermost open container, if the value was
 * counted in a key (or in any other token a `:` chose). */
static long after_comma(const hf_jtoks *p, long super, size_t nopen) {
  if (super != -1 && p->tok[super].type != HF_JT_ARRAY &&
      p->tok[super].type != HF_JT_OBJECT && nopen > 0)
    return p->open[nopen - 1];
  return super;
}

int hf_jtok_parse(hf_jtoks *p, const char *js, size_t len) {
  size_t pos, n = 0, nopen = 0;
  long super = -1; /* jsmn's toksuper: the token a value is counted in */
  int rc;
  p->nul = 0;
  if (len >= INT32_MAX)
    return HF_JT_NOMEM;
  /* The blank after the text does nothing here: the loop stops before it. */
  for (pos = 0; pos < len; pos++) {
    const unsigned char c = (unsigned char)js[pos];
    hf_jtok *t;
    switch (c) {
    case '\0':
      pos = len; /* jsmn stops at a NUL as at the end */
      p->nul = 1;
      continue;
    case '{':
    case '[':
      if ((t = new_tok(p, &n, c == '{' ? HF_JT_OBJECT : HF_JT_ARRAY, pos, 0)) ==
          NULL)
        return HF_JT_NOMEM;
      t->end = -1;
      if (super != -1) {
        if (p->tok[super].type == HF_JT_OBJECT) { /* a container as a key */
          p->pos = pos;
          return HF_JT_INVAL;
        }
        p->tok[super].size++;
      }
      if (nopen == p->open_cap && grow((void **)&p->open, &p->open_cap,
                                       p->first_open, sizeof *p->open) != 0)
        return HF_JT_NOMEM;
      p->open[nopen++] = (int32_t)(n - 1);
      super = (long)(n - 1);
      break;
    case '}':
    case ']':
      if (nopen == 0 || p->tok[p->open[nopen - 1]].type !=
                            (c == '}' ? HF_JT_OBJECT : HF_JT_ARRAY)) {
        p->pos = pos;
        return HF_JT_INVAL;
      }
      p->tok[p->open[--nopen]].end = (int32_t)(pos + 1);
      super = nopen > 0 ? p->open[nopen - 1] : -1;
      break;
    case '"':
      if ((rc = string(p, &n, js, len, &pos)) != 0)
        return rc;
      if (super != -1)
        p->tok[super].size++;
      if (pos + 1 < len && js[pos + 1] == ':') {
        /* a key, most often: the `:` case below, without a dispatch */
        pos++;
        super = (long)n - 1;
      } else if (pos + 1 < len && js[pos + 1] == ',') {
        pos++;
        super = after_comma(p, super, nopen);
      }
      break;
    case '\t':
    case '\r':
    case '\n':
    case ' ':
      break;
    case ':':
      /* the last token, whatever it is, takes the value */
      super = (long)n - 1;
      break;
    case ',':
      super = after_comma(p, super, nopen);
      break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
    case 't':
    case 'f':
    case 'n':
      /* not a key, nor a second value of one */
      if (super != -1 &&
          (p->tok[super].type == HF_JT_OBJECT ||
           (p->tok[super].type == HF_JT_STRING && p->tok[super].size != 0))) {
        p->pos = pos;
        return HF_JT_INVAL;
      }
      if ((rc = primitive(p, &n, js, len, &pos)) != 0)
        return rc;
      if (super != -1)
        p->tok[super].size++;
      if (pos + 1 < len && js[pos + 1] == ',') {
        pos++;
        super = after_comma(p, super, nopen);
      }
      break;
    default:
      p->pos = pos;
      return HF_JT_INVAL;
    }
  }
  return nopen > 0 ? HF_JT_PART : (int)n;
}
