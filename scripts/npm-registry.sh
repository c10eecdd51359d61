#!/usr/bin/env bash
# Installs verdaccio (a private npm registry, from npm) into a cache directory outside the
# work tree, once, and prints the path of its CLI script, which tests/distribution/npm_install.rs runs
# with node on 127.0.0.1 to publish and install the npm packages (scripts/npm-pack.sh) as a
# user would, without the network.
#
# Why 6.8.0 with node-fetch 2.7.0: on this Node (20) verdaccio 6.10 wants Node 22, and 6.8.0's
# own node-fetch range does not install; the override is the combination that does.
set -euo pipefail

VERDACCIO_VERSION="${VERDACCIO_VERSION:-6.8.0}"
CACHE="${GATEROUTER_VERDACCIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gaterouter-setup/verdaccio}"
CLI="$CACHE/node_modules/verdaccio/bin/verdaccio"
DONE="$CACHE/.installed-$VERDACCIO_VERSION"

if [ ! -e "$DONE" ] || [ ! -f "$CLI" ]; then
  command -v npm >/dev/null || { echo "npm-registry: npm is required" >&2; exit 1; }
  mkdir -p "$CACHE"
  rm -f "$CACHE"/.installed-*
  cat >"$CACHE/package.json" <<JSON
{
  "name": "gaterouter-test-registry",
  "private": true,
  "dependencies": { "verdaccio": "$VERDACCIO_VERSION" },
  "overrides": { "node-fetch": "2.7.0" }
}
JSON
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error >&2
  [ -f "$CLI" ] || { echo "npm-registry: verdaccio installed, but $CLI is missing" >&2; exit 1; }
  touch "$DONE"
fi
echo "$CLI"
