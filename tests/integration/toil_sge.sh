#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Toil's grid_engine batch system drives the real daemons under the sge
# dialect: it submits with qsub -V -b y -terse -j y -cwd -pe PE N
# -hard -l vf=,h_vmem= and -o/-e paths with $JOB_ID, reads running jobs
# from qstat's table (state r, start date and time), and learns a job
# has ended from qstat -j's "Following jobs do not exist", then its exit
# status from qacct -j. A small workflow with a 2-slot job succeeds; one
# whose job fails is reported failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/toil_lib.sh"
require_root_cgroups
PY=/usr/bin/python3
"$PY" -c 'import toil' 2> /dev/null || skip "toil is not installed (scripts/install-deps.sh installs it)"
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb"
in_sge_accounting() {
  check "  job $1 is in qacct -j as Grid Engine prints it" \
    sh -c "BOXQ_DIALECT=sge '$BIN/qacct' -j $1 | grep -qE '^exit_status +0 *\$'"
}
export TOIL_GRIDENGINE_PE=smp
export CPUS_VAR=NSLOTS ID_VAR=JOB_ID
toil_workflow sge grid_engine "-pe smp 2" in_sge_accounting
finish
