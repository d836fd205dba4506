/*
 * hollow-build - builds a hollow snapshot from a schema and JSON Lines.
 *
 *   extract | hollow-build -s catalog.hsl -b v41.hollow -o v42.hollow
 *
 * Nothing is written unless every input line is accepted: the whole input is
 * added to the builder first (streamed, parsed on worker threads), then the
 * snapshot is written in one go (to a temporary file renamed into place for
 * -o PATH).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hformat.h"
#include "tool_common.h"

typedef struct build_args {
  const char *schema_path;
  const char *base_path;
  const char *type_name;
  const char *out_path; /* NULL or "-" = stdout */
  const char *in_path;  /* NULL or "-" = stdin */
  uint64_t dataset_version;
  uint64_t max_line; /* bytes; longer input lines are refused */
  uint32_t threads;  /* 0 = one per online CPU, at most MAX_THREADS */
  uint32_t flags;
  tool_opts o;
} build_args;

static void usage(FILE *f) {
  fprintf(f,
          "Usage: %s -s SCHEMA [options] [INPUT|-]\n"
          "Builds a hollow snapshot from JSON Lines (one record per line).\n"
          "\n"
          "  -s, --schema FILE     schema (.hsl) of the snapshot (required)\n"
          "  -b, --base FILE       previous snapshot: keep its ordinals\n"
          "  -t, --type TYPE       type of the input records (default: the\n"
          "                        first type declared in the schema)\n"
          "      --version N       dataset version (default: base + 1, or 1)\n"
          "      --ignore-unknown  skip JSON fields the schema does not have\n"
          "      --max-line BYTES  refuse longer input lines (default 64 MiB)\n"
          "  -j, --threads N       threads (default: one per CPU plus one, at "
          "most 8)\n"
          "  -o, --output FILE     publish atomically to FILE ('-' = stdout)\n"
          "  -f, --force           write binary output to a terminal\n"
          "  -q, --quiet           print errors only\n"
          "  -v, --verbose         print a summary to stderr\n"
          "  -h, --help            print this help and exit\n"
          "  -V, --version         print the version and exit\n"
          "\n"
          "Exit status: 0 written, 2 trouble (usage, rejected input, I/O).\n",
          tool_prog());
}

enum { OPT_IGNORE_UNKNOWN = 256, OPT_VERSION, OPT_MAX_LINE };

/* Parsing runs on all threads but one, building on that one, which is
 * busy only part of the time: one thread per CPU plus one keeps the CPUs
 * busy.  Past a few parsers the building thread sets the pace. */
#define MAX_THREADS 8

/* Default limit on one JSON line (SCHEMA.md §6.1): a record that large is
 * almost certainly broken input, and the parser's token array grows with
 * the line. */
#define BUILD_MAX_LINE (UINT64_C(64) << 20)

/* Parses argv into *a.  Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, build_args *a) {
  static const struct option longs[] = {
      {"schema", required_argument, NULL, 's'},
      {"base", required_argument, NULL, 'b'},
      {"type", required_argument, NULL, 't'},
      {"output", required_argument, NULL, 'o'},
      TOOL_LONGS_FQV,
      {"help", no_argument, NULL, 'h'},
      {"version", optional_argument, NULL, OPT_VERSION},
      {"dataset-version", required_argument, NULL, OPT_VERSION},
      {"ignore-unknown", no_argument, NULL, OPT_IGNORE_UNKNOWN},
      {"max-line", required_argument, NULL, OPT_MAX_LINE},
      {"threads", required_argument, NULL, 'j'},
      {NULL, 0, NULL, 0}};
  int c;

  memset(a, 0, sizeof *a);
  a->o.verbosity = 1;
  a->max_line = BUILD_MAX_LINE;
  while ((c = getopt_long(argc, argv, "s:b:t:o:j:fqvhV", longs, NULL)) != -1) {
    const char *num;
    int status;
    switch (c) {
    case 's':
      a->schema_path = optarg;
      break;
    case 'b':
      a->base_path = optarg;
      break;
    case 't':
      a->type_name = optarg;
      break;
    case 'o':
      a->out_path = optarg;
      break;
    case OPT_IGNORE_UNKNOWN:
      a->flags |= HF_BUILD_IGNORE_UNKNOWN;
      break;
    case OPT_MAX_LINE:
      if (tool_parse_u64(optarg, &a->max_line) != 0 || a->max_line == 0) {
        tool_msg(NULL, "--max-line: '%s' is not a positive number of bytes",
                 optarg);
        return tool_usage_error();
      }
      break;
    case 'j': {
      uint64_t n;
      if (tool_parse_u64(optarg, &n) != 0 || n == 0 || n > 256) {
        tool_msg(NULL, "--threads: '%s' is not a number from 1 to 256", optarg);
        return tool_usage_error();
      }
      a->threads = (uint32_t)n;
      break;
    }
    case OPT_VERSION:
      /* "--version N" / "--version=N" set the dataset version; a bare
       * "--version" (no decimal number after it) prints the tool version,
       * like every other tool's -V. */
      num = optarg;
      if (num == NULL && optind < argc &&
          tool_parse_u64(argv[optind], &a->dataset_version) == 0)
        num = argv[optind++];
      if (num == NULL)
        return tool_version();
      if (tool_parse_u64(num, &a->dataset_version) != 0 ||
          a->dataset_version == 0) {
        tool_msg(NULL, "--version: not a positive integer: '%s'", num);
        return TOOL_EXIT_TROUBLE;
      }
      break;
    default:
      if ((status = tool_option(c, &a->o, usage)) != TOOL_CONTINUE)
        return status;
    }
  }
  if (a->schema_path == NULL) {
    tool_msg(NULL, "missing -s SCHEMA");
    return tool_usage_error();
  }
  if (argc - optind > 1) {
    tool_msg(NULL, "too many inputs (one JSON Lines file or '-')");
    return tool_usage_error();
  }
  if (optind < argc)
    a->in_path = argv[optind];
  return TOOL_CONTINUE;
}

