#!/usr/bin/env bash
# bench/vm: isolation: vm (issue 10). RUNS times each (median):
#   - time to first output of `zlayer run --isolation vm --rm busybox echo` against the same
#     run process-isolated, and against a bare qemu boot of the same kernel and accelerator (a
#     busybox initramfs that powers off at once: the floor; target within 1.3x);
#   - `zlayer run --isolation vm --rm busybox true` to its end (exit + removal);
#   - host RSS of one idle VM (qemu) against an idle process container (conmon + its process).
# Prints "name: zlayer X, peer Y, ratio Y/X" lines.
# Usage: bench/vm/run.sh [RUNS]. Env: BUILD_DIR (default build), ZLAYER (a binary to use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/../lib.sh"
RUNS=${1:-5}

bench_prepare "$repo" bc

work=$(mktemp -d /tmp/zlayer-bench-vm.XXXXXX)
export BENCH_LOG=$work/bench.log
Z=("$ZLAYER" --root "$work/root")
cleanup() {
  local ids
  ids=$("${Z[@]}" ps -a -q --no-trunc 2>/dev/null || true)
  for id in $ids; do "${Z[@]}" rm -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bash "$repo/scripts/make-demo-image.sh" "$work/layout" 1.0 >>"$BENCH_LOG" 2>&1
"${Z[@]}" load -i "$work/layout" --name busybox >>"$BENCH_LOG" 2>&1
accel=$("${Z[@]}" info 2>/dev/null | sed -n 's/^VM accelerator: \([a-z]*\).*/\1/p')
echo "accelerator: $accel"

# Seconds until "$@" prints the line "first" (the kernel's own lines before it, on the bare
# boot's serial console, do not count; the rest is read and dropped).
first_output() {
  local start end= line
  start=$EPOCHREALTIME
  { while IFS= read -r line; do [ "${line%$'\r'}" = first ] && { end=$EPOCHREALTIME; break; }; done; cat >/dev/null; } \
    < <("$@" 2>>"$BENCH_LOG")
  [ -n "$end" ] || { echo "FAILED (no output): $*" >&2; return 1; }
  echo "$end - $start" | bc -l
}

# The floor: the same kernel and accelerator, a busybox initramfs that says so and powers off.
cache=${ZLAYER_VM_CACHE:-/var/cache/zlayer/vm}/current
python3 - "$work/floor.cpio" <<'PY'
import sys
out = open(sys.argv[1], 'wb'); ino = [1]
def ent(name, mode, data=b''):
    n = name.encode() + b'\0'
    out.write(('070701' + ''.join('%08X' % v for v in [ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0])).encode() + n)
    out.write(b'\0' * ((4 - (110 + len(n)) % 4) % 4)); out.write(data); out.write(b'\0' * ((4 - len(data) % 4) % 4)); ino[0] += 1
ent('bin', 0o40755); ent('dev', 0o40755)
ent('bin/busybox', 0o100755, open('/bin/busybox', 'rb').read())
ent('init', 0o100755, b'#!/bin/busybox sh\n/bin/busybox echo first\n/bin/busybox poweroff -f\n')
ent('TRAILER!!!', 0)
PY
bare=(qemu-system-x86_64 -M microvm,x-option-roms=off,isa-serial=on,rtc=on -nodefaults -no-user-config -display none
  -no-reboot -accel "$accel" -m 256 -smp 1 -kernel "$cache/vmlinux" -initrd "$work/floor.cpio"
  -append "console=ttyS0 quiet tsc_early_khz=2000000 panic=-1 rdinit=/init" -serial stdio)
[ "$accel" = kvm ] && bare+=(-cpu host)

vm=() proc=() floor=() vm_true=() proc_true=()
"${Z[@]}" run --isolation vm --rm busybox:1.0 true >>"$BENCH_LOG" 2>&1  # warm: the initramfs is made once
for _ in $(seq "$RUNS"); do
  vm+=("$(first_output "${Z[@]}" run --isolation vm --rm busybox:1.0 echo first)")
  proc+=("$(first_output "${Z[@]}" run --rm busybox:1.0 echo first)")
  floor+=("$(first_output "${bare[@]}")")
  vm_true+=("$(time_cmd "${Z[@]}" run --isolation vm --rm busybox:1.0 true)")
  proc_true+=("$(time_cmd "${Z[@]}" run --rm busybox:1.0 true)")
done
print_ratio "first output, vm vs bare qemu boot to poweroff" "$(median "${vm[@]}")" "bare-qemu" "$(median "${floor[@]}")"
print_ratio "first output, vm vs process isolation" "$(median "${vm[@]}")" "process" "$(median "${proc[@]}")"
print_ratio "run --rm true, vm vs process isolation" "$(median "${vm_true[@]}")" "process" "$(median "${proc_true[@]}")"

# Host memory of one idle VM against one idle process container.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
"${Z[@]}" run -d --isolation vm --name idle-vm busybox:1.0 sleep 1000 >>"$BENCH_LOG"
"${Z[@]}" exec idle-vm true >>"$BENCH_LOG" 2>&1  # booted
sleep 1
qemu_pid=$("${Z[@]}" inspect idle-vm | sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' | head -n1)
vm_rss=$(rss_kib "$qemu_pid")
"${Z[@]}" run -d --name idle-proc busybox:1.0 sleep 1000 >>"$BENCH_LOG"
sleep 1
cid=$("${Z[@]}" inspect idle-proc | sed -n 's/^ *"Id": "\([0-9a-f]*\)".*/\1/p' | head -n1)
proc_pid=$("${Z[@]}" inspect idle-proc | sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' | head -n1)
conmon_pid=$(cat "$work/root/containers/$cid/conmon.pid")
proc_rss=$(($(rss_kib "$proc_pid") + $(rss_kib "$conmon_pid")))
print_ratio_unit "host RSS of one idle container, vm (qemu) vs process (conmon + process)" \
  "$(echo "$vm_rss / 1024" | bc -l)" "process" "$(echo "$proc_rss / 1024" | bc -l)" MiB
