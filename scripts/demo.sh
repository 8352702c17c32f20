#!/usr/bin/env bash
# The main job: installs dependencies, builds zlayer, makes a small busybox image, serves it
# from a local registry (Debian's docker-registry on 127.0.0.1), has zlayer pull it, then runs
# containers from it: one in the foreground, one in the background with exec, logs, stats, stop
# and rm. Uses a private root under /tmp so the host's /var/lib/zlayer is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root"; exit 1; }

bash scripts/setup-deps.sh
bash scripts/build.sh
ZLAYER=$PWD/build/zlayer

work=$(mktemp -d /tmp/zlayer-demo.XXXXXX)
registry_pid=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  for id in $("$ZLAYER" --root "$work/root" ps -a -q 2>/dev/null); do "$ZLAYER" --root "$work/root" rm -f "$id" >/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== making the demo image from busybox-static"
bash scripts/make-demo-image.sh "$work/layout" 1.0

source scripts/registry.sh
start_registry "$work/registry"
registry_pid=$REGISTRY_PID
port=${REGISTRY#127.0.0.1:}

echo "== pushing it to a local registry on 127.0.0.1:$port with skopeo"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:1.0" "docker://127.0.0.1:$port/demo/busybox:1.0"

export ZLAYER_ROOT=$work/root
echo "== zlayer pull 127.0.0.1:$port/demo/busybox:1.0"
"$ZLAYER" pull "127.0.0.1:$port/demo/busybox:1.0"
echo "== zlayer images"
"$ZLAYER" images
echo "== zlayer image inspect (config)"
"$ZLAYER" image inspect "127.0.0.1:$port/demo/busybox:1.0" | head -30
echo "== the shared, unpacked layer"
ls "$ZLAYER_ROOT"/layers/sha256/*/fs/bin | head -5

image=127.0.0.1:$port/demo/busybox:1.0
echo "== zlayer run --rm $image sh -c 'echo hello from \$(hostname); exit 3'"
set +e
"$ZLAYER" run --rm "$image" sh -c 'echo hello from $(hostname); exit 3'
echo "exit code: $?"
set -e
echo "== a background container with a memory limit"
"$ZLAYER" run -d --name demo-web -m 64m "$image" sh -c 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'
sleep 2
"$ZLAYER" ps
echo "== zlayer exec demo-web cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
"$ZLAYER" exec demo-web sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
echo "== zlayer logs --tail 2 demo-web"
"$ZLAYER" logs --tail 2 demo-web
echo "== zlayer stats --no-stream"
"$ZLAYER" stats --no-stream
echo "== zlayer stop demo-web && zlayer rm demo-web"
"$ZLAYER" stop -t 2 demo-web
"$ZLAYER" ps -a
"$ZLAYER" rm demo-web
