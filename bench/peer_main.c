/*
 * peer_main.c - the same lookup work against hollow and its peers; linked
 * with one bench/peer_<name>.c (see peer.h).
 *
 *   peer_NAME once [-v] FILE KEY
 *       Open FILE, look KEY up, read its title, exit (-v prints it).
 *       Exit 0 found, 1 absent, 2 error.
 *   peer_NAME spawn [-n RUNS] FILE KEY
 *       Whole-process cost of "once": RUNS times posix_spawn + waitpid of
 *       this program with "once FILE KEY", alternating with "noop" (exec
 *       and exit only).  Prints microseconds, median/min/max of each.
 *   peer_NAME race [-n RUNS] KEY PROGRAM FILE [PROGRAM FILE]...
 *       The spawn measurement for several peer programs, round by round
 *       (each round spawns every PROGRAM's once and noop in turn), so all
 *       see the same machine load.  Prints per pair i: race-i-once,
 *       race-i-noop and race-i-diff (once - noop of the same round), us.
 *   peer_NAME warm [-n OPS] [-r RUNS] [-t THREADS] [-k MAXID] [-s SEED] FILE
 *       Each of THREADS threads looks up OPS random existing keys (uniform
 *       in 1..MAXID, fixed seed, drawn before timing) and reads the title
 *       of each; RUNS runs.  Prints ns per lookup per thread (wall time of
 *       the slowest thread / OPS), median/min/max over the runs.  Fails
 *       unless every key is found.
 *   peer_NAME noop
 * Exit status: 0 success, 1 a key was absent or a child failed, 2 usage or
 * library error.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

#define MSG_CAP 256

extern char **environ;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t x = (*s += UINT64_C(0x9e3779b97f4a7c15));
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void print_stats(const char *label, const char *unit, double *v,
                        size_t n) {
  double med;
  qsort(v, n, sizeof *v, cmp_double);
  med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  printf("%s %s median %.2f min %.2f max %.2f runs %zu\n", label, unit, med,
         v[0], v[n - 1], n);
}

int peer_json_title(const char *json, size_t n, const char **s, size_t *len) {
  static const char pat[] = "\"title\":\"";
  const size_t m = sizeof pat - 1;
  size_t i, j;

  for (i = 0; i + m <= n; i++) {
    if (json[i] != '"' || memcmp(json + i, pat, m) != 0)
      continue;
    for (j = i + m; j < n && json[j] != '"'; j++)
      if (json[j] == '\\')
        j++; /* an escaped character cannot end the string */
    if (j >= n)
      return 0;
    *s = json + i + m;
    *len = j - (i + m);
    return 1;
  }
  return 0;
}

static int parse_key(const char *text, int64_t *key) {
  char *end;
  long long v;
  errno = 0;
  v = strtoll(text, &end, 10);
  if (errno || end == text || *end)
    return -1;
  *key = (int64_t)v;
  return 0;
}

/* ---- once -----------------------------------------------------------------
 */

static int cmd_once(const char *file, const char *key_text, int verbose) {
  char msg[MSG_CAP] = "";
  peer_db *db;
  peer_cur *cur;
  const char *s;
  size_t len;
  int64_t key;
  int rc;

  if (parse_key(key_text, &key) != 0) {
    fprintf(stderr, "%s: bad key '%s'\n", peer_name, key_text);
    return 2;
  }
  if (peer_open(file, &db, msg, sizeof msg) != 0) {
    fprintf(stderr, "%s: %s: %s\n", peer_name, file, msg);
    return 2;
  }
  if (peer_cur_open(db, &cur, msg, sizeof msg) != 0) {
    fprintf(stderr, "%s: %s: %s\n", peer_name, file, msg);
    peer_close(db);
    return 2;
  }
  rc = peer_get(cur, key, &s, &len, msg, sizeof msg);
  if (rc == 1 && verbose)
    printf("%.*s\n", (int)len, s);
  if (rc < 0)
    fprintf(stderr, "%s: %s: %s\n", peer_name, file, msg);
  peer_cur_close(cur);
  peer_close(db);
  return rc == 1 ? 0 : rc == 0 ? 1 : 2;
}

/* ---- spawn ----------------------------------------------------------------
 */

/* Microseconds for one spawn + wait of argv; negative if it failed. */
static double spawn_us(char *const argv[]) {
  const uint64_t t0 = now_ns();
  pid_t pid;
  int status;
  if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
    return -1;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return -1;
  return (double)(now_ns() - t0) / 1e3;
}

