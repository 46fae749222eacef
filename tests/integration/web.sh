#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# boxq-web against the real daemons running real jobs: headless Chromium
# loads each page and checks what it shows (web_check.py), keeping a
# screenshot of each as an artifact; /metrics is read by Prometheus' own
# parser (python3-prometheus-client). boxq-web runs as nobody, as its
# systemd unit does (DynamicUser), on loopback and on a unix socket.
. "$(dirname "$0")/lib.sh"

require_root_cgroups
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
CHROMIUM=$(command -v chromium || true)
DRIVER=$(command -v chromedriver || true)
[ -n "$CHROMIUM" ] && [ -n "$DRIVER" ] ||
  skip "no chromium and chromedriver (BOXQ_WITH_BROWSER=1 scripts/install-deps.sh)"
PY=/usr/bin/python3 # Debian's, with the Debian packages
$PY -c 'import selenium, prometheus_client' 2> /dev/null ||
  skip "no python3-selenium or python3-prometheus-client (BOXQ_WITH_BROWSER=1 scripts/install-deps.sh)"
command -v curl > /dev/null || skip "no curl"

# Four CPUs and 1 GiB whatever the machine. Usage relayed every 3 s: the
# OOM job's plot must still have a point a second (the shepherd's own
# series), which relayed samples alone could not give it.
start_boxq "[scheduler]" "ncpus = 4" "mem = 1gb" "[worker]" "sample_interval = 3"
ARTIFACTS=${BOXQ_ARTIFACTS:-$BUILD/artifacts}/web
mkdir -p "$ARTIFACTS"
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" "$@"
}

# A job whose memory grows until the kernel kills it at its limit.
{
  echo "$HELPERS/memhog 20 60 & $TSLEEP 1.5"
  echo "$HELPERS/memhog 20 60 & $TSLEEP 1.5"
  echo "$HELPERS/memhog 20 60 & $TSLEEP 1.5"
  echo "exec $HELPERS/memhog 400 60"
} > "$WORK/oom.sh"
OOM=$(submit -N growing -l mem=80mb,ncpus=1 -o /dev/null -j oe "$WORK/oom.sh")
# Finished jobs for the history: one completed, one failed, one by nobody.
OKJOB=$(echo "$TSLEEP 0.2" | submit -N fine -l ncpus=1 -o /dev/null -j oe)
BAD=$(echo "exit 3" | submit -N broken -l ncpus=1 -o /dev/null -j oe)
NOBODY=$(cd "$WORK" && echo "$TSLEEP 0.2" | as_nobody "$BIN/qsub" -N theirs -o /dev/null -j oe)
NOBODY=${NOBODY%%.*}
check "the OOM job was killed at its limit" wait_job "$OOM" 60
check "the finished jobs finished" wait_job "$BAD" 30
wait_job "$OKJOB" 30 > /dev/null
wait_job "$NOBODY" 30 > /dev/null

# Now the box: a CPU burner running (a secret in its environment), a job
# needing the whole box queued behind it, a held one.
BURN=$(echo "exec $HELPERS/cpuburn 2 600" | submit -N burner -l ncpus=2,mem=256mb,walltime=00:10:00 \
  -v WEB_SECRET=hunter2-not-shown -o /dev/null -j oe)
check "the burner runs" wait_state "$BURN" R 30
WIDE=$(echo "$TSLEEP 1" | submit -N wide -l ncpus=4,walltime=01:00:00 -o /dev/null -j oe)
HELD=$(echo "$TSLEEP 1" | submit -h -N later -l ncpus=1,walltime=00:05:00 -o /dev/null -j oe)
sleep 2.5 # a few samples of the burner

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$T/websock" && chown nobody "$T/websock"
SOCK=$T/websock/web.sock
# Started as simple commands, so that $! is boxq-web itself (exec'd by
# setpriv and env).
NOBODY_IDS=(--reuid=nobody --regid="$(id -g nobody)" --init-groups)
setpriv "${NOBODY_IDS[@]}" env BOXQ_CONFIG="$BOXQ_CONFIG" "$BUILD/web/boxq-web" \
  --listen "127.0.0.1:$PORT" --refresh 500 >> "$T/web.log" 2>&1 &
WEB_PID=$!
setpriv "${NOBODY_IDS[@]}" env BOXQ_CONFIG="$BOXQ_CONFIG" "$BUILD/web/boxq-web" \
  --listen "unix:$SOCK" >> "$T/web-unix.log" 2>&1 &
WEB2_PID=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/metrics" > /dev/null 2>&1 && [ -S "$SOCK" ] && break
  sleep 0.1
done
URL=http://127.0.0.1:$PORT
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "boxq-web answers on loopback" curl -sf -o /dev/null "$URL/"
check "boxq-web answers on its unix socket" \
  sh -c "curl -sf --unix-socket '$SOCK' http://boxq/metrics | grep -q '^boxq_up 1'"
check "a POST is refused" test "$(code -X POST "$URL/")" = 405
check "an unknown page is 404" test "$(code "$URL/etc/passwd")" = 404
check "an unknown job is 404" test "$(code "$URL/job/999999")" = 404
check "a malformed job id is refused" test "$(code "$URL/job?id=%3Cscript%3E")" = 400
check "a job id from the search box redirects" test "$(code "$URL/job?id=$BURN")" = 303
check "the burner's environment is never shown" sh -c "! curl -sf '$URL/job/$BURN' | grep -q hunter2"
check "the burner's script is never shown" sh -c "! curl -sf '$URL/job/$BURN' | grep -q cpuburn"

HOME=$T CHROMIUM=$CHROMIUM DRIVER=$DRIVER $PY "$(dirname "$0")/web_check.py" \
  "$URL" "$ARTIFACTS" "$BIN" "$OOM" "$BURN" "$WIDE" "$HELD" "$BAD" "$NOBODY" \
  > "$T/web_check.out" 2>&1
rc=$?
cat "$T/web_check.out"
PASS=$((PASS + $(grep -c '^ok - ' "$T/web_check.out")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$T/web_check.out")))
[ "$rc" -eq 0 ] || fail "web_check.py exited $rc"
echo "# screenshots: $ARTIFACTS"

# boxqd gone: the pages say so, /metrics says boxq_up 0, boxq-web lives on
# and finds boxqd again when it is back.
kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
SCHED_PID=
check "with boxqd gone /metrics says boxq_up 0" sh -c "curl -sf '$URL/metrics' | grep -q '^boxq_up 0'"
check "with boxqd gone the page says so" sh -c "curl -sf '$URL/' | grep -q 'Cannot ask boxqd'"
start_sched
check "boxqd back: boxq-web asks it again" sh -c "curl -sf '$URL/metrics' | grep -q '^boxq_up 1'"
kill "$WEB_PID" "$WEB2_PID" 2> /dev/null
wait "$WEB_PID" "$WEB2_PID" 2> /dev/null
check "boxq-web removed its socket on SIGTERM" test ! -e "$SOCK"
if grep -qE "AddressSanitizer|runtime error:" "$T"/web*.log; then
  fail "sanitizer reports in boxq-web's logs"
  cat "$T"/web*.log
fi
"$BIN/qdel" "$BURN" "$WIDE" "$HELD" > /dev/null 2>&1
finish
