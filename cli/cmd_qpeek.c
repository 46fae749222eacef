/* SPDX-License-Identifier: MIT */
/* qpeek: a running job's output as written so far, and with -f as it
 * grows until the job ends. A job writes its stdout and stderr straight
 * to their files (opened as its user), so qpeek reads them as whoever
 * runs it: it shows nothing that person could not read with cat, and
 * needs no file to be world-readable. */
#include "jobfields.h"
#include "jobs_fetch.h"

#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char qpeek_usage[] = "Usage: qpeek [-o | -e] [-f] [-n lines] job_id\n"
                                  "Shows a job's standard output (or error) as written so far.\n"
                                  "  -o  standard output (the default)\n"
                                  "  -e  standard error (with -j oe, it is in the output)\n"
                                  "  -f  follow: keep printing what the job writes until it ends\n"
                                  "  -n  only the last lines (as tail -n)\n";

/* Offset of the start of the last n lines of fd's first size bytes. */
static off_t
last_lines_start(int fd, off_t size, long n) {
  char buf[8192];
  off_t pos = size;
  long seen = 0;
  bool first = true;
  while (pos > 0) {
    size_t want = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
    pos -= (off_t)want;
    if (pread(fd, buf, want, pos) != (ssize_t)want)
      return 0;
    for (size_t i = want; i-- > 0;) {
      if (buf[i] != '\n')
        continue;
      if (first && pos + (off_t)i == size - 1) {
        first = false; /* the file's own last newline ends the last line */
        continue;
      }
      if (++seen == n)
        return pos + (off_t)i + 1;
    }
    first = false;
  }
  return 0;
}

/* Copies fd from *off to its end to stdout; -errno on a read error. */
static int
copy_from(int fd, off_t *off) {
  char buf[65536];
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), *off);
    if (n < 0)
      return errno == EINTR ? 0 : -errno;
    if (n == 0)
      return 0;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
      return -EIO;
    *off += n;
  }
}

/* The job's state now ('F' when it is gone or finished). */
static char
job_state_now(struct cli_ctx *ctx, char *id) {
  struct joblist l;
  int errors;
  char st = 'F';
  if (jobs_fetch(ctx, FETCH_FINISHED, &id, 1, &l, &errors) == 0 && l.n == 1)
    st = (char)l.jobs[0].state;
  joblist_free(&l);
  return st;
}

int
cmd_qpeek(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
  bool err_stream = false, follow = false;
  long lines = -1;
  int o;
  while ((o = getopt_long(argc, argv, "eofn:h", opts, NULL)) != -1) {
    switch (o) {
      case 'e':
        err_stream = true;
        break;
      case 'o':
        err_stream = false;
        break;
      case 'f':
        follow = true;
        break;
      case 'n': {
        int64_t v;
        if (parse_i64(optarg, 0, 1000000000, &v) < 0) {
          cli_error(ctx, "-n '%s': give a number of lines", optarg);
          return 2;
        }
        lines = (long)v;
        break;
      }
      case 'h':
        fputs(qpeek_usage, stdout);
        return 0;
      default:
        fputs(qpeek_usage, stderr);
        return 2;
    }
  }
  if (argc - optind != 1) {
    fputs(qpeek_usage, stderr);
    return 2;
  }
  char *id = argv[optind];
  struct joblist l;
  int errors;
  if (jobs_fetch(ctx, FETCH_FINISHED, &id, 1, &l, &errors) < 0 || l.n != 1) {
    joblist_free(&l);
    return 1;
  }
  const struct job_rec *j = &l.jobs[0];
  if (j->array_spec) {
    cli_error(ctx, "%s is an array job: peek at one of its tasks (%s[INDEX])", id, id);
    joblist_free(&l);
    return 1;
  }
  if (j->state != JOB_RUNNING && j->state != JOB_EXITING && j->state != JOB_FINISHED) {
    cli_error(ctx, "job %s has not started: it has no output yet", id);
    joblist_free(&l);
    return 1;
  }
  bool joined = err_stream ? j->join == JOIN_OE : j->join == JOIN_EO;
  _cleanup_free_ char *path =
      err_stream != joined ? job_err_path(j, ctx->server) : job_out_path(j, ctx->server);
  bool done = j->state == JOB_FINISHED;
  joblist_free(&l);
  if (joined)
    fprintf(stderr, "qpeek: the job's standard %s goes to its %s (-j): %s\n",
            err_stream ? "error" : "output", err_stream ? "output" : "error", path);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
    return 1;
  }
  struct stat st;
  off_t off = 0;
  if (lines >= 0 && fstat(fd, &st) == 0)
    off = lines == 0 ? st.st_size : last_lines_start(fd, st.st_size, lines);
  int r = copy_from(fd, &off);
  /* -f: what the job writes, until it ends; then what it wrote last. */
  for (unsigned tick = 0; r == 0 && follow && !done; tick++) {
    fflush(stdout);
    struct timespec ts = {0, 200 * 1000000};
    nanosleep(&ts, NULL);
    if (tick % 5 == 4)
      done = job_state_now(ctx, id) == JOB_FINISHED;
    r = copy_from(fd, &off);
  }
  close(fd);
  if (r < 0) {
    cli_error(ctx, "cannot read %s: %s", path, strerror(-r));
    return 1;
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
