#!/usr/bin/env bash
# Builds the npm packages from the release archives:
#
#   scripts/npm-pack.sh [--all] [--binary PATH] [--dist DIR] OUT_DIR
#
# writes into OUT_DIR the launcher `gaterouter-setup-<version>.tgz` and the host platform's
# `gaterouter-<platform>-<version>.tgz` (--all: every platform in npm/platforms.json), and
# prints their paths, one a line. Each platform package holds the binary from its release
# archive in DIR (default target/distrib; names as `scripts/dist.sh --list` gives them),
# checked against DIR/SHA256SUMS. --binary PATH takes the host's binary from a plain cargo
# build instead (stripped), so a test needs no cross build.
#
# The version of every package, and of the launcher's optionalDependencies, is Cargo.toml's.
set -euo pipefail

usage() {
  echo "usage: npm-pack.sh [--all] [--binary PATH] [--dist DIR] OUT_DIR" >&2
  exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
all=0 binary="" dist="$repo/target/distrib" out=""
while [ $# -gt 0 ]; do
  case "$1" in
  --all) all=1 ;;
  --binary) [ $# -ge 2 ] || usage; binary=$2; shift ;;
  --dist) [ $# -ge 2 ] || usage; dist=$2; shift ;;
  -h | --help) usage ;;
  -*) echo "npm-pack.sh: unknown option $1" >&2; usage ;;
  *) [ -z "$out" ] || usage; out=$1 ;;
  esac
  shift
done
[ -n "$out" ] || usage
if [ -n "$binary" ] && [ "$all" = 1 ]; then
  echo "npm-pack.sh: --binary is the host's binary; --all needs every platform's archive" >&2
  exit 1
fi
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "npm-pack.sh: node and npm are required" >&2
  exit 1
}

# The version line of Cargo.toml's [package] table.
version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n1)
[ -n "$version" ] || { echo "npm-pack.sh: no version in $repo/Cargo.toml" >&2; exit 1; }

platforms_json="$repo/npm/platforms.json"
# One line per platform: key os cpu target.
table=$(node -e '
  const { platforms } = require(process.argv[1]);
  for (const [k, p] of Object.entries(platforms)) console.log(`${k} ${p.os} ${p.cpu} ${p.target}`);
' "$platforms_json")
host=$(node -p 'process.platform + "-" + process.arch')
if [ "$all" = 1 ]; then
  wanted=$table
else
  wanted=$(printf '%s\n' "$table" | awk -v h="$host" '$1 == h')
  [ -n "$wanted" ] || {
    echo "npm-pack.sh: this host ($host) is none of npm/platforms.json's: $(printf '%s\n' "$table" | awk '{print $1}' | tr '\n' ' ')" >&2
    exit 1
  }
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The binary for one target: from --binary, or out of its release archive after checking
# the archive's SHA-256 against SHA256SUMS (a truncated or stale archive stops here).
binary_for() {
  local target=$1 dest=$2
  if [ -n "$binary" ]; then
    [ -x "$binary" ] || { echo "npm-pack.sh: --binary $binary is not an executable file" >&2; exit 1; }
    strip -o "$dest" "$binary" 2>/dev/null || cp "$binary" "$dest"
    chmod 755 "$dest"
    return
  fi
  # The archive's name and the binary's path in it, as scripts/dist.sh names them.
  local name member
  IFS=$'\t' read -r name member < <(bash "$repo/scripts/dist.sh" --list --target "$target")
  [ -n "$name" ] && [ -n "$member" ] || { echo "npm-pack.sh: scripts/dist.sh --list names no archive for $target" >&2; exit 1; }
  local archive="$dist/$name"
  [ -f "$archive" ] || {
    echo "npm-pack.sh: $archive is missing: build it with bash scripts/dist.sh --target $target (or pass --binary PATH for this host)" >&2
    exit 1
  }
  [ -f "$dist/SHA256SUMS" ] || { echo "npm-pack.sh: $dist/SHA256SUMS is missing" >&2; exit 1; }
  local want got
  want=$(awk -v n="$name" '$2 == n || $2 == "*" n {print $1}' "$dist/SHA256SUMS")
  [ -n "$want" ] || { echo "npm-pack.sh: $dist/SHA256SUMS has no line for $name" >&2; exit 1; }
  got=$(sha256sum "$archive" | awk '{print $1}')
  [ "$want" = "$got" ] || {
    echo "npm-pack.sh: $archive has SHA-256 $got, SHA256SUMS says $want" >&2
    exit 1
  }
  tar -tzf "$archive" | grep -xF "$member" >/dev/null || { echo "npm-pack.sh: $archive holds no $member" >&2; exit 1; }
  tar -xzf "$archive" -C "$stage" "$member"
  mv "$stage/$member" "$dest"
  chmod 755 "$dest"
}

# npm pack into OUT_DIR; prints the tarball's path.
pack() {
  local dir=$1 file
  file=$(cd "$dir" && npm pack --silent --pack-destination "$out" 2>/dev/null | tail -n1)
  [ -f "$out/$file" ] || { echo "npm-pack.sh: npm pack in $dir wrote nothing" >&2; exit 1; }
  echo "$out/$file"
}

while read -r key os cpu target; do
  dir="$stage/pkg-$key"
  mkdir -p "$dir/bin"
  binary_for "$target" "$dir/bin/gaterouter-setup"
  (cd "$dir" && node -e '
    const [key, os, cpu, target, version, scope] = process.argv.slice(1);
    require("fs").writeFileSync("package.json", JSON.stringify({
      name: `${scope}/${key}`,
      version,
      description: `The gaterouter-setup binary for ${os} ${cpu} (${target}); installed by the gaterouter-setup package.`,
      license: "MIT",
      homepage: "https://www.gaterouter.ai/docs",
      os: [os],
      cpu: [cpu],
      files: ["bin/"],
      preferUnplugged: true,
    }, null, 2) + "\n");
  ' "$key" "$os" "$cpu" "$target" "$version" "$(node -p 'require(process.argv[1]).scope' "$platforms_json")")
  pack "$dir"
done <<<"$wanted"

# The launcher names every platform package (npm installs only the one whose os/cpu match).
launcher="$stage/launcher"
cp -R "$repo/npm/gaterouter-setup" "$launcher"
cp "$platforms_json" "$launcher/platforms.json"
(cd "$launcher" && node -e '
  const fs = require("fs");
  const version = process.argv[1];
  const { scope, platforms } = require("./platforms.json");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  pkg.version = version;
  pkg.optionalDependencies = Object.fromEntries(Object.keys(platforms).map((k) => [`${scope}/${k}`, version]));
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
' "$version")
pack "$launcher"
