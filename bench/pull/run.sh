#!/usr/bin/env bash
# bench/pull: pull + unpack of a 1-layer and a ~200 MB multi-layer image from a local registry,
# cold store each run, on tmpfs for every tool: zlayer against skopeo+umoci, podman and ctr.
# Prints "pull <case>: zlayer Xs, <peer> Ys, ratio Y/X". Usage: bench/pull/run.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
RUNS=${1:-3}

bench_prepare "$repo" podman containerd bc

work=$(mktemp -d /tmp/zlayer-bench-pull.XXXXXX)
export BENCH_LOG=$work/bench.log
CONTAINERD_PID=
cleanup() {
  [ -n "$CONTAINERD_PID" ] && kill "$CONTAINERD_PID" 2>/dev/null || true
  [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
  sleep 0.5
  umount -R "$work/root" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the images"
bash "$repo/scripts/make-demo-image.sh" "$work/layout" small >/dev/null
# The large image: five layers of real files copied from this host (~200 MB uncompressed).
umoci unpack --image "$work/layout:small" "$work/bundle" >/dev/null
for dir in /usr/lib/x86_64-linux-gnu/perl-base /usr/share/locale /usr/lib/python3 /usr/share/perl /usr/lib/gcc /usr/bin; do
  [ -d "$dir" ] || continue
  mkdir -p "$work/bundle/rootfs$(dirname "$dir")"
  cp -a "$dir" "$work/bundle/rootfs$dir"
  size=$(du -sm "$work/bundle/rootfs" | cut -f1)
  umoci repack --image "$work/layout:large" "$work/bundle" >/dev/null
  [ "$size" -ge 200 ] && break
done
echo "large image: $(du -sm "$work/bundle/rootfs" | cut -f1) MB unpacked, $(ls "$work/layout/blobs/sha256" | wc -l) blobs in the layout"
rm -rf "$work/bundle"

start_registry "$work/registry"
for tag in small large; do
  skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$tag" "docker://$REGISTRY/bench/$tag:1"
done

root=$work/root
run_zlayer() { "$ZLAYER" --root "$root/z" pull -q "$REGISTRY/bench/$1:1"; }
run_skopeo_umoci() {
  mkdir -p "$root/s"
  skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/bench/$1:1" "oci:$root/s/layout:1" &&
    umoci unpack --image "$root/s/layout:1" "$root/s/bundle"
}
run_podman() {
  podman --root "$root/p/storage" --runroot "$root/p/run" --storage-driver overlay --events-backend none \
    pull -q --tls-verify=false "$REGISTRY/bench/$1:1"
}
stop_containerd() {
  kill "$CONTAINERD_PID" && wait "$CONTAINERD_PID" 2>/dev/null || true
  CONTAINERD_PID=
}
run_ctr() { ctr -a "$CONTAINERD_SOCK" image pull --plain-http "$REGISTRY/bench/$1:1"; }

for case in small large; do
  declare -A times=()
  for tool in zlayer skopeo_umoci podman ctr; do
    samples=()
    for _ in $(seq "$RUNS"); do
      [ -n "$CONTAINERD_PID" ] && stop_containerd
      fresh_tmpfs "$root"
      [ "$tool" = ctr ] && start_containerd "$root/c"
      samples+=("$(time_cmd "run_$tool" "$case")")
    done
    [ -n "$CONTAINERD_PID" ] && stop_containerd
    times[$tool]=$(median "${samples[@]}")
  done
  for peer in skopeo_umoci podman ctr; do
    name=$peer
    [ "$peer" = skopeo_umoci ] && name="skopeo+umoci"
    print_ratio "pull $case" "${times[zlayer]}" "$name" "${times[$peer]}"
  done
  unset times
done
