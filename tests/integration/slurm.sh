#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Slurm's commands over the real daemons: a corpus of #SBATCH scripts
# (tests/data/slurm) submitted with sbatch, their attributes checked;
# sbatch's forms (--parsable, --wrap, --wait, -d, singleton), the job's
# SLURM_* variables and files; squeue, sacct, scancel, scontrol, sinfo;
# one queue for both languages (qstat shows sbatch's jobs, squeue qsub's;
# qsub reads #SBATCH lines, sbatch #PBS ones); bad forms named with
# their line.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
CORPUS=$(cd "$(dirname "$0")/../data/slurm" && pwd)
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb" "unknown_queue = default"
export PATH=$BIN:/usr/bin:/bin
host=$(hostname)
# contains TEXT STRING: TEXT holds STRING as it is (has is a regex's).
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
mkdir -p "$WORK/sub" "$WORK/logs"
cd "$WORK"

# ---- the corpus ----
n=0
for f in "$CORPUS"/*.sh; do
  name=$(basename "$f")
  sed "s|@WORK@|$WORK|g" "$f" > "$WORK/$name"
  id=$(sbatch --parsable -H "$WORK/$name" 2> "$T/corpus.err")
  refused=$(sed -n 's/^# expect refused: //p' "$f")
  if [ -n "$refused" ]; then
    # What this box cannot give (a GPU it lacks) is refused, as real
    # Slurm refuses it, saying why.
    check "corpus $name: refused ($(head -c 120 "$T/corpus.err"))" \
      test -z "$id" -a -n "$(grep -E -- "$refused" "$T/corpus.err")"
    n=$((n + 1))
    continue
  fi
  if [ -z "$id" ]; then
    fail "corpus $name: not submitted: $(cat "$T/corpus.err")"
    continue
  fi
  n=$((n + 1))
  full=$(BOXQ_DIALECT=pbspro qstat -f "$id")
  case "$name" in 03-*) full=$(BOXQ_DIALECT=pbspro qstat -f "$id[]") ;; esac
  bad=0
  while IFS= read -r line; do
    want=${line#\# expect }
    want=${want//@WORK@/$WORK}
    want=${want//@ID@/$id}
    want=${want//HOST:/$host:}
    # -H holds every corpus job: a state other than H is the script's own.
    case "$want" in "job_state = W") want="Execution_Time = *" ;; esac
    if [ "${want% = \*}" != "$want" ]; then
      printf '%s\n' "$full" | grep -q "^    ${want% = \*} = " && continue
    elif printf '%s\n' "$full" | grep -qxF "    $want"; then
      continue
    fi
    fail "corpus $name: expected '$want'"
    bad=1
  done < <(grep '^# expect ' "$f")
  [ "$bad" = 0 ] && ok "corpus $name: every attribute as expected"
  scancel "$id"
done
check "the corpus has at least 10 scripts, all submitted" test "$n" -ge 10

# ---- sbatch's forms and the job's world ----
out=$(sbatch --wrap=true)
check "sbatch says 'Submitted batch job N'" sh -c "echo '$out' | grep -qE '^Submitted batch job [0-9]+\$'"
id=$(sbatch --parsable -J envjob -c 2 -n 1 --mem=64M --wrap='echo "ID=$SLURM_JOB_ID NAME=$SLURM_JOB_NAME CPT=$SLURM_CPUS_PER_TASK NT=$SLURM_NTASKS MEM=$SLURM_MEM_PER_NODE DIR=$SLURM_SUBMIT_DIR PART=$SLURM_JOB_PARTITION NODES=$SLURM_JOB_NODELIST"; echo err >&2')
wait_job "$id" 30
out=$(cat "slurm-$id.out" 2> /dev/null)
check "slurm-%j.out in the submit directory, stderr in it" has "$out" "^err$"
check "  SLURM_JOB_ID, _JOB_NAME, _CPUS_PER_TASK, _NTASKS, _MEM_PER_NODE" \
  contains "$out" "ID=$id NAME=envjob CPT=2 NT=1 MEM=64 DIR=$WORK PART=batch NODES=$host"
a=$(sbatch --parsable -a 1-3 -o 'task_%A_%a.out' --wrap='echo $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_MIN $SLURM_ARRAY_TASK_MAX')
wait_job "$a" 30
check "an array: %A_%a files, SLURM_ARRAY_* set" \
  test "$(cat task_"$a"_1.out task_"$a"_3.out 2> /dev/null | tr '\n' ' ')" = "$a 1 1 3 $a 3 1 3 "
sbatch --wait --wrap='exit 4' > /dev/null
check "sbatch --wait: the job's exit status" test $? = 4
first=$(sbatch --parsable -J chain --wrap="$TSLEEP 2")
second=$(sbatch --parsable -J chain -d singleton --wrap=true)
third=$(sbatch --parsable -d "afterok:$first" --wrap=true)
check "-d singleton: after the caller's job of the same name" \
  test "$(jfield "$second" depend)" = "afterany:$first"
check "-d afterok: as PBS's" test "$(jfield "$third" depend)" = "afterok:$first"
arr=$(sbatch --parsable -a 1-2 --wrap=true)
dep=$(sbatch --parsable -d "afterany:${arr}_2" --wrap=true)
check "-d on an array's task (ID_2)" test "$(jfield "$dep" depend)" = "afterany:$arr[2]"
wait_job "$third" 30

# ---- one queue, both languages ----
pbsjob=$(echo "$TSLEEP 30" | qsub -N from_qsub)
pbsjob=${pbsjob%%.*}
slurmjob=$(sbatch --parsable -J from_sbatch --wrap="$TSLEEP 30")
wait_state "$slurmjob" R 20
wait_state "$pbsjob" R 20
check "squeue shows qsub's job" sh -c "squeue -h -o '%i %j %t' | grep -qx '$pbsjob from_qsub R'"
check "qstat shows sbatch's job" sh -c "BOXQ_DIALECT=pbspro qstat | grep -q '^$slurmjob\\..* from_sbatch '"
check "squeue -j -t: one job in its state" test "$(squeue -h -j "$slurmjob" -t RUNNING -o %T)" = RUNNING
check "squeue -u: by user" test "$(squeue -h -u nosuchuser | wc -l)" = 0
check "squeue --json is JSON" sh -c "squeue --json | python3 -m json.tool > /dev/null"
scontrol hold "$slurmjob" 2> /dev/null
out=$(scontrol show job "$slurmjob")
check "scontrol show job: JobState=SUSPENDED after hold of a running job" has "$out" "JobState=SUSPENDED"
scontrol release "$slurmjob"
check "scontrol show config: Toil's polling settings" \
  sh -c "scontrol show config | grep -qE '^SchedulerTimeSlice += 30 sec\$'"
check "sinfo: the box as a node of the default partition" \
  sh -c "sinfo -h | grep -qE '^batch\\* +up +infinite +1 +(mix|alloc|idle) +$host\$'"
scancel "$slurmjob" "$pbsjob"
wait_job "$slurmjob" 20
check "scancel: CANCELLED with signal 15" \
  test "$(sacct -X -P -n -j "$slurmjob" --format State,ExitCode)" = "CANCELLED by 0|0:15"
check "sacct shows qsub's jobs too" sh -c "sacct -X -P -n -j $pbsjob --format JobName | grep -qx from_qsub"
held=$(sbatch --parsable -H --wrap=true)
scontrol update JobId="$held" TimeLimit=10:00 NumCPUs=2 JobName=updated
check "scontrol update: TimeLimit, NumCPUs, JobName" \
  test "$(squeue -h -j "$held" -o '%l %C %j')" = "10:00 2 updated"
scancel "$held"
out=$(scancel 999999 2>&1)
check "scancel of an unknown job says so" has "$out" "Invalid job id specified"

# qsub reads #SBATCH lines; sbatch reads #PBS ones.
printf '#!/bin/sh\n#SBATCH -J via_qsub\n#SBATCH -c 2\necho $SLURM_CPUS_PER_TASK\n' > sb.sh
id=$(qsub sb.sh)
id=${id%%.*}
check "qsub reads #SBATCH lines" test "$(jfield "$id" Job_Name) $(jfield "$id" Resource_List.ncpus)" = "via_qsub 2"
printf '#!/bin/sh\n#PBS -N via_sbatch\n#PBS -l ncpus=2\ntrue\n' > pb.sh
id=$(sbatch --parsable pb.sh)
check "sbatch reads #PBS lines" test "$(jfield "$id" Job_Name) $(jfield "$id" Resource_List.ncpus)" = "via_sbatch 2"

# ---- srun inside a job ----
id=$(sbatch --parsable -n 3 -o srun.out --wrap='srun -l sh -c "echo task \$SLURM_PROCID of \$SLURM_NTASKS"')
wait_job "$id" 30
check "srun in a job runs its tasks, labelled" \
  test "$(sort srun.out 2> /dev/null | tr '\n' ' ')" = "0: task 0 of 3 1: task 1 of 3 2: task 2 of 3 "
out=$(env -u SLURM_JOB_ID srun true 2>&1)
check "srun outside a job says where allocations come from" contains "$out" "qsub -I"

# ---- memory and time limits, enforced and accounted ----
id=$(sbatch --parsable --mem=40M --wrap="$HELPERS/memhog 120")
wait_job "$id" 30
check "--mem=40M: a job using 120 MB is OUT_OF_MEMORY" \
  test "$(sacct -X -P -n -j "$id" --format State,ExitCode,ReqMem)" = "OUT_OF_MEMORY|0:125|40M"
id=$(sbatch --parsable -t 0:02 --wrap="$TSLEEP 30")
wait_job "$id" 30
check "-t 0:02: TIMEOUT" test "$(sacct -X -P -n -j "$id" --format State)" = TIMEOUT
id=$(sbatch --parsable --wrap="exit 3")
wait_job "$id" 20
check "a failing job: FAILED 3:0, its batch step too" \
  test "$(sacct -P -n -j "$id" --format JobID,State,ExitCode | tr '\n' ' ')" = "$id|FAILED|3:0 $id.batch|FAILED|3:0 "

# ---- bad forms ----
printf '#!/bin/sh\n#SBATCH -J ok\n#SBATCH --time=soon\ntrue\n' > bad1.sh
out=$(sbatch bad1.sh 2>&1)
check "a bad time names the file and line" contains "$out" "bad1.sh:3: '#SBATCH --time=soon'"
out=$(sbatch --frobnicate --wrap=true 2>&1)
check "an unknown option is named" contains "$out" "unknown option --frobnicate"
printf 'echo no interpreter\n' > bad2.sh
out=$(sbatch bad2.sh 2>&1)
check "a script without #! is refused, as Slurm does" contains "$out" "first line must start with #!"
out=$(sbatch --mem=0 --wrap=true 2>&1)
check "--mem=0 is refused on a shared box" contains "$out" "--mem=0"
finish
