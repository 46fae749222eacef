#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libdrmaa (DRMAA 1.0) against real daemons, through real clients: a C
# program built against Grid Engine's drmaa.h (the ABI), python-drmaa
# (submit, status of finished jobs, wait with usage, terminate, bulk
# jobs, synchronize, hold and release, errors) and snakemake --drmaa (a
# 2-core rule with its native specification, and a failing rule seen as
# failed).
. "$(dirname "$0")/lib.sh"
require_root_cgroups
PY=/usr/bin/python3
LIB=$BUILD/drmaa/libdrmaa.so.1
[ -f "$LIB" ] || skip "libdrmaa was not built"
$PY -c 'import ctypes.util' 2> /dev/null || skip "python3 missing"
[ -d /usr/lib/python3/dist-packages/drmaa ] || skip "python3-drmaa is not installed (scripts/install-deps.sh installs it)"
[ -x "$BUILD/tests/drmaa_abi" ] || skip "gridengine-drmaa-dev's drmaa.h was missing at build time (scripts/install-deps.sh installs it)"
export DRMAA_LIBRARY_PATH=$LIB
# A sanitizer build's library needs its runtime loaded first in Python.
asan=$(ldd "$LIB" | awk '/libasan/ { print $3 }')
PRELOAD=${asan:+env LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0}
start_boxq "[scheduler]" "ncpus = 4" "mem = 4gb"
cd "$WORK"

out=$("$BUILD/tests/drmaa_abi" 2>&1)
rc=$?
echo "$out" | sed 's/^/  abi: /'
check "a C program built against Grid Engine's drmaa.h runs on libdrmaa ($(grep -c '^ok' <<< "$out") checks)" \
  test "$rc" = 0

cat > "$WORK/drmaa_test.py" << 'EOF'
import drmaa, os, sys, time
work = os.environ["WORK"]
results = []
def check(what, cond):
    print(("ok - " if cond else "not ok - ") + what)
    results.append(cond)

with drmaa.Session() as s:
    check("contact and version", s.contact == "boxq" and s.version.major == 1)
    jt = s.createJobTemplate()
    jt.remoteCommand = "/bin/sh"
    jt.args = ["-c", 'echo "FOO=$FOO in $(pwd) ncpus=$PBS_NP"; exit 0']
    jt.jobEnvironment = {"FOO": "bar baz"}
    jt.workingDirectory = work
    jt.outputPath = ":" + work + "/logs"          # a directory: the file inside
    jt.joinFiles = True
    jt.jobName = "drmaa test"                      # blanks become '_'
    jt.nativeSpecification = "-l ncpus=2,walltime=60"
    jid = s.runJob(jt)
    info = s.wait(jid, drmaa.Session.TIMEOUT_WAIT_FOREVER)
    check("wait: exited 0", info.hasExited and info.exitStatus == 0 and not info.wasAborted)
    check("wait: resource usage", float(info.resourceUsage["ru_wallclock"]) > 0)
    check("job_ps of the finished job: done", s.jobStatus(jid) == drmaa.JobState.DONE)
    time.sleep(1)
    check("job_ps still answers later: done", s.jobStatus(jid) == drmaa.JobState.DONE)
    logs = os.listdir(work + "/logs")
    text = open(work + "/logs/" + logs[0]).read() if logs else ""
    check("output in the directory, environment, wd, native spec (%s)" % text.strip(),
          "FOO=bar baz in " + work + " ncpus=2" in text and logs[0].startswith("drmaa_test.o"))

    jt.args = ["-c", "exit 5"]
    jid = s.runJob(jt)
    info = s.wait(jid, 30)
    check("a failing job: exit status 5", info.hasExited and info.exitStatus == 5)
    check("and job_ps says failed", s.jobStatus(jid) == drmaa.JobState.FAILED)

    jt.args = ["-c", "sleep 300"]
    jid = s.runJob(jt)
    for _ in range(100):
        if s.jobStatus(jid) == drmaa.JobState.RUNNING:
            break
        time.sleep(0.1)
    check("a running job: running", s.jobStatus(jid) == drmaa.JobState.RUNNING)
    try:
        s.wait(jid, 1)
        check("wait with a timeout times out", False)
    except drmaa.errors.ExitTimeoutException:
        check("wait with a timeout times out", True)
    s.control(jid, drmaa.JobControlAction.SUSPEND)
    check("suspend: user suspended", s.jobStatus(jid) == drmaa.JobState.USER_SUSPENDED)
    s.control(jid, drmaa.JobControlAction.RESUME)
    check("resume: running", s.jobStatus(jid) == drmaa.JobState.RUNNING)
    try:
        s.control(jid, drmaa.JobControlAction.HOLD)
        check("hold of a running job is refused", False)
    except drmaa.errors.HoldInconsistentStateException:
        check("hold of a running job is refused", True)
    s.control(jid, drmaa.JobControlAction.TERMINATE)
    info = s.wait(jid, 30)
    check("terminate: signaled (%s)" % info.terminatedSignal,
          info.hasSignal and not info.hasExited)
    check("and failed", s.jobStatus(jid) == drmaa.JobState.FAILED)

    jt.jobSubmissionState = drmaa.JobSubmissionState.HOLD_STATE
    jid = s.runJob(jt)
    check("submitted on hold: user on hold", s.jobStatus(jid) == drmaa.JobState.USER_ON_HOLD)
    s.control(jid, drmaa.JobControlAction.TERMINATE)
    info = s.wait(jid, 30)
    check("terminated before it ran: aborted", info.wasAborted and not info.hasExited)
    jid = s.runJob(jt)
    s.control(jid, drmaa.JobControlAction.RELEASE)
    check("released", s.jobStatus(jid) in (drmaa.JobState.QUEUED_ACTIVE, drmaa.JobState.RUNNING))
    s.control(jid, drmaa.JobControlAction.TERMINATE)
    s.wait(jid, 30)
    jt.jobSubmissionState = drmaa.JobSubmissionState.ACTIVE_STATE

    jt.args = ["-c", "echo task $PBS_ARRAY_INDEX"]
    jt.outputPath = ":" + work + "/bulk.$drmaa_incr_ph$.out"
    ids = s.runBulkJobs(jt, 1, 3, 1)
    s.synchronize(ids, 60, False)
    check("bulk jobs %s: each its own output" % ids,
          all(open(work + "/bulk.%d.out" % i).read().strip() == "task %d" % i for i in (1, 2, 3)))
    seen = set()
    for _ in ids:
        seen.add(s.wait(drmaa.Session.JOB_IDS_SESSION_ANY, 30).jobId)
    check("wait for any, three times: each task once", seen == set(ids))
    try:
        s.wait(ids[0], 0)
        check("a reaped job cannot be waited for again", False)
    except drmaa.errors.InvalidJobException:
        check("a reaped job cannot be waited for again", True)
    try:
        s.jobStatus("999999")
        check("an unknown job is an error", False)
    except drmaa.errors.InvalidJobException as e:
        check("an unknown job is an error (%s)" % e, True)
    jt.nativeSpecification = "-l ncpus=many"
    try:
        s.runJob(jt)
        check("a bad native specification is refused", False)
    except drmaa.errors.InvalidAttributeValueException as e:
        check("a bad native specification is refused, saying why (%s)" % e, "ncpus" in str(e))
    jt.nativeSpecification = "-q nosuchqueue"
    try:
        s.runJob(jt)
        check("a job boxqd refuses: denied by the DRM", False)
    except drmaa.errors.DeniedByDrmException as e:
        check("a job boxqd refuses: denied by the DRM (%s)" % e, "nosuchqueue" in str(e))
    s.deleteJobTemplate(jt)
