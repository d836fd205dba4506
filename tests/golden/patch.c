/*
 * patch.c - derives an invalid blob from a valid one for tests/golden/.
 *
 *   patch IN OUT OP...
 *
 * Operations run in order on an in-memory copy of IN; the result goes to OUT.
 * Offsets are absolute, or "sI+REL" (section I's offset plus REL), or
 * "eI+REL" (section table entry I plus REL).  Numbers take C prefixes (0x).
 *
 *   set:W:OFF:VAL        write VAL as a W-bit little-endian integer (W = 8,
 *                        16, 32, 64) at OFF
 *   add:W:OFF:DELTA      add DELTA (may be negative) to the W-bit integer
 *   xor:OFF:MASK         xor one byte
 *   pad:first|last       set to 0xFF the first padding byte after a section,
 *                        or the last byte of the file (which must be padding)
 *   trunc:LEN            cut the file to LEN bytes (or zero-extend it)
 *   resize:I:DELTA       grow (DELTA > 0, zero bytes appended) or shrink
 *                        section I and re-lay out every section after it
 *   insert:I:KIND:TYPE:HEX  insert a section before entry I (I = count
 *                        appends) with the given bytes ("-" = empty)
 *   delete:I             remove section I
 *   fixsec               recompute every section checksum
 *   fixstate             recompute the state (FORMAT.md §4.9)
 *   fixhdr               recompute the header checksum (FORMAT.md §4.8)
 *   fix                  fixsec, fixstate, fixhdr
 *
 * Re-layout (resize, insert, delete) rewrites offsets, section_count and
 * file_size as FORMAT.md §5.3 requires, so that the only broken rule is the
 * one the caller breaks on purpose.  A test tool: it trusts its input enough
 * to exit on the first problem.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

typedef struct blob {
  unsigned char *p;
  size_t len;
} blob;

typedef struct sect {
  uint32_t kind, type;
  unsigned char *data;
  size_t len;
  uint64_t checksum;
} sect;

static void die(const char *what, const char *arg) {
  fprintf(stderr, "patch: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
  exit(2);
}

static uint64_t get_le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  int i;
  for (i = bytes - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static void put_le(unsigned char *p, uint64_t v, int bytes) {
  int i;
  for (i = 0; i < bytes; i++, v >>= 8)
    p[i] = (unsigned char)(v & 0xff);
}

static uint64_t align8(uint64_t v) {
  return (v + 7u) & ~(uint64_t)7u;
}

static uint32_t nsections(const blob *b) {
  return (uint32_t)get_le(b->p + 16, 4);
}

static size_t entry_off(const blob *b, uint32_t i) {
  if (i >= nsections(b))
    die("no such section", NULL);
  return 64 + (size_t)i * 32;
}

static uint64_t number(const char *s) {
  char *end;
  uint64_t v;
  errno = 0;
  v = (uint64_t)strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0')
    die("bad number", s);
  return v;
}

/* "123", "s2+8", "e1+24". */
static size_t offset_of(const blob *b, const char *s) {
  if (s[0] == 's' || s[0] == 'e') {
    char *plus;
    uint32_t i = (uint32_t)strtoul(s + 1, &plus, 10);
    size_t base = entry_off(b, i);
    if (*plus != '+')
      die("bad offset", s);
    if (s[0] == 's')
      base = (size_t)get_le(b->p + base + 8, 8);
    return base + (size_t)number(plus + 1);
  }
  return (size_t)number(s);
}

static void resize_blob(blob *b, size_t len) {
  unsigned char *p = realloc(b->p, len ? len : 1);
  if (p == NULL)
    die("out of memory", NULL);
  if (len > b->len)
    memset(p + b->len, 0, len - b->len);
  b->p = p;
  b->len = len;
}

/* Splits the blob into sections (copies), trusting the table. */
static sect *split(const blob *b, uint32_t *n) {
  uint32_t i, k = nsections(b);
  sect *s = calloc(k + 1, sizeof *s);
  if (s == NULL)
    die("out of memory", NULL);
  for (i = 0; i < k; i++) {
    const unsigned char *e = b->p + entry_off(b, i);
    uint64_t off = get_le(e + 8, 8), len = get_le(e + 16, 8);
    if (off > b->len || len > b->len - off)
      die("section outside the file; re-layout impossible", NULL);
    s[i].kind = (uint32_t)get_le(e, 4);
    s[i].type = (uint32_t)get_le(e + 4, 4);
    s[i].len = (size_t)len;
    s[i].checksum = get_le(e + 24, 8);
    s[i].data = malloc(s[i].len ? s[i].len : 1);
    if (s[i].data == NULL)
      die("out of memory", NULL);
    memcpy(s[i].data, b->p + off, s[i].len);
  }
  *n = k;
  return s;
}

