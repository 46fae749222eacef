#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Toil's slurm batch system drives the real daemons through boxq's Slurm
# commands: it reads `scontrol show config` for its polling interval,
# submits with sbatch -J --export=ALL --mem= --cpus-per-task= -o/-e %j
# --wrap=, polls `squeue -h --format '%i %t %M'` for running jobs, and
# reads the end from `sacct -n -j IDS --format JobIDRaw,State,ExitCode -P`.
# A small workflow with a 2-core job succeeds; one whose job fails is
# reported failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/toil_lib.sh"
require_root_cgroups
PY=/usr/bin/python3
"$PY" -c 'import toil' 2> /dev/null || skip "toil is not installed (scripts/install-deps.sh installs it)"
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb"
in_slurm_accounting() {
  check "  job $1 is COMPLETED 0:0 in sacct" \
    sh -c "'$BIN/sacct' -X -P -n -j $1 --format JobIDRaw,State,ExitCode | grep -qx '$1|COMPLETED|0:0'"
}
export CPUS_VAR=SLURM_CPUS_PER_TASK ID_VAR=SLURM_JOB_ID
toil_workflow pbspro slurm "--cpus-per-task=2" in_slurm_accounting
finish
