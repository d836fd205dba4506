/*
 * hollow-dump - prints what a hollow file holds: header, schema, statistics,
 * records as JSON Lines, single records by primary key or ordinal, and the
 * result of a full verify.
 *
 * Several modes may be combined; they always print in this order: header,
 * schema, stats, records, key, ordinal, verify.  stdout carries only that
 * output, every message goes to stderr.
 *
 * On a delta or reverse delta, --stats counts the removed, added and changed
 * records of each type with the bytes of each section, and --records writes
 * one JSON line per change (remove, add, change with only the changed
 * fields).  A delta does not hold the records its references point to, so
 * references print as {"$ref":"Type#ordinal"} (ordinals of the target).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hformat.h"
#include "tool_common.h"

#define MODE_HEADER 0x01u
#define MODE_SCHEMA 0x02u
#define MODE_STATS 0x04u
#define MODE_RECORDS 0x08u
#define MODE_KEY 0x10u
#define MODE_ORDINAL 0x20u
#define MODE_VERIFY 0x40u

typedef struct dump_args {
  unsigned modes;
  const char *path;
  const char *type_name;
  const char *keys[TOOL_MAX_KEY_ARGS];
  size_t nkeys;
  uint32_t ordinal;
} dump_args;

static void usage(FILE *f) {
  fprintf(f,
          "Usage: %s [options] FILE|-\n"
          "Prints the contents of a hollow file (default: --header).\n"
          "\n"
          "      --header        header and section table\n"
          "      --schema        canonical schema text (input for "
          "hollow-build -s)\n"
          "      --stats         records and bytes per type (deltas: removed,\n"
          "                      added, changed records and section bytes)\n"
          "      --records       records as JSON Lines (default: every root "
          "type;\n"
          "                      deltas: one line per change)\n"
          "  -t, --type TYPE     records of TYPE (implies --records unless "
          "--key\n"
          "                      or --ordinal is given)\n"
          "  -k, --key K[,K...]  the record with that primary key "
          "(repeatable for\n"
          "                      composite keys)\n"
          "  -n, --ordinal N     the record with ordinal N\n"
          "      --verify        full verify: every checksum and invariant\n"
          "  -h, --help          print this help and exit\n"
          "  -V, --version       print the version and exit\n"
          "\n"
          "Exit status: 0 success, 1 key or ordinal absent, 2 trouble.\n",
          tool_prog());
}

enum { OPT_HEADER = 256, OPT_SCHEMA, OPT_STATS, OPT_RECORDS, OPT_VERIFY };

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, dump_args *a) {
  static const struct option longs[] = {
      {"header", no_argument, NULL, OPT_HEADER},
      {"schema", no_argument, NULL, OPT_SCHEMA},
      {"stats", no_argument, NULL, OPT_STATS},
      {"records", no_argument, NULL, OPT_RECORDS},
      {"verify", no_argument, NULL, OPT_VERIFY},
      {"type", required_argument, NULL, 't'},
      {"key", required_argument, NULL, 'k'},
      {"ordinal", required_argument, NULL, 'n'},
      TOOL_LONGS_HV,
      {NULL, 0, NULL, 0}};
  int c;
  uint64_t n;

  memset(a, 0, sizeof *a);
  while ((c = getopt_long(argc, argv, "t:k:n:hV", longs, NULL)) != -1) {
    switch (c) {
    case OPT_HEADER:
      a->modes |= MODE_HEADER;
      break;
    case OPT_SCHEMA:
      a->modes |= MODE_SCHEMA;
      break;
    case OPT_STATS:
      a->modes |= MODE_STATS;
      break;
    case OPT_RECORDS:
      a->modes |= MODE_RECORDS;
      break;
    case OPT_VERIFY:
      a->modes |= MODE_VERIFY;
      break;
    case 't':
      a->type_name = optarg;
      break;
    case 'k':
      if (a->nkeys == TOOL_MAX_KEY_ARGS) {
        tool_msg(NULL, "too many --key options (at most %d)",
                 TOOL_MAX_KEY_ARGS);
        return TOOL_EXIT_TROUBLE;
      }
      a->keys[a->nkeys++] = optarg;
      a->modes |= MODE_KEY;
      break;
    case 'n':
      if (tool_parse_u64(optarg, &n) != 0 || n >= HF_NO_ORDINAL) {
        tool_msg(NULL, "--ordinal: not an ordinal: '%s'", optarg);
        return TOOL_EXIT_TROUBLE;
      }
      a->ordinal = (uint32_t)n;
      a->modes |= MODE_ORDINAL;
      break;
    default:
      return tool_option(c, NULL, usage);
    }
  }
  if (argc - optind != 1) {
    tool_msg(NULL, argc == optind ? "missing FILE (or '-' for stdin)"
                                  : "too many files (one FILE or '-')");
    return tool_usage_error();
  }
  a->path = argv[optind];
  if (a->type_name != NULL && !(a->modes & (MODE_KEY | MODE_ORDINAL)))
    a->modes |= MODE_RECORDS;
  if (a->modes == 0)
    a->modes = MODE_HEADER;
  return TOOL_CONTINUE;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *type_name_of(const hf_schema *s, uint32_t t) {
  hf_type_info ti;
  if (t == HF_NO_TYPE)
    return "-";
  return hf_schema_type(s, t, &ti) == HF_OK ? ti.name : "?";
}

static const char *kind_name(hf_kind k) {
  switch (k) {
  case HF_KIND_OBJECT:
    return "object";
  case HF_KIND_LIST:
    return "list";
  case HF_KIND_SET:
    return "set";
  case HF_KIND_MAP:
    return "map";
  }
  return "?";
}

static const char *blob_kind_name(hf_blob_kind k) {
  switch (k) {
  case HF_BLOB_SNAPSHOT:
    return "snapshot";
  case HF_BLOB_DELTA:
    return "delta";
  case HF_BLOB_REVERSE_DELTA:
    return "reverse delta";
  }
  return "unknown";
}

/* The type --key/--ordinal address: --type, else the only root type, else
 * (for keys) the only keyed root type.  HF_NO_TYPE after a message. */