/* Writes header + table + sections laid out per FORMAT.md §5.3. */
static void join(blob *b, sect *s, uint32_t n) {
  unsigned char hdr[64];
  uint64_t pos = align8(64 + (uint64_t)n * 32);
  uint32_t i;
  memcpy(hdr, b->p, 64);
  for (i = 0; i < n; i++)
    pos = align8(pos + s[i].len);
  resize_blob(b, 0);
  resize_blob(b, (size_t)pos);
  memcpy(b->p, hdr, 64);
  put_le(b->p + 16, n, 4);
  put_le(b->p + 24, pos, 8);
  pos = align8(64 + (uint64_t)n * 32);
  for (i = 0; i < n; i++) {
    unsigned char *e = b->p + 64 + (size_t)i * 32;
    put_le(e, s[i].kind, 4);
    put_le(e + 4, s[i].type, 4);
    put_le(e + 8, pos, 8);
    put_le(e + 16, s[i].len, 8);
    put_le(e + 24, s[i].checksum, 8);
    memcpy(b->p + pos, s[i].data, s[i].len);
    free(s[i].data);
    pos = align8(pos + s[i].len);
  }
  free(s);
}

static unsigned char *hex_bytes(const char *hex, size_t *len) {
  size_t n = strcmp(hex, "-") == 0 ? 0 : strlen(hex), i;
  unsigned char *p;
  if (n % 2 != 0)
    die("odd hex string", hex);
  p = malloc(n / 2 + 1);
  if (p == NULL)
    die("out of memory", NULL);
  for (i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1)
      die("bad hex", hex);
    p[i] = (unsigned char)v;
  }
  *len = n / 2;
  return p;
}

static void fix_sections(blob *b) {
  uint32_t i, n = nsections(b);
  for (i = 0; i < n; i++) {
    unsigned char *e = b->p + entry_off(b, i);
    uint64_t off = get_le(e + 8, 8), len = get_le(e + 16, 8);
    if (off <= b->len && len <= b->len - off)
      put_le(e + 24, XXH3_64bits(b->p + off, (size_t)len), 8);
  }
}

static void fix_state(blob *b) {
  uint32_t i, n = nsections(b);
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (i = 0; i < n; i++)
    XXH3_64bits_update(&st, b->p + entry_off(b, i) + 24, 8);
  put_le(b->p + 48, XXH3_64bits_digest(&st), 8);
}

static void fix_header(blob *b) {
  uint32_t n = nsections(b);
  XXH3_state_t st;
  if (64 + (uint64_t)n * 32 > b->len)
    die("section table outside the file", NULL);
  XXH3_64bits_reset(&st);
  XXH3_64bits_update(&st, b->p, 56);
  XXH3_64bits_update(&st, b->p + 64, (size_t)n * 32);
  put_le(b->p + 56, XXH3_64bits_digest(&st), 8);
}

/* Offset of the first padding byte, or of the file's last byte if it is
 * padding (last != 0). */
static size_t padding_byte(const blob *b, int last) {
  uint32_t i, n = nsections(b);
  for (i = 0; i < n; i++) {
    const unsigned char *e = b->p + entry_off(b, i);
    uint64_t end = get_le(e + 8, 8) + get_le(e + 16, 8);
    if (last && i + 1 == n && end < b->len)
      return b->len - 1;
    if (!last && end % 8 != 0 && end < b->len)
      return (size_t)end;
  }
  die("no padding byte", NULL);
  return 0;
}

/* Splits "a:b:c" in place into at most max fields; returns the count. */
static int fields(char *op, char **f, int max) {
  int n = 0;
  char *p = op;
  while (n < max) {
    f[n++] = p;
    p = strchr(p, ':');
    if (p == NULL)
      break;
    *p++ = '\0';
  }
  return n;
}