static int load_schema(const char *path, hf_schema **out) {
  tool_input in;
  hf_error err;
  int rc;

  if (tool_input_load(path, &in) != 0)
    return -1;
  rc = hf_schema_parse(in.data, in.len, out, &err);
  tool_input_free(&in);
  if (rc != HF_OK) {
    tool_msg_hf(tool_name(path), rc, &err);
    return -1;
  }
  return 0;
}

static uint32_t default_threads(void) {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 2 : n + 1 > MAX_THREADS ? MAX_THREADS : (uint32_t)n + 1;
}

/* The base is verified in full before its ordinals are used.  With more
 * than one thread that runs beside the ingest, which reads the base only
 * when the snapshot is written; a corrupt base is still what is reported,
 * even when the input has an error too, as when it was verified first. */
typedef struct base_check {
  const char *path;
  const hf_reader *base;
  pthread_t tid;
  int running;
  int rc;
  hf_error err;
} base_check;

static void *verify_main(void *arg) {
  base_check *c = arg;
  c->rc = hf_reader_verify(c->base, &c->err);
  return NULL;
}

static void base_check_start(base_check *c, const char *path,
                             const hf_reader *base, uint32_t threads) {
  memset(c, 0, sizeof *c);
  c->path = path;
  c->base = base;
  if (base == NULL)
    return;
  if (threads > 1 && pthread_create(&c->tid, NULL, verify_main, c) == 0)
    c->running = 1;
  else
    verify_main(c);
}

/* 0 when there is no base or it verified; else -1 after printing why. */
static int base_check_end(base_check *c) {
  if (c->running)
    pthread_join(c->tid, NULL);
  c->running = 0;
  if (c->base == NULL || c->rc == HF_OK)
    return 0;
  tool_msg_hf(tool_name(c->path), c->rc, &c->err);
  return -1;
}

/* Adds every non-blank line of the input as a root record of `type`.
 * Returns the number of records added, or -1 after printing the first
 * error. */
static long long add_input(hf_builder *b, uint32_t type, const build_args *a,
                           base_check *bc) {
  const char *name = tool_name(a->in_path);
  hf_jsonl_opts o;
  hf_error err;
  uint64_t n = 0;
  int fd, rc;

  if ((fd = tool_input_fd(a->in_path)) < 0) {
    base_check_end(bc);
    return -1;
  }
  memset(&o, 0, sizeof o);
  o.type = type;
  o.threads = a->threads ? a->threads : default_threads();
  o.max_line = a->max_line;
  rc = hf_builder_add_jsonl(b, fd, &o, &n, &err);
  if (fd != STDIN_FILENO)
    close(fd);
  if (rc != HF_OK) {
    if (base_check_end(bc) != 0)
      return -1;
    if (rc == HF_E_LIMIT && err.code == rc &&
        strncmp(err.msg, "line of ", 8) == 0) {
      const size_t l = strlen(err.msg); /* name the option that sets it */
      snprintf(err.msg + l, sizeof err.msg - l, " (--max-line)");
    }
    /* positions are reported as file:LINE (the column is in the message's
     * own terms, a byte of the line) */
    if (err.code == rc)
      err.column = 0;
    tool_msg_hf(name, rc, &err);
    return -1;
  }
  return (long long)n;
}

static const char *type_name_of(const hf_schema *s, uint32_t t) {
  hf_type_info ti;
  return hf_schema_type(s, t, &ti) == HF_OK ? ti.name : "?";
}