static uint32_t target_type(const hf_schema *s, const dump_args *a,
                            int want_key) {
  uint32_t t, n = hf_schema_type_count(s), found = HF_NO_TYPE;
  uint32_t roots = 0, keyed = 0, keyed_type = HF_NO_TYPE;

  if (a->type_name != NULL) {
    if (hf_schema_type_find(s, a->type_name, strlen(a->type_name), &found) !=
        HF_OK) {
      tool_msg(a->path, "no type '%s' in the schema", a->type_name);
      return HF_NO_TYPE;
    }
    return found;
  }
  for (t = 0; t < n; t++) {
    hf_type_info ti;
    if (tool_type_referenced(s, t) || hf_schema_type(s, t, &ti) != HF_OK)
      continue;
    roots++;
    found = t;
    if (ti.kind == HF_KIND_OBJECT && ti.key_count > 0) {
      keyed++;
      keyed_type = t;
    }
  }
  if (roots == 1)
    return found;
  if (want_key && keyed == 1)
    return keyed_type;
  tool_msg(a->path, "%u root types: name one with --type", (unsigned)roots);
  return HF_NO_TYPE;
}

/* ---- modes -------------------------------------------------------------- */

static int print_header(const hf_reader *r, const char *name) {
  const hf_schema *s = hf_reader_schema(r);
  hf_info info;
  uint32_t i;

  hf_reader_info(r, &info);
  printf("file             %s\n", name);
  /* hf_reader_open() rejects any other magic (FORMAT.md §4). */
  printf("magic            89 48 4c 57 0d 0a 1a 0a\n");
  printf("format           %u.%u\n", (unsigned)info.format_major,
         (unsigned)info.format_minor);
  printf("kind             %s\n", blob_kind_name(info.kind));
  printf("file size        %llu\n", (unsigned long long)info.file_size);
  printf("dataset version  %llu\n", (unsigned long long)info.dataset_version);
  printf("base state       %016llx\n", (unsigned long long)info.base_state);
  printf("state            %016llx\n", (unsigned long long)info.state);
  printf("sections         %lu\n", (unsigned long)info.section_count);
  printf("%4s  %-9s %-20s %10s %10s  %s\n", "#", "kind", "type", "offset",
         "length", "checksum");
  for (i = 0; i < info.section_count; i++) {
    hf_section_info si;
    hf_error err;
    int rc = hf_reader_section(r, i, &si);
    if (rc != HF_OK) {
      memset(&err, 0, sizeof err);
      tool_msg_hf(name, rc, &err);
      return TOOL_EXIT_TROUBLE;
    }
    printf("%4lu  %-9s %-20s %10llu %10llu  %016llx\n", (unsigned long)i,
           hf_section_kind_name(si.kind), type_name_of(s, si.type),
           (unsigned long long)si.offset, (unsigned long long)si.length,
           (unsigned long long)si.checksum);
  }
  return TOOL_EXIT_OK;
}