static int cmd_spawn(const char *self, const char *file, const char *key,
                     unsigned runs) {
  char *once_argv[5], *noop_argv[3];
  double *once_us = malloc(runs * sizeof *once_us);
  double *noop_us = malloc(runs * sizeof *noop_us);
  unsigned i;
  int status = 0;

  if (!once_us || !noop_us) {
    free(once_us);
    free(noop_us);
    return 2;
  }
  /* posix_spawn wants char *const[]; the strings are not modified. */
  once_argv[0] = noop_argv[0] = (char *)(uintptr_t)self;
  once_argv[1] = (char *)(uintptr_t) "once";
  once_argv[2] = (char *)(uintptr_t)file;
  once_argv[3] = (char *)(uintptr_t)key;
  once_argv[4] = NULL;
  noop_argv[1] = (char *)(uintptr_t) "noop";
  noop_argv[2] = NULL;
  for (i = 0; i < runs; i++) {
    once_us[i] = spawn_us(once_argv);
    noop_us[i] = spawn_us(noop_argv);
    if (once_us[i] < 0 || noop_us[i] < 0) {
      fprintf(stderr, "%s: spawn of '%s once %s %s' failed\n", peer_name, self,
              file, key);
      status = 1;
      break;
    }
  }
  if (status == 0) {
    print_stats("spawn-once", "us", once_us, runs);
    print_stats("spawn-noop", "us", noop_us, runs);
  }
  free(once_us);
  free(noop_us);
  return status;
}

/* race: the spawn measurement for several programs at once, round by
 * round (each round runs every program's "once" and "noop" in turn), so
 * that a machine whose load changes during the run treats all alike. */
static int cmd_race(unsigned runs, const char *key, char **pairs,
                    size_t npairs) {
  double *once_us = malloc(runs * npairs * sizeof *once_us);
  double *noop_us = malloc(runs * npairs * sizeof *noop_us);
  double *diff_us = malloc(runs * npairs * sizeof *diff_us);
  unsigned i;
  size_t p;
  int status = 0;

  if (!once_us || !noop_us || !diff_us) {
    status = 2;
    goto out;
  }
  for (i = 0; i < runs && status == 0; i++)
    for (p = 0; p < npairs; p++) {
      char *once_argv[5], *noop_argv[3];
      const size_t k = p * runs + i;
      once_argv[0] = noop_argv[0] = pairs[2 * p];
      once_argv[1] = (char *)(uintptr_t) "once";
      once_argv[2] = pairs[2 * p + 1];
      once_argv[3] = (char *)(uintptr_t)key;
      once_argv[4] = NULL;
      noop_argv[1] = (char *)(uintptr_t) "noop";
      noop_argv[2] = NULL;
      once_us[k] = spawn_us(once_argv);
      noop_us[k] = spawn_us(noop_argv);
      diff_us[k] = once_us[k] - noop_us[k];
      if (once_us[k] < 0 || noop_us[k] < 0) {
        fprintf(stderr, "%s: spawn of '%s once %s %s' failed\n", peer_name,
                pairs[2 * p], pairs[2 * p + 1], key);
        status = 1;
        break;
      }
    }
  for (p = 0; p < npairs && status == 0; p++) {
    char label[32];
    snprintf(label, sizeof label, "race-%zu-once", p);
    print_stats(label, "us", once_us + p * runs, runs);
    snprintf(label, sizeof label, "race-%zu-noop", p);
    print_stats(label, "us", noop_us + p * runs, runs);
    snprintf(label, sizeof label, "race-%zu-diff", p);
    print_stats(label, "us", diff_us + p * runs, runs);
  }
out:
  free(once_us);
  free(noop_us);
  free(diff_us);
  return status;
}

/* ---- warm -----------------------------------------------------------------
 */

typedef struct worker {
  peer_db *db;
  const int64_t *keys;
  size_t ops;
  pthread_barrier_t *start;
  uint64_t ns;
  uint64_t found, sum; /* sum of title bytes read: keeps the reads live */
  int failed;
  char msg[MSG_CAP];
} worker;

static void *work(void *arg) {
  worker *w = arg;
  peer_cur *cur;
  uint64_t t0, found = 0, sum = 0;
  size_t i;
  int ok = peer_cur_open(w->db, &cur, w->msg, sizeof w->msg) == 0;

  pthread_barrier_wait(w->start);
  if (!ok) {
    w->failed = 1;
    return NULL;
  }
  t0 = now_ns();
  for (i = 0; i < w->ops; i++) {
    const char *s;
    size_t len;
    const int rc = peer_get(cur, w->keys[i], &s, &len, w->msg, sizeof w->msg);
    if (rc < 0) {
      w->failed = 1;
      break;
    }
    if (rc == 1) {
      found++;
      sum += len + (len ? (unsigned char)s[0] + (unsigned char)s[len - 1] : 0);
    }
  }
  w->ns = now_ns() - t0;
  w->found = found;
  w->sum = sum;
  peer_cur_close(cur);
  return NULL;
}

typedef struct warm_opts {
  size_t ops;
  unsigned runs, threads;
  int64_t maxid;
  uint64_t seed;
} warm_opts;

/* One run: every thread over its own keys; wall time of the slowest in
 * ns per lookup, or a negative value on failure. */
