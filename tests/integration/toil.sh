#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Toil's torque batch system drives the real daemons: it tells Torque from
# PBS Pro by `pbsnodes --version`, submits with qsub -V and
# -l nodes=1:ppn=N,mem=NK, polls `qstat ID...` for running jobs and reads
# exit_status from `qstat -f ID` (finished jobs stay as C). A small
# workflow with a 2-core job succeeds; one whose job fails is reported
# failed.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
PY=/usr/bin/python3
"$PY" -c 'import toil' 2> /dev/null || skip "toil is not installed (scripts/install-deps.sh installs it)"
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb"
export PATH=$BIN:/usr/bin:$PATH
cd "$WORK"

check "pbsnodes --version says Torque (on stderr, as Torque does)" \
  sh -c "BOXQ_DIALECT=torque pbsnodes --version 2>&1 >/dev/null | grep -q '^Version:'"

cat > "$WORK/flow.py" << 'EOF'
import os, sys
from toil.common import Toil
from toil.job import Job

def part(job, n, out):
    with open(out, "a") as f:
        f.write("part %d cpus=%s job=%s\n" % (n, os.environ.get("PBS_NP"), os.environ.get("PBS_JOBID")))
    return n

def fail(job):
    raise RuntimeError("this job fails on purpose")

def merge(job, values, out):
    with open(out, "a") as f:
        f.write("sum %d\n" % sum(values))

def root(job, out, failing):
    a = job.addChildJobFn(part, 1, out, cores=2, memory="256M", disk="1M")
    b = job.addChildJobFn(part, 2, out, cores=1, memory="256M", disk="1M")
    if failing:
        job.addChildJobFn(fail, memory="128M", disk="1M")
    job.addFollowOnJobFn(merge, [a.rv(), b.rv()], out, memory="128M", disk="1M")

if __name__ == "__main__":
    parser = Job.Runner.getDefaultArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--failing", action="store_true")
    options = parser.parse_args()
    with Toil(options) as toil:
        toil.start(Job.wrapJobFn(root, options.out, options.failing, memory="128M", disk="1M"))
EOF

run_toil() {
  local name=$1
  shift
  BOXQ_DIALECT=torque timeout 300 "$PY" "$WORK/flow.py" "file:$WORK/$name.store" --batchSystem torque \
    --workDir "$WORK" --logFile "$T/$name.log" --statePollingWait 1 --retryCount 0 \
    --disableCaching "$@" > "$T/$name.out" 2>&1
}

run_toil ok --out "$WORK/ok.txt"
rc=$?
check "a Toil workflow on boxq's torque batch system succeeds" test "$rc" = 0
[ "$rc" = 0 ] && cat "$WORK/ok.txt" || tail -n 40 "$T/ok.out"
check "  both parts ran" test "$(grep -c '^part' "$WORK/ok.txt" 2> /dev/null)" = 2
check "  the 2-core job got 2 CPUs (nodes=1:ppn=2)" grep -q '^part 1 cpus=2 ' "$WORK/ok.txt"
check "  the follow-on merged them" grep -q '^sum 3$' "$WORK/ok.txt"
ids=$(sed -n 's/^part [0-9] cpus=[0-9]* job=//p' "$WORK/ok.txt")
for id in $ids; do
  check "  job $id is in boxq's accounting" test "$(afield "${id%%.*}" exit_status)" = 0
done

run_toil bad --out "$WORK/bad.txt" --failing
rc=$?
check "a workflow with a failing job fails" test "$rc" -ne 0
check "  Toil saw the job fail, with its error" grep -q "this job fails on purpose" "$T/bad.out" "$T/bad.log"
check "  boxq recorded a non-zero exit" test "$("$BIN/qacct" --state failed --csv | tail -n +2 | wc -l)" -ge 1
finish
