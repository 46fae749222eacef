#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Grid Engine's language over the real daemons: a corpus of #$ scripts
# (tests/data/sge) read as Grid Engine's under the pbspro dialect, their
# attributes checked; qsub's forms and messages (-terse, -b y, -sync y,
# $HOME by default, -cwd); the job's Grid Engine variables and
# PE_HOSTFILE; memory per slot enforced; -hold_jid by name, -hold_jid_ad
# task by task, -tc; s_rt's SIGUSR1 and -notify's SIGUSR2; qmod -sj/-usj;
# qdel's words; qstat -j of an ended job; qacct -j's failed and
# exit_status; bad forms named with their line.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
CORPUS=$(cd "$(dirname "$0")/../data/sge" && pwd)
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb" "unknown_queue = default"
export PATH=$BIN:/usr/bin:/bin
host=$(hostname)
# contains TEXT STRING: TEXT holds STRING as it is (has is a regex's).
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
mkdir -p "$WORK/sub" "$WORK/home"
export HOME=$WORK/home
cd "$WORK"

# ---- the corpus, under the pbspro dialect: #$ scripts are Grid Engine's ----
n=0
for f in "$CORPUS"/*.sh; do
  name=$(basename "$f")
  sed "s|@WORK@|$WORK|g" "$f" > "$WORK/$name"
  id=$(submit -h "$WORK/$name" 2> "$T/corpus.err")
  if [ -z "$id" ]; then
    fail "corpus $name: not submitted: $(cat "$T/corpus.err")"
    continue
  fi
  n=$((n + 1))
  full=$(BOXQ_DIALECT=pbspro qstat -f "$id")
  bad=0
  while IFS= read -r line; do
    want=${line#\# expect }
    want=${want//@WORK@/$WORK}
    want=${want//@HOME@/$HOME}
    want=${want//HOST:/$host:}
    want=${want//@ID@/${id%%\[*}}
    if ! printf '%s\n' "$full" | grep -qxF "    $want"; then
      fail "corpus $name: expected '$want'"
      bad=1
    fi
  done < <(grep '^# expect ' "$f")
  [ "$bad" = 0 ] && ok "corpus $name: every attribute as expected"
  qdel "$id" > /dev/null
done
check "the corpus has at least 10 scripts, all submitted" test "$n" -ge 10

export BOXQ_DIALECT=sge

# ---- qsub's words ----
out=$(qsub -b y -cwd -N hello "$TSLEEP" 0)
check "qsub says 'Your job N (\"name\") has been submitted'" \
  sh -c "echo '$out' | grep -qE '^Your job [0-9]+ \\(\"hello\"\\) has been submitted\$'"
out=$(qsub -terse -b y -cwd -t 1-4:2 "$TSLEEP" 0)
check "qsub -terse of an array: ID.1-3:2" sh -c "echo '$out' | grep -qE '^[0-9]+\\.1-3:2\$'"
out=$(qsub -sync y -b y -cwd /bin/sh -c 'exit 3')
rc=$?
check "qsub -sync y: the job's exit status" test "$rc" = 3
check "  and Grid Engine's last words" contains "$out" "exited with exit code 3."

# ---- the job's environment and directory ----
id=$(qsub -terse -b y -N envjob -pe smp 2 /bin/sh -c \
  'echo "ID=$JOB_ID NAME=$JOB_NAME SLOTS=$NSLOTS TASK=$SGE_TASK_ID FIRST=$SGE_TASK_FIRST WD=$(pwd) OWD=$SGE_O_WORKDIR PE=$PE"; cat "$PE_HOSTFILE"')
wait_job "$id" 30
out=$(cat "$HOME/envjob.o$id" 2> /dev/null)
check "no -cwd: the job ran in \$HOME, its output there" contains "$out" "WD=$HOME "
check "  JOB_ID, JOB_NAME, NSLOTS, SGE_TASK_ID undefined" \
  contains "$out" "ID=$id NAME=envjob SLOTS=2 TASK=undefined FIRST=undefined"
check "  SGE_O_WORKDIR is where qsub ran, PE the environment" contains "$out" "OWD=$WORK PE=smp"
check "  PE_HOSTFILE: host slots queue@host UNDEFINED" \
  sh -c "echo '$out' | grep -qE '^[^ ]+ 2 batch@[^ ]+ UNDEFINED\$'"
id=$(qsub -terse -cwd -t 2-6:2 -o 'out.$TASK_ID' -j y -b y /bin/sh -c \
  'echo "$JOB_ID $SGE_TASK_ID $SGE_TASK_FIRST $SGE_TASK_LAST $SGE_TASK_STEPSIZE"')
id=${id%%.*}
wait_job "$id" 30
check "array tasks: \$TASK_ID in -o, SGE_TASK_* set" \
  test "$(cat out.2 out.4 out.6 2> /dev/null | tr '\n' ' ')" = "$id 2 2 6 2 $id 4 2 6 2 $id 6 2 6 2 "

# ---- memory per slot, enforced ----
id=$(qsub -terse -cwd -b y -pe smp 2 -l h_vmem=40M "$HELPERS/memhog" 120)
wait_job "$id" 30
check "h_vmem=40M times 2 slots is an 80mb limit" test "$(jfield "$id" Resource_List.mem)" = 80mb
check "  a job using 120 MB of it is killed" test "$(jfield "$id" end_reason)" = out-of-memory
acct=$(qacct -j "$id")
check "  qacct -j: failed 100 : assumedly after job" \
  sh -c "echo '$acct' | grep -qE '^failed +100 +: assumedly after job\$'"

# ---- dependencies ----
first=$(qsub -terse -cwd -b y -N stage_one "$TSLEEP" 2)
second=$(qsub -terse -cwd -b y -N stage_two -hold_jid stage_one /bin/true)
check "-hold_jid by name: afterany on the job of that name" \
  test "$(jfield "$second" depend)" = "afterany:$first"
wait_job "$second" 30
check "  it started after its predecessor ended" \
  test "$(jfield "$second" stime | tr -d ' ')" != "" -a "$(afield "$second" exit_status)" = 0
a=$(qsub -terse -cwd -b y -N ad_a -t 1-3 /bin/sh -c 'sleep $((4 - SGE_TASK_ID)); date +%s%N > a.$SGE_TASK_ID')
b=$(qsub -terse -cwd -b y -N ad_b -t 1-3 -hold_jid_ad ad_a /bin/sh -c 'date +%s%N > b.$SGE_TASK_ID')
wait_job "${b%%.*}" 30
order_ok=1
for t in 1 2 3; do
  [ "$(cat "b.$t" 2> /dev/null || echo 0)" -gt "$(cat "a.$t" 2> /dev/null || echo 9e18)" ] || order_ok=0
done
check "-hold_jid_ad: each task started after its own predecessor task" test "$order_ok" = 1
check "  task 3 did not wait for task 1 (task by task, not the whole array)" \
  test "$(cat b.3)" -lt "$(cat a.1)"
out=$(qsub -cwd -b y -t 1-2 -hold_jid_ad "${a%%.*}" /bin/true 2>&1)
check "-hold_jid_ad over arrays of other tasks is refused" contains "$out" "are not this array's"
id=$(qsub -terse -cwd -b y -t 1-6 -tc 2 /bin/sh -c 'date +%s.%N > tc.$SGE_TASK_ID.start; sleep 1; date +%s.%N > tc.$SGE_TASK_ID.end')
wait_job "${id%%.*}" 40
most=$(for t in 1 2 3 4 5 6; do
  s=$(cat "tc.$t.start")
  c=0
  for u in 1 2 3 4 5 6; do
    awk -v s="$s" -v a="$(cat "tc.$u.start")" -v e="$(cat "tc.$u.end")" 'BEGIN { exit !(a <= s && s < e) }' && c=$((c + 1))
  done
  echo "$c"
done | sort -n | tail -n 1)
check "-tc 2: never more than 2 tasks ran at once" test "$most" -le 2

# ---- signals: s_rt, -notify, qmod ----
cat > soft.sh << 'EOF'
#!/bin/bash
#$ -l s_rt=1,h_rt=20
#$ -cwd
trap 'echo warned; exit 7' USR1
sleep 15 & wait
EOF
id=$(qsub -terse soft.sh)
wait_job "$id" 30
check "-l s_rt: SIGUSR1 when it is reached" test "$(cat "soft.sh.o$id" 2> /dev/null)" = warned
check "  the job's own exit (7) recorded" test "$(afield "$id" exit_status)" = 7
id=$(qsub -terse -cwd -notify -b y /bin/bash -c 'trap "echo usr1" USR1; trap "echo usr2; exit 0" USR2; for i in $(seq 100); do sleep 0.2; done')
wait_state "$id" R 20
sleep 0.5
out=$(qmod -sj "$id")
check "qmod -sj: Grid Engine's words" contains "$out" "suspended job $id"
wait_state "$id" S 10
sleep 1.5
check "  state s in qstat" sh -c "qstat | grep -qE '^ +$id .* s +[0-9/]+ '"
check "  -notify: SIGUSR1 before the freeze" grep -qx usr1 "bash.o$id"
out=$(qmod -usj "$id")
check "qmod -usj: Grid Engine's words" contains "$out" "unsuspended job $id"
out=$(qdel "$id")
check "qdel of a running job: 'has registered the job N for deletion'" contains "$out" "has registered the job $id for deletion"
wait_job "$id" 20
check "  -notify: SIGUSR2 before the kill" grep -qx usr2 "bash.o$id"
held=$(qsub -terse -cwd -h -b y /bin/true)
qalter -N renamed -l h_rt=0:02:00,h_vmem=64M -pe smp 2 "$held" > /dev/null
check "qalter in Grid Engine's options: name, h_rt, -pe, memory per slot" \
  test "$(jfield "$held" Job_Name) $(jfield "$held" Resource_List.walltime) $(jfield "$held" Resource_List.ncpus) $(jfield "$held" Resource_List.mem)" = "renamed 00:02:00 2 128mb"
check "qrls: 'modified hold of job N'" contains "$(qrls "$held")" "modified hold of job $held"
wait_job "$held" 20

# ---- qstat and qacct of ended jobs, as Toil reads them ----
out=$(qstat -j "$held" 2>&1)
rc=$?
check "qstat -j of an ended job: 'Following jobs do not exist', exit 1" \
  sh -c "test $rc = 1 && echo '$out' | grep -q '^Following jobs do not exist'"
fails=$(qsub -terse -cwd -b y /bin/sh -c 'exit 5')
wait_job "$fails" 20
acct=$(qacct -j "$fails")
check "qacct -j: exit_status 5, failed 0" \
  sh -c "echo '$acct' | grep -qE '^exit_status +5 *\$' && echo '$acct' | grep -qE '^failed +0 '"
check "  jobnumber is the bare number" sh -c "echo '$acct' | grep -qE '^jobnumber +$fails *\$'"
out=$(qacct -j 99999 2>&1)
check "qacct -j of an unknown id: 'error: job id N not found'" contains "$out" "error: job id 99999 not found"
check "qacct -o: a line per owner" sh -c "qacct -o | grep -qE '^root +[0-9]+ '"
check "qacct -d 1: today's jobs in the sums" sh -c "qacct -d 1 | tail -n 1 | grep -qE '^ +[1-9][0-9]* '"
# The server setting, not only the environment: dialect = sge in [boxq].
sed -i 's/^\[boxq\]$/[boxq]\ndialect = sge/' "$BOXQ_CONFIG"
out=$(env -u BOXQ_DIALECT qsub -terse -b y -cwd /bin/true)
check "dialect = sge in the configuration: Grid Engine's qsub" sh -c "echo '$out' | grep -qE '^[0-9]+\$'"
sed -i '/^dialect = sge$/d' "$BOXQ_CONFIG"

# ---- bad forms, named with their line ----
printf '#!/bin/sh\n#$ -cwd\n#$ -l h_vmem=lots\ntrue\n' > bad1.sh
out=$(qsub bad1.sh 2>&1)
check "a bad size names the file and line" contains "$out" "bad1.sh:3: '#\$ -l h_vmem=lots'"
printf '#!/bin/sh\n#$ -pe smp\n' > bad2.sh
out=$(qsub bad2.sh 2>&1)
check "-pe without its slots names the line" contains "$out" "bad2.sh:2:"
out=$(qsub -now y -b y /bin/true 2>&1)
check "-now y is refused, saying why" contains "$out" "-now y (start now or not at all) is not supported"
out=$(qsub -tc 2 -b y /bin/true 2>&1)
check "-tc without -t is refused" contains "$out" "-tc limits an array's tasks: give -t too"
out=$(BOXQ_DIALECT=pbspro qsub -cwd -b y /bin/true 2>&1)
check "Grid Engine's options under the pbspro dialect: a hint" contains "$out" "BOXQ_DIALECT=sge"
finish
