#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Devices as resources, without a GPU: a [devices gpu] class over
# character devices made for the test (the kernel's mem devices full,
# random, urandom and zero under /dev/TAG, and kmsg as the class's common
# node). Each form of asking (PBS Pro's ngpus, Torque's nodes=..:gpus=,
# Grid Engine's -l gpu, Slurm's --gres), exclusive assignment, the
# environment, the private /dev, EPERM from the kernel on another job's
# device (through an alias node outside /dev, which the private /dev does
# not filter), a CPU job that does not wait behind a GPU job, accounting,
# pbsnodes and qstat -B, bad requests, and devices chosen near one another
# with CPUs pinned near them.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
[ -d /sys/fs/cgroup/devices ] || [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] ||
  skip "neither the v1 devices controller nor cgroup v2"
TAG=boxqdev$$
DEVD=/dev/$TAG
mkdir "$DEVD"
cleanup() {
  stop_boxq
  rm -rf "$DEVD"
}
mknod -m 666 "$DEVD/gpu0" c 1 7
mknod -m 666 "$DEVD/gpu1" c 1 8
mknod -m 666 "$DEVD/gpu2" c 1 9
mknod -m 666 "$DEVD/gpu3" c 1 5
mknod -m 666 "$DEVD/ctl" c 1 11
mknod -m 600 "$DEVD/fpga0" c 1 4
# NVML: a stand-in library (tests/helpers/fake_nvml.c): GPU minor m is
# (m % 10) * 10 percent busy with m + 1 GiB in use.
start_boxq "nvml_library = $BUILD/tests/fakenvml/libnvidia-ml.so.1" "sample_interval = 1" \
  "[scheduler]" "ncpus = 8" "mem = 4gb" "default_mem = 64mb" \
  "[devices gpu]" "nodes = $DEVD/gpu[0-3]" "common_nodes = $DEVD/ctl" \
  "[devices fpga]" "nodes = $DEVD/fpga0"
trap cleanup EXIT
trap 'exit 1' TERM INT
cd "$WORK"
# The same devices under other names, outside /dev: the kernel, not the
# view, must refuse them.
mkdir "$T/alias"
for i in 0 1 2 3; do mknod -m 666 "$T/alias/gpu$i" c 1 $((i == 3 ? 5 : 7 + i)); done
mknod -m 666 "$T/alias/ctl" c 1 11

# ---- the box ----
nodes=$("$BIN/pbsnodes" -a)
check "pbsnodes lists the GPUs" has "$nodes" "resources_available.ngpus = 4"
check "pbsnodes lists each device" has "$nodes" "device.gpu3 = $DEVD/gpu3 job=- "
server=$("$BIN/qstat" -B -f)
check "qstat -B lists the GPUs" has "$server" "resources_available.ngpus = 4"

