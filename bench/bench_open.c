/*
 * bench_open.c - cost of opening a snapshot and answering a first lookup.
 *
 *   bench_open inproc [-n RUNS] [-t TYPE] [-f FIELD] FILE
 *       In one process, RUNS times: hf_reader_open, hf_reader_find of one
 *       key, hf_record_string of FIELD, hf_reader_close, each phase timed
 *       with clock_gettime (page cache warm, mapping fresh every time).
 *   bench_open spawn [-n RUNS] [-t TYPE] [-f FIELD] FILE [KEY...]
 *       Whole-process cost: RUNS times spawns "bench_open once FILE KEY" and
 *       waits for it (exec, open, find, read one string field, exit),
 *       alternating with "bench_open noop" (exec and exit only) so the
 *       difference is the cost of the snapshot work in a fresh process.
 *   bench_open once [-v] [-t TYPE] [-f FIELD] FILE KEY...
 *       One lookup by key text (hf_reader_find_text); -v prints the field.
 *   bench_open key [-t TYPE] FILE
 *       Prints the key of the middle record, one part per line.
 * Without KEY, the key of the middle record of TYPE is used.  TYPE defaults
 * to the keyed object type with the most records, FIELD to its first string
 * field that is not part of the key.
 * Exit status: 0 success (once: key found), 1 key not found or a child
 * failed, 2 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "hformat.h"

#define ME "bench_open"
#define KEY_TEXT_MAX 512

extern char **environ;

typedef struct opts {
  char *type_name, *field_name, *file; /* from argv */
  unsigned runs;
  int verbose;
  char **keys; /* key parts as text, or NULL */
  size_t nkeys;
} opts;

static int fail_with(const char *what, const hf_error *e, int status) {
  fprintf(stderr, ME ": %s: %s\n", what, e ? e->msg : strerror(errno));
  return status;
}

/* The middle populated ordinal of the target type: neither the first nor
 * the last record, which could sit in pages touched by the open. */
static int middle_key(const hf_reader *r, const hb_target *t, hf_value *vals,
                      hf_error *err) {
  const uint32_t lim = hf_reader_ordinal_limit(r, t->type);
  uint32_t o = hf_reader_next(r, t->type, lim / 2);
  if (o == HF_NO_ORDINAL)
    o = hf_reader_next(r, t->type, 0);
  if (o == HF_NO_ORDINAL) {
    snprintf(err->msg, sizeof err->msg, "type %u has no records", t->type);
    return HF_NOTFOUND;
  }
  return hb_key_values(r, t, o, vals, err);
}

/* ---- once / key / noop ------------------------------------------------ */

static int cmd_once(const opts *o) {
  hf_reader *r;
  hf_record rec;
  hf_error err;
  hb_target t;
  hf_view v;
  int rc;

  if (hf_reader_open(o->file, NULL, &r, &err) != HF_OK)
    return fail_with(o->file, &err, 2);
  if (hb_target_pick(r, o->type_name, o->field_name, &t, &err) != HF_OK) {
    hf_reader_close(r);
    return fail_with(o->file, &err, 2);
  }
  rc = hf_reader_find_text(r, t.type, (const char *const *)o->keys, o->nkeys,
                           &rec, &err);
  if (rc == HF_OK && t.str_field != HF_NO_TYPE) {
    int frc = hf_record_string(&rec, t.str_field, &v);
    if (frc < 0) {
      hf_reader_close(r);
      fprintf(stderr, ME ": %s: reading field: %s\n", o->file,
              hf_strerror(frc));
      return 2;
    }
    if (o->verbose && frc == HF_OK)
      printf("%.*s\n", (int)v.len, (const char *)v.ptr);
  }
  hf_reader_close(r);
  if (rc < 0)
    return fail_with(o->file, &err, 2);
  return rc == HF_OK ? 0 : 1;
}

static int cmd_key(const opts *o) {
  hf_value vals[HB_MAX_KEYS];
  hf_reader *r;
  hf_error err;
  hb_target t;
  uint32_t k;
  char buf[KEY_TEXT_MAX];

  if (hf_reader_open(o->file, NULL, &r, &err) != HF_OK)
    return fail_with(o->file, &err, 2);
  if (hb_target_pick(r, o->type_name, o->field_name, &t, &err) != HF_OK ||
      middle_key(r, &t, vals, &err) != HF_OK) {
    hf_reader_close(r);
    return fail_with(o->file, &err, 2);
  }
  for (k = 0; k < t.nkeys; k++) {
    if (hb_value_text(&vals[k], buf, sizeof buf) == 0 &&
        !(vals[k].type == HF_FT_STRING && vals[k].u.s.len == 0)) {
      hf_reader_close(r);
      fprintf(stderr, ME ": %s: key part %u has no text form\n", o->file, k);
      return 2;
    }
    printf("%s\n", buf);
  }
  hf_reader_close(r);
  return 0;
}

