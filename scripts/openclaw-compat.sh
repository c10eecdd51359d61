#!/usr/bin/env bash
# Runs the runtime test (tests/openclaw/runtime.rs: OpenClaw onboards a root, setup runs,
# real agent turns, OpenClaw's own doctor and secrets audit, uninstall) against each given
# OpenClaw release, each installed into its own cache directory, and prints one line per
# version for docs/openclaw-versions.md.
#
#   scripts/openclaw-compat.sh 2026.7.35 2026.8.2 2026.9.6
#
# Installs come from the npm registry through scripts/openclaw-validator.sh (~30 s and
# ~840 MB each, once); a run takes about 2-4 minutes per version on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 VERSION…" >&2; exit 1; }
base="${XDG_CACHE_HOME:-$HOME/.cache}/gaterouter-setup"
logs="${COMPAT_LOGS:-target/openclaw-compat}"
mkdir -p "$logs"
cargo test --no-run --test suite >/dev/null 2>&1
echo "| OpenClaw | runtime test | seconds | log |"
echo "| --- | --- | --- | --- |"
failed=0
for v in "$@"; do
  cache="$base/openclaw-$v"
  log="$logs/$v.log"
  if ! OPENCLAW_VERSION="$v" GATEROUTER_VALIDATOR_CACHE="$cache" \
      bash scripts/openclaw-validator.sh >"$log" 2>&1; then
    echo "| $v | install failed | - | $log |"
    failed=1
    continue
  fi
  start=$(date +%s)
  # CI=true: a missing install is a failure, never a silent skip.
  if CI=true GATEROUTER_VALIDATOR_CACHE="$cache" \
      cargo test --test suite openclaw::runtime:: -- --nocapture >>"$log" 2>&1; then
    result=pass
  else
    result="FAIL: $(grep -m1 -A2 'panicked at' "$log" | tail -n +2 | tr '\n' ' ' | cut -c1-160)"
    failed=1
  fi
  echo "| $v | $result | $(( $(date +%s) - start )) | $log |"
done
exit $failed
