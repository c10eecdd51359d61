#!/usr/bin/env bash
# The OpenClaw skill folder as it ships:
#
#   scripts/skill.sh OUT_DIR [--sums target/distrib/SHA256SUMS]   # write the folder
#   scripts/skill.sh --check                                      # skill/ is up to date?
#
# skill/ (SKILL.md and scripts/setup.sh) is the one copy; this writes it to OUT_DIR with its
# `install` specs generated: the npm package pinned to Cargo.toml's version, and, with
# --sums, a `download` spec per release archive listed there (URL under Cargo.toml's
# repository, releases/download/v<version>/, the archive's sha256 from SHA256SUMS; names as
# `scripts/dist.sh --list` gives them). --check fails when skill/SKILL.md's specs or
# setup.sh's pinned package are not what this would write for the current version, so a
# version bump cannot leave the skill installing another version's binary.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() {
  echo "usage: skill.sh OUT_DIR [--sums SHA256SUMS] | skill.sh --check" >&2
  exit 1
}
out="" sums="" check=false
while [ $# -gt 0 ]; do
  case "$1" in
  --sums) [ $# -ge 2 ] || usage; sums=$2; shift ;;
  --check) check=true ;;
  -*) usage ;;
  *) [ -z "$out" ] || usage; out=$1 ;;
  esac
  shift
done
$check || [ -n "$out" ] || usage
command -v node >/dev/null || { echo "skill.sh: node is required" >&2; exit 1; }

version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n1)
repository=$(sed -n '/^\[package\]/,/^\[/s/^repository *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n1)
[ -n "$version" ] && [ -n "$repository" ] || { echo "skill.sh: no version or repository in Cargo.toml" >&2; exit 1; }

# "<npm key> <os> <archive> <sha256>" per archive SHA256SUMS lists.
downloads=""
if [ -n "$sums" ]; then
  [ -f "$sums" ] || { echo "skill.sh: $sums is missing" >&2; exit 1; }
  while read -r key os target; do
    name=$(bash "$repo/scripts/dist.sh" --list --target "$target" | cut -f1)
    sum=$(awk -v n="$name" '$2 == n || $2 == "*" n {print $1}' "$sums")
    [ -n "$sum" ] && downloads+="$key $os $target $name $sum"$'\n'
  done < <(node -e '
    const { platforms } = require(process.argv[1]);
    for (const [k, p] of Object.entries(platforms)) console.log(`${k} ${p.os} ${p.target}`);
  ' "$repo/npm/platforms.json")
  [ -n "$downloads" ] || { echo "skill.sh: $sums lists no archive of version $version" >&2; exit 1; }
fi

# SKILL.md with its "install" array (from the `"install":` line to the `],` closing it at
# the same indent) replaced by the generated one.
render() {
  node - "$repo/skill/SKILL.md" "$version" "$repository" "$downloads" <<'JS'
const fs = require("fs");
const [file, version, repository, downloads] = process.argv.slice(2);
const lines = fs.readFileSync(file, "utf8").split("\n");
const start = lines.findIndex((l) => /^\s*"install":\s*$/.test(l));
if (start < 0) throw new Error(`${file}: no "install": line`);
const indent = lines[start].match(/^\s*/)[0];
const end = lines.findIndex((l, i) => i > start && l === `${indent}  ],`);
if (end < 0) throw new Error(`${file}: the "install" array is not closed by "${indent}  ],"`);
const specs = [
  {
    id: "node",
    kind: "node",
    package: `gaterouter-setup@${version}`,
    bins: ["gaterouter-setup"],
    label: "Install gaterouter-setup (npm)",
  },
];
for (const line of downloads.split("\n").filter(Boolean)) {
  const [key, os, target, name, sha256] = line.split(" ");
  specs.push({
    id: `download-${key}`,
    kind: "download",
    os: [os],
    url: `${repository}/releases/download/v${version}/${name}`,
    sha256,
    archive: "tar.gz",
    stripComponents: 1,
    bins: ["gaterouter-setup"],
    label: `Download gaterouter-setup ${version} for ${key} (${target})`,
  });
}
// One key a line, values (arrays too) as JSON on it: the layout skill/SKILL.md is written in.
const body = [`${indent}  [`];
for (const spec of specs) {
  body.push(`${indent}    {`);
  for (const [k, v] of Object.entries(spec)) body.push(`${indent}      ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  body.push(`${indent}    },`);
}
body.push(`${indent}  ],`);
const out = [...lines.slice(0, start + 1), ...body, ...lines.slice(end + 1)];
process.stdout.write(out.join("\n"));
JS
}

if $check; then
  want=$(render)
  if [ "$want" != "$(cat "$repo/skill/SKILL.md")" ]; then
    echo "skill.sh: skill/SKILL.md's install specs are not those of version $version:" >&2
    diff <(cat "$repo/skill/SKILL.md") <(printf '%s' "$want") >&2 || true
    echo "write them with: bash scripts/skill.sh OUT && cp OUT/SKILL.md skill/SKILL.md" >&2
    exit 1
  fi
  grep -qx "NPM_PACKAGE=gaterouter-setup@$version" "$repo/skill/scripts/setup.sh" || {
    echo "skill.sh: skill/scripts/setup.sh does not pin NPM_PACKAGE=gaterouter-setup@$version" >&2
    exit 1
  }
  exit 0
fi

mkdir -p "$out"
rm -rf "${out:?}/scripts"
cp -R "$repo/skill/scripts" "$out/scripts"
render >"$out/SKILL.md"
echo "$out"