/* ---- inproc ------------------------------------------------------------- */

static void report(const char *name, double *us, unsigned runs) {
  const hb_stats s = hb_stats_of(us, runs);
  printf("%-26s us  median %9.2f  min %9.2f  max %9.2f  (%u runs)\n", name,
         s.median, s.min, s.max, runs);
}

static int cmd_inproc(const opts *o) {
  hf_value vals[HB_MAX_KEYS];
  hf_reader *setup;
  hf_error err;
  hb_target t;
  hf_info info;
  double *open_us, *find_us, *total_us, *close_us;
  unsigned i;
  int status = 0;

  /* The key values are taken from a reader that stays open, so string
   * parts remain valid while the timed readers come and go. */
  if (hf_reader_open(o->file, NULL, &setup, &err) != HF_OK)
    return fail_with(o->file, &err, 2);
  if (hb_target_pick(setup, o->type_name, o->field_name, &t, &err) != HF_OK ||
      middle_key(setup, &t, vals, &err) != HF_OK) {
    hf_reader_close(setup);
    return fail_with(o->file, &err, 2);
  }
  hf_reader_info(setup, &info);
  open_us = calloc(o->runs, sizeof *open_us);
  find_us = calloc(o->runs, sizeof *find_us);
  total_us = calloc(o->runs, sizeof *total_us);
  close_us = calloc(o->runs, sizeof *close_us);
  if (!open_us || !find_us || !total_us || !close_us) {
    status = fail_with("allocating", NULL, 2);
    goto out;
  }
  for (i = 0; i < o->runs; i++) {
    hf_reader *r;
    hf_record rec;
    hf_view v;
    uint64_t t0, t1, t2, t3;
    t0 = hb_now_ns();
    if (hf_reader_open(o->file, NULL, &r, &err) != HF_OK) {
      status = fail_with(o->file, &err, 2);
      goto out;
    }
    t1 = hb_now_ns();
    if (hf_reader_find(r, t.type, vals, t.nkeys, &rec) != HF_OK ||
        (t.str_field != HF_NO_TYPE &&
         hf_record_string(&rec, t.str_field, &v) < 0)) {
      hf_reader_close(r);
      fprintf(stderr, ME ": %s: first lookup failed\n", o->file);
      status = 1;
      goto out;
    }
    t2 = hb_now_ns();
    hf_reader_close(r);
    t3 = hb_now_ns();
    open_us[i] = (double)(t1 - t0) / 1e3;
    find_us[i] = (double)(t2 - t1) / 1e3;
    total_us[i] = (double)(t2 - t0) / 1e3;
    close_us[i] = (double)(t3 - t2) / 1e3;
  }
  printf("file %s: %" PRIu64 " bytes, %u records of type %u\n", o->file,
         info.file_size, hf_reader_record_count(setup, t.type), t.type);
  report("inproc.open", open_us, o->runs);
  report("inproc.first_find+string", find_us, o->runs);
  report("inproc.open+first_find", total_us, o->runs);
  report("inproc.close", close_us, o->runs);
out:
  free(open_us);
  free(find_us);
  free(total_us);
  free(close_us);
  hf_reader_close(setup);
  return status;
}

/* ---- spawn ----------------------------------------------------------------
 */

/* Runs argv with stdout on /dev/null; returns wall time in ns, or 0 after
 * printing why the child could not run or failed. */
static uint64_t time_child(char *const *argv) {
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int st, rc;
  uint64_t t0, t1;

  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  t0 = hb_now_ns();
  rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  if (rc == 0)
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
      ;
  t1 = hb_now_ns();
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    fprintf(stderr, ME ": spawn %s: %s\n", argv[0], strerror(rc));
    return 0;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, ME ": child '%s %s' failed (status %d)\n", argv[0], argv[1],
            st);
    return 0;
  }
  return t1 - t0 ? t1 - t0 : 1;
}

