#!/usr/bin/env bash
# The skill's setup command:
#
#   printf '%s\n' "$KEY" | setup.sh [OPENCLAW_ROOT] --api-key-stdin [gaterouter-setup options]
#   GATEROUTER_API_KEY=… setup.sh [OPENCLAW_ROOT] [options]
#
# runs `gaterouter-setup --yes` with these arguments (probe, diff, backup, write; --dry-run
# writes nothing). The key is read by the tool from stdin or the environment, so it is never
# on a command line. Which gaterouter-setup: $GATEROUTER_SETUP_BIN, else the one on PATH,
# else the npm package through npx (Node is what every OpenClaw has), else, in a source
# checkout with Rust, a cargo build; else it says how to install it.
set -euo pipefail

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: printf '%s\\n' KEY | setup.sh [OPENCLAW_ROOT] --api-key-stdin [gaterouter-setup options]" >&2
  exit 1
fi

# The npm package of the version this skill's instructions are written for.
NPM_PACKAGE=gaterouter-setup@0.1.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -n "${GATEROUTER_SETUP_BIN:-}" ]; then
  run=("$GATEROUTER_SETUP_BIN")
elif command -v gaterouter-setup >/dev/null 2>&1; then
  run=("$(command -v gaterouter-setup)")
elif command -v npx >/dev/null 2>&1; then
  # --yes: no "Ok to proceed?" question, which would read the key's stdin.
  run=(npx --yes "$NPM_PACKAGE")
elif [ -f "$here/../Cargo.toml" ] && [ -f "$here/../scripts/setup.sh" ] && command -v cargo >/dev/null 2>&1; then
  # A source checkout: the repository's drop-in finds (or builds, once) the binary.
  run=("$(bash "$here/../scripts/setup.sh" --print-binary)")
else
  echo "setup.sh: gaterouter-setup is not installed. Install it (Node, which OpenClaw needs, has npm):" >&2
  echo "  npm install -g $NPM_PACKAGE" >&2
  exit 127
fi

exec "${run[@]}" --yes "$@"
