#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scripts written for Torque, PBS Pro and Cray clusters
# (tests/data/pbs-scripts): their resources, each submitted held and its
# attributes checked (CPUs and memory summed over nodes and chunks, the
# forms kept in Resource_List, a site's own resources accepted with a
# warning), three run to the end (PBS_NODEFILE, PBS_NUM_NODES, ...), bad
# forms refused naming the file and line, a server's multinode and
# unknown_resource settings refusing instead; and their options (-d, -S,
# -W umask, -o with ${PBS_JOBID}, -t, -C and PBS_DPREFIX, -z, -u, -k, -v
# '', -A and -P with qacct's filters and sums, -W group_list and block),
# run to the end where they change what runs.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "[scheduler]" "ncpus = 8" "mem = 8gb" "unknown_queue = default" "queue_aliases = route=batch"
cd "$WORK"
CORPUS=$(cd "$(dirname "$0")/../data/pbs-scripts" && pwd)
cp "$CORPUS"/*.pbs "$WORK/"
res() { jfield "$1" "Resource_List.$2"; }

# ---- each script's resources, held ----
mpi=$(submit -h torque-mpi.pbs)
check "nodes=2:ppn=4: 8 CPUs" test "$(res "$mpi" ncpus)" = 8
check "  kept as written" test "$(res "$mpi" nodes)" = 2:ppn=4
check "  two nodes counted" test "$(res "$mpi" nodect)" = 2
sel=$(submit -h pbspro-select.pbs)
check "select=2:ncpus=2:mem=512mb: 4 CPUs" test "$(res "$sel" ncpus)" = 4
check "  and 1gb" test "$(res "$sel" mem)" = 1gb
check "  place kept" test "$(res "$sel" place)" = scatter
check "  select kept" test "$(res "$sel" select)" = 2:ncpus=2:mem=512mb:mpiprocs=2
procs=$(submit -h torque-procs.pbs)
check "procs=3,vmem=2gb: 3 CPUs" test "$(res "$procs" ncpus)" = 3
check "  vmem is the memory limit" test "$(res "$procs" mem)" = 2gb
pmem=$(submit -h torque-pmem.pbs)
check "pmem=256mb on 2 CPUs: 512mb" test "$(res "$pmem" mem)" = 512mb
cray=$(submit -h cray.pbs)
check "mppwidth=4: 4 CPUs" test "$(res "$cray" ncpus)" = 4
check "  mppnppn kept" test "$(res "$cray" mppnppn)" = 4
host=$(submit -h torque-host-feature.pbs)
check "a named host with a feature: its CPUs" test "$(res "$host" ncpus)" = 2
check "  naccesspolicy kept" test "$(res "$host" naccesspolicy)" = singlejob
check "  feature and arch kept" test "$(res "$host" feature)/$(res "$host" arch)" = ib/x86_64
gpu=$("$BIN/qsub" -h torque-gpus.pbs 2>&1)
check "gpus in a node spec on a box without GPUs: refused, said" \
  has "$gpu" "asks for 1 gpu device; this box has none"
site_out=$("$BIN/qsub" -h site-resources.pbs 2>&1 > site.id)
site=$(sed 's/\..*//' site.id)
check "a site's own resources are accepted" test -n "$site"
check "  with one line each saying they are not enforced" \
  test "$(grep -c 'is not enforced on this server' <<< "$site_out")" = 2
check "  named" has "$site_out" "resource jobfs is not enforced"
check "  kept in Resource_List" test "$(res "$site" jobfs)/$(res "$site" storage)" = 10gb/scratch/ab12
json=$("$BIN/qstat" -f -F json "$mpi")
check "JSON nests them in Resource_List" \
  python3 -c 'import json,sys; r=json.loads(sys.argv[1])["Jobs"]; j=list(r.values())[0]["Resource_List"]; sys.exit(0 if j["nodes"]=="2:ppn=4" and j["nodect"]==2 else 1)' "$json"

