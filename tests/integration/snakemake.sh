#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snakemake 7 in generic cluster mode drives the real daemons as its users'
# Torque profiles do: --cluster 'qsub ...' (a 2-core rule asks nodes=1:ppn=2)
# with a --cluster-status script that reads `qstat -f -x` as Torque's XML;
# a failing rule is seen as failed; --immediate-submit with
# -W depend=afterok:{dependencies} submits the whole graph at once; and
# --cluster-cancel qdel ends the running jobs when Snakemake is stopped.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
SNAKEMAKE=$(command -v snakemake) || skip "snakemake is not installed (scripts/install-deps.sh installs it)"
start_boxq "[scheduler]" "ncpus = 4" "mem = 4gb"
export PATH=$BIN:$PATH
# Snakemake and its status script see Torque; the checks here (jfield)
# read boxq's own forms.
smk() { BOXQ_DIALECT=torque "$SNAKEMAKE" "$@"; }
# Snakemake and the jobs it writes run on Debian's Python.
export PYTHONDONTWRITEBYTECODE=1

# The status script a Torque profile carries: Torque's XML, state C and
# exit_status; a job Torque has already forgotten counts as failed.
cat > "$WORK/status.py" << 'EOF'
#!/usr/bin/python3
import subprocess, sys, xml.etree.ElementTree as ET
res = subprocess.run(["qstat", "-f", "-x", sys.argv[1]], capture_output=True, text=True)
if res.returncode != 0:
    print("failed")
    sys.exit(0)
job = ET.fromstring(res.stdout).find("Job")
if job.findtext("job_state") == "C":
    print("success" if job.findtext("exit_status") == "0" else "failed")
else:
    print("running")
EOF
chmod 755 "$WORK/status.py"

# workflow DIR: a Snakefile of two 2-core parts and a merge.
workflow() {
  mkdir -p "$WORK/$1"
  cat > "$WORK/$1/Snakefile" << 'EOF'
rule all:
    input: "merged.txt"

rule part:
    output: "part{i}.txt"
    threads: 2
    shell: "echo part{wildcards.i} cpus=$PBS_NP job=$PBS_JOBID > {output}"

rule merge:
    input: expand("part{i}.txt", i=[1, 2])
    output: "merged.txt"
    shell: "cat {input} > {output}"
EOF
}

# ---- cluster mode with a status script ----
workflow wf
cd "$WORK/wf"
smk -j 4 --latency-wait 10 --max-status-checks-per-second 5 \
  --cluster "qsub -N smk -l nodes=1:ppn={threads} -j oe" \
  --cluster-status "$WORK/status.py" --cluster-cancel qdel > "$T/smk.log" 2>&1
rc=$?
check "snakemake --cluster qsub ran the workflow" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 40 "$T/smk.log"
check "  the merge holds both parts" test "$(grep -c '^part' merged.txt 2> /dev/null)" = 2
check "  a 2-thread rule got 2 CPUs (nodes=1:ppn=2)" grep -q '^part1 cpus=2 ' merged.txt
ids=$(sed -n "s/.*Submitted job .* with external jobid '\([^']*\)'.*/\1/p" "$T/smk.log")
check "  three jobs went through boxq" test "$(echo "$ids" | grep -c .)" = 3
for id in $ids; do
  [ "$(jfield "${id%%.*}" job_state)" = F ] && [ "$(jfield "${id%%.*}" Exit_status)" = 0 ] ||
    fail "  job $id did not end with exit 0"
done

# ---- a failing rule ----
mkdir -p "$WORK/wf-fail"
cat > "$WORK/wf-fail/Snakefile" << 'EOF'
rule all:
    input: "never.txt"

rule broken:
    output: "never.txt"
    shell: "echo about to fail; exit 3"
EOF
cd "$WORK/wf-fail"
smk -j 2 --latency-wait 2 --max-status-checks-per-second 5 \
  --cluster "qsub -j oe" --cluster-status "$WORK/status.py" > "$T/smk-fail.log" 2>&1
rc=$?
check "a failing rule fails the workflow" test "$rc" -ne 0
check "  Snakemake saw the job fail through the status script" grep -q "Error executing rule broken" "$T/smk-fail.log"
id=$(sed -n "s/.*with external jobid '\([^']*\)'.*/\1/p" "$T/smk-fail.log" | head -1)
check "  the job's exit status is kept" test "$(jfield "${id%%.*}" Exit_status)" = 1

# ---- --immediate-submit: the whole graph at once, held by dependencies ----
workflow wf-is
cd "$WORK/wf-is"
smk -j 10 --immediate-submit --notemp \
  --cluster "qsub -l nodes=1:ppn={threads} -j oe -W 'depend=afterok:{dependencies}'" \
  > "$T/smk-is.log" 2>&1
rc=$?
check "snakemake --immediate-submit submitted everything" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 40 "$T/smk-is.log"
ids=$(sed -n "s/.*with external jobid '\([^']*\)'.*/\1/p" "$T/smk-is.log")
check "  four jobs (all, merge, two parts)" test "$(echo "$ids" | grep -c .)" = 4
merge=
for id in $ids; do
  case "$(jfield "${id%%.*}" Job_Name)" in snakejob.merge.*) merge=${id%%.*} ;; esac
done
check "  the merge waits on both parts" test "$(jfield "$merge" depend | tr ':' '\n' | tail -n +2 | wc -l)" = 2
for id in $ids; do wait_job "${id%%.*}" 60 > /dev/null || fail "  job $id did not finish"; done
check "  the graph ran in order: the merge holds both parts" test "$(grep -c '^part' merged.txt 2> /dev/null)" = 2

# ---- --cluster-cancel: stopping Snakemake ends its jobs ----
mkdir -p "$WORK/wf-cancel"
cat > "$WORK/wf-cancel/Snakefile" << EOF
rule all:
    input: "slow.txt"

rule slow:
    output: "slow.txt"
    shell: "$TSLEEP 300; touch {output}"
EOF
cd "$WORK/wf-cancel"
# Job control on: a background command of a script would otherwise ignore
# SIGINT, the Ctrl-C that makes Snakemake cancel its jobs.
set -m
BOXQ_DIALECT=torque "$SNAKEMAKE" -j 1 --max-status-checks-per-second 5 --cluster "qsub -j oe" \
  --cluster-status "$WORK/status.py" --cluster-cancel qdel > "$T/smk-cancel.log" 2>&1 &
smk=$!
set +m
id=
for _ in $(seq 1 200); do
  id=$(sed -n "s/.*with external jobid '\([^']*\)'.*/\1/p" "$T/smk-cancel.log" | head -1)
  [ -n "$id" ] && [ "$(jfield "${id%%.*}" job_state)" = R ] && break
  sleep 0.1
done
check "the slow job runs" test "$(jfield "${id%%.*}" job_state)" = R
kill -INT "$smk"
for _ in $(seq 1 100); do kill -0 "$smk" 2> /dev/null || break; sleep 0.1; done
kill -0 "$smk" 2> /dev/null && { fail "  Snakemake did not stop on SIGINT"; kill -9 "$smk"; }
wait "$smk"
check "  Snakemake stopped: --cluster-cancel qdel ended it" wait_job "${id%%.*}" 30
check "  as cancelled" test "$(jfield "${id%%.*}" end_reason)" = cancelled
eventually no_process "$TSLEEP" && ok "  nothing of it is left" || fail "  nothing of it is left"
cd "$WORK"
finish