static void apply(blob *b, char *op) {
  char *f[5];
  int n = fields(op, f, 5);
  if (strcmp(f[0], "set") == 0 && n == 4) {
    int w = (int)number(f[1]) / 8;
    size_t off = offset_of(b, f[2]);
    if ((w != 1 && w != 2 && w != 4 && w != 8) || off > b->len ||
        (size_t)w > b->len - off)
      die("bad set", f[2]);
    put_le(b->p + off, number(f[3]), w);
  } else if (strcmp(f[0], "add") == 0 && n == 4) {
    int w = (int)number(f[1]) / 8;
    size_t off = offset_of(b, f[2]);
    if ((w != 1 && w != 2 && w != 4 && w != 8) || off > b->len ||
        (size_t)w > b->len - off)
      die("bad add", f[2]);
    put_le(b->p + off, get_le(b->p + off, w) + (uint64_t)strtoll(f[3], NULL, 0),
           w);
  } else if (strcmp(f[0], "pad") == 0 && n == 2) {
    b->p[padding_byte(b, strcmp(f[1], "last") == 0)] = 0xFF;
  } else if (strcmp(f[0], "xor") == 0 && n == 3) {
    size_t off = offset_of(b, f[1]);
    if (off >= b->len)
      die("bad xor offset", f[1]);
    b->p[off] ^= (unsigned char)number(f[2]);
  } else if (strcmp(f[0], "trunc") == 0 && n == 2) {
    resize_blob(b, (size_t)number(f[1]));
  } else if (strcmp(f[0], "resize") == 0 && n == 3) {
    uint32_t k, i = (uint32_t)number(f[1]);
    long long d = strtoll(f[2], NULL, 0);
    sect *s = split(b, &k);
    if (i >= k || (d < 0 && (size_t)-d > s[i].len))
      die("bad resize", f[1]);
    s[i].data = realloc(s[i].data, s[i].len + (d > 0 ? (size_t)d : 0) + 1);
    if (s[i].data == NULL)
      die("out of memory", NULL);
    if (d > 0)
      memset(s[i].data + s[i].len, 0, (size_t)d);
    s[i].len = (size_t)((long long)s[i].len + d);
    join(b, s, k);
  } else if (strcmp(f[0], "insert") == 0 && n == 5) {
    uint32_t k, i = (uint32_t)number(f[1]);
    sect *s = split(b, &k);
    if (i > k)
      die("bad insert position", f[1]);
    memmove(s + i + 1, s + i, (k - i) * sizeof *s);
    s[i].kind = (uint32_t)number(f[2]);
    s[i].type = (uint32_t)number(f[3]);
    s[i].data = hex_bytes(f[4], &s[i].len);
    s[i].checksum = XXH3_64bits(s[i].data, s[i].len);
    join(b, s, k + 1);
  } else if (strcmp(f[0], "delete") == 0 && n == 2) {
    uint32_t k, i = (uint32_t)number(f[1]);
    sect *s = split(b, &k);
    if (i >= k)
      die("bad delete", f[1]);
    free(s[i].data);
    memmove(s + i, s + i + 1, (k - i - 1) * sizeof *s);
    join(b, s, k - 1);
  } else if (strcmp(f[0], "fixsec") == 0) {
    fix_sections(b);
  } else if (strcmp(f[0], "fixstate") == 0) {
    fix_state(b);
  } else if (strcmp(f[0], "fixhdr") == 0) {
    fix_header(b);
  } else if (strcmp(f[0], "fix") == 0) {
    fix_sections(b);
    fix_state(b);
    fix_header(b);
  } else {
    die("unknown operation", f[0]);
  }
}

int main(int argc, char **argv) {
  blob b = {NULL, 0};
  FILE *f;
  long sz = 0;
  int i;

  if (argc < 3)
    die("usage: patch IN OUT OP...", NULL);
  f = fopen(argv[1], "rb");
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0)
    die("cannot read", argv[1]);
  resize_blob(&b, (size_t)sz);
  if (fread(b.p, 1, b.len, f) != b.len)
    die("cannot read", argv[1]);
  fclose(f);
  for (i = 3; i < argc; i++)
    apply(&b, argv[i]);
  f = fopen(argv[2], "wb");
  if (f == NULL || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0)
    die("cannot write", argv[2]);
  free(b.p);
  return 0;
}
