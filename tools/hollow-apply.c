/*
 * hollow-apply - applies deltas and reverse deltas, in order, to a
 * snapshot (FORMAT.md §8.6) and writes the resulting snapshot.
 *
 *   hollow-apply v41.hollow 41-42.delta 42-43.delta -o v43.hollow
 *
 * Every delta must apply to the state the previous step produced; a wrong
 * base or a chain out of order is refused before anything is written.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hformat.h"
#include "tool_common.h"

typedef struct apply_args {
  const char *base_path;
  char **deltas;
  size_t n;
  const char *out_path;
  int force;
  int verbosity;
} apply_args;

static int usage_error(void) {
  fprintf(stderr, "Try '%s --help' for more information.\n", tool_prog());
  return TOOL_EXIT_TROUBLE;
}

static void usage(FILE *f) {
  fprintf(f,
          "Usage: %s [options] SNAPSHOT DELTA [DELTA...]\n"
          "Applies deltas (or reverse deltas) in order to SNAPSHOT and writes "
          "the\nresulting snapshot.\n"
          "\n"
          "  -o, --output FILE     publish atomically to FILE ('-' = stdout, "
          "default)\n"
          "  -f, --force           write binary output to a terminal\n"
          "  -q, --quiet           print errors only\n"
          "  -v, --verbose         print the states passed through to stderr\n"
          "  -h, --help            print this help and exit\n"
          "  -V, --version         print the version and exit\n"
          "\n"
          "Exit status: 0 written, 2 trouble (usage, refused input, I/O).\n",
          tool_prog());
}

static int parse_args(int argc, char **argv, apply_args *a) {
  static const struct option longs[] = {
      {"output", required_argument, NULL, 'o'},
      {"force", no_argument, NULL, 'f'},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  int c;
  memset(a, 0, sizeof *a);
  a->verbosity = 1;
  while ((c = getopt_long(argc, argv, "o:fqvhV", longs, NULL)) != -1) {
    switch (c) {
    case 'o':
      a->out_path = optarg;
      break;
    case 'f':
      a->force = 1;
      break;
    case 'q':
      a->verbosity = 0;
      break;
    case 'v':
      a->verbosity = 2;
      break;
    case 'h':
      usage(stdout);
      return tool_close_stdout(TOOL_EXIT_OK);
    case 'V':
      printf("%s %s (libhformat %s, format %d.%d)\n", tool_prog(),
             HF_VERSION_STRING, hf_version_string(), HF_FORMAT_MAJOR,
             HF_FORMAT_MINOR);
      return tool_close_stdout(TOOL_EXIT_OK);
    default:
      return usage_error();
    }
  }
  if (argc - optind < 2) {
    tool_msg(NULL, "missing %s",
             argc - optind < 1 ? "SNAPSHOT and DELTA" : "DELTA");
    return usage_error();
  }
  a->base_path = argv[optind];
  a->deltas = argv + optind + 1;
  a->n = (size_t)(argc - optind - 1);
  return -1;
}

static int is_stdout(const char *p) {
  return p == NULL || strcmp(p, "-") == 0;
}

static int open_blob(const char *path, hf_reader **out) {
  hf_error err;
  int rc = strcmp(path, "-") == 0
               ? hf_reader_open_fd(STDIN_FILENO, NULL, out, &err)
               : hf_reader_open(path, NULL, out, &err);
  if (rc != HF_OK) {
    tool_msg_hf(tool_name(path), rc, &err);
    return -1;
  }
  return 0;
}

/* Checks the kinds and the chain of states before any work, so that a
 * wrong base or order is reported with the files' names. */
static int check_chain(const apply_args *a, hf_reader *const *rs) {
  hf_info info;
  uint64_t cur;
  const char *cur_name = tool_name(a->base_path);
  size_t i;
  hf_reader_info(rs[0], &info);
  if (info.kind != HF_BLOB_SNAPSHOT) {
    tool_msg(cur_name, "is a delta, not a snapshot; the first argument is "
                       "the snapshot to apply deltas to");
    return -1;
  }
  cur = info.state;
  for (i = 0; i < a->n; i++) {
    const char *name = tool_name(a->deltas[i]);
    hf_reader_info(rs[i + 1], &info);
    if (info.kind == HF_BLOB_SNAPSHOT) {
      tool_msg(name, "is a snapshot, not a delta");
      return -1;
    }
    if (info.base_state != cur) {
      if (i == 0)
        tool_msg(name,
                 "delta applies to state 0x%016" PRIx64 ", but %s is state "
                 "0x%016" PRIx64 " (FORMAT.md §8.6, R-DLT-01)",
                 info.base_state, cur_name, cur);
      else
        tool_msg(name,
                 "delta applies to state 0x%016" PRIx64 ", but the result "
                 "of %s is state 0x%016" PRIx64
                 "; deltas must be given in chain order (R-DLT-01)",
                 info.base_state, cur_name, cur);
      return -1;
    }
    if (a->verbosity >= 2)
      tool_msg(name,
               "state %016" PRIx64 " -> %016" PRIx64 " (version %" PRIu64 ")",
               cur, info.state, info.dataset_version);
    cur = info.state;
    cur_name = name;
  }
  return 0;
}

int main(int argc, char **argv) {
  apply_args a;
  hf_reader **rs = NULL;
  hf_error err;
  size_t i, nstdin = 0;
  int status, rc;
  if (argc > 0 && strrchr(argv[0], '/') != NULL)
    argv[0] = strrchr(argv[0], '/') + 1;
  tool_set_prog(argc > 0 ? argv[0] : "hollow-apply");
  status = parse_args(argc, argv, &a);
  if (status >= 0)
    return status;
  if (is_stdout(a.out_path) && !a.force && isatty(STDOUT_FILENO)) {
    tool_msg(NULL, "refusing to write binary output to a terminal "
                   "(use -o FILE, a pipe, or -f)");
    return TOOL_EXIT_TROUBLE;
  }
  nstdin = strcmp(a.base_path, "-") == 0;
  for (i = 0; i < a.n; i++)
    nstdin += strcmp(a.deltas[i], "-") == 0;
  if (nstdin > 1) {
    tool_msg(NULL, "only one input can be stdin");
    return TOOL_EXIT_TROUBLE;
  }
  status = TOOL_EXIT_TROUBLE;
  if ((rs = calloc(a.n + 1, sizeof *rs)) == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  if (open_blob(a.base_path, &rs[0]) != 0)
    goto done;
  for (i = 0; i < a.n; i++)
    if (open_blob(a.deltas[i], &rs[i + 1]) != 0)
      goto done;
  if (check_chain(&a, rs) != 0)
    goto done;
  rc = is_stdout(a.out_path)
           ? hf_apply_write_fd(rs[0], (const hf_reader *const *)(rs + 1), a.n,
                               STDOUT_FILENO, &err)
           : hf_apply_write_path(rs[0], (const hf_reader *const *)(rs + 1), a.n,
                                 a.out_path, &err);
  if (rc != HF_OK) {
    /* Damage in a delta is reported against it; I/O against the output. */
    tool_msg_hf(rc == HF_E_IO
                    ? tool_name(is_stdout(a.out_path) ? "-" : a.out_path)
                : a.n == 1 ? tool_name(a.deltas[0])
                           : NULL,
                rc, &err);
    goto done;
  }
  status = TOOL_EXIT_OK;
done:
  for (i = 0; i <= a.n; i++)
    hf_reader_close(rs[i]);
  free(rs);
  return tool_close_stdout(status);
}