mc_out=$("$BIN/qsub" -h torque-mail-cput.pbs 2>&1 > mc.id)
mc=$(sed 's/\..*//' mc.id)
check "-q route: the alias's queue" test "$(jfield "$mc" queue)" = batch
check "  silently (queue_aliases)" test -z "$mc_out"
check "  -l cput recorded, enforced" test "$(res "$mc" cput)" = 01:00:00
check "  -m abe, -M kept" test "$(jfield "$mc" Mail_Points)/$(jfield "$mc" Mail_Users)" = abe/someone@example.org
wq_out=$("$BIN/qsub" -h pbspro-workq.pbs 2>&1 > wq.id)
wq=$(sed 's/\..*//' wq.id)
check "-q workq (not here): the default queue" test "$(jfield "$wq" queue)" = batch
check "  qsub says so (unknown_queue = default)" has "$wq_out" "queue workq is not on this server; the job goes to batch"
check "  select with ompthreads: 2 CPUs" test "$(res "$wq" ncpus)" = 2
check "  -m ae, -c n accepted" test "$(jfield "$wq" Mail_Points)" = ae
kv=$(submit -h torque-keep-vmem.pbs)
check "-k oe, vmem as the limit" test "$(res "$kv" mem)" = 768mb
check "  walltime in plain seconds" test "$(res "$kv" walltime)" = 00:10:00
check "  -m n" test "$(jfield "$kv" Mail_Points)" = n
xe=$(submit -h cray-xe.pbs)
check "Cray XE: mppwidth=2 is 2 CPUs, -A kept" test "$(res "$xe" ncpus)/$(jfield "$xe" Account_Name)" = 2/csc123
out=$("$BIN/qsub" -c s torque-keep-vmem.pbs 2>&1)
check "-c s (a checkpoint) is refused, naming it" has "$out" "-c 's': boxq does not checkpoint jobs"
out=$("$BIN/qsub" -q nosuch -W x=1 torque-keep-vmem.pbs 2>&1)
check "an unknown -W attribute is refused, naming it" has "$out" "-W 'x=1'"

# ---- three run to the end ----
for j in "$mpi" "$sel" "$procs"; do "$BIN/qrls" "$j"; done
for j in "$mpi" "$sel" "$procs"; do wait_job "$j" 30 > /dev/null; done
out=$(cat "mpi_hello.o$mpi")
check "the MPI job sees 2 nodes of 4 in 8 lines of PBS_NODEFILE" has "$out" "nodes=2 ppn=4 np=8 lines=8"
check "  all this machine" has "$out" "distinct=1 omp=4 task=1"
check "the select job: 4 CPUs, 2 chunks" has "$(cat "select_job.o$sel")" "ncpus=4 np=4 nodes=2 lines=4"
check "the procs job ran" test "$(cat "procs.o$procs")" = 3
check "  each completed" test "$(jfield "$procs" Exit_status)$(jfield "$mpi" Exit_status)" = 00

