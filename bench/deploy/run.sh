#!/usr/bin/env bash
# bench/deploy: the agent's time from `zlayer deploy` of a 20-replica service to all 20 running,
# against the floor (20 bare `runc run -d` of a prepared bundle, one after the other) and podman
# (`podman run -d` 20 times in a loop); then the daemon's idle RSS with 50 replicas running.
# RUNS rounds each (median), the tools taking turns.
# Prints "name: zlayer X, peer Y, ratio Y/X". Targets: 20 replicas in under 2x the runc floor;
# daemon idle RSS under 20 MB.
# Usage: bench/deploy/run.sh [RUNS]. Env: BUILD_DIR (default build), ZLAYER (a binary to use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
RUNS=${1:-3}
REPLICAS=20
MANY=50

bench_prepare "$repo" podman bc

work=$(mktemp -d /tmp/zlayer-bench-deploy.XXXXXX)
export BENCH_LOG=$work/bench.log
root=$work/root
Z=("$ZLAYER" --root "$root/z")
# podman as in bench/run: runc (crun refuses this host's hybrid cgroups) and ulimits within the
# host's hard limits.
P=(podman --root "$root/p/storage" --runroot "$root/p/run" --storage-driver overlay --events-backend none
  --cgroup-manager cgroupfs --runtime runc)
P_RUN=(--network=none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
R=(runc --root "$root/r/state")
daemon_pid=

cleanup() {
  set +e
  trap - EXIT
  echo "== cleaning up"
  if [ -n "$daemon_pid" ]; then
    "${Z[@]}" undeploy bench >/dev/null 2>&1
    kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  fi
  [ -d "$root/z" ] && "${Z[@]}" ps -aq --no-trunc 2>/dev/null | xargs -r -n 10 "${Z[@]}" rm -f >/dev/null 2>&1
  [ -d "$root/p" ] && "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  [ -d "$root/r/state" ] && "${R[@]}" list -q 2>/dev/null | xargs -r -n 1 "${R[@]}" delete --force
  remove_work "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== preparing the image, a bundle and the daemon"
layout=$work/layout
bash "$repo/scripts/make-demo-image.sh" "$layout" 1.0 >/dev/null
"${Z[@]}" load -i "$layout" --name busybox >/dev/null
skopeo copy -q "oci:$layout:1.0" "oci-archive:$work/busybox.tar:docker.io/library/busybox:1.0"
"${P[@]}" load -q -i "$work/busybox.tar" >/dev/null
umoci unpack --image "$layout:1.0" "$root/r/bundle" >/dev/null
(cd "$root/r/bundle" && rm config.json && runc spec)
python3 - "$root/r/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["sleep", "1000"]
c["process"]["terminal"] = False
c["root"]["readonly"] = True
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY

"${Z[@]}" daemon >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$root/z/run/zlayer.sock" ] && break; sleep 0.1; done

spec() {  # replicas
  cat <<YAML
version: v1
deployment: bench
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sleep, "1000"]}
    scale: {mode: fixed, replicas: $1}
    stop_grace_period: 1s
YAML
}
spec "$REPLICAS" >"$work/bench.zlayer.yml"

round=0
run_zlayer() {
  "${Z[@]}" deploy --wait --timeout 2m "$work/bench.zlayer.yml" >/dev/null
}
reset_zlayer() { "${Z[@]}" undeploy bench >/dev/null; }
run_runc() {
  local i
  for i in $(seq "$REPLICAS"); do "${R[@]}" run -d -b "$root/r/bundle" "r$round-$i" </dev/null >/dev/null 2>&1; done
}
reset_runc() { "${R[@]}" list -q | xargs -r -n 1 "${R[@]}" delete --force; }
run_podman() {
  local i
  for i in $(seq "$REPLICAS"); do "${P[@]}" run -d "${P_RUN[@]}" docker.io/library/busybox:1.0 sleep 1000 >/dev/null; done
}
reset_podman() { "${P[@]}" rm -af -t 0 >/dev/null; }

tools=(zlayer runc podman)
declare -A samples=()
echo "== deploy of $REPLICAS replicas until all run, $RUNS rounds"
for _ in $(seq "$RUNS"); do
  round=$((round + 1))
  for tool in "${tools[@]}"; do
    samples[$tool]+=" $(time_cmd "run_$tool")"
    "reset_$tool"
    sleep 1
  done
done
declare -A t=()
for tool in "${tools[@]}"; do
  # shellcheck disable=SC2086
  t[$tool]=$(median ${samples[$tool]})
done
print_ratio "$REPLICAS replicas running" "${t[zlayer]}" "runc run -d x$REPLICAS" "${t[runc]}"
print_ratio "$REPLICAS replicas running" "${t[zlayer]}" "podman run -d x$REPLICAS" "${t[podman]}"
echo "target: zlayer under 2x the runc floor: $(echo "${t[zlayer]} / ${t[runc]}" | bc -l | xargs printf '%.2f')x"

echo "== daemon idle RSS with $MANY replicas"
spec "$MANY" >"$work/many.zlayer.yml"
"${Z[@]}" deploy --wait --timeout 5m "$work/many.zlayer.yml" >/dev/null
sleep 5
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon_pid/status")
printf 'daemon idle RSS with %d replicas: zlayer %.2f MiB (target < 20 MB)\n' "$MANY" "$(echo "$rss / 1024" | bc -l)"
