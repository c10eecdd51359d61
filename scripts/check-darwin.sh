#!/usr/bin/env bash
# Compiles every crate for the macOS targets, up to the link (docs/distribution.md, "Darwin"):
#
#   scripts/check-darwin.sh [TRIPLE]…     # default: aarch64-apple-darwin x86_64-apple-darwin
#
# A Darwin link needs the macOS SDK's frameworks, which only a Mac has (the release workflow
# links there); what can break on Linux without anyone noticing is the code: a cfg(unix)
# that is Linux-only, a libc call macOS lacks, ring's C for Apple's ABI. `cargo zigbuild
# check` catches those: Zig compiles ring's C and assembly for macOS, rustc checks the rest.
# Its own target directory (target/check-darwin) keeps the Zig environment from touching the
# host build's build-script outputs, so neither side rebuilds the other's.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-apple-darwin x86_64-apple-darwin)

installed=$(rustup target list --installed 2>/dev/null || true)
for t in "${targets[@]}"; do
  if ! printf '%s\n' "$installed" | grep -qx "$t"; then
    echo "check-darwin: rustup target add $t" >&2
    rustup target add "$t" >&2
  fi
done
zig_bin=$(bash scripts/zig-env.sh)
args=()
for t in "${targets[@]}"; do args+=(--target "$t"); done
export CARGO_TARGET_DIR="${GATEROUTER_DARWIN_CHECK_DIR:-$PWD/target/check-darwin}"
PATH="$zig_bin:$PATH" nice -n "${DIST_NICE:-10}" \
  "$zig_bin/cargo-zigbuild" check --locked --quiet "${args[@]}"
echo "check-darwin: ${targets[*]} compile (not linked: that needs macOS)" >&2
