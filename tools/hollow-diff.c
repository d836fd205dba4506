/*
 * hollow-diff - what changed between two versions of a dataset: records
 * added, removed and changed, by primary key, down to the field.
 *
 * A and B are snapshots of one schema, or B is a delta (or reverse delta)
 * that applies to A: it is applied in memory first.  Output is text (one
 * block per record) or JSON Lines (one change per line), then one summary
 * line per type.  Exit status as diff(1): 0 equal, 1 different, 2 trouble.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hformat.h"
#include "tool_common.h"

#define STOP_DIFFERENT 3 /* callback value that ends a -q run early */

typedef struct diff_args {
  const char *path[2];
  const char *type_name;
  const char *keys[TOOL_MAX_KEY_ARGS];
  size_t nkeys;
  int jsonl;
  int summary;
  int quiet;
} diff_args;

/* What the callback needs to print one event. */
typedef struct printer {
  const diff_args *a;
  const char *type_name;
  hf_error err;
  int failed; /* an error is in err */
} printer;

static void usage(FILE *f) {
  fprintf(f,
          "Usage: %s [options] A B\n"
          "Shows the records added, removed and changed from snapshot A to "
          "B, by\n"
          "primary key, with the changed fields and their old and new "
          "values.\n"
          "B may also be a delta (or reverse delta) that applies to A.  "
          "Either file\n"
          "may be '-' (stdin).\n"
          "\n"
          "  -f, --format FMT    text (default: one block per record) or "
          "jsonl\n"
          "                      (one change per line)\n"
          "  -t, --type TYPE     compare TYPE only (default: every root "
          "type)\n"
          "  -k, --key K         only the record with primary key K "
          "(repeat for\n"
          "                      composite keys)\n"
          "  -s, --summary       counts only\n"
          "  -q, --quiet         print nothing; the exit status tells\n"
          "  -h, --help          print this help and exit\n"
          "  -V, --version       print the version and exit\n"
          "\n"
          "Exit status: 0 no differences, 1 differences, 2 trouble.\n",
          tool_prog());
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, diff_args *a) {
  static const struct option longs[] = {
      {"format", required_argument, NULL, 'f'},
      {"type", required_argument, NULL, 't'},
      {"key", required_argument, NULL, 'k'},
      {"summary", no_argument, NULL, 's'},
      {"quiet", no_argument, NULL, 'q'},
      TOOL_LONGS_HV,
      {NULL, 0, NULL, 0}};
  int c;

  memset(a, 0, sizeof *a);
  while ((c = getopt_long(argc, argv, "f:t:k:sqhV", longs, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "text") == 0) {
        a->jsonl = 0;
      } else if (strcmp(optarg, "jsonl") == 0) {
        a->jsonl = 1;
      } else {
        tool_msg(NULL, "--format: '%s' is neither text nor jsonl", optarg);
        return tool_usage_error();
      }
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
      break;
    case 's':
      a->summary = 1;
      break;
    case 'q':
      a->quiet = 1;
      break;
    default:
      return tool_option(c, NULL, usage);
    }
  }
  if (argc - optind != 2) {
    tool_msg(NULL, argc - optind < 2 ? "missing file: need A and B"
                                     : "too many files: need A and B");
    return tool_usage_error();
  }
  a->path[0] = argv[optind];
  a->path[1] = argv[optind + 1];
  if (tool_is_std(a->path[0]) && tool_is_std(a->path[1])) {
    tool_msg(NULL, "only one of A and B can be '-' (stdin)");
    return tool_usage_error();
  }
  return TOOL_CONTINUE;
}

/* ---- types -------------------------------------------------------------- */

