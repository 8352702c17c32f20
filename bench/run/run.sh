#!/usr/bin/env bash
# bench/run: create + start + wait + remove of /bin/true from a busybox image, RUNS times each
# (median, the tools taking turns): `zlayer run --rm` against bare `runc run` (the floor), podman
# and ctr. Then 50 containers of `sleep 1000` each for zlayer and podman: conmon's RSS, the peak
# RSS of one `run -d`, and the wall time to start 50 at once.
# Prints "run --rm true: zlayer Xs, <peer> Ys, ratio Y/X" and "<name>: zlayer X, podman Y, ratio Y/X".
# Usage: bench/run/run.sh [RUNS]. Env: BUILD_DIR (default build), ZLAYER (a binary to use instead
# of building), BENCH_TMPFS=1 (all state on a tmpfs instead of the disk under /tmp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
RUNS=${1:-5}
MANY=50

bench_prepare "$repo" podman containerd bc time

work=$(mktemp -d /tmp/zlayer-bench-run.XXXXXX)
export BENCH_LOG=$work/bench.log
root=$work/root
mkdir -p "$root"
[ "${BENCH_TMPFS:-}" = 1 ] && fresh_tmpfs "$root"

Z=("$ZLAYER" --root "$root/z")
# podman's defaults do not work here: its crun rejects cgroup v1 hybrid mode ("cgroups in hybrid
# mode not supported") where zlayer's probe picks runc, so podman runs runc too; and the ulimits it
# asks for as root (nofile and nproc, both 1048576) are above this host's hard limits (nofile
# 20000, nproc 96365), which runc cannot raise without CAP_SYS_RESOURCE ("error setting rlimit
# type 7", then type 6). The two --ulimit flags below are enough; --pids-limit is not needed.
P=(podman --root "$root/p/storage" --runroot "$root/p/run" --storage-driver overlay --events-backend none
  --cgroup-manager cgroupfs --runtime runc)
