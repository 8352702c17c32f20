#!/usr/bin/env bash
# Makes a small OCI image layout from Debian's busybox-static: /bin/busybox plus its applet
# links, a config with a default command. Usage: make-demo-image.sh LAYOUT_DIR [TAG]
set -euo pipefail
layout=$1
tag=${2:-latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf "$layout"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
umoci repack --image "$layout:$tag" "$work/bundle" >/dev/null
umoci config --image "$layout:$tag" --config.cmd /bin/sh --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --author zlayer-demo >/dev/null
umoci gc --layout "$layout"