/* The type --key addresses: --type, else the only keyed root type. */
static uint32_t key_type(const hf_schema *s, const diff_args *a) {
  uint32_t t, n = hf_schema_type_count(s), found = HF_NO_TYPE, keyed = 0;
  hf_type_info ti;
  if (a->type_name != NULL) {
    if (hf_schema_type_find(s, a->type_name, strlen(a->type_name), &t) !=
        HF_OK) {
      tool_msg(NULL, "no type '%s' in the schema", a->type_name);
      return HF_NO_TYPE;
    }
    if (hf_schema_type(s, t, &ti) != HF_OK || ti.kind != HF_KIND_OBJECT ||
        ti.key_count == 0) {
      tool_msg(NULL, "--key: type '%s' has no primary key", a->type_name);
      return HF_NO_TYPE;
    }
    return t;
  }
  for (t = 0; t < n; t++)
    if (!tool_type_referenced(s, t) && hf_schema_type(s, t, &ti) == HF_OK &&
        ti.kind == HF_KIND_OBJECT && ti.key_count > 0) {
      keyed++;
      found = t;
    }
  if (keyed == 1)
    return found;
  tool_msg(NULL, "--key: %u keyed root types: name one with --type",
           (unsigned)keyed);
  return HF_NO_TYPE;
}

/* ---- output -------------------------------------------------------------- */

static void out(const char *s) {
  fputs(s, stdout);
}

/* Runs a library writer; remembers its first failure. */
#define TRY(p, call)                                                           \
  do {                                                                         \
    if (!(p)->failed && (call) < 0)                                            \
      (p)->failed = 1;                                                         \
  } while (0)

static void print_value(printer *p, const hf_diff_value *v) {
  TRY(p, hf_diff_write_value(v, tool_stdout_write, NULL, &p->err));
}

/* The whole record an HF_DIFF_ADD change adds, as a value to print. */
static hf_diff_value added_record(const hf_diff_change *c) {
  hf_diff_value rec;
  memset(&rec, 0, sizeof rec);
  rec.kind = HF_DV_RECORD;
  rec.reader = c->reader_b;
  rec.type = c->type;
  rec.ordinal = c->ordinal_b;
  return rec;
}

static void print_text(printer *p, const hf_diff_change *c) {
  const hf_diff_value *o = &c->old_value, *n = &c->new_value;
  switch (c->op) {
  case HF_DIFF_ADD:
  case HF_DIFF_REMOVE:
  case HF_DIFF_CHANGE:
    printf("%c %s ",
           c->op == HF_DIFF_ADD      ? '+'
           : c->op == HF_DIFF_REMOVE ? '-'
                                     : '~',
           p->type_name);
    TRY(p, hf_diff_write_key(c, HF_DIFF_KEY_TEXT, tool_stdout_write, NULL,
                             &p->err));
    if (c->op == HF_DIFF_ADD) {
      const hf_diff_value rec = added_record(c);
      out(" ");
      print_value(p, &rec);
    }
    out("\n");
    return;
  case HF_DIFF_FIELD:
    printf("    %s: ", c->path_len > 0 ? c->path : ".");
    if (o->kind == HF_DV_LENGTH) {
      printf("length %llu -> %llu\n", (unsigned long long)o->length,
             (unsigned long long)n->length);
      return;
    }
    if (o->kind == HF_DV_NONE) {
      out("+ ");
      print_value(p, n);
    } else if (n->kind == HF_DV_NONE) {
      out("- ");
      print_value(p, o);
    } else {
      print_value(p, o);
      out(" -> ");
      print_value(p, n);
    }
    out("\n");
    return;
  }
}

static void print_jsonl(printer *p, const hf_diff_change *c) {
  const hf_diff_value *o = &c->old_value, *n = &c->new_value;
  if (c->op == HF_DIFF_CHANGE)
    return; /* its fields are the lines */
  printf("{\"op\":\"%s\",\"type\":", c->op == HF_DIFF_ADD      ? "add"
                                     : c->op == HF_DIFF_REMOVE ? "remove"
                                                               : "change");
  /* type names are identifiers (SCHEMA.md): nothing to escape */
  printf("\"%s\"", p->type_name);
  out(",\"key\":");
  TRY(p,
      hf_diff_write_key(c, HF_DIFF_KEY_JSON, tool_stdout_write, NULL, &p->err));
  if (c->op == HF_DIFF_ADD) {
    const hf_diff_value rec = added_record(c);
    out(",\"record\":");
    print_value(p, &rec);
  } else if (c->op == HF_DIFF_FIELD) {
    out(",\"path\":");
    TRY(p, hf_diff_write_path(c, tool_stdout_write, NULL, &p->err));
    if (o->kind == HF_DV_LENGTH) {
      printf(",\"old_length\":%llu,\"new_length\":%llu",
             (unsigned long long)o->length, (unsigned long long)n->length);
    } else {
      if (o->kind != HF_DV_NONE) {
        out(",\"old\":");
        print_value(p, o);
      }
      if (n->kind != HF_DV_NONE) {
        out(",\"new\":");
        print_value(p, n);
      }
    }
  }
  out("}\n");
}

