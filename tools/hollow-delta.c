/*
 * hollow-delta - computes the delta (and the reverse delta) between two
 * snapshots, the second built from the first (FORMAT.md §8).
 *
 *   hollow-delta v41.hollow v42.hollow -o 41-42.delta -r 42-41.rdelta
 *
 * Outputs are published atomically; on any refusal nothing is written.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hformat.h"
#include "tool_common.h"

typedef struct delta_args {
  const char *old_path, *new_path;
  const char *out_path; /* NULL or "-" = stdout */
  const char *rev_path; /* NULL = no reverse delta */
  uint32_t flags;
  tool_opts o;
} delta_args;

static void usage(FILE *f) {
  fprintf(f,
          "Usage: %s [options] OLD NEW\n"
          "Writes the delta that turns snapshot OLD into snapshot NEW (NEW "
          "built\nwith hollow-build -b OLD), and optionally the reverse "
          "delta.\n"
          "\n"
          "  -o, --output FILE     write the delta to FILE ('-' = stdout, "
          "default)\n"
          "  -r, --reverse FILE    also write the reverse delta (NEW -> OLD)\n"
          "      --lz4             compress delta sections with LZ4 where it "
          "pays\n"
          "  -f, --force           write binary output to a terminal\n"
          "  -q, --quiet           print errors only\n"
          "  -v, --verbose         print sizes and states to stderr\n"
          "  -h, --help            print this help and exit\n"
          "  -V, --version         print the version and exit\n"
          "\n"
          "Exit status: 0 written, 2 trouble (usage, refused input, I/O).\n",
          tool_prog());
}

enum { OPT_LZ4 = 256 };

static int parse_args(int argc, char **argv, delta_args *a) {
  static const struct option longs[] = {
      {"output", required_argument, NULL, 'o'},
      {"reverse", required_argument, NULL, 'r'},
      {"lz4", no_argument, NULL, OPT_LZ4},
      TOOL_LONGS_FQV,
      TOOL_LONGS_HV,
      {NULL, 0, NULL, 0}};
  int c;
  memset(a, 0, sizeof *a);
  a->o.verbosity = 1;
  while ((c = getopt_long(argc, argv, "o:r:fqvhV", longs, NULL)) != -1) {
    int status;
    switch (c) {
    case 'o':
      a->out_path = optarg;
      break;
    case 'r':
      a->rev_path = optarg;
      break;
    case OPT_LZ4:
      a->flags |= HF_DELTA_LZ4;
      break;
    default:
      if ((status = tool_option(c, &a->o, usage)) != TOOL_CONTINUE)
        return status;
    }
  }
  if (argc - optind != 2) {
    tool_msg(NULL, argc - optind == 0   ? "missing OLD and NEW snapshots"
                   : argc - optind == 1 ? "missing the NEW snapshot"
                                        : "too many arguments (OLD NEW)");
    return tool_usage_error();
  }
  a->old_path = argv[optind];
  a->new_path = argv[optind + 1];
  return TOOL_CONTINUE;
}

/* Opens and verifies a snapshot argument ("-" = stdin). */
static int open_snapshot(const char *path, hf_reader **out) {
  hf_info info;
  if (tool_open_blob(path, 1, out) != 0)
    return -1;
  hf_reader_info(*out, &info);
  if (info.kind != HF_BLOB_SNAPSHOT) {
    tool_msg(tool_name(path),
             "is a %s, not a snapshot (apply it first with hollow-apply)",
             info.kind == HF_BLOB_DELTA ? "delta" : "reverse delta");
    hf_reader_close(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

/* Writes one delta; reports refusals against the file they are about. */
static int write_one(const delta_args *a, const hf_reader *from,
                     const hf_reader *to, uint32_t flags, const char *path) {
  hf_error err;
  int rc = tool_is_std(path)
               ? hf_delta_write_fd(from, to, flags, STDOUT_FILENO, &err)
               : hf_delta_write_path(from, to, flags, path, &err);
  if (rc == HF_OK)
    return 0;
  if (rc == HF_E_IO)
    tool_msg_hf(tool_is_std(path) ? "<stdout>" : path, rc, &err);
  else if (rc == HF_E_ARG || rc == HF_E_SCHEMA)
    tool_msg(tool_name(a->new_path), "cannot compute a delta from %s: %s",
             tool_name(a->old_path), err.msg);
  else
    tool_msg_hf(tool_name(a->new_path), rc, &err);
  return -1;
}

static void report(const char *what, const char *path, const hf_reader *from,
                   const hf_reader *to) {
  hf_reader *r = tool_reopen_output(path);
  hf_info fi, ti, di;
  hf_reader_info(from, &fi);
  hf_reader_info(to, &ti);
  if (r == NULL) {
    tool_msg(NULL, "%s: state %016" PRIx64 " -> %016" PRIx64, what, fi.state,
             ti.state);
    return;
  }
  hf_reader_info(r, &di);
  tool_msg(path,
           "%s of %" PRIu64 " bytes (%.2f%% of the %" PRIu64
           "-byte target), state %016" PRIx64 " -> %016" PRIx64,
           what, di.file_size,
           ti.file_size ? 100.0 * (double)di.file_size / (double)ti.file_size
                        : 0.0,
           ti.file_size, fi.state, ti.state);
  hf_reader_close(r);
}

int main(int argc, char **argv) {
  delta_args a;
  hf_reader *from = NULL, *to = NULL;
  int status;
  tool_init(argc, argv, "hollow-delta");
  status = parse_args(argc, argv, &a);
  if (status != TOOL_CONTINUE)
    return status;
  if (tool_refuse_tty(a.out_path, a.o.force) != 0)
    return TOOL_EXIT_TROUBLE;
  if (tool_is_std(a.old_path) && tool_is_std(a.new_path)) {
    tool_msg(NULL, "OLD and NEW cannot both be stdin");
    return TOOL_EXIT_TROUBLE;
  }
  if (a.rev_path != NULL && tool_is_std(a.rev_path) &&
      tool_is_std(a.out_path)) {
    tool_msg(NULL, "the delta and the reverse delta cannot both go to "
                   "stdout");
    return TOOL_EXIT_TROUBLE;
  }
  status = TOOL_EXIT_TROUBLE;
  if (open_snapshot(a.old_path, &from) != 0 ||
      open_snapshot(a.new_path, &to) != 0)
    goto done;
  if (write_one(&a, from, to, a.flags, a.out_path) != 0)
    goto done;
  if (a.rev_path != NULL &&
      write_one(&a, to, from, a.flags | HF_DELTA_REVERSE, a.rev_path) != 0) {
    if (!tool_is_std(a.out_path))
      unlink(a.out_path); /* both or neither */
    goto done;
  }
  status = TOOL_EXIT_OK;
  if (a.o.verbosity >= 2) {
    report("delta", a.out_path, from, to);
    if (a.rev_path != NULL)
      report("reverse delta", a.rev_path, to, from);
  }
done:
  hf_reader_close(from);
  hf_reader_close(to);
  return tool_close_stdout(status);
}
