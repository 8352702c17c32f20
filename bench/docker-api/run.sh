#!/usr/bin/env bash
# bench/docker-api: the stock docker CLI against zlayer's Docker Engine API and against podman's
# (`podman system service`), in one run, the two taking turns: `docker run --rm busybox true`
# (RUNS times, median), and `docker ps` with 50 running containers (RUNS times, median). Both
# pull the same busybox image from a local registry first.
# Prints "<name>: zlayer Xs, podman Ys, ratio Y/X".
# Usage: bench/docker-api/run.sh [RUNS]. Env: BUILD_DIR (default build), ZLAYER (a binary to use
# instead of building).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
RUNS=${1:-5}
MANY=50

bench_prepare "$repo" podman bc

work=$(mktemp -d /tmp/zlayer-bench-docker-api.XXXXXX)
export BENCH_LOG=$work/bench.log
ZSOCK=$work/z/run/docker.sock
PSOCK=$work/podman.sock
# podman as in bench/run: runc (its crun refuses this host's hybrid cgroups), cgroupfs, and
# ulimits within the host's hard limits (its defaults ask for more than root may here). The same
# flags go to both, and neither gets a network (podman's bridge is not what is measured).
P=(podman --root "$work/p/storage" --runroot "$work/p/run" --storage-driver overlay --events-backend none
  --cgroup-manager cgroupfs --runtime runc)
RUN_FLAGS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
ZPID= PPID_= REGISTRY_PID=

cleanup() {
  set +e
  trap - EXIT
  echo "== cleaning up"
  [ -S "$ZSOCK" ] && docker -H "unix://$ZSOCK" ps -aq | xargs -r docker -H "unix://$ZSOCK" rm -f >/dev/null 2>&1
  [ -S "$PSOCK" ] && docker -H "unix://$PSOCK" ps -aq | xargs -r docker -H "unix://$PSOCK" rm -f >/dev/null 2>&1
  for pid in $ZPID $PPID_ $REGISTRY_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  remove_work "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== a local registry with busybox, zlayer's daemon and podman's service"
start_registry "$work/registry"
bash "$repo/scripts/make-demo-image.sh" "$work/layout" 1.0 >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:1.0" "docker://$REGISTRY/busybox:1.0"
IMAGE=$REGISTRY/busybox:1.0

"$ZLAYER" --root "$work/z" daemon >"$work/zlayer.log" 2>&1 &
ZPID=$!
cat >"$work/registries.conf" <<CONF
[[registry]]
location = "$REGISTRY"
insecure = true
CONF
CONTAINERS_REGISTRIES_CONF=$work/registries.conf "${P[@]}" system service --time=0 "unix://$PSOCK" \
  >"$work/podman.log" 2>&1 &
PPID_=$!
for _ in $(seq 100); do [ -S "$ZSOCK" ] && [ -S "$PSOCK" ] && break; sleep 0.1; done
ZD=(docker -H "unix://$ZSOCK")
PD=(docker -H "unix://$PSOCK")
"${ZD[@]}" pull -q "$IMAGE" >/dev/null
"${PD[@]}" pull -q "$IMAGE" >/dev/null
# One run each first: caches, the OCI runtime probe, podman's first-use setup.
"${ZD[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" true
"${PD[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" true

echo "== docker run --rm busybox true, $RUNS times each"
z=() p=()
for _ in $(seq "$RUNS"); do
  z+=("$(time_cmd "${ZD[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" true)")
  p+=("$(time_cmd "${PD[@]}" run --rm "${RUN_FLAGS[@]}" "$IMAGE" true)")
done
print_ratio "docker run --rm true" "$(median "${z[@]}")" podman "$(median "${p[@]}")"

echo "== docker ps with $MANY running containers, $RUNS times each"
for _ in $(seq "$MANY"); do
  "${ZD[@]}" run -d "${RUN_FLAGS[@]}" "$IMAGE" sleep 1000 >/dev/null
  "${PD[@]}" run -d "${RUN_FLAGS[@]}" "$IMAGE" sleep 1000 >/dev/null
done
[ "$("${ZD[@]}" ps -q | wc -l)" = "$MANY" ] || { echo "zlayer: not $MANY running"; exit 1; }
[ "$("${PD[@]}" ps -q | wc -l)" = "$MANY" ] || { echo "podman: not $MANY running"; exit 1; }
z=() p=()
for _ in $(seq "$RUNS"); do
  z+=("$(time_cmd "${ZD[@]}" ps)")
  p+=("$(time_cmd "${PD[@]}" ps)")
done
print_ratio "docker ps ($MANY containers)" "$(median "${z[@]}")" podman "$(median "${p[@]}")"
