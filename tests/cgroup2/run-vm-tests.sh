#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-vm-tests.sh BUILD_DIR: boots Debian's own kernel with a pure cgroup v2
# hierarchy under QEMU (software emulation: this machine's KVM cannot boot
# a stock kernel) and runs boxq's cgroup v2 sandbox test inside it.
#
# The kernel and busybox-static are downloaded with apt-get (never
# installed) into $BOXQ_VM_CACHE (default /var/cache/boxq-vm). The guest's
# /init mounts cgroup2 at /sys/fs/cgroup, enables every controller at the
# root, runs the test and reports its exit status on a second serial port.
# Exit status: the test's; 124 the VM timed out; 125 setup failed.
set -euo pipefail

BUILD=${1:?usage: run-vm-tests.sh BUILD_DIR}
TEST_BIN=$BUILD/tests/cg2_sandbox_test
INIT_BIN=$BUILD/worker/boxq-init
CACHE=${BOXQ_VM_CACHE:-/var/cache/boxq-vm}
TIMEOUT=${BOXQ_VM_TIMEOUT:-600}
die() { echo "run-vm-tests: $*" >&2; exit 125; }
[ -x "$TEST_BIN" ] || die "$TEST_BIN not built"
[ -x "$INIT_BIN" ] || die "$INIT_BIN not built"
[ "$(id -u)" = 0 ] || die "needs root (apt-get download, qemu)"
export DEBIAN_FRONTEND=noninteractive

updated=0
apt_update_once() { [ $updated = 1 ] || { apt-get update -qq >&2 || true; updated=1; }; }
if ! command -v qemu-system-x86_64 > /dev/null; then
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >&2 ||
    { apt_update_once; apt-get install -y -qq --no-install-recommends qemu-system-x86 >&2; } ||
    die "cannot install qemu-system-x86"
fi

# download PKG: the .deb of PKG's candidate version, in $CACHE/debs.
download() {
  mkdir -p "$CACHE/debs"
  local f
  f=$(ls "$CACHE"/debs/"$1"_*.deb 2> /dev/null | head -1 || true)
  if [ -z "$f" ]; then
    (cd "$CACHE/debs" && apt-get download -qq "$1" >&2) ||
      { apt_update_once; (cd "$CACHE/debs" && apt-get download -qq "$1" >&2); } ||
      die "cannot download $1"
    f=$(ls "$CACHE"/debs/"$1"_*.deb | head -1)
  fi
  echo "$f"
}

BUSYBOX=$CACHE/busybox
if [ ! -x "$BUSYBOX" ]; then
  deb=$(download busybox-static)
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./bin/busybox > "$BUSYBOX.tmp"
  chmod 755 "$BUSYBOX.tmp" && mv "$BUSYBOX.tmp" "$BUSYBOX"
fi
kpkg=$(apt-cache depends linux-image-amd64 2> /dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kpkg" ]; then
  apt_update_once
  kpkg=$(apt-cache depends linux-image-amd64 2> /dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64"
KERNEL=$CACHE/vmlinuz-$kpkg
if [ ! -f "$KERNEL" ]; then
  deb=$(download "$kpkg")
  dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './boot/vmlinuz-*' > "$KERNEL.tmp"
  mv "$KERNEL.tmp" "$KERNEL"
  rm -f "$deb"
fi

W=$(mktemp -d /var/tmp/boxq-vm.XXXXXX)
QPID=
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2> /dev/null; rm -rf "$W"; }
trap cleanup EXIT
R=$W/root
mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,etc,root,t}
cp "$BUSYBOX" "$R/bin/busybox"
cp "$TEST_BIN" "$R/t/cg2_sandbox_test"
cp "$INIT_BIN" "$R/t/boxq-init" # the job init program, found beside the test
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
echo "root:x:0:" > "$R/etc/group"
cat > "$R/init" << 'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control
done
echo "guest: kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
stty -F /dev/ttyS1 raw -echo 2> /dev/null
# Round 1: boxq's own cgroup below the root. Round 2: as under systemd with
# Delegate=yes: the test starts inside a delegated scope whose ancestors
# enabled the controllers for it, and puts jobs below itself (./jobs).
(
  /t/cg2_sandbox_test || exit $?
  mkdir -p /sys/fs/cgroup/test.slice/test.scope
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/test.slice/cgroup.subtree_control
  done
  echo "# delegated: running in /test.slice/test.scope, jobs in ./jobs"
  echo 0 > /sys/fs/cgroup/test.slice/test.scope/cgroup.procs
  BOXQ_CG2_PARENT=./jobs exec /t/cg2_sandbox_test
) > /dev/ttyS1 2>&1 < /dev/null
echo "BOXQ_VM_STATUS=$?" > /dev/ttyS2
sync
poweroff -f
INIT
chmod 755 "$R/init"
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc 2> /dev/null) | gzip -1 > "$W/initrd.gz"

: > "$W/out"
: > "$W/status"
echo "run-vm-tests: booting $(basename "$KERNEL") under QEMU (TCG, 2 CPUs, 1 GiB)" >&2
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
  -nodefaults -display none -no-reboot -monitor none \
  -serial "file:$W/console" -serial "file:$W/out" -serial "file:$W/status" \
  -kernel "$KERNEL" -initrd "$W/initrd.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" < /dev/null > "$W/qemu.log" 2>&1 &
QPID=$!
set +e
wait "$QPID"
qrc=$?
set -e
QPID=
tr -d '\r' < "$W/out"
rc=$(tr -d '\r' < "$W/status" | sed -n 's/^BOXQ_VM_STATUS=\([0-9]*\).*/\1/p' | tail -1)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "run-vm-tests: the VM ran past ${TIMEOUT}s" >&2
  tail -n 30 "$W/console" >&2
  exit 124
fi
if [ -z "$rc" ]; then
  echo "run-vm-tests: no exit status from the guest (qemu $qrc)" >&2
  cat "$W/qemu.log" >&2
  tail -n 40 "$W/console" >&2
  exit 125
fi
exit "$rc"
