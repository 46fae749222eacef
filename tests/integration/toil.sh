#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Toil's torque batch system drives the real daemons: it tells Torque from
# PBS Pro by `pbsnodes --version`, submits with qsub -V and
# -l nodes=1:ppn=N,mem=NK, polls `qstat ID...` for running jobs and reads
# exit_status from `qstat -f ID` (finished jobs stay as C). A small
# workflow with a 2-core job succeeds; one whose job fails is reported
# failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/toil_lib.sh"
require_root_cgroups
PY=/usr/bin/python3
"$PY" -c 'import toil' 2> /dev/null || skip "toil is not installed (scripts/install-deps.sh installs it)"
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb"

check "pbsnodes --version says Torque (on stderr, as Torque does)" \
  sh -c "BOXQ_DIALECT=torque '$BIN/pbsnodes' --version 2>&1 >/dev/null | grep -q '^Version:'"
in_accounting() {
  check "  job $1 is in boxq's accounting" test "$(afield "${1%%.*}" exit_status)" = 0
}
export CPUS_VAR=PBS_NP ID_VAR=PBS_JOBID
toil_workflow torque torque "nodes=1:ppn=2" in_accounting
finish
