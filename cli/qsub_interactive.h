/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"

/* The script of `qsub [-I] -- command args`: execs argv[0..argc). */
char *qsub_command_script(char *const *argv, int argc);
/* The same with standard input from the file input (NULL: /dev/null). */
char *qsub_command_script_in(char *const *argv, int argc, const char *input);
/* The script of an interactive job without a command: shell (qsub -S), or
 * the user's login shell as a login shell. */
char *qsub_shell_script(const char *shell);
/* After submitting interactive job id: waits for it to start, attaches
 * this terminal to it until it ends, and returns its exit status (as a
 * shell gives it). */
int qsub_interactive(struct cli_ctx *ctx, int64_t id, const char *server_name);
