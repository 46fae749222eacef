#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# daemons.sh start|stop|status [BUILD_DIR]: runs boxq-worker, boxqd and
# boxq-web (on $BOXQ_WEB_LISTEN, default 127.0.0.1:8642, as nobody) in the
# background for a quick try (under systemd, use the units in etc/).
# Logs and pid files go to the state directory ($BOXQ_STATE_DIR, or the
# configuration's state_dir, default /var/lib/boxq).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-status}
build=${2:-$top/build}
state=${BOXQ_STATE_DIR:-$("$build/scheduler/boxqd" --print-config | sed -n 's/^state_dir = //p')}
# The logs and pid files are the daemons' own, like everything in the state
# directory: nobody else's to read (the logs name users and jobs).
umask 077
mkdir -p -m 0711 "$state"

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2> /dev/null; }

# The web view needs no privilege: nobody runs it when there is one. A
# port already taken is said, and boxq runs without it.
start_web() {
  local listen=${BOXQ_WEB_LISTEN:-127.0.0.1:8642} as=()
  running web && return 0
  id nobody > /dev/null 2>&1 && as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups)
  "${as[@]}" "$build/web/boxq-web" --listen "$listen" >> "$state/web.log" 2>&1 &
  echo $! > "$state/web.pid"
  sleep 0.2
  if running web; then
    echo "boxq-web on http://$listen/ (log: $state/web.log)"
  else
    echo "daemons.sh: boxq-web did not start (see $state/web.log); boxq runs without it" >&2
    rm -f "$state/web.pid"
  fi
}

case "$cmd" in
  start)
    [ "$(id -u)" = 0 ] || { echo "daemons.sh: the worker needs root (sudo)" >&2; exit 1; }
    if ! running worker; then
      "$build/worker/boxq-worker" >> "$state/worker.log" 2>&1 &
      echo $! > "$state/worker.pid"
    fi
    if ! running boxqd; then
      "$build/scheduler/boxqd" >> "$state/boxqd.log" 2>&1 &
      echo $! > "$state/boxqd.pid"
    fi
    for _ in $(seq 1 50); do
      if "$build/cli/qstat" > /dev/null 2>&1; then
        echo "boxq running: state in $state (logs: $state/boxqd.log, $state/worker.log)"
        start_web
        exit 0
      fi
      sleep 0.1
    done
    echo "daemons.sh: boxqd did not come up; see $state/boxqd.log and $state/worker.log" >&2
    tail -n 5 "$state/boxqd.log" "$state/worker.log" >&2
    exit 1
    ;;
  stop)
    for d in web boxqd worker; do
      if running "$d"; then kill "$(cat "$state/$d.pid")"; fi
      rm -f "$state/$d.pid"
    done
    echo "boxq stopped (running jobs finish under their shepherds)"
    ;;
  status)
    for d in boxqd worker web; do
      if running "$d"; then echo "$d: running (pid $(cat "$state/$d.pid"))"; else echo "$d: stopped"; fi
    done
    ;;
  *)
    echo "usage: daemons.sh start|stop|status [BUILD_DIR]" >&2
    exit 2
    ;;
esac