static int on_change(void *ctx, const hf_diff_change *c) {
  printer *p = ctx;
  if (p->a->quiet)
    return STOP_DIFFERENT;
  if (p->a->summary)
    return 0;
  if (p->a->jsonl)
    print_jsonl(p, c);
  else
    print_text(p, c);
  return p->failed ? -1 : 0;
}

static void print_summary(const printer *p, const hf_diff_counts *n) {
  if (p->a->quiet)
    return;
  if (p->a->jsonl)
    printf("{\"op\":\"summary\",\"type\":\"%s\",\"added\":%llu,"
           "\"removed\":%llu,\"changed\":%llu}\n",
           p->type_name, (unsigned long long)n->added,
           (unsigned long long)n->removed, (unsigned long long)n->changed);
  else
    printf("%llu added, %llu removed, %llu changed (%s)\n",
           (unsigned long long)n->added, (unsigned long long)n->removed,
           (unsigned long long)n->changed, p->type_name);
}

/* ---- running ------------------------------------------------------------- */

/* Diffs one type (or one record of it when ord[] is given); 0 equal, 1
 * different, 2 trouble. */
static int diff_type(const diff_args *a, const hf_reader *ra,
                     const hf_reader *rb, uint32_t t, const uint32_t *ord) {
  const uint32_t flags = a->summary || a->quiet ? HF_DIFF_RECORDS_ONLY : 0u;
  hf_type_info ti;
  hf_diff_counts n;
  printer p;
  int rc;

  memset(&p, 0, sizeof p);
  p.a = a;
  hf_schema_type(hf_reader_schema(ra), t, &ti);
  p.type_name = ti.name;
  if (ord != NULL)
    rc = hf_diff_record(ra, rb, t, ord[0], ord[1], flags, on_change, &p, &n,
                        &p.err);
  else
    rc = hf_diff(ra, rb, t, flags, on_change, &p, &n, &p.err);
  if (rc == STOP_DIFFERENT)
    return TOOL_EXIT_NO;
  if (rc != HF_OK) {
    /* the library names the side at fault as snapshot A or B */
    char both[512];
    snprintf(both, sizeof both, "%s vs %s", tool_name(a->path[0]),
             tool_name(a->path[1]));
    tool_msg_hf(both, p.failed ? p.err.code : rc, &p.err);
    return TOOL_EXIT_TROUBLE;
  }
  print_summary(&p, &n);
  return n.added + n.removed + n.changed > 0 ? TOOL_EXIT_NO : TOOL_EXIT_OK;
}