static int cmd_spawn(const opts *o) {
  char self[4096], keybuf[HB_MAX_KEYS][KEY_TEXT_MAX];
  char *once[8 + HB_MAX_KEYS], *noop[3];
  double *with_us, *bare_us, *diff_us;
  size_t n = 0, k;
  unsigned i;
  int status = 0;
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);

  if (len <= 0)
    return fail_with("/proc/self/exe", NULL, 2);
  self[len] = 0;
  once[n++] = self;
  once[n++] = (char *)"once";
  if (o->type_name) {
    once[n++] = (char *)"-t";
    once[n++] = o->type_name;
  }
  if (o->field_name) {
    once[n++] = (char *)"-f";
    once[n++] = o->field_name;
  }
  once[n++] = (char *)"--";
  once[n++] = o->file;
  if (o->nkeys) {
    if (o->nkeys > HB_MAX_KEYS) {
      fprintf(stderr, ME ": too many key parts\n");
      return 2;
    }
    for (k = 0; k < o->nkeys; k++)
      once[n++] = o->keys[k];
  } else {
    hf_value vals[HB_MAX_KEYS];
    hf_reader *r;
    hf_error err;
    hb_target t;
    if (hf_reader_open(o->file, NULL, &r, &err) != HF_OK)
      return fail_with(o->file, &err, 2);
    if (hb_target_pick(r, o->type_name, o->field_name, &t, &err) != HF_OK ||
        middle_key(r, &t, vals, &err) != HF_OK) {
      hf_reader_close(r);
      return fail_with(o->file, &err, 2);
    }
    for (k = 0; k < t.nkeys; k++) {
      hb_value_text(&vals[k], keybuf[k], sizeof keybuf[k]);
      once[n++] = keybuf[k];
    }
    hf_reader_close(r);
  }
  once[n] = NULL;
  noop[0] = self;
  noop[1] = (char *)"noop";
  noop[2] = NULL;

  with_us = calloc(o->runs, sizeof *with_us);
  bare_us = calloc(o->runs, sizeof *bare_us);
  diff_us = calloc(o->runs, sizeof *diff_us);
  if (!with_us || !bare_us || !diff_us) {
    status = fail_with("allocating", NULL, 2);
    goto out;
  }
  /* Alternate the two so machine noise hits both alike. */
  for (i = 0; i < o->runs; i++) {
    const uint64_t a = time_child(once), b = time_child(noop);
    if (!a || !b) {
      status = 1;
      goto out;
    }
    with_us[i] = (double)a / 1e3;
    bare_us[i] = (double)b / 1e3;
    diff_us[i] = with_us[i] - bare_us[i];
  }
  printf("file %s, key", o->file);
  for (k = 4 + (o->type_name ? 2 : 0) + (o->field_name ? 2 : 0); k < n; k++)
    printf(" '%s'", once[k]);
  printf("\n");
  report("process.open+find+read", with_us, o->runs);
  report("process.exec+exit_only", bare_us, o->runs);
  report("process.difference", diff_us, o->runs);
out:
  free(with_us);
  free(bare_us);
  free(diff_us);
  return status;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: " ME " inproc [-n RUNS] [-t TYPE] [-f FIELD] FILE\n"
          "       " ME " spawn [-n RUNS] [-t TYPE] [-f FIELD] FILE [KEY...]\n"
          "       " ME " once [-v] [-t TYPE] [-f FIELD] FILE KEY...\n"
          "       " ME " key [-t TYPE] FILE\n");
}

int main(int argc, char **argv) {
  opts o;
  const char *cmd;
  int c;

  if (argc >= 2 && strcmp(argv[1], "noop") == 0)
    return 0; /* baseline child: exec, dynamic linking, exit */
  if (argc < 2 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  cmd = argv[1];
  memset(&o, 0, sizeof o);
  o.runs = 1000;
  argc--;
  argv++;
  while ((c = getopt(argc, argv, "n:t:f:vh")) != -1) {
    switch (c) {
    case 'n':
      o.runs = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 't':
      o.type_name = optarg;
      break;
    case 'f':
      o.field_name = optarg;
      break;
    case 'v':
      o.verbose = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind >= argc || o.runs == 0) {
    usage(stderr);
    return 2;
  }
  o.file = argv[optind];
  o.keys = argv + optind + 1;
  o.nkeys = (size_t)(argc - optind - 1);
  if (strcmp(cmd, "once") == 0 && o.nkeys > 0)
    return cmd_once(&o);
  if (strcmp(cmd, "key") == 0 && o.nkeys == 0)
    return cmd_key(&o);
  if (strcmp(cmd, "inproc") == 0 && o.nkeys == 0)
    return cmd_inproc(&o);
  if (strcmp(cmd, "spawn") == 0)
    return cmd_spawn(&o);
  usage(stderr);
  return 2;
}