static double warm_run(peer_db *db, int64_t *const *keys, const warm_opts *o) {
  pthread_t tid[64];
  worker w[64];
  pthread_barrier_t start;
  uint64_t slowest = 0;
  unsigned t;
  int failed = 0;

  pthread_barrier_init(&start, NULL, o->threads);
  for (t = 0; t < o->threads; t++) {
    memset(&w[t], 0, sizeof w[t]);
    w[t].db = db;
    w[t].keys = keys[t];
    w[t].ops = o->ops;
    w[t].start = &start;
  }
  for (t = 1; t < o->threads; t++)
    if (pthread_create(&tid[t], NULL, work, &w[t]) != 0)
      abort(); /* the barrier would never open: nothing to recover */
  work(&w[0]);
  for (t = 1; t < o->threads; t++)
    pthread_join(tid[t], NULL);
  pthread_barrier_destroy(&start);
  for (t = 0; t < o->threads; t++) {
    if (w[t].failed) {
      fprintf(stderr, "%s: lookup failed: %s\n", peer_name, w[t].msg);
      failed = 1;
    } else if (w[t].found != o->ops) {
      fprintf(stderr, "%s: %" PRIu64 " of %zu existing keys found\n", peer_name,
              w[t].found, o->ops);
      failed = 1;
    }
    if (w[t].ns > slowest)
      slowest = w[t].ns;
  }
  return failed ? -1 : (double)slowest / (double)o->ops;
}

static int cmd_warm(const char *file, const warm_opts *o) {
  char msg[MSG_CAP] = "";
  int64_t *keys[64] = {NULL};
  double *ns = calloc(o->runs, sizeof *ns);
  peer_db *db = NULL;
  uint64_t seed = o->seed;
  unsigned t, r;
  size_t i;
  int status = 0;

  if (!ns)
    return 2;
  for (t = 0; t < o->threads; t++) {
    keys[t] = malloc(o->ops * sizeof *keys[t]);
    if (!keys[t]) {
      status = 2;
      goto out;
    }
    for (i = 0; i < o->ops; i++)
      keys[t][i] = 1 + (int64_t)(splitmix(&seed) % (uint64_t)o->maxid);
  }
  if (peer_open(file, &db, msg, sizeof msg) != 0) {
    fprintf(stderr, "%s: %s: %s\n", peer_name, file, msg);
    status = 2;
    goto out;
  }
  for (r = 0; r < o->runs; r++) {
    ns[r] = warm_run(db, keys, o);
    if (ns[r] < 0) {
      status = 1;
      goto out;
    }
  }
  {
    char label[64];
    snprintf(label, sizeof label, "warm-%ut", o->threads);
    print_stats(label, "ns/op", ns, o->runs);
  }
out:
  if (db)
    peer_close(db);
  for (t = 0; t < o->threads; t++)
    free(keys[t]);
  free(ns);
  return status;
}

/* ---- main -----------------------------------------------------------------
 */

static int usage(void) {
  fprintf(stderr,
          "usage: %s once [-v] FILE KEY | spawn [-n RUNS] FILE KEY |\n"
          "       race [-n RUNS] KEY PROGRAM FILE [PROGRAM FILE]... |\n"
          "       warm [-n OPS] [-r RUNS] [-t THREADS] [-k MAXID] [-s SEED] "
          "FILE | noop | what\n",
          peer_name);
  return 2;
}

int main(int argc, char **argv) {
  warm_opts wo = {1000000, 5, 1, 1000000, 42};
  unsigned runs = 100;
  int verbose = 0, opt;
  const char *cmd;

  if (argc < 2)
    return usage();
  cmd = argv[1];
  if (strcmp(cmd, "noop") == 0)
    return 0;
  if (strcmp(cmd, "what") == 0) {
    printf("%s\n", peer_reads);
    return 0;
  }
  optind = 2;
  while ((opt = getopt(argc, argv, "vn:r:t:k:s:")) != -1) {
    switch (opt) {
    case 'v':
      verbose = 1;
      break;
    case 'n':
      wo.ops = strtoul(optarg, NULL, 10);
      runs = (unsigned)wo.ops;
      break;
    case 'r':
      wo.runs = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 't':
      wo.threads = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 'k':
      wo.maxid = strtoll(optarg, NULL, 10);
      break;
    case 's':
      wo.seed = strtoull(optarg, NULL, 10);
      break;
    default:
      return usage();
    }
  }
  if (strcmp(cmd, "once") == 0 && argc - optind == 2)
    return cmd_once(argv[optind], argv[optind + 1], verbose);
  if (strcmp(cmd, "spawn") == 0 && argc - optind == 2 && runs > 0)
    return cmd_spawn(argv[0], argv[optind], argv[optind + 1], runs);
  if (strcmp(cmd, "race") == 0 && argc - optind >= 3 &&
      (argc - optind - 1) % 2 == 0 && runs > 0)
    return cmd_race(runs, argv[optind], argv + optind + 1,
                    (size_t)(argc - optind - 1) / 2);
  if (strcmp(cmd, "warm") == 0 && argc - optind == 1 && wo.ops > 0 &&
      wo.runs > 0 && wo.threads > 0 && wo.threads <= 64 && wo.maxid > 0)
    return cmd_warm(argv[optind], &wo);
  return usage();
}
