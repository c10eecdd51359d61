#!/usr/bin/env bash
# Drop-in replacement for GateRouter's OpenClaw setup.sh, with the same arguments:
#
#   scripts/setup.sh <API_KEY> [OPENCLAW_ROOT]
#   scripts/setup.sh --print-binary     # find or build gaterouter-setup, print its path
#
# Like the original it does not ask: it probes GateRouter, prints the summary and the diff,
# then applies (gaterouter-setup --yes). Extra options are passed on (e.g. --dry-run, --json;
# --init for a directory that is not an OpenClaw root yet, which is otherwise refused).
# It runs gaterouter-setup from $GATEROUTER_SETUP_BIN, else from PATH, else builds it once with
# cargo from the repository this script lives in.
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: setup.sh <API_KEY> [OPENCLAW_ROOT] [gaterouter-setup options]" >&2
  exit 1
fi
print_binary=false
if [ "$1" = "--print-binary" ]; then
  print_binary=true
else
  key=$1
fi
shift

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${GATEROUTER_SETUP_BIN:-}" ]; then
  bin=$GATEROUTER_SETUP_BIN
elif command -v gaterouter-setup >/dev/null 2>&1; then
  bin=$(command -v gaterouter-setup)
elif command -v cargo >/dev/null 2>&1; then
  # Ask cargo where it puts binaries: CARGO_TARGET_DIR, build.target-dir in a
  # .cargo/config.toml or the default target/ all move it, and a guessed path would miss the
  # binary just built (exit 127) and rebuild on every run.
  meta=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml")
  target_dir=$(printf '%s\n' "$meta" |
    sed -n 's/.*"target_directory":"\(\([^"\\]\|\\.\)*\)".*/\1/p' | sed 's/\\\(.\)/\1/g')
  bin=$target_dir/release/gaterouter-setup
  if [ ! -x "$bin" ]; then
    echo "setup.sh: building gaterouter-setup (once; a few minutes on 2 cores)…" >&2
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml" >&2
    [ -x "$bin" ] || {
      echo "setup.sh: cargo built gaterouter-setup, but it is not at $bin" >&2
      exit 1
    }
  fi
else
  bin=$repo/target/release/gaterouter-setup
  [ -x "$bin" ] || {
    echo "setup.sh: gaterouter-setup is not on PATH and cargo is not installed to build it" >&2
    exit 1
  }
fi

if $print_binary; then
  echo "$bin"
  exit 0
fi

# The key goes to the tool on stdin, never on its command line.
printf '%s\n' "$key" | "$bin" --yes --api-key-stdin "$@"
