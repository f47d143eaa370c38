#!/usr/bin/env bash
# Installs the Debian 12 packages wtcpp needs to build and test (run as root).
set -euo pipefail
pkgs=(meson ninja-build pkg-config g++ clang lld libclang-rt-14-dev tshark iproute2
      android-libboringssl-dev liburing-dev libfmt-dev catch2 libbenchmark-dev
      caddy chromium golang-go golang-github-lucas-clemente-quic-go-dev)  # interop peers
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
