#!/usr/bin/env bash
# Installs Zig (PyPI `ziglang`) and cargo-zigbuild (PyPI `cargo-zigbuild`) into a virtual
# environment in a cache directory outside the work tree, once, and prints the path of its
# bin/ directory (cargo-zigbuild lives there; with it first on PATH, `python3 -m ziglang` is
# the Zig that cargo-zigbuild finds).
#
#   scripts/zig-env.sh        # install if missing; print the bin directory
#
# Why Zig: it is a C cross compiler and linker for every target we ship (ring has C and
# assembly), from one PyPI wheel, with musl and macOS libc headers inside: no cross gcc, no
# Docker. Why a cache: as scripts/ansible-env.sh, a virtualenv does not belong in the repository.
set -euo pipefail

ZIG_SPEC="${ZIGLANG_SPEC:-ziglang>=0.13,<0.18}"
ZIGBUILD_SPEC="${CARGO_ZIGBUILD_SPEC:-cargo-zigbuild>=0.19,<0.25}"
CACHE="${GATEROUTER_ZIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gaterouter-setup/zig}"
PY="${PYTHON:-python3}"

if [ ! -x "$CACHE/bin/cargo-zigbuild" ] || ! "$CACHE/bin/python3" -m ziglang version >/dev/null 2>&1; then
  command -v "$PY" >/dev/null || { echo "zig-env: $PY is required" >&2; exit 1; }
  rm -rf "$CACHE"
  mkdir -p "$(dirname "$CACHE")"
  "$PY" -m venv "$CACHE" >&2
  "$CACHE/bin/pip" install --quiet --disable-pip-version-check "$ZIG_SPEC" "$ZIGBUILD_SPEC" >&2
fi
echo "$CACHE/bin"
