/* SPDX-License-Identifier: MIT */
/* qsub's parsers: #PBS, Grid Engine's #$ and Slurm's #SBATCH directives
 * of any script, and any command line in each language. */
#include "qsub_opts.h"
#include "qsub_sge.h"
#include "slurm_opts.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = xmalloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  struct qsub_opts o;
  struct berr err = {{0}};
  qsub_opts_init(&o);
  if (qsub_parse_directives(&o, text, size, "fuzz.sh", "#PBS", &err) < 0 && !err.msg[0])
    __builtin_trap(); /* every rejection must say why */
  qsub_opts_free(&o);
  qsub_opts_init(&o);
  err.msg[0] = '\0';
  if ((qsub_sge_parse_directives(&o, text, size, "fuzz.sh", "#$", &err) < 0 ||
       qsub_sge_finish(&o, &err) < 0) &&
      !err.msg[0])
    __builtin_trap();
  qsub_opts_free(&o);
  qsub_opts_init(&o);
  err.msg[0] = '\0';
  if ((slurm_parse_directives(&o, text, size, "fuzz.sh", &err) < 0 || slurm_finish(&o, &err) < 0) &&
      !err.msg[0])
    __builtin_trap();
  qsub_opts_free(&o);
  char **words;
  int n;
  if (qsub_split_words(text, &words, &n, &err) == 0) {
    qsub_opts_init(&o);
    int idx;
    err.msg[0] = '\0';
    if (qsub_parse_args(&o, n, words, true, &idx, &err) < 0 && !err.msg[0])
      __builtin_trap();
    struct qsub_opts sge;
    qsub_opts_init(&sge);
    err.msg[0] = '\0';
    if (qsub_sge_parse_args(&sge, n, words, true, &idx, &err) < 0 && !err.msg[0])
      __builtin_trap();
    qsub_opts_merge(&o, &sge);
    qsub_opts_free(&sge);
    struct qsub_opts slurm;
    qsub_opts_init(&slurm);
    err.msg[0] = '\0';
    if (slurm_parse_args(&slurm, n, words, true, &idx, &err) < 0 && !err.msg[0])
      __builtin_trap();
    qsub_opts_merge(&o, &slurm);
    qsub_opts_free(&slurm);
    struct qsub_opts merged;
    qsub_opts_init(&merged);
    qsub_opts_merge(&merged, &o);
    qsub_opts_free(&merged);
    qsub_opts_free(&o);
    for (int i = 0; i < n; i++)
      free(words[i]);
    free(words);
  }
  free(text);
  return 0;
}