/* --key: the record's ordinal in each snapshot (HF_NO_ORDINAL if absent). */
static int diff_key(const diff_args *a, const hf_reader *const r[2]) {
  const hf_schema *s = hf_reader_schema(r[0]);
  const uint32_t t = key_type(s, a);
  const char *parts[TOOL_MAX_KEY_ARGS];
  uint32_t ord[2];
  hf_type_info ti;
  size_t n = 0;
  char *buf;
  int side, status = TOOL_EXIT_TROUBLE;
  if (t == HF_NO_TYPE || hf_schema_type(s, t, &ti) != HF_OK)
    return TOOL_EXIT_TROUBLE;
  if ((buf = malloc(strlen(a->keys[0]) + 1)) == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  strcpy(buf, a->keys[0]);
  if (tool_key_parts(a->keys, a->nkeys, ti.key_count, buf, parts, &n) != 0) {
    tool_msg(NULL,
             "the primary key of %s has %lu part%s: give them as "
             "--key A --key B or --key A,B",
             ti.name, (unsigned long)ti.key_count,
             ti.key_count == 1 ? "" : "s");
    goto done;
  }
  for (side = 0; side < 2; side++) {
    hf_record rec;
    hf_error err;
    int rc = hf_reader_find_text(r[side], t, parts, n, &rec, &err);
    if (rc < 0) {
      tool_msg_hf(tool_name(a->path[side]), rc, &err);
      goto done;
    }
    ord[side] = rc == HF_OK ? rec.ordinal : HF_NO_ORDINAL;
  }
  if (ord[0] == HF_NO_ORDINAL && ord[1] == HF_NO_ORDINAL)
    tool_msg(NULL, "--key: no %s with that key in A or in B", ti.name);
  else
    status = diff_type(a, r[0], r[1], t, ord);
done:
  free(buf);
  return status;
}

static int run_diff(const diff_args *a, const hf_reader *const r[2]) {
  const hf_schema *s = hf_reader_schema(r[0]);
  uint32_t t, n = hf_schema_type_count(s);
  int status = TOOL_EXIT_OK;
  if (a->nkeys > 0)
    return diff_key(a, r);
  if (a->type_name != NULL) {
    if (hf_schema_type_find(s, a->type_name, strlen(a->type_name), &t) !=
        HF_OK) {
      tool_msg(NULL, "no type '%s' in the schema", a->type_name);
      return TOOL_EXIT_TROUBLE;
    }
    return diff_type(a, r[0], r[1], t, NULL);
  }
  for (t = 0; t < n && status < TOOL_EXIT_TROUBLE; t++) {
    if (tool_type_referenced(s, t))
      continue;
    status = tool_worst(status, diff_type(a, r[0], r[1], t, NULL));
    if (a->quiet && status == TOOL_EXIT_NO)
      break;
  }
  return status;
}

/* B is a delta: replaces it by the snapshot it makes of A.  The result lives
 * in *buf (free after closing the reader). */
static int apply_delta(const diff_args *a, hf_reader *r[2], void **buf) {
  const hf_reader *const deltas[1] = {r[1]};
  hf_reader *made = NULL;
  size_t len = 0;
  hf_error err;
  int rc = hf_apply_mem(r[0], deltas, 1, buf, &len, &err);
  if (rc != HF_OK) {
    tool_msg_hf(tool_name(a->path[1]), rc, &err);
    return -1;
  }
  if ((rc = hf_reader_open_mem(*buf, len, NULL, &made, &err)) != HF_OK) {
    tool_msg_hf(tool_name(a->path[1]), rc, &err);
    return -1;
  }
  hf_reader_close(r[1]);
  r[1] = made;
  return 0;
}

static int run(const diff_args *a) {
  hf_reader *r[2] = {NULL, NULL};
  void *applied = NULL;
  int status = TOOL_EXIT_TROUBLE, side;
  hf_info info[2];

  for (side = 0; side < 2; side++) {
    if (tool_open_blob(a->path[side], 0, &r[side]) != 0)
      goto done;
    hf_reader_info(r[side], &info[side]);
  }
  if (info[0].kind != HF_BLOB_SNAPSHOT) {
    tool_msg(tool_name(a->path[0]), "A must be a snapshot, not a delta");
    goto done;
  }
  if (info[1].kind != HF_BLOB_SNAPSHOT && apply_delta(a, r, &applied) != 0)
    goto done;
  status = run_diff(a, (const hf_reader *const *)r);
done:
  hf_reader_close(r[0]);
  hf_reader_close(r[1]);
  free(applied);
  return status;
}

int main(int argc, char **argv) {
  diff_args a;
  int status;

  tool_init(argc, argv, "hollow-diff");
  status = parse_args(argc, argv, &a);
  if (status != TOOL_CONTINUE)
    return status;
  tool_stdout_buffered();
  status = run(&a);
  return tool_close_stdout(status);
}
