#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Snakemake 7 in generic cluster mode drives the real daemons through
# boxq's Slurm commands, as its users' Slurm profiles do: --cluster
# 'sbatch --parsable -c {threads} ...' with a --cluster-status script that
# reads `sacct -X -P -n` (Slurm's states), --cluster-cancel scancel; a
# failing rule is seen as failed.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
SNAKEMAKE=$(command -v snakemake) || skip "snakemake is not installed (scripts/install-deps.sh installs it)"
start_boxq "[scheduler]" "ncpus = 4" "mem = 4gb"
export PATH=$BIN:$PATH
export PYTHONDONTWRITEBYTECODE=1

# The status script Slurm profiles carry (as the Snakemake-Profiles
# project's slurm-status.py reads sacct).
cat > "$WORK/status.py" << 'PY'
#!/usr/bin/python3
import subprocess, sys
out = subprocess.run(["sacct", "-X", "-P", "-n", "-j", sys.argv[1], "--format", "State"],
                     capture_output=True, text=True).stdout.split()
state = out[0] if out else "PENDING"
if state == "COMPLETED":
    print("success")
elif state in ("FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL",
               "DEADLINE", "PREEMPTED"):
    print("failed")
else:
    print("running")
PY
chmod 755 "$WORK/status.py"

mkdir -p "$WORK/wf"
cat > "$WORK/wf/Snakefile" << 'SMK'
rule all:
    input: "merged.txt"

rule part:
    output: "part{i}.txt"
    threads: 2
    shell: "echo part{wildcards.i} cpus=$SLURM_CPUS_PER_TASK job=$SLURM_JOB_ID > {output}"

rule merge:
    input: expand("part{i}.txt", i=[1, 2])
    output: "merged.txt"
    shell: "cat {input} > {output}"
SMK
cd "$WORK/wf"
"$SNAKEMAKE" -j 4 --latency-wait 10 --max-status-checks-per-second 5 \
  --cluster "sbatch --parsable -J smk -c {threads} --mem=100M -t 10" \
  --cluster-status "$WORK/status.py" --cluster-cancel scancel > "$T/smk.log" 2>&1
rc=$?
check "snakemake --cluster sbatch --parsable ran the workflow" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 40 "$T/smk.log"
check "  the merge holds both parts" test "$(grep -c '^part' merged.txt 2> /dev/null)" = 2
check "  a 2-thread rule got 2 CPUs (-c 2)" grep -q '^part1 cpus=2 ' merged.txt
ids=$(sed -n "s/.*Submitted job .* with external jobid '\([^']*\)'.*/\1/p" "$T/smk.log")
check "  three jobs went through boxq" test "$(echo "$ids" | grep -c .)" = 3
for id in $ids; do
  [ "$(sacct -X -P -n -j "$id" --format State,ExitCode)" = "COMPLETED|0:0" ] ||
    fail "  job $id did not end COMPLETED 0:0"
done

mkdir -p "$WORK/wf-fail"
cat > "$WORK/wf-fail/Snakefile" << 'SMK'
rule all:
    input: "never.txt"

rule broken:
    output: "never.txt"
    shell: "exit 3"
SMK
cd "$WORK/wf-fail"
"$SNAKEMAKE" -j 2 --latency-wait 5 --max-status-checks-per-second 5 \
  --cluster "sbatch --parsable -J smkbad" --cluster-status "$WORK/status.py" > "$T/smk-fail.log" 2>&1
check "a failing rule fails the run" test $? -ne 0
check "  seen as a failed cluster job" grep -q "Error in rule broken" "$T/smk-fail.log"
finish