static int print_schema(const hf_reader *r) {
  const hf_schema *s = hf_reader_schema(r);
  char probe[1];
  /* Measured first, like snprintf; never NULL so a strict
   * implementation need not special-case it. */
  size_t need = hf_schema_print(s, probe, sizeof probe);
  char *buf = malloc(need + 1);
  int rc = TOOL_EXIT_OK;

  if (buf == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  hf_schema_print(s, buf, need + 1);
  if (tool_stdout_write(NULL, buf, need) != 0)
    rc = TOOL_EXIT_TROUBLE;
  free(buf);
  return rc;
}

/* Section kinds reported per type by --stats, in column order. */
static const char *const stat_cols[] = {"bitmap", "slots", "heap", "elements",
                                        "pkindex"};
#define NSTAT (sizeof stat_cols / sizeof stat_cols[0])

static size_t stat_col(uint32_t kind) {
  size_t c;
  for (c = 0; c < NSTAT; c++)
    if (strcmp(hf_section_kind_name(kind), stat_cols[c]) == 0)
      return c;
  return NSTAT;
}

static int print_stats(const hf_reader *r, const char *name) {
  const hf_schema *s = hf_reader_schema(r);
  const uint32_t ntypes = hf_schema_type_count(s);
  uint64_t(*bytes)[NSTAT + 1] = calloc(ntypes + 1u, sizeof *bytes);
  uint64_t sum[NSTAT + 1], global = 0, table_end, sections = 0;
  unsigned long long records = 0;
  hf_info info;
  uint32_t i, t;
  size_t c;

  if (bytes == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  memset(sum, 0, sizeof sum);
  hf_reader_info(r, &info);
  for (i = 0; i < info.section_count; i++) {
    hf_section_info si;
    if (hf_reader_section(r, i, &si) != HF_OK) {
      tool_msg(name, "cannot read section %lu", (unsigned long)i);
      free(bytes);
      return TOOL_EXIT_TROUBLE;
    }
    sections += si.length;
    if (si.type < ntypes) {
      c = stat_col(si.kind);
      bytes[si.type][c] += si.length;
      bytes[si.type][NSTAT] += si.length;
      sum[c] += si.length;
      sum[NSTAT] += si.length;
    } else {
      global += si.length;
    }
  }
  printf("%-20s %-6s %9s %9s", "type", "kind", "records", "ordinals");
  for (c = 0; c < NSTAT; c++)
    printf(" %9s", stat_cols[c]);
  printf(" %10s\n", "bytes");
  for (t = 0; t < ntypes; t++) {
    hf_type_info ti;
    const uint32_t n = hf_reader_record_count(r, t);
    if (hf_schema_type(s, t, &ti) != HF_OK)
      continue;
    records += n;
    printf("%-20s %-6s %9lu %9lu", ti.name, kind_name(ti.kind),
           (unsigned long)n, (unsigned long)hf_reader_ordinal_limit(r, t));
    for (c = 0; c < NSTAT; c++)
      printf(" %9llu", (unsigned long long)bytes[t][c]);
    printf(" %10llu\n", (unsigned long long)bytes[t][NSTAT]);
  }
  printf("%-20s %-6s %9llu %9s", "total", "", records, "");
  for (c = 0; c < NSTAT; c++)
    printf(" %9llu", (unsigned long long)sum[c]);
  printf(" %10llu\n", (unsigned long long)sum[NSTAT]);
  /* The rest of the file: header and section table, schema and type table,
   * and the zero padding that keeps every section 8-aligned. */
  table_end = 64u + 32u * (uint64_t)info.section_count;
  printf("header+table %llu, schema+types %llu, padding %llu, file %llu "
         "bytes\n",
         (unsigned long long)table_end, (unsigned long long)global,
         (unsigned long long)(info.file_size >= table_end + sections
                                  ? info.file_size - table_end - sections
                                  : 0),
         (unsigned long long)info.file_size);
  free(bytes);
  return TOOL_EXIT_OK;
}

static int write_record(const hf_reader *r, uint32_t type, uint32_t ordinal,
                        const char *name) {
  hf_error err;
  int rc =
      hf_json_write_record(r, type, ordinal, tool_stdout_write, NULL, &err);
  if (rc == HF_OK && tool_stdout_write(NULL, "\n", 1) != 0)
    rc = HF_E_IO;
  if (rc != HF_OK) {
    /* A failed write to stdout is reported once, by tool_close_stdout(). */
    if (!(rc == HF_E_IO && ferror(stdout)))
      tool_msg_hf(name, rc, &err);
    return TOOL_EXIT_TROUBLE;
  }
  return TOOL_EXIT_OK;
}

static int write_type(const hf_reader *r, uint32_t t, const char *name) {
  uint32_t o;
  for (o = hf_reader_next(r, t, 0); o != HF_NO_ORDINAL;
       o = hf_reader_next(r, t, o + 1)) {
    if (write_record(r, t, o, name) != TOOL_EXIT_OK)
      return TOOL_EXIT_TROUBLE;
    if (o == HF_NO_ORDINAL - 1)
      break;
  }
  return TOOL_EXIT_OK;
}

/* ---- Deltas: --stats and --records ------------------------------------ */

static const hf_delta_op delta_ops[3] = {HF_DELTA_OP_REMOVE, HF_DELTA_OP_ADD,
                                         HF_DELTA_OP_CHANGE};

/* Column of a delta section kind in --stats (LZ4 or not), or 6 if none. */
static size_t delta_col(uint32_t kind) {
  static const char *const names[] = {"removed", "added",   "dslots",
                                      "dheap",   "changed", "dpatch"};
  const char *n = hf_section_kind_name(kind);
  size_t c, len = strcspn(n, "+");
  if (strncmp(n, "delements", len) == 0 && len == 9)
    return 3;
  for (c = 0; c < 6; c++)
    if (strlen(names[c]) == len && strncmp(n, names[c], len) == 0)
      return c;
  return 6;
}

static int open_delta(const hf_reader *r, const char *name, hf_delta **d) {
  hf_error err;
  int rc = hf_delta_open(r, d, &err);
  if (rc != HF_OK) {
    tool_msg_hf(name, rc, &err);
    return TOOL_EXIT_TROUBLE;
  }
  return TOOL_EXIT_OK;
}

static int print_delta_stats(const hf_reader *r, const char *name) {
  const hf_schema *s = hf_reader_schema(r);
  const uint32_t ntypes = hf_schema_type_count(s);
  uint64_t(*bytes)[7] = calloc(ntypes + 1u, sizeof *bytes);
  uint64_t sum[7], n[3], tot[3] = {0, 0, 0};
  hf_delta *d;
  hf_info info;
  uint32_t i, t;
  size_t c, k;
  if (bytes == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  if (open_delta(r, name, &d) != TOOL_EXIT_OK) {
    free(bytes);
    return TOOL_EXIT_TROUBLE;
  }
  memset(sum, 0, sizeof sum);
  hf_reader_info(r, &info);
  for (i = 0; i < info.section_count; i++) {
    hf_section_info si;
    if (hf_reader_section(r, i, &si) == HF_OK && si.type < ntypes &&
        (c = delta_col(si.kind)) < 6) {
      bytes[si.type][c] += si.length;
      bytes[si.type][6] += si.length;
      sum[c] += si.length;
      sum[6] += si.length;
    }
  }
  printf("%-20s %-6s %9s %9s %9s | %9s %9s %9s %9s %9s %9s %10s\n", "type",
         "kind", "removed", "added", "changed", "removed", "added", "dslots",
         "dvalues", "changed", "dpatch", "bytes");
  for (t = 0; t < ntypes; t++) {
    hf_type_info ti;
    if (hf_schema_type(s, t, &ti) != HF_OK)
      continue;
    for (k = 0; k < 3; k++)
      tot[k] += n[k] = hf_delta_count(d, t, delta_ops[k]);
    printf("%-20s %-6s %9llu %9llu %9llu |", ti.name, kind_name(ti.kind),
           (unsigned long long)n[0], (unsigned long long)n[1],
           (unsigned long long)n[2]);
    for (c = 0; c < 6; c++)
      printf(" %9llu", (unsigned long long)bytes[t][c]);
    printf(" %10llu\n", (unsigned long long)bytes[t][6]);
  }
  printf("%-20s %-6s %9llu %9llu %9llu |", "total", "",
         (unsigned long long)tot[0], (unsigned long long)tot[1],
         (unsigned long long)tot[2]);
  for (c = 0; c < 6; c++)
    printf(" %9llu", (unsigned long long)sum[c]);
  printf(" %10llu\n", (unsigned long long)sum[6]);
  printf("records on the left; section bytes as stored on the right (dvalues: "
         "dheap or delements); file %llu bytes\n",
         (unsigned long long)info.file_size);
  hf_delta_close(d);
  free(bytes);
  return TOOL_EXIT_OK;
}

static void json_str(const void *p, size_t len) {
  const unsigned char *c = p;
  size_t i;
  putchar('"');
  for (i = 0; i < len; i++) {
    if (c[i] == '"' || c[i] == '\\')
      printf("\\%c", c[i]);
    else if (c[i] == '\n')
      fputs("\\n", stdout);
    else if (c[i] == '\t')
      fputs("\\t", stdout);
    else if (c[i] < 0x20)
      printf("\\u%04x", c[i]);
    else
      putchar(c[i]);
  }
  putchar('"');
}

static void json_base64(const void *p, size_t len) {
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *c = p;
  size_t i;
  putchar('"');
  for (i = 0; i + 2 < len; i += 3)
    printf("%c%c%c%c", b64[c[i] >> 2], b64[(c[i] & 3) << 4 | c[i + 1] >> 4],
           b64[(c[i + 1] & 15) << 2 | c[i + 2] >> 6], b64[c[i + 2] & 63]);
  if (len - i == 1)
    printf("%c%c==", b64[c[i] >> 2], b64[(c[i] & 3) << 4]);
  else if (len - i == 2)
    printf("%c%c%c=", b64[c[i] >> 2], b64[(c[i] & 3) << 4 | c[i + 1] >> 4],
           b64[(c[i + 1] & 15) << 2]);
  putchar('"');
}

static void json_ref(const hf_schema *s, uint32_t type, uint32_t o) {
  printf("{\"$ref\":");
  {
    char buf[300];
    int n = snprintf(buf, sizeof buf, "%s#%lu", type_name_of(s, type),
                     (unsigned long)o);
    json_str(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0);
  }
  putchar('}');
}

/* Shortest %.Ng that reads back to the same value; non-finite as strings,
 * as hollow-dump writes records. */
static void json_real(double v, int lo, int hi, int is_float) {
  char txt[40];
  int p;
  if (!isfinite(v)) {
    fputs(isnan(v) ? "\"NaN\""
          : v > 0  ? "\"Infinity\""
                   : "\"-Infinity\"",
          stdout);
    return;
  }
  for (p = lo; p <= hi; p++) {
    snprintf(txt, sizeof txt, "%.*g", p, v);
    if (is_float ? strtof(txt, NULL) == (float)v : strtod(txt, NULL) == v)
      break;
  }
  fputs(txt, stdout);
}

static void json_value(const hf_schema *s, const hf_field_info *fi,
                       const hf_value *v) {
  switch (v->type) {
  case HF_FT_INT:
    printf("%ld", (long)v->u.i);
    break;
  case HF_FT_LONG:
    printf("%lld", (long long)v->u.l);
    break;
  case HF_FT_FLOAT:
    json_real((double)v->u.f, 6, 9, 1);
    break;
  case HF_FT_DOUBLE:
    json_real(v->u.d, 15, 17, 0);
    break;
  case HF_FT_BOOLEAN:
    fputs(v->u.b ? "true" : "false", stdout);
    break;
  case HF_FT_STRING:
    json_str(v->u.s.ptr, v->u.s.len);
    break;
  case HF_FT_BYTES:
    json_base64(v->u.s.ptr, v->u.s.len);
    break;
  default:
    json_ref(s, fi->ref_type, (uint32_t)v->u.l);
    break;
  }
}

/* The fields of the i-th added (all non-null) or changed (changed only,
 * null included) record of object type t, as a JSON object. */
static int json_fields(const hf_delta *d, const hf_schema *s, uint32_t t,
                       hf_delta_op op, uint64_t i, const char *name) {
  hf_type_info ti;
  uint32_t f;
  int first = 1;
  hf_schema_type(s, t, &ti);
  putchar('{');
  for (f = 0; f < ti.field_count; f++) {
    hf_field_info fi;
    hf_value v;
    int rc = hf_delta_field(d, t, op, i, f, &v);
    if (rc == HF_NOTFOUND || (rc == HF_NULL && op == HF_DELTA_OP_ADD))
      continue;
    if ((rc != HF_OK && rc != HF_NULL) ||
        hf_schema_field(s, t, f, &fi) != HF_OK) {
      tool_msg(name, "cannot read field %lu of a %s record: %s",
               (unsigned long)f, ti.name, hf_strerror(rc));
      return TOOL_EXIT_TROUBLE;
    }
    printf("%s", first ? "" : ",");
    json_str(fi.name, strlen(fi.name));
    putchar(':');
    if (rc == HF_NULL)
      fputs("null", stdout);
    else
      json_value(s, &fi, &v);
    first = 0;
  }
  putchar('}');
  return TOOL_EXIT_OK;
}

static void json_coll(const hf_delta *d, const hf_schema *s, uint32_t t,
                      uint64_t i) {
  hf_type_info ti;
  hf_coll c;
  uint64_t k;
  hf_schema_type(s, t, &ti);
  if (hf_delta_coll(d, t, i, &c) != HF_OK)
    return;
  putchar('[');
  for (k = 0; k < c.n; k++) {
    printf("%s", k ? "," : "");
    if (ti.kind == HF_KIND_MAP) {
      putchar('[');
      json_ref(s, ti.elem_type, hf_coll_key(&c, k));
      putchar(',');
      json_ref(s, ti.value_type, hf_coll_value(&c, k));
      putchar(']');
    } else {
      json_ref(s, ti.elem_type, hf_coll_elem(&c, k));
    }
  }
  putchar(']');
}

static int delta_type_records(const hf_delta *d, const hf_schema *s, uint32_t t,
                              const char *name) {
  static const char *const opname[3] = {"remove", "add", "change"};
  hf_type_info ti;
  size_t k;
  uint64_t i, n;
  hf_schema_type(s, t, &ti);
  for (k = 0; k < 3; k++) {
    n = hf_delta_count(d, t, delta_ops[k]);
    for (i = 0; i < n; i++) {
      printf("{\"op\":\"%s\",\"type\":", opname[k]);
      json_str(ti.name, strlen(ti.name));
      printf(",\"ordinal\":%lu",
             (unsigned long)hf_delta_ordinal(d, t, delta_ops[k], i));
      if (delta_ops[k] == HF_DELTA_OP_ADD) {
        fputs(",\"record\":", stdout);
        if (ti.kind != HF_KIND_OBJECT)
          json_coll(d, s, t, i);
        else if (json_fields(d, s, t, HF_DELTA_OP_ADD, i, name) != TOOL_EXIT_OK)
          return TOOL_EXIT_TROUBLE;
      } else if (delta_ops[k] == HF_DELTA_OP_CHANGE) {
        fputs(",\"fields\":", stdout);
        if (json_fields(d, s, t, HF_DELTA_OP_CHANGE, i, name) != TOOL_EXIT_OK)
          return TOOL_EXIT_TROUBLE;
      }
      fputs("}\n", stdout);
    }
  }
  return TOOL_EXIT_OK;
}

static int print_delta_records(const hf_reader *r, const dump_args *a) {
  const hf_schema *s = hf_reader_schema(r);
  const char *name = tool_name(a->path);
  uint32_t t, n = hf_schema_type_count(s);
  hf_delta *d;
  int status = TOOL_EXIT_OK;
  if (a->type_name != NULL &&
      hf_schema_type_find(s, a->type_name, strlen(a->type_name), &t) != HF_OK) {
    tool_msg(a->path, "no type '%s' in the schema", a->type_name);
    return TOOL_EXIT_TROUBLE;
  }
  if (open_delta(r, name, &d) != TOOL_EXIT_OK)
    return TOOL_EXIT_TROUBLE;
  if (a->type_name != NULL)
    status = delta_type_records(d, s, t, name);
  else /* every type: a change in a referenced type is a change too */
    for (t = 0; t < n && status == TOOL_EXIT_OK; t++)
      status = delta_type_records(d, s, t, name);
  hf_delta_close(d);
  return status;
}

static int print_records(const hf_reader *r, const dump_args *a) {
  const hf_schema *s = hf_reader_schema(r);
  uint32_t t, n = hf_schema_type_count(s);

  if (a->type_name != NULL) {
    if (hf_schema_type_find(s, a->type_name, strlen(a->type_name), &t) !=
        HF_OK) {
      tool_msg(a->path, "no type '%s' in the schema", a->type_name);
      return TOOL_EXIT_TROUBLE;
    }
    return write_type(r, t, tool_name(a->path));
  }
  for (t = 0; t < n; t++)
    if (!tool_type_referenced(s, t) &&
        write_type(r, t, tool_name(a->path)) != TOOL_EXIT_OK)
      return TOOL_EXIT_TROUBLE;
  return TOOL_EXIT_OK;
}

static int print_key(const hf_reader *r, const dump_args *a) {
  const hf_schema *s = hf_reader_schema(r);
  const char *name = tool_name(a->path);
  const char *parts[TOOL_MAX_KEY_ARGS];
  uint32_t t = target_type(s, a, 1);
  hf_type_info ti;
  hf_record rec;
  hf_error err;
  size_t n = 0;
  char *buf;
  int rc;

  if (t == HF_NO_TYPE)
    return TOOL_EXIT_TROUBLE;
  if (hf_schema_type(s, t, &ti) != HF_OK || ti.kind != HF_KIND_OBJECT ||
      ti.key_count == 0) {
    tool_msg(name, "type %s has no primary key", type_name_of(s, t));
    return TOOL_EXIT_TROUBLE;
  }
  buf = a->nkeys == 1 ? malloc(strlen(a->keys[0]) + 1) : NULL;
  if (a->nkeys == 1 && buf == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  if (buf != NULL)
    strcpy(buf, a->keys[0]);
  if (tool_key_parts(a->keys, a->nkeys, ti.key_count, buf, parts, &n) != 0) {
    tool_msg(name,
             "the primary key of %s has %lu part%s: give them as "
             "--key A --key B or --key A,B",
             ti.name, (unsigned long)ti.key_count,
             ti.key_count == 1 ? "" : "s");
    free(buf);
    return TOOL_EXIT_TROUBLE;
  }
  rc = hf_reader_find_text(r, t, parts, n, &rec, &err);
  if (rc == HF_NOTFOUND) {
    size_t i;
    char shown[512];
    size_t used = 0;
    shown[0] = '\0';
    for (i = 0; i < n && used < sizeof shown; i++) {
      int k = snprintf(shown + used, sizeof shown - used, "%s%s",
                       i > 0 ? "," : "", parts[i]);
      used += k > 0 ? (size_t)k : 0;
    }
    tool_msg(name, "no %s with key %s", ti.name, shown);
    free(buf);
    return TOOL_EXIT_NO;
  }
  free(buf);
  if (rc != HF_OK) {
    tool_msg_hf(name, rc, &err);
    return TOOL_EXIT_TROUBLE;
  }
  return write_record(r, t, rec.ordinal, name);
}

static int print_ordinal(const hf_reader *r, const dump_args *a) {
  const hf_schema *s = hf_reader_schema(r);
  const char *name = tool_name(a->path);
  uint32_t t = target_type(s, a, 0);

  if (t == HF_NO_TYPE)
    return TOOL_EXIT_TROUBLE;
  if (hf_reader_next(r, t, a->ordinal) != a->ordinal) {
    tool_msg(name, "no %s with ordinal %lu", type_name_of(s, t),
             (unsigned long)a->ordinal);
    return TOOL_EXIT_NO;
  }
  return write_record(r, t, a->ordinal, name);
}

static int print_verify(const hf_reader *r, const char *name) {
  const hf_schema *s = hf_reader_schema(r);
  hf_error err;
  hf_info info;
  unsigned long long records = 0;
  uint32_t t, n = hf_schema_type_count(s);
  int rc = hf_reader_verify(r, &err);

  if (rc != HF_OK) {
    tool_msg_hf(name, rc, &err);
    return TOOL_EXIT_TROUBLE;
  }
  hf_reader_info(r, &info);
  for (t = 0; t < n; t++)
    records += hf_reader_record_count(r, t);
  printf("OK: %lu types, %llu records, %lu sections, %llu bytes\n",
         (unsigned long)n, records, (unsigned long)info.section_count,
         (unsigned long long)info.file_size);
  return TOOL_EXIT_OK;
}

/* ---- main --------------------------------------------------------------- */

static int run(const dump_args *a) {
  const char *name = tool_name(a->path);
  hf_reader *r = NULL;
  hf_info info;
  int status = TOOL_EXIT_OK, printed = 0;

  if (tool_open_blob(a->path, 0, &r) != 0)
    return TOOL_EXIT_TROUBLE;
#define SEPARATE() (printed++ > 0 ? (void)putchar('\n') : (void)0)
  if (a->modes & MODE_HEADER) {
    SEPARATE();
    status = tool_worst(status, print_header(r, name));
  }
  if ((a->modes & MODE_SCHEMA) && status < TOOL_EXIT_TROUBLE) {
    SEPARATE();
    status = tool_worst(status, print_schema(r));
  }
  hf_reader_info(r, &info);
  if ((a->modes & MODE_STATS) && status < TOOL_EXIT_TROUBLE) {
    SEPARATE();
    status = tool_worst(status, info.kind == HF_BLOB_SNAPSHOT
                                    ? print_stats(r, name)
                                    : print_delta_stats(r, name));
  }
  if ((a->modes & MODE_RECORDS) && status < TOOL_EXIT_TROUBLE) {
    SEPARATE();
    status = tool_worst(status, info.kind == HF_BLOB_SNAPSHOT
                                    ? print_records(r, a)
                                    : print_delta_records(r, a));
  }
  if ((a->modes & MODE_KEY) && status < TOOL_EXIT_TROUBLE) {
    SEPARATE();
    status = tool_worst(status, print_key(r, a));
  }
  if ((a->modes & MODE_ORDINAL) && status < TOOL_EXIT_TROUBLE) {
    SEPARATE();
    status = tool_worst(status, print_ordinal(r, a));
  }
  if ((a->modes & MODE_VERIFY) && status < TOOL_EXIT_TROUBLE) {
    SEPARATE();
    status = tool_worst(status, print_verify(r, name));
  }
#undef SEPARATE
  hf_reader_close(r);
  return status;
}

int main(int argc, char **argv) {
  dump_args a;
  int status;

  tool_init(argc, argv, "hollow-dump");
  status = parse_args(argc, argv, &a);
  if (status != TOOL_CONTINUE)
    return status;
  tool_stdout_buffered();
  status = run(&a);
  return tool_close_stdout(status);
}
