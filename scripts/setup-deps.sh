#!/usr/bin/env bash
# Installs every Debian package zlayer needs to build, run and test (Debian 12, as root).
# Idempotent: quick when everything is already there.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format
  clang libclang-rt-14-dev  # the fuzzers: libFuzzer, ASan, UBSan
  # libraries
  libcurl4-openssl-dev libssl-dev libarchive-dev nlohmann-json3-dev libyaml-cpp-dev
  libsqlite3-dev libcli11-dev libspdlog-dev libfmt-dev libexpected-dev libboost-dev
  libgtest-dev libgmock-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # the Kubernetes CRI: gRPC server + protoc
  # container runtime parts
  runc crun conmon containernetworking-plugins iproute2 iptables attr
  # docker's default seccomp profile (embedded at build time) and its Engine API document
  golang-github-docker-docker-dev
  # test and demo tools: a real registry, independent image tools, an image source
  docker-registry skopeo umoci busybox-static apache2-utils python3 python3-jsonschema curl ca-certificates
  bind9-dnsutils  # dig: the DNS server tests' client
  g++-mingw-w64-x86-64-posix wine64  # the Windows backend: cross-compiler (HCS headers) and Wine to run its tests
  qemu-system-x86  # isolation: vm (issue 10): the micro-VMs; scripts/prepare-vm.sh extracts their kernel
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# isolation: vm: Debian's kernel as a PVH vmlinux + its virtio/9p modules, cached (quick when done).
# Not fatal: without it only VMs are unavailable (and their tests skip).
bash "$(dirname "$0")/prepare-vm.sh" || echo "setup: the micro-VM kernel is not prepared: isolation: vm is unavailable" >&2
