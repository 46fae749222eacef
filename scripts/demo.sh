#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job, from a fresh Debian machine (as root, e.g. with sudo):
# installs what boxq needs, builds it, starts boxq-worker and boxqd on the
# default state directory, submits a small pipeline as an ordinary user,
# and shows the queue and the accounting. The pipeline is prepare -> an
# array of four chunk tasks -> sum, chained by dependencies and submitted
# at once. Beside it, one job exceeds its memory limit
# (the kernel kills it), one burns two CPUs' worth under ncpus=1 (the
# kernel holds it to one), one runs past its walltime.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (sudo): the worker creates cgroups" >&2; exit 1; }

scripts/install-deps.sh
scripts/build.sh build
export PATH=$top/build/cli:$PATH
scripts/daemons.sh start build

# Jobs run as their submitter; root's jobs are refused by default, so the
# demo submits as the user who called sudo, or as nobody.
user=${SUDO_USER:-}
[ -n "$user" ] && [ "$user" != root ] || user=nobody
group=$(id -gn "$user")
work=/var/tmp/boxq-demo-$user
mkdir -p "$work"
chown "$user:$group" "$work"
as_user() { (cd "$work" && setpriv --reuid="$user" --regid="$group" --init-groups env HOME="$work" "$@"); }

echo
echo "== submitting the demo pipeline as $user, in $work"
cat > "$work/prepare.sh" << 'JOB'
#!/bin/sh
#PBS -N prepare
#PBS -l ncpus=1,mem=64mb,walltime=00:01:00
seq 1 200000 > numbers.txt
echo "prepared $(wc -l < numbers.txt) numbers on $(hostname) as $(id -un)"
JOB
cat > "$work/chunk.sh" << 'JOB'
#!/bin/sh
#PBS -N chunk
#PBS -J 1-4
#PBS -l ncpus=1,mem=64mb,walltime=00:01:00
# Task i of 4 sums every 4th number, starting at line i.
awk -v i="$PBS_ARRAY_INDEX" 'NR % 4 == i % 4 { s += $1 } END { printf "%.0f\n", s }' numbers.txt > "part.$PBS_ARRAY_INDEX"
echo "task $PBS_ARRAY_INDEX: $(cat "part.$PBS_ARRAY_INDEX")"
JOB
cat > "$work/sum.sh" << 'JOB'
#!/bin/sh
#PBS -N sum
#PBS -l ncpus=1,mem=64mb,walltime=00:01:00
awk '{ s += $1 } END { printf "sum = %.0f\n", s }' part.1 part.2 part.3 part.4
JOB
cat > "$work/memhog.sh" << 'JOB'
#!/bin/sh
#PBS -N memhog
#PBS -l ncpus=1,mem=64mb,walltime=00:01:00
# Doubles a string until it passes 64 MiB: the kernel OOM-kills it.
awk 'BEGIN { s = "x"; while (1) s = s s }'
JOB
cat > "$work/burner.sh" << 'JOB'
#!/bin/sh
#PBS -N burner
#PBS -l ncpus=1,mem=64mb,walltime=00:01:00
# Two busy loops for 5 s: 10 CPU-seconds asked, the quota allows about 5.
for i in 1 2; do timeout 5 sh -c 'while :; do :; done' & done
wait
JOB
cat > "$work/overtime.sh" << 'JOB'
#!/bin/sh
#PBS -N overtime
#PBS -l ncpus=1,mem=64mb,walltime=3
sleep 600
JOB
chown "$user:$group" "$work"/*.sh

ids=()
prep=$(as_user qsub prepare.sh)
echo "prepare:  $prep"
chunks=$(as_user qsub -W depend=afterok:"$prep" chunk.sh)
echo "chunk:    $chunks   (an array of 4 tasks, after prepare)"
sum=$(as_user qsub -W depend=afterok:"${chunks%%.*}" sum.sh)
echo "sum:      $sum   (after every chunk)"
ids+=("${prep%%.*}" "${chunks%%.*}" "${sum%%.*}")
for s in memhog burner overtime; do
  id=$(as_user qsub "$s.sh")
  echo "$s: $id"
  ids+=("${id%%.*}")
done
echo
qstat

wait_done() {
  for _ in $(seq 1 600); do
    [ "$(qstat -x -f "$1" | sed -n 's/^    job_state = //p')" = F ] && return 0
    sleep 0.1
  done
}
for id in "${ids[@]}"; do wait_done "$id"; done

echo
echo "== the queue, finished jobs included (qstat -x; -t shows the array's tasks)"
qstat -x -t "${ids[@]}"
echo
echo "== outputs"
for f in "$work"/prepare.o* "$work"/chunk.o* "$work"/sum.o*; do echo "$(basename "$f"): $(cat "$f")"; done
echo
echo "== accounting (qacct)"
qacct
echo
echo "== the memory hog and the CPU burner in full (qacct -j)"
qacct -j "${ids[3]}" "${ids[4]}"
echo
echo "boxq is still running. Try: PATH=$top/build/cli:\$PATH qstat -x -f ${ids[0]}"
echo "The web view: http://127.0.0.1:8642/ (from elsewhere: ssh -N -L 8642:127.0.0.1:8642 $(hostname))"
echo "Stop it with: sudo scripts/daemons.sh stop"