static void summary(const build_args *a, const hf_schema *s, long long records,
                    uint64_t state, const hf_reader *base, double elapsed) {
  hf_info bi;
  unsigned long long bytes = 0;
  const char *out = tool_is_std(a->out_path) ? "<stdout>" : a->out_path;
  /* Reopen what was written for its size and per-type counts; a file
   * written to stdout cannot be reread, so only its state is known. */
  hf_reader *r = tool_reopen_output(a->out_path);

  if (r != NULL) {
    hf_info info;
    uint32_t t, n = hf_schema_type_count(s);
    hf_reader_info(r, &info);
    bytes = info.file_size;
    fprintf(stderr, "%s: %s: %lld input records; records:", tool_prog(), out,
            records);
    for (t = 0; t < n; t++)
      fprintf(stderr, " %s %lu%s", type_name_of(s, t),
              (unsigned long)hf_reader_record_count(r, t),
              t + 1 < n ? "," : ";");
    fprintf(stderr, " %llu bytes;", bytes);
    hf_reader_close(r);
  } else {
    fprintf(stderr, "%s: %s: %lld input records, %lu types;", tool_prog(), out,
            records, (unsigned long)hf_schema_type_count(s));
  }
  fprintf(stderr, " state %016llx", (unsigned long long)state);
  if (base != NULL) {
    hf_reader_info(base, &bi);
    fprintf(stderr, "%s", bi.state == state ? " (unchanged)" : " (changed)");
  }
  fprintf(stderr, "; %.3f s\n", elapsed);
}

static int write_output(const build_args *a, hf_builder *b, uint64_t *state) {
  hf_error err;
  int rc;

  if (tool_is_std(a->out_path)) {
    rc = hf_builder_write_fd(b, STDOUT_FILENO, state, &err);
    if (rc != HF_OK) {
      tool_msg_hf("<stdout>", rc, &err);
      return -1;
    }
    return 0;
  }
  rc = hf_builder_write_path(b, a->out_path, state, &err);
  if (rc != HF_OK) {
    tool_msg_hf(a->out_path, rc, &err);
    return -1;
  }
  return 0;
}

static int run(const build_args *a) {
  const double t0 = tool_now();
  hf_schema *schema = NULL;
  hf_reader *base = NULL;
  hf_builder *b = NULL;
  hf_build_opts opts;
  base_check bc;
  hf_error err;
  uint32_t type = 0;
  uint64_t state = 0;
  long long records = -1;
  int rc, status = TOOL_EXIT_TROUBLE;

  if (load_schema(a->schema_path, &schema) != 0)
    goto done;
  if (a->type_name != NULL) {
    if (hf_schema_type_find(schema, a->type_name, strlen(a->type_name),
                            &type) != HF_OK) {
      tool_msg(a->schema_path, "no type '%s' in the schema", a->type_name);
      goto done;
    }
  } else if (hf_schema_type_count(schema) == 0) {
    tool_msg(a->schema_path, "the schema declares no type");
    goto done;
  }
  if (a->base_path != NULL && tool_open_blob(a->base_path, 0, &base) != 0)
    goto done;

  memset(&opts, 0, sizeof opts);
  opts.base = base;
  opts.dataset_version = a->dataset_version;
  opts.flags = a->flags;
  opts.threads = a->threads ? a->threads : default_threads();
  base_check_start(&bc, a->base_path, base, opts.threads);
  rc = hf_builder_new(schema, &opts, &b, &err);
  if (rc != HF_OK) {
    if (base_check_end(&bc) == 0)
      tool_msg_hf(a->base_path != NULL ? a->base_path : a->schema_path, rc,
                  &err);
    goto done;
  }
  records = add_input(b, type, a, &bc);
  if (records < 0 || base_check_end(&bc) != 0)
    goto done;
  if (write_output(a, b, &state) != 0)
    goto done;
  status = TOOL_EXIT_OK;
  if (a->o.verbosity >= 2)
    summary(a, schema, records, state, base, tool_now() - t0);

done:
  hf_builder_free(b);
  hf_reader_close(base);
  hf_schema_free(schema);
  return status;
}

int main(int argc, char **argv) {
  build_args a;
  int status;

  tool_init(argc, argv, "hollow-build");
  status = parse_args(argc, argv, &a);
  if (status != TOOL_CONTINUE)
    return status;
  /* Refuse before any work so a forgotten -o fails fast (lz4, zstd). */
  if (tool_refuse_tty(a.out_path, a.o.force) != 0)
    return TOOL_EXIT_TROUBLE;
  if (a.base_path != NULL && tool_is_std(a.base_path) &&
      tool_is_std(a.in_path)) {
    tool_msg(NULL, "the base and the input cannot both be stdin");
    return TOOL_EXIT_TROUBLE;
  }
  status = run(&a);
  return tool_close_stdout(status);
}
