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
