#!/usr/bin/env bash
# Builds wtcpp and runs the demo: the QUIC dissector on real Chromium 156
# Initial datagrams (pass datagram files to dissect your own).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build/release ] || meson setup build/release -Dbuildtype=release >/dev/null
ninja -C build/release tools/quicdump >/dev/null
exec build/release/tools/quicdump "$@"