P_RUN=(--network=none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
# ctr needs nothing special: containerd's default spec sets RLIMIT_NOFILE 1024, within the hard
# limit. Note that ctr runs without seccomp unless asked (--seccomp); zlayer and podman use
# docker's default profile, and the runc floor (`runc spec`) has none either.
C=(ctr -a "$root/c/containerd.sock")
CONTAINERD_PID=

# Pids of processes whose command line names our work dir (CLIs in flight, conmons, containerd
# and its shims, runc); with "clients", only the CLIs and runc.
our_pids() {
  local f pid cmd
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [ "$pid" = $$ ] && continue
    cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
    [[ $cmd == *"$work/"* ]] || continue
    [ "${1:-}" = clients ] && [[ $cmd == *conmon* || $cmd == *containerd* ]] && continue
    echo "$pid"
  done
  return 0
}

cleanup() {
  set +e
  trap - EXIT
  trap '' INT TERM  # finish cleaning up even when interrupted again
  echo "== cleaning up"
  # Commands still running (an interrupted batch of `run -d`) would add containers behind our back.
  for pid in $(our_pids clients); do kill -9 "$pid" 2>/dev/null; done
  if [ -d "$root/z" ]; then
    "${Z[@]}" ps -aq --no-trunc 2>/dev/null | xargs -r -n 10 "${Z[@]}" rm -f >/dev/null 2>&1
  fi
  [ -d "$root/p" ] && "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  if [ -n "$CONTAINERD_PID" ]; then
    for t in $("${C[@]}" task ls -q 2>/dev/null); do "${C[@]}" task kill -s SIGKILL "$t" >/dev/null 2>&1; done
    sleep 0.5
    for t in $("${C[@]}" container ls -q 2>/dev/null); do
      "${C[@]}" task delete -f "$t" >/dev/null 2>&1
      "${C[@]}" container rm "$t" >/dev/null 2>&1
    done
    kill "$CONTAINERD_PID" 2>/dev/null && wait "$CONTAINERD_PID" 2>/dev/null
  fi
  # Whatever is left (a conmon whose container the tools no longer knew): its container goes with
  # `runc delete --force`.
  for pid in $(our_pids); do kill -9 "$pid" 2>/dev/null; done
  for state in "$root/z/run/oci" "$root/r/state" "$root/p/run/runc"; do
    [ -d "$state" ] && runc --root "$state" list -q 2>/dev/null | xargs -r -n 1 runc --root "$state" delete --force
  done
  sleep 0.3
  # Containers' rootfs, podman's and containerd's mounts, the tmpfs: deepest first.
  remove_work "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== preparing images and bundles"
layout=$work/layout
bash "$repo/scripts/make-demo-image.sh" "$layout" 1.0 >/dev/null
"${Z[@]}" load -i "$layout" --name busybox >/dev/null
skopeo copy -q "oci:$layout:1.0" "oci-archive:$work/busybox.tar:docker.io/library/busybox:1.0"
"${P[@]}" load -q -i "$work/busybox.tar" >/dev/null

start_containerd "$root/c"
"${C[@]}" image import "$work/busybox.tar" >/dev/null

# The floor: runc on the unpacked image with `runc spec`'s config.
umoci unpack --image "$layout:1.0" "$root/r/bundle" >/dev/null
(cd "$root/r/bundle" && rm config.json && runc spec)
python3 - "$root/r/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
# And runc with the config.json zlayer writes (docker's seccomp profile, masked paths, devices),
# to tell runc's own cost with that config from zlayer's.
id=$("${Z[@]}" create --network none busybox:1.0 /bin/true)
mkdir -p "$root/r/zbundle"
cp "$root/z/containers/$id/"{hosts,hostname,resolv.conf} "$root/z/containers/$id/bundle/config.json" "$root/r/zbundle/"
"${Z[@]}" rm "$id" >/dev/null
python3 - "$root/r/zbundle" "$root/r/bundle/rootfs" <<'PY'
import json, os, sys
bundle, rootfs = sys.argv[1], sys.argv[2]
path = os.path.join(bundle, "config.json")
c = json.load(open(path))
c["root"]["path"] = rootfs
for m in c["mounts"]:
    name = os.path.basename(m["source"])
    if name in ("hosts", "hostname", "resolv.conf"):
        m["source"] = os.path.join(bundle, name)
del c["linux"]["cgroupsPath"]  # runc's default: one per container id
for ns in c["linux"]["namespaces"]:  # the container's netns went with it: a fresh one each run
    if ns["type"] == "network":
        ns.pop("path", None)
json.dump(c, open(path, "w"), indent=2)
PY

n=0
run_zlayer() { "${Z[@]}" run --rm --network none busybox:1.0 true; }  # as podman below: no network
run_runc() {
  runc --root "$root/r/state" run --keep -b "$root/r/bundle" "floor$n" </dev/null &&
    runc --root "$root/r/state" delete "floor$n"
}
run_runc_zconfig() {
  runc --root "$root/r/state" run --keep -b "$root/r/zbundle" "zfloor$n" </dev/null &&
    runc --root "$root/r/state" delete "zfloor$n"
}
run_podman() { "${P[@]}" run --rm "${P_RUN[@]}" docker.io/library/busybox:1.0 true; }
run_ctr() { "${C[@]}" run --rm docker.io/library/busybox:1.0 "ctr$n" /bin/true; }

tools=(zlayer runc runc_zconfig podman ctr)
declare -A samples=()
echo "== run --rm true, $RUNS runs each"
for tool in "${tools[@]}"; do time_cmd "run_$tool" >/dev/null; done  # warm-up (zlayer picks its OCI runtime once)
for _ in $(seq "$RUNS"); do
  n=$((n + 1))
  for tool in "${tools[@]}"; do samples[$tool]+=" $(time_cmd "run_$tool")"; done
done
declare -A t=()
for tool in "${tools[@]}"; do
  # shellcheck disable=SC2086  # the samples are a word list
  t[$tool]=$(median ${samples[$tool]})
done
print_ratio "run --rm true" "${t[zlayer]}" runc "${t[runc]}"
print_ratio "run --rm true" "${t[zlayer]}" "runc (zlayer's config.json)" "${t[runc_zconfig]}"
print_ratio "run --rm true" "${t[zlayer]}" podman "${t[podman]}"
print_ratio "run --rm true" "${t[zlayer]}" ctr "${t[ctr]}"

echo "== $MANY containers of sleep 1000"
start_many() {  # tool: starts $MANY detached containers at once and waits for all
  local tool=$1 i pids=() failed=0
  for i in $(seq "$MANY"); do
    if [ "$tool" = zlayer ]; then
      "${Z[@]}" run -d --network none --name "zs$i" busybox:1.0 sleep 1000 >>"$BENCH_LOG" 2>&1 &
    else
      "${P[@]}" run -d "${P_RUN[@]}" --name "ps$i" docker.io/library/busybox:1.0 sleep 1000 >>"$BENCH_LOG" 2>&1 &
    fi
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  return $failed
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
conmon_pids() {  # tool: the conmon of each of its running containers
  if [ "$1" = zlayer ]; then
    for id in $("${Z[@]}" ps -q --no-trunc); do cat "$root/z/containers/$id/conmon.pid"; echo; done
  else
    "${P[@]}" ps -q | xargs -r "${P[@]}" inspect --format '{{.State.ConmonPid}}'
  fi
}
sum_conmon_rss_kb() {  # tool: total VmRSS of the conmons of its $MANY containers
  local pids total=0 pid
  mapfile -t pids < <(conmon_pids "$1")
  [ "${#pids[@]}" = "$MANY" ] || { echo "$1: ${#pids[@]} conmons for $MANY containers" >&2; return 1; }
  for pid in "${pids[@]}"; do total=$((total + $(rss_kb "$pid"))); done
  echo "$total"
}
# Peak RSS of one `run -d` (getrusage through /usr/bin/time: the largest of the CLI itself and
# the processes it waits for, such as `runc start`), with the other containers running.
peak_rss_kb() {
  local out=$work/time.out
  if [ "$1" = zlayer ]; then
    /usr/bin/time -o "$out" -f %M "${Z[@]}" run -d --name zs-one busybox:1.0 sleep 1000 >>"$BENCH_LOG" 2>&1
  else
    /usr/bin/time -o "$out" -f %M "${P[@]}" run -d "${P_RUN[@]}" --name ps-one docker.io/library/busybox:1.0 sleep 1000 >>"$BENCH_LOG" 2>&1
  fi
  tail -1 "$out"
}
declare -A start_s=() conmon_kb=() peak_kb=()
for tool in zlayer podman; do
  start_s[$tool]=$(time_cmd start_many "$tool")
  conmon_kb[$tool]=$(sum_conmon_rss_kb "$tool")
  peak_kb[$tool]=$(peak_rss_kb "$tool")
  if [ "$tool" = zlayer ]; then
    "${Z[@]}" ps -aq --no-trunc | xargs -r -n 10 "${Z[@]}" rm -f >>"$BENCH_LOG" 2>&1
  else
    "${P[@]}" rm -af -t 0 >>"$BENCH_LOG" 2>&1
  fi
done
mb() { echo "$1 / 1024" | bc -l; }
print_ratio_unit "conmon RSS per container" "$(mb "${conmon_kb[zlayer]} / $MANY")" podman \
  "$(mb "${conmon_kb[podman]} / $MANY")" MiB
print_ratio_unit "conmon RSS, $MANY containers" "$(mb "${conmon_kb[zlayer]}")" podman "$(mb "${conmon_kb[podman]}")" MiB
print_ratio_unit "peak RSS of one run -d" "$(mb "${peak_kb[zlayer]}")" podman "$(mb "${peak_kb[podman]}")" MiB
print_ratio "start $MANY containers at once" "${start_s[zlayer]}" podman "${start_s[podman]}"