# probe NAME: a job script that reports what it sees of the devices.
probe() {
  cat > "$1" << EOS
#!/bin/sh
$2
env | grep -E '^(CUDA_VISIBLE_DEVICES|NVIDIA_VISIBLE_DEVICES|ROCR_VISIBLE_DEVICES|GPU_DEVICE_ORDINAL|PBS_GPUFILE|BOXQ_GPU_DEVICES)=' | sort
echo "view: \$(ls $DEVD | tr '\n' ' ')"
[ -n "\${PBS_GPUFILE:-}" ] && echo "gpufile: \$(tr '\n' ' ' < \$PBS_GPUFILE)"
for i in 0 1 2 3; do
  if (exec 3< $T/alias/gpu\$i) 2> /dev/null; then echo "alias\$i open"
  else echo "alias\$i: \$( (exec 3< $T/alias/gpu\$i) 2>&1 | sed 's/.*: //')"; fi
done
(exec 3> $T/alias/ctl) 2> /dev/null && echo "ctl open" || echo "ctl refused"
$TSLEEP \${HOLD:-0}
EOS
}
probe a.sh "#PBS -l ngpus=2"
probe b.sh "#PBS -l nodes=1:ppn=1:gpus=1"
a=$(HOLD=30 submit -V a.sh)
wait_state "$a" R
b=$(HOLD=30 submit -V b.sh)
wait_state "$b" R
sleep 0.5
da=$(jfield "$a" exec_devices)
db=$(jfield "$b" exec_devices)
check "ngpus=2 holds two devices ($da)" has "$da" "^gpu:[0-3],[0-3]$"
check "nodes=1:gpus=1 holds one ($db)" has "$db" "^gpu:[0-3]$"
ia=${da#gpu:}
ib=${db#gpu:}
check "no device is held twice ($da, $db)" test -z "$(comm -12 <(tr , '\n' <<< "$ia" | sort) <(tr , '\n' <<< "$ib" | sort))"
check "exec_vnode shows the GPUs" has "$(jfield "$a" exec_vnode)" ":ngpus=2\)$"
check "Torque's exec_gpus" has "$(BOXQ_DIALECT=torque "$BIN/qstat" -f "$b")" "exec_gpus = .*-gpu/$ib"
nodes=$("$BIN/pbsnodes" -a)
check "pbsnodes counts the three held" has "$nodes" "resources_assigned.ngpus = 3"
check "pbsnodes names the holder" has "$nodes" "device.gpu$ib = $DEVD/gpu$ib job=$b\."
sleep 0.3
outb=$(cat "$WORK"/b.sh.o"$b" 2> /dev/null)
check "the job is told its GPU as CUDA numbers it (0)" has "$outb" "^CUDA_VISIBLE_DEVICES=0$"
check "ROCm and OpenCL too" has "$outb" "^ROCR_VISIBLE_DEVICES=0$" 
check "GPU_DEVICE_ORDINAL" has "$outb" "^GPU_DEVICE_ORDINAL=0$"
check "NVIDIA_VISIBLE_DEVICES gives the host's number" has "$outb" "^NVIDIA_VISIBLE_DEVICES=$ib$"
check "BOXQ_GPU_DEVICES names its node" has "$outb" "^BOXQ_GPU_DEVICES=$DEVD/gpu$ib$"
check "PBS_GPUFILE lists host-gpuN" has "$outb" "^gpufile: [^ ]+-gpu$ib $"
check "its /dev shows only its device and the common node" has "$outb" "^view: ctl gpu$ib $"
check "its own device opens" has "$outb" "^alias$ib open$"
first_a=${ia%%,*}
check "another job's device: EPERM from the kernel" has "$outb" "^alias$first_a: Operation not permitted$"
check "the common node opens" has "$outb" "^ctl open$"
outa=$(cat "$WORK"/a.sh.o"$a")
check "two GPUs numbered 0,1" has "$outa" "^CUDA_VISIBLE_DEVICES=0,1$"
check "its /dev shows its two devices" has "$outa" "^view: ctl gpu${ia%%,*} gpu${ia##*,} $"

# ---- waiting for devices, and a CPU job that does not wait behind ----
probe c.sh ""
c=$(HOLD=30 "$BIN/sbatch" --parsable --gres=gpu:2 -o "$WORK/c.out" c.sh)
c=${c%%;*}
sleep 1
check "--gres=gpu:2 waits: one GPU is free" test "$(jfield "$c" job_state)" = Q
check "it says why" has "$(jfield "$c" comment)" "resources|devices|Not Running"
probe d.sh ""
d=$(submit d.sh)
wait_job "$d" 20
check "a CPU job behind it starts at once (no walltimes anywhere)" test "$(jfield "$d" end_reason)" = completed
outd=$(cat "$WORK"/d.sh.o"$d")
check "a CPU job sees no device of the class" has "$outd" "^view: $"
check "nor opens one through another name" has "$outd" "^alias0: Operation not permitted$"
check "nor the class's common node" has "$outd" "^ctl refused$"
check "and is told no GPU" test -z "$(grep CUDA_VISIBLE <<< "$outd")"
"$BIN/qdel" "$a" > /dev/null
wait_job "$a" 20
wait_state "$c" R 20
check "the waiting job starts once GPUs free" test "$(jfield "$c" job_state)" = R
check "with two of them" has "$(jfield "$c" exec_devices)" "^gpu:[0-3],[0-3]$"
held=$(jfield "$b" exec_devices),$(jfield "$c" exec_devices)
left=$(for i in 0 1 2 3; do has "$held" "[:,]$i(,|$)" || echo $i; done)
e=$(BOXQ_DIALECT=sge "$BIN/qsub" -terse -b y -l gpu=1 "$TSLEEP" 0 2>&1)
e=${e%%.*}
wait_job "$e" 20
check "Grid Engine's -l gpu=1 gets the one left ($left)" test "$(jfield "$e" exec_devices)" = "gpu:$left"
"$BIN/qdel" "$b" "$c" > /dev/null 2>&1
wait_job "$b" 20
wait_job "$c" 20

# ---- a class of the site's own ----
f=$(echo 'echo "fpga: $BOXQ_FPGA_DEVICES"; ls '"$DEVD"' | tr "\n" " "' | submit -N fpga -l fpga=1)
wait_job "$f" 20
check "-l fpga=1 holds the class's device" test "$(jfield "$f" exec_devices)" = fpga:0
check "and is told where it is" has "$(cat "$WORK"/fpga.o"$f")" "^fpga: $DEVD/fpga0$"
check "its /dev shows it, and no GPU" has "$(cat "$WORK"/fpga.o"$f")" "^fpga0 $"
out=$(echo true | "$BIN/qsub" -l fpga=2 2>&1)
check "more of it than the box has: refused" has "$out" "asks for 2 fpga devices; this box has 1"

# ---- accounting ----
acct=$("$BIN/qacct" -j "$a")
check "qacct -j: the devices held" has "$acct" "devices +gpu:"
check "qacct -j: device-hours" has "$acct" "device_hours +gpu=0\.0"
sum=$("$BIN/qacct" --by user --json)
gh=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["groups"][0]["gpu_hours"])' <<< "$sum")
check "qacct --by user sums GPU-hours ($gh)" python3 -c "import sys; sys.exit(0 if $gh > 0 else 1)"
check "the table has a GPU h column" has "$("$BIN/qacct" --by queue)" "GPU h"
# a's GPUs as NVML numbers them: the minors of gpu0..3 are 7, 8, 9, 5.
minor_of() { case $1 in 0) echo 7 ;; 1) echo 8 ;; 2) echo 9 ;; 3) echo 5 ;; esac; }
m1=$(minor_of "${ia%%,*}")
m2=$(minor_of "${ia##*,}")
util=$(((m1 % 10 * 10 + m2 % 10 * 10) / 2))
check "NVML: utilisation sampled, and said to be ($util%)" has "$acct" "gpu_utilization +$util% \(sampled [0-9]+ times?\)"
check "NVML: peak GPU memory, sampled ($((m1 + m2 + 2))gb)" has "$acct" "gpu_mem_peak +$((m1 + m2 + 2))gb \(sampled\)"
check "a CPU job claims no GPU figures" test -z "$("$BIN/qacct" -j "$d" | grep gpu_)"

