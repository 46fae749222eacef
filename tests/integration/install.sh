#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cmake --install into an empty DESTDIR, as a package build does: every
# program, the PBS verbs as links, the man pages, and the job init program
# where the installed worker finds it (../libexec/boxq from its sbin, for
# any prefix).
. "$(dirname "$0")/lib.sh"
command -v cmake > /dev/null || skip "no cmake"
T=$(mktemp -d /var/tmp/boxq-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
out=$(DESTDIR=$T/dest cmake --install "$BUILD" --prefix /opt/boxq 2>&1)
rc=$?
check "cmake --install into an empty DESTDIR succeeds" test "$rc" = 0
[ "$rc" = 0 ] || echo "$out" | tail -5
P=$T/dest/opt/boxq
for f in bin/boxq sbin/boxqd sbin/boxq-worker libexec/boxq/boxq-init share/man/man1/qsub.1 \
  share/man/man1/pbsnodes.1 share/man/man1/qwait.1 share/man/man1/qpeek.1 share/man/man1/qmove.1 share/man/man1/qmod.1 share/man/man1/sbatch.1 share/man/man1/squeue.1 share/man/man1/sacct.1 share/man/man1/scancel.1 share/man/man1/scontrol.1 share/man/man1/sinfo.1 share/man/man1/srun.1 \
  share/man/man8/boxq-worker.8 share/man/man8/qmgr.8 share/man/man8/qstop.8 share/man/man8/qrun.8 \
  share/doc/boxq/examples/boxq-8gpu.ini; do
  check "installs $f" test -f "$P/$f"
done
links=0
verbs="qsub qstat qdel qhold qrls qsig qacct tracejob qalter qselect qrerun pbsnodes qwait qmove qrun
  qpeek qcat qstart qstop qenable qdisable qmgr qmod sbatch squeue sacct scancel scontrol sinfo srun"
for v in $verbs; do
  [ "$(readlink "$P/bin/$v")" = boxq ] && links=$((links + 1))
done
check "the $(echo $verbs | wc -w) PBS verbs are links to boxq ($links)" test "$links" -eq "$(echo $verbs | wc -w)"
LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$BUILD/CMakeCache.txt")
for f in "$LIBDIR/boxq/libdrmaa.so.1.0" include/boxq/drmaa.h "$LIBDIR/pkgconfig/boxq-drmaa.pc" \
  share/man/man3/drmaa.3 share/man/man1/boxq-cron.1; do
  check "installs $f" test -f "$P/$f"
done
check "libdrmaa's directory is named to the dynamic linker" \
  test "$(cat "$T/dest/etc/ld.so.conf.d/boxq-drmaa.conf")" = "/opt/boxq/$LIBDIR/boxq"
check "the pkg-config file points at it" \
  grep -qx "libdir=/opt/boxq/$LIBDIR/boxq" "$P/$LIBDIR/pkgconfig/boxq-drmaa.pc"
check "boxq-init is root's and writable by no one else" \
  test "$(stat -c %u:%a "$P/libexec/boxq/boxq-init")" = 0:755

if [ "$(id -u)" = 0 ]; then
  # Without cgroups (allowed), so that it touches nothing of the machine's.
  mkdir -p "$T/notcg"
  printf '[boxq]\nstate_dir = %s\nlog_level = debug\n[worker]\ncgroup_mount = %s\nallow_no_cgroups = true\n' \
    "$T/state" "$T/notcg" > "$T/boxq.ini"
  timeout -s TERM 2 "$P/sbin/boxq-worker" -c "$T/boxq.ini" > "$T/worker.out" 2>&1
  check "the installed worker finds its job init program" \
    grep -q "job init program: $P/sbin/../libexec/boxq/boxq-init" "$T/worker.out"
  check "and starts" grep -q "boxq-worker ready" "$T/worker.out"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
