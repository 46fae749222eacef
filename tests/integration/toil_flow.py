# SPDX-License-Identifier: MIT
# A small Toil workflow for the batch-system tests (toil.sh, toil_sge.sh):
# two parts (one of 2 cores) that record the CPUs they were given and
# their job id, a merge after them, and, with --failing, a job that fails.
# CPUS_VAR and ID_VAR (environment) name the variables the scheduler's
# dialect sets: PBS_NP and PBS_JOBID, or NSLOTS and JOB_ID.
import os, sys
from toil.common import Toil
from toil.job import Job

CPUS_VAR = os.environ.get("CPUS_VAR", "PBS_NP")
ID_VAR = os.environ.get("ID_VAR", "PBS_JOBID")

def part(job, n, out):
    with open(out, "a") as f:
        f.write("part %d cpus=%s job=%s\n" % (n, os.environ.get(CPUS_VAR), os.environ.get(ID_VAR)))
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