# ---- bad requests ----
out=$(echo true | "$BIN/qsub" -l ngpus=5 2>&1)
check "more GPUs than the box has: refused, counted" has "$out" "asks for 5 gpu devices; this box has 4"
out=$(echo true | "$BIN/qsub" -l ngpus=two 2>&1)
check "a count that is no number: refused, named" has "$out" "ngpus 'two' is not a whole number"
out=$(echo true | "$BIN/qsub" -l select=1:ncpus=1:ngpus=9 2>&1)
check "select's ngpus counts too" has "$out" "asks for 9 gpu devices"
check "nothing was queued by those" test -z "$("$BIN/qstat" 2>&1 | grep -E 'STDIN')"
h=$(echo true | submit -h -l ngpus=1)
"$BIN/qalter" -l ngpus=3 "$h"
check "qalter -l ngpus=3 changes the request" has "$(jfield "$h" Resource_List.ngpus)" "^3$"
out=$("$BIN/qalter" -l ngpus=9 "$h" 2>&1)
check "qalter beyond the box: refused, counted" has "$out" "asks for 9 gpu devices; this box has 4"
"$BIN/qrls" "$h"
wait_job "$h" 20
check "and the job runs with three" has "$(jfield "$h" exec_devices)" "^gpu:[0-3],[0-3],[0-3]$"
bad=$T/bad.ini
printf '[boxq]\nstate_dir = %s\n[devices gpu]\nnodes = %s\n' "$T/badstate" "$BOXQ_CONFIG" > "$bad"
out=$("$BUILD/scheduler/boxqd" -c "$bad" 2>&1)
check "a device node that is no device: boxqd refuses to start, naming it" has "$out" "\\[devices gpu\\] nodes: $BOXQ_CONFIG is not a character device"
printf '[boxq]\nstate_dir = %s\n[devices GPU]\nnodes = /dev/null\n' "$T/badstate" > "$bad"
out=$("$BUILD/scheduler/boxqd" -c "$bad" 2>&1)
check "a bad class name: file:line" has "$out" "bad.ini:4: .*device class name"

# ---- near one another, and CPUs near them (pin_cpus) ----
stop_daemons
sed -i -e 's/^\[scheduler\]$/[scheduler]\npin_cpus = true/' -e 's|^nvml_library = .*|nvml_library = /nonexistent/libnvidia-ml.so.1|' \
  -e "s|^nodes = $DEVD/gpu\\[0-3\\]\$|&\\nlocal_cpus = 0 0 1 1|" "$BOXQ_CONFIG"
start_worker
start_sched
x=$(echo "$TSLEEP 30" | submit -l ngpus=2)
wait_state "$x" R
y=$(echo "$TSLEEP 30" | submit -l ngpus=1)
wait_state "$y" R
check "two GPUs from one neighbourhood ($(jfield "$x" exec_devices))" test "$(jfield "$x" exec_devices)" = gpu:0,1
check "pinned to the CPU near them ($(jfield "$x" cpus))" test "$(jfield "$x" cpus)" = 0
check "the next GPU from the other ($(jfield "$y" exec_devices))" test "$(jfield "$y" exec_devices)" = gpu:2
check "pinned near it ($(jfield "$y" cpus))" test "$(jfield "$y" cpus)" = 1
check "pbsnodes shows where each device is near" has "$("$BIN/pbsnodes" -a)" "device.gpu2 = $DEVD/gpu2 job=$y\\..* near_cpus=1"
"$BIN/qdel" "$x" "$y" > /dev/null
wait_job "$x" 20
wait_job "$y" 20
check "without NVML nothing is claimed of the GPUs" test -z "$("$BIN/qacct" -j "$x" | grep gpu_)"
finish