sys.exit(0 if all(results) else 1)
EOF
mkdir -p "$WORK/logs"
out=$(WORK=$WORK $PRELOAD $PY "$WORK/drmaa_test.py" 2>&1)
rc=$?
echo "$out" | sed 's/^/  python-drmaa: /'
check "python-drmaa against boxq ($(grep -c '^ok' <<< "$out") checks)" test "$rc" = 0

# Under the sge dialect the native specification is Grid Engine's qsub
# options, as its DRMAA library reads them.
cat > "$WORK/drmaa_sge.py" << 'EOF'
import drmaa, os, sys
work = os.environ["WORK"]
with drmaa.Session() as s:
    jt = s.createJobTemplate()
    jt.remoteCommand = "/bin/sh"
    jt.args = ["-c", "echo $NSLOTS $JOB_ID > " + work + "/sge_native.out"]
    jt.nativeSpecification = "-pe smp 2 -l h_vmem=64M,h_rt=0:05:00"
    jid = s.runJob(jt)
    info = s.wait(jid, 60)
    got = open(work + "/sge_native.out").read().split()
    print("exit", info.exitStatus, "slots", got[0], "job", got[1], "id", jid)
    sys.exit(0 if info.exitStatus == 0 and got == ["2", jid] else 1)
EOF
out=$(BOXQ_DIALECT=sge WORK=$WORK $PRELOAD $PY "$WORK/drmaa_sge.py" 2>&1)
check "sge dialect: a Grid Engine native specification (-pe smp 2 -l h_vmem=) ($out)" test $? = 0
id=$(sed -n 's/.* id //p' <<< "$out")
[ -n "$id" ] && check "  its memory: 2 slots of 64M" test "$(jfield "$id" Resource_List.mem)" = 128mb

# snakemake --drmaa: each rule's job through libdrmaa, its threads asked
# in the native specification; a failing rule is seen as failed.
SNAKEMAKE=$(command -v snakemake) || skip "snakemake is not installed"
mkdir -p "$WORK/smk"
cat > "$WORK/smk/Snakefile" << 'EOF'
rule all:
    input: "merged.txt"

rule part:
    output: "part{i}.txt"
    threads: 2
    shell: "echo part{wildcards.i} cpus=$PBS_NP > {output}"

rule merge:
    input: expand("part{i}.txt", i=[1, 2])
    output: "merged.txt"
    shell: "cat {input} > {output}"

rule broken:
    output: "broken.txt"
    shell: "exit 7"
EOF
cd "$WORK/smk"
export PYTHONDONTWRITEBYTECODE=1
$PRELOAD "$SNAKEMAKE" -j 4 --latency-wait 10 --drmaa " -l ncpus={threads} -N smk" \
  --drmaa-log-dir "$WORK/smk/logs" > "$T/smk.log" 2>&1
rc=$?
check "snakemake --drmaa runs a workflow" test $rc = 0
[ $rc = 0 ] || tail -30 "$T/smk.log"
check "  its 2-core parts ran with 2 CPUs" \
  test "$(cat part1.txt part2.txt 2> /dev/null)" = "$(printf 'part1 cpus=2\npart2 cpus=2')"
check "  and the merge after them" test -s merged.txt
$PRELOAD "$SNAKEMAKE" -j 2 --latency-wait 5 --drmaa " -N smkbad" broken.txt > "$T/smk-bad.log" 2>&1
check "a failing rule fails the run" test $? != 0
check "  seen as a failed job" grep -q "Error in rule broken" "$T/smk-bad.log"
finish
