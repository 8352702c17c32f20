#!/usr/bin/env bash
# Prepares what `isolation: vm` boots (issue 10), once, cached: Debian's kernel as an
# uncompressed PVH vmlinux (from the linux-image-amd64 package's deb, extracted, never
# installed) and the modules the guest agent loads (virtio-mmio, virtio-serial, 9p, virtio-net),
# decompressed, in dependency order. The initramfs (these modules + zlayer's guest agent) is
# assembled by zlayer at first use. Idempotent: quick when the cache is there.
#   ZLAYER_VM_CACHE  where to keep it (default /var/cache/zlayer/vm); `current` points at the kernel
set -euo pipefail
CACHE=${ZLAYER_VM_CACHE:-/var/cache/zlayer/vm}
WANTED=(virtio_mmio virtio_console 9p 9pnet_virtio virtio_net)

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
[[ -n $pkg ]] || { echo "prepare-vm: cannot tell which kernel linux-image-amd64 is" >&2; exit 1; }
out=$CACHE/${pkg#linux-image-}
if [[ -s $out/vmlinux && -s $out/modules.load && -s $out/release ]]; then
  ln -sfn "$(basename "$out")" "$CACHE/current"
  exit 0
fi

mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/.prepare.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1); then  # stale package lists: once more after an update
  apt-get update -q >/dev/null 2>&1 || true
  (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "prepare-vm: apt-get download $pkg failed" >&2; exit 1; }
fi
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/x"
release=$(basename "$work"/x/lib/modules/*)
mkdir -p "$work/out/modules"

# vmlinuz -> vmlinux: the compressed payload starts at the first magic that decompresses to an ELF.
extract() {
  local img=$1 dst=$2 magic tool off
  for pair in "fd377a585a00:xz -dc" "28b52ffd:zstd -dcq" "1f8b0800:gzip -dc"; do
    magic=${pair%%:*} tool=${pair#*:}
    for off in $(od -An -v -tx1 -w1 "$img" | tr -d ' \n' | grep -ob "$magic" | cut -d: -f1); do
      ((off % 2 == 0)) || continue
      tail -c +$((off / 2 + 1)) "$img" | $tool >"$dst" 2>/dev/null || true
      if [[ $(head -c4 "$dst" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then return 0; fi
    done
  done
  return 1
}
extract "$work/x/boot/vmlinuz-$release" "$work/out/vmlinux" || { echo "prepare-vm: no ELF kernel inside vmlinuz-$release" >&2; exit 1; }
# A PVH entry point (Xen ELF note type 18, XEN_ELFNOTE_PHYS32_ENTRY) is what qemu's microvm boots.
readelf -n "$work/out/vmlinux" | grep -q 'Xen.*0x00000012\|Xen.*Unknown note type: (0x00000012)\|PHYS32_ENTRY' ||
  { echo "prepare-vm: $release's vmlinux has no PVH entry note" >&2; exit 1; }

# Modules: each one's "depends=" (from its .modinfo) first; .ko.xz/.ko.zst decompressed here.
declare -A seen=()
order=()
modpath() { find "$work/x/lib/modules/$release" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" | head -n1; }
add() {
  local name=$1 f deps d
  [[ -n ${seen[$name]:-} ]] && return 0
  seen[$name]=1
  f=$(modpath "$name")
  if [[ -z $f ]]; then
    grep -q "/$name.ko" "$work/x/lib/modules/$release/modules.builtin" && return 0
    echo "prepare-vm: module $name not found" >&2; exit 1
  fi
  case $f in
    *.xz) xz -dc "$f" >"$work/out/modules/$name.ko" ;;
    *.zst) zstd -dcq "$f" >"$work/out/modules/$name.ko" ;;
    *) cp "$f" "$work/out/modules/$name.ko" ;;
  esac
  deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$work/out/modules/$name.ko" | head -n1 | cut -d= -f2 | tr ',' ' ')
  for d in $deps; do add "${d//-/_}"; done
  order+=("$name")
}
for m in "${WANTED[@]}"; do add "$m"; done
printf '%s\n' "${order[@]}" >"$work/out/modules.load"
echo "$release" >"$work/out/release"

rm -rf "$out"
mv "$work/out" "$out"
ln -sfn "$(basename "$out")" "$CACHE/current"
echo "prepare-vm: kernel $release ready in $out ($(wc -l <"$out/modules.load") modules)"