# ---- bad forms name the script's line ----
for s in bad-nodes:3 bad-select:3 bad-ppn:2; do
  f=${s%%:*}.pbs line=${s##*:}
  out=$("$BIN/qsub" "$f" 2>&1)
  check "$f refused (non-zero exit)" test $? -ne 0
  check "  naming $f:$line" has "$out" "$f:$line"
done

# ---- Torque's and PBS Pro's options ----
mkdir -p sub logs
opts=$(submit torque-options.pbs)
arr=$(submit torque-array.pbs)
arr=${arr%\[\]}
tl=$(echo 'echo "index $PBS_ARRAYID"' | submit -t 1,3,5-6%2 -N tlist)
tl=${tl%\[\]}
bashism=$(submit no-shebang-bash.pbs)
moab=$(submit -C '#MSUB' moab-prefix.pbs)
check "-C: directives under another prefix" test "$(jfield "$moab" Job_Name)" = moab
check "  read as any other" test "$(res "$moab" ncpus)" = 2
dp=$(PBS_DPREFIX='#MSUB' submit -h moab-prefix.pbs)
check "  PBS_DPREFIX too" test "$(jfield "$dp" Job_Name)" = moab
for j in "$opts" "$bashism" "$moab"; do wait_job "$j" 30 > /dev/null; done
for i in 1 2 3; do wait_job "$arr[$i]" 30 > /dev/null; done
for i in 1 3 5 6; do wait_job "$tl[$i]" 30 > /dev/null; done
check "-t 1,3,5-6%2: Torque's list, four tasks" \
  test "$(cat tlist.o"$tl".* 2> /dev/null | sort | tr '\n' ' ')" = "index 1 index 3 index 5 index 6 "
check "  kept as given, at most 2 at once" \
  test "$(jfield "$tl" array_indices_submitted)/$(jfield "$tl" max_run_subjobs)" = "1,3,5-6/2"
# A relative -o is relative to where qsub ran, as Torque has it.
log=$(ls logs/"$opts".*.out 2> /dev/null)
check "-o logs/\${PBS_JOBID}.out names the file after the job (${log##*/})" test -n "$log"
out=$(cat "$log" 2> /dev/null)
check "-d: the job starts there" has "$out" "pwd=$WORK/sub initdir=$WORK/sub workdir=$WORK"
check "-W umask=077: its files are 600" has "$out" "mode=600"
check "-S /bin/bash runs a script without #! under bash" test "$(cat "bashism.o$bashism")" = "bash ran"
check "-t 1-3: a Torque array, PBS_ARRAYID set" \
  test "$(cat tarr.o"$arr".* | sort | tr '\n' ' ')" = "task 1 of $arr[].$(jfield "$arr" server) task 2 of $arr[].$(jfield "$arr" server) task 3 of $arr[].$(jfield "$arr" server) "
acc=$(submit pbspro-account.pbs)
check "-A and -P recorded" test "$(jfield "$acc" Account_Name)/$(jfield "$acc" project)" = ab12/genomics
wait_job "$acc" 30 > /dev/null
check "qacct -A picks the account's jobs" \
  test "$("$BIN/qacct" -A ab12 --csv | tail -n +2 | cut -d, -f1 | sed 's/\..*//')" = "$acc"
check "qacct -P the project's" \
  test "$("$BIN/qacct" -P genomics --csv | tail -n +2 | cut -d, -f1 | sed 's/\..*//')" = "$acc"
check "  none of another's" test -z "$("$BIN/qacct" -A zz99 --csv | tail -n +2)"
check "qacct --by account sums per account" has "$("$BIN/qacct" --by account)" "ab12"
check "qacct -j shows both" has "$("$BIN/qacct" -j "$acc")" "project          genomics"
before=$("$BIN/qselect" | wc -l)
out=$("$BIN/qsub" -z -h torque-pmem.pbs)
check "-z: nothing printed" test -z "$out"
check "  the job stored all the same" test "$("$BIN/qselect" | wc -l)" -eq $((before + 1))
out=$(USER=root "$BIN/qsub" -u someoneelse -h torque-pmem.pbs 2>&1)
check "-u naming someone else: refused" has "$out" "runs as the user who submits it"
check "-u naming oneself: fine" env USER=root "$BIN/qsub" -u root@anyhost -h torque-pmem.pbs

# ---- -W group_list and -W block ----
grp=bqg$$
if groupadd "$grp" 2> /dev/null && gpasswd -a root "$grp" > /dev/null; then
  trap 'stop_boxq; groupdel "$grp" 2> /dev/null' EXIT
  gid=$(getent group "$grp" | cut -d: -f3)
  g=$(echo 'id -g' | submit -N grp -W group_list="$grp@anyhost")
  wait_job "$g" 30 > /dev/null
  check "-W group_list: the job runs with that group" test "$(cat "grp.o$g")" = "$gid"
  check "  shown" test "$(jfield "$g" group_list)/$(jfield "$g" egid)" = "$grp@anyhost/$gid"
else
  check "a test group can be made (groupadd, gpasswd)" false
fi
out=$(echo true | "$BIN/qsub" -W group_list=nosuch$$ 2>&1)
check "-W group_list of no group: refused, naming it" has "$out" "there is no group nosuch$$"
out=$(echo true | "$BIN/qsub" -W group_list=nogroup 2>&1)
check "-W group_list of a group one is not in: refused" has "$out" "root is not a member of group nogroup"
out=$(echo 'exit 3' | "$BIN/qsub" -W block=true)
rc=$?
check "-W block=true: qsub prints the id" test -n "$out"
check "  and exits with the job's exit status" test "$rc" = 3
echo "$TSLEEP 30" | "$BIN/qsub" -N blocker -W block=true > blocker.id 2> blocker.err &
qpid=$!
eventually test -s blocker.id
b=$(sed 's/\..*//' blocker.id)
wait_state "$b" R 10
kill -INT "$qpid"
wait "$qpid"
rc=$?
check "  interrupted: it stops waiting (exit 130)" test "$rc" = 130
check "  says the job keeps running" has "$(cat blocker.err)" "keeps running"
check "  which it does" test "$(jfield "$b" job_state)" = R
"$BIN/qdel" "$b"
out=$(echo true | "$BIN/qsub" -W block=true -J 1-2 2>&1)
check "  not for arrays" has "$out" "not an array"

# ---- an admin may refuse instead ----
sed 's/^ncpus = 8$/ncpus = 8\nmultinode = refuse\nunknown_resource = refuse/' "$BOXQ_CONFIG" > "$T/strict.ini"
out=$(BOXQ_CONFIG=$T/strict.ini "$BIN/qsub" -h torque-mpi.pbs 2>&1)
check "multinode = refuse: refused" test $? -ne 0
check "  naming the line and the setting" has "$out" "torque-mpi.pbs:3"
check "  and why" has "$out" "multinode = refuse"
check "  one node is fine" env BOXQ_CONFIG="$T/strict.ini" "$BIN/qsub" -h torque-pmem.pbs
out=$(BOXQ_CONFIG=$T/strict.ini "$BIN/qsub" -h site-resources.pbs 2>&1)
check "unknown_resource = refuse: refused, naming it" has "$out" "unknown resource 'jobfs'"
finish
