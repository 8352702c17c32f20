# Shared helpers for the benchmarks: a local registry, timing, medians. Source it.

# start_registry DIR: Debian's docker-registry on 127.0.0.1 (sets REGISTRY, REGISTRY_PID).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/registry.sh"

# start_containerd DIR: a private containerd with all its state under DIR (CRI plugin off);
# sets CONTAINERD_PID and CONTAINERD_SOCK.
start_containerd() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
TOML
  containerd --config "$dir/config.toml" >"$dir/log" 2>&1 &
  CONTAINERD_PID=$!
  CONTAINERD_SOCK=$dir/containerd.sock
  for _ in $(seq 100); do [ -S "$CONTAINERD_SOCK" ] && return 0; sleep 0.1; done
  echo "containerd did not start: $(tail -3 "$dir/log")" >&2
  return 1
}

# Seconds (float) that "$@" takes; its output goes to $BENCH_LOG. The clock is bash's own
# (no `date` process in the measured time).
time_cmd() {
  local start end
  start=$EPOCHREALTIME
  "$@" >>"${BENCH_LOG:-/dev/null}" 2>&1 || { echo "FAILED: $*" >&2; tail -5 "${BENCH_LOG:-/dev/null}" >&2; return 1; }
  end=$EPOCHREALTIME
  echo "$end - $start" | bc -l
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# name: zlayer X, peer Y, ratio Y/X
print_ratio() {
  local label=$1 ours=$2 peer_name=$3 theirs=$4
  printf '%s: zlayer %.3fs, %s %.3fs, ratio %.2f\n' "$label" "$ours" "$peer_name" "$theirs" "$(echo "$theirs / $ours" | bc -l)"
}

# name: zlayer X<unit>, peer Y<unit>, ratio Y/X — for sizes and the like (print_ratio is seconds).
print_ratio_unit() {
  local label=$1 ours=$2 peer_name=$3 theirs=$4 unit=$5
  printf '%s: zlayer %.2f %s, %s %.2f %s, ratio %.2f\n' "$label" "$ours" "$unit" "$peer_name" "$theirs" "$unit" \
    "$(echo "$theirs / $ours" | bc -l)"
}

# A fresh tmpfs at $1 (unmounted first if mounted).
fresh_tmpfs() {
  umount -R "$1" 2>/dev/null || true
  rm -rf "$1"
  mkdir -p "$1"
  mount -t tmpfs -o size=4g tmpfs "$1"
}

# bench_prepare REPO [PACKAGE...]: as root, the project's dependencies plus the peers' packages,
# and zlayer built (or $ZLAYER as given); sets ZLAYER. Env: BUILD_DIR (default build).
bench_prepare() {
  local repo=$1
  shift
  [ "$(id -u)" = 0 ] || { echo "run as root"; exit 1; }
  bash "$repo/scripts/setup-deps.sh" >/dev/null
  if (($#)); then DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null; fi
  if [ -z "${ZLAYER:-}" ]; then
    BUILD_DIR=${BUILD_DIR:-build}
    BUILD_DIR=$BUILD_DIR TARGETS=zlayer bash "$repo/scripts/build.sh" >/dev/null
    case $BUILD_DIR in /*) ZLAYER=$BUILD_DIR/zlayer ;; *) ZLAYER=$repo/$BUILD_DIR/zlayer ;; esac
  fi
}

# remove_work DIR: unmounts everything under DIR (deepest first: rootfs, podman's and
# containerd's mounts, a tmpfs), then removes it.
remove_work() {
  grep -F " $1" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf "$1"
}
