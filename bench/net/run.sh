#!/usr/bin/env bash
# bench/net: what bridge networking costs. `zlayer run --rm true` on the default bridge against
# `--network none`, and the same for podman (its default bridge against --network=none), RUNS
# times each, the tools taking turns (medians); then TCP throughput between two containers on
# zlayer's bridge (iperf3 run in their network namespaces) against the host's loopback.
# Prints "name: zlayer X, peer Y, ratio Y/X". Targets: bridge adds under 15 ms to a run;
# container-to-container throughput at least 80% of loopback.
# Usage: bench/net/run.sh [RUNS]. Env: BUILD_DIR (default build), ZLAYER (a binary to use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
RUNS=${1:-7}

bench_prepare "$repo" podman iperf3 bc util-linux

work=$(mktemp -d /tmp/zlayer-bench-net.XXXXXX)
export BENCH_LOG=$work/bench.log
root=$work/root
# A cluster range of its own, so the bench never meets another zlayer root's bridge.
export ZLAYER_CLUSTER_CIDR=10.250.0.0/16 ZLAYER_BRIDGE_PREFIX=zlb
Z=("$ZLAYER" --root "$root/z")
# podman as in bench/run: runc, ulimits within this host's hard limits.
P=(podman --root "$root/p/storage" --runroot "$root/p/run" --storage-driver overlay --events-backend none
  --cgroup-manager cgroupfs --runtime runc)
P_RUN=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
iperf_pids=()

cleanup() {
  set +e
  trap - EXIT
  echo "== cleaning up"
  for p in "${iperf_pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -d "$root/z" ] && "${Z[@]}" ps -aq --no-trunc 2>/dev/null | xargs -r -n 10 "${Z[@]}" rm -f >/dev/null 2>&1
  [ -d "$root/p" ] && "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  ip link del zlb0 2>/dev/null  # the default network stays with its root: its bridge and rules go by hand
  iptables -t mangle -D ZLAYER-ISOLATION -i zlb0 -m comment --comment "zlayer network zlayer" -j ZLAYER-ISO-zlb0 2>/dev/null
  iptables -t mangle -F ZLAYER-ISO-zlb0 2>/dev/null && iptables -t mangle -X ZLAYER-ISO-zlb0 2>/dev/null
  for dir in -i -o; do iptables -D FORWARD "$dir" zlb0 -m comment --comment "zlayer network zlayer" -j ACCEPT 2>/dev/null; done
  iptables -t nat -D POSTROUTING -s 10.250.0.0/24 ! -o zlb0 -m comment --comment "zlayer network zlayer" -j MASQUERADE 2>/dev/null
  remove_work "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== preparing the image"
bash "$repo/scripts/make-demo-image.sh" "$work/layout" 1.0 >/dev/null
"${Z[@]}" load -i "$work/layout" --name busybox >/dev/null
skopeo copy -q "oci:$work/layout:1.0" "oci-archive:$work/busybox.tar:docker.io/library/busybox:1.0"
"${P[@]}" load -q -i "$work/busybox.tar" >/dev/null

run_zlayer_bridge() { "${Z[@]}" run --rm busybox:1.0 true; }
run_zlayer_none() { "${Z[@]}" run --rm --network none busybox:1.0 true; }
run_podman_bridge() { "${P[@]}" run --rm "${P_RUN[@]}" docker.io/library/busybox:1.0 true; }
run_podman_none() { "${P[@]}" run --rm "${P_RUN[@]}" --network=none docker.io/library/busybox:1.0 true; }

tools=(zlayer_bridge zlayer_none podman_bridge podman_none)
declare -A samples=()
echo "== run --rm true, $RUNS runs each"
for tool in "${tools[@]}"; do time_cmd "run_$tool" >/dev/null; done  # warm-up (bridges, DNS server, probes)
for _ in $(seq "$RUNS"); do
  for tool in "${tools[@]}"; do samples[$tool]+=" $(time_cmd "run_$tool")"; done
done
declare -A t=()
for tool in "${tools[@]}"; do
  # shellcheck disable=SC2086
  t[$tool]=$(median ${samples[$tool]})
done
zo=$(echo "${t[zlayer_bridge]} - ${t[zlayer_none]}" | bc -l)
po=$(echo "${t[podman_bridge]} - ${t[podman_none]}" | bc -l)
printf 'run --rm true: zlayer bridge %.3fs, none %.3fs; podman bridge %.3fs, none %.3fs\n' \
  "${t[zlayer_bridge]}" "${t[zlayer_none]}" "${t[podman_bridge]}" "${t[podman_none]}"
printf 'bridge overhead per run: zlayer %.1f ms, podman %.1f ms, ratio %.2f (target: zlayer < 15 ms)\n' \
  "$(echo "$zo * 1000" | bc -l)" "$(echo "$po * 1000" | bc -l)" "$(echo "$po / ($zo + 0.0001)" | bc -l)"

echo "== TCP throughput, iperf3 3 s"
"${Z[@]}" run -d --name srv busybox:1.0 sleep 1000 >/dev/null
"${Z[@]}" run -d --name cli busybox:1.0 sleep 1000 >/dev/null
srv_id=$("${Z[@]}" inspect srv | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
cli_id=$("${Z[@]}" inspect cli | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
srv_ip=$("${Z[@]}" inspect srv | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["NetworkSettings"]["IPAddress"])')
nsenter --net="$root/z/netns/$srv_id" iperf3 -s -p 5201 >/dev/null 2>&1 &
iperf_pids+=($!)
iperf3 -s -p 5202 -B 127.0.0.1 >/dev/null 2>&1 &
iperf_pids+=($!)
sleep 1
gbits() { python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)'; }
c2c=$(nsenter --net="$root/z/netns/$cli_id" iperf3 -c "$srv_ip" -p 5201 -t 3 -J | gbits)
lo=$(iperf3 -c 127.0.0.1 -p 5202 -t 3 -J | gbits)
printf 'tcp throughput: zlayer container-to-container %.2f Gbit/s, host loopback %.2f Gbit/s, ratio %.2f (target: >= 0.80 of loopback)\n' \
  "$c2c" "$lo" "$(echo "$c2c / $lo" | bc -l)"
