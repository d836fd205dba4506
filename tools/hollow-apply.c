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
  tool_opts o;
} apply_args;

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
      TOOL_LONGS_FQV,
      TOOL_LONGS_HV,
      {NULL, 0, NULL, 0}};
  int c;
  memset(a, 0, sizeof *a);
  a->o.verbosity = 1;
  while ((c = getopt_long(argc, argv, "o:fqvhV", longs, NULL)) != -1) {
    int status;
    if (c == 'o')
      a->out_path = optarg;
    else if ((status = tool_option(c, &a->o, usage)) != TOOL_CONTINUE)
      return status;
  }
  if (argc - optind < 2) {
    tool_msg(NULL, "missing %s",
             argc - optind < 1 ? "SNAPSHOT and DELTA" : "DELTA");
    return tool_usage_error();
  }
  a->base_path = argv[optind];
  a->deltas = argv + optind + 1;
  a->n = (size_t)(argc - optind - 1);
  return TOOL_CONTINUE;
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
    if (a->o.verbosity >= 2)
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
  tool_init(argc, argv, "hollow-apply");
  status = parse_args(argc, argv, &a);
  if (status != TOOL_CONTINUE)
    return status;
  if (tool_refuse_tty(a.out_path, a.o.force) != 0)
    return TOOL_EXIT_TROUBLE;
  nstdin = (size_t)tool_is_std(a.base_path);
  for (i = 0; i < a.n; i++)
    nstdin += (size_t)tool_is_std(a.deltas[i]);
  if (nstdin > 1) {
    tool_msg(NULL, "only one input can be stdin");
    return TOOL_EXIT_TROUBLE;
  }
  status = TOOL_EXIT_TROUBLE;
  if ((rs = calloc(a.n + 1, sizeof *rs)) == NULL) {
    tool_msg(NULL, "out of memory");
    return TOOL_EXIT_TROUBLE;
  }
  if (tool_open_blob(a.base_path, 0, &rs[0]) != 0)
    goto done;
  for (i = 0; i < a.n; i++)
    if (tool_open_blob(a.deltas[i], 0, &rs[i + 1]) != 0)
      goto done;
  if (check_chain(&a, rs) != 0)
    goto done;
  rc = tool_is_std(a.out_path)
           ? hf_apply_write_fd(rs[0], (const hf_reader *const *)(rs + 1), a.n,
                               STDOUT_FILENO, &err)
           : hf_apply_write_path(rs[0], (const hf_reader *const *)(rs + 1), a.n,
                                 a.out_path, &err);
  if (rc != HF_OK) {
    /* Damage in a delta is reported against it; I/O against the output. */
    tool_msg_hf(rc == HF_E_IO
                    ? (tool_is_std(a.out_path) ? "<stdout>" : a.out_path)
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
