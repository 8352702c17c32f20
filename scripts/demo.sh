#!/usr/bin/env bash
# The main job: installs dependencies, builds zlayer, makes a small busybox image, serves it
# from a local registry (Debian's docker-registry on 127.0.0.1), has zlayer pull it, then runs
# containers from it: one in the foreground, one in the background with exec, logs, stats, stop
# and rm. Then starts the agent (`zlayer daemon`) and deploys examples/demo.zlayer.yml: a
# health-checked HTTP service, a client that waits for its health, and a job; shows status,
# scales, crashes a replica and watches it come back, and undeploys. Uses a private root under
# /tmp so the host's /var/lib/zlayer is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root"; exit 1; }

bash scripts/setup-deps.sh
bash scripts/build.sh
ZLAYER=$PWD/build/zlayer

work=$(mktemp -d /tmp/zlayer-demo.XXXXXX)
registry_pid=
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
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

echo "== the agent: zlayer daemon (REST API on $ZLAYER_ROOT/run/zlayer.sock)"
DEMO_GREETING="hello from the daemon's environment" "$ZLAYER" daemon >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$ZLAYER_ROOT/run/zlayer.sock" ] && break; sleep 0.1; done
sed "s#IMAGE#$image#" examples/demo.zlayer.yml >"$work/demo.zlayer.yml"
echo "== zlayer deploy demo.zlayer.yml --wait (client waits for the api's health)"
"$ZLAYER" deploy --wait --timeout 2m "$work/demo.zlayer.yml" || true
echo "== zlayer status"
"$ZLAYER" status
echo "== zlayer logs once (the job's output; GREETING came from the daemon's environment)"
"$ZLAYER" logs once
echo "== zlayer scale api 3"
"$ZLAYER" scale api 3
sleep 4
"$ZLAYER" status demo
echo "== kill -9 the process of one api replica: the agent restarts it"
pid=$("$ZLAYER" status demo --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([c for s in d["services"] if s["name"]=="api" for c in s["containers"]][0]["pid"])')
kill -9 "$pid"
sleep 4
"$ZLAYER" status demo
echo "== zlayer logs --tail 2 client"
"$ZLAYER" logs --tail 2 client
echo "== metrics (excerpt)"
curl -s --unix-socket "$ZLAYER_ROOT/run/zlayer.sock" http://zlayer/metrics | grep -E '^zlayer_(containers|restarts_total|service_replicas)' | head -12
echo "== zlayer undeploy demo"
"$ZLAYER" undeploy demo
"$ZLAYER" ps -a
