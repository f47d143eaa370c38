#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds a small program against
# it with nothing but `pkg-config wtcpp`: the installed headers, libraries and
# wtcpp.pc must be complete (every layer, BoringSSL flags included).
#   install_test.sh BUILD_DIR SOURCE_FILE
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp" -name wtcpp.pc | head -1)
[ -n "$pc" ] || { echo "wtcpp.pc not installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --define-variable=prefix="$tmp$prefix" --cflags --libs --static wtcpp)
${CXX:-c++} -std=c++20 -O1 -o "$tmp/consumer" "$src" $flags
"$tmp/consumer"
