#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# boxq's Slurm commands against real Slurm, so that the two cannot drift:
# a private slurmctld from Debian's slurm-wlm (one node, no daemons of the
# machine's, auth/none, its own port and state directory) and boxq's
# daemons both take the corpus of #SBATCH scripts (tests/data/slurm) on
# hold; for each, what both report must agree: squeue's id form, name,
# CPUs, time limit, state and reason, and scontrol's StdOut/StdErr file
# names. The scripts real Slurm refuses for its site configuration (a
# gres it was not given, a partition it has not) are left out, said.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
SLURMCTLD=/usr/sbin/slurmctld
REAL=/usr/bin
[ -x "$SLURMCTLD" ] && [ -x "$REAL/sbatch" ] || skip "Debian's slurmctld and slurm-client are not installed (scripts/install-deps.sh installs them)"
ls /usr/lib/*/slurm-wlm/auth_none.so > /dev/null 2>&1 || skip "this Slurm has no auth/none plugin"
CORPUS=$(cd "$(dirname "$0")/../data/slurm" && pwd)
start_boxq "[scheduler]" "ncpus = 4" "mem = 6gb"
host=$(hostname)

# A private slurmctld on a free port, its files in the test's directory.
S=$T/slurm
mkdir -p "$S/state" "$S/spool"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
cat > "$S/slurm.conf" << CONF
ClusterName=boxqcompare
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmctldLogFile=$S/slurmctld.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=$host CPUs=4 RealMemory=6000 State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$S/slurm.conf
"$SLURMCTLD" -D -i -f "$SLURM_CONF" > "$S/out" 2>&1 &
CTLD=$!
stop_slurm() { kill "$CTLD" 2> /dev/null; wait "$CTLD" 2> /dev/null; }
trap 'stop_slurm; stop_boxq' EXIT
for _ in $(seq 1 50); do
  "$REAL/sinfo" -h > /dev/null 2>&1 && break
  sleep 0.2
done
"$REAL/sinfo" -h > /dev/null 2>&1 || { cat "$S/out" "$S/slurmctld.log"; skip "slurmctld did not come up here"; }

cd "$WORK"
mkdir -p sub logs
# view SBATCH_DIR SQUEUE_DIR SCONTROL_DIR ID: what both report of a job,
# its own id and directory written as ID and DIR.
view() {
  local bin=$1 id=$2
  "$bin/squeue" -h -r -j "$id" -o "%i|%j|%C|%l|%T|%r" | sort | head -n 1
  "$bin/scontrol" show job "$id" | tr ' ' '\n' | grep -E '^(StdOut|StdErr)='
}
compared=0
for f in "$CORPUS"/*.sh; do
  name=$(basename "$f")
  sed "s|@WORK@|$WORK|g" "$f" > "$WORK/$name"
  real=$("$REAL/sbatch" -H --parsable "$WORK/$name" 2> "$T/real.err")
  if [ -z "$real" ]; then
    echo "# $name: real Slurm refuses it here ($(head -n 1 "$T/real.err")); not compared"
    continue
  fi
  ours=$("$BIN/sbatch" -H --parsable "$WORK/$name" 2> "$T/ours.err")
  if [ -z "$ours" ]; then
    fail "$name: real Slurm takes it, boxq does not: $(cat "$T/ours.err")"
    continue
  fi
  a=$(view "$REAL" "$real" | sed "1s/^$real\\b/ID/; 2,\$s/\\b$real\\b/ID/g; s|$WORK|DIR|g")
  b=$(view "$BIN" "$ours" | sed "1s/^$ours\\b/ID/; 2,\$s/\\b$ours\\b/ID/g; s|$WORK|DIR|g")
  if [ "$a" = "$b" ]; then
    ok "$name: boxq reports what Slurm does"
  else
    fail "$name: boxq and Slurm differ"
    diff <(echo "$a") <(echo "$b") | sed 's/^/#   /'
  fi
  compared=$((compared + 1))
  "$REAL/scancel" "$real"
  "$BIN/scancel" "$ours"
done
check "at least 8 scripts compared with real Slurm" test "$compared" -ge 8
# The default table itself, header and widths, for one held job each.
real=$("$REAL/sbatch" -H --parsable -J same --wrap=true)
ours=$("$BIN/sbatch" -H --parsable -J same --wrap=true)
a=$("$REAL/squeue" -j "$real" | sed "s/^ *$real\\b/ID/")
b=$("$BIN/squeue" -j "$ours" | sed "s/^ *$ours\\b/ID/")
check "squeue's default table: the same header and columns" test "$a" = "$b"
[ "$a" = "$b" ] || diff <(echo "$a") <(echo "$b")
stop_slurm
finish
