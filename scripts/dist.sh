#!/usr/bin/env bash
# Builds the release archives and their SHA-256 sums (docs/distribution.md):
#
#   scripts/dist.sh [--target TRIPLE]… [--profile PROFILE]
#   scripts/dist.sh --list [--target TRIPLE]…   # print "<archive>\t<binary inside it>", build nothing
#
# writes target/distrib/gaterouter-setup-<version>-<triple>.tar.gz, each holding the folder
# gaterouter-setup-<version>-<triple>/ with the binary gaterouter-setup and README.md, and
# target/distrib/SHA256SUMS over every archive of this version there (so archives built on
# two machines, then put side by side, are summed together: run `scripts/dist.sh --sums`).
#
# Targets: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl (static: any Linux, Alpine
# included), x86_64-apple-darwin, aarch64-apple-darwin. Default: those this host can link,
# both Linux ones on Linux, both Darwin ones on macOS. Darwin links need the macOS SDK's
# frameworks, so on Linux they are refused (scripts/check-darwin.sh compiles them here; the
# release workflow links them on a macOS runner).
#
# It installs what it needs itself: the Rust targets (rustup), and on Linux Zig and
# cargo-zigbuild (scripts/zig-env.sh, a cached virtualenv). Every binary's --version names
# the commit: $GATEROUTER_SETUP_COMMIT, else `git rev-parse` (with -dirty for local edits);
# with neither (a source tarball) it stops rather than ship a binary that cannot say.
# Builds run under `nice`: a full cross build is minutes of both cores.
set -euo pipefail
# One function, read whole before it runs: editing this file during a long build cannot
# change what the running copy does next.
main() {
cd "$(dirname "$0")/.."

LINUX_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
DARWIN_TARGETS=(x86_64-apple-darwin aarch64-apple-darwin)
NAME=gaterouter-setup

usage() {
  echo "usage: scripts/dist.sh [--target TRIPLE]… [--profile PROFILE] | --sums | --list [--target TRIPLE]…" >&2
  echo "targets: ${LINUX_TARGETS[*]} ${DARWIN_TARGETS[*]}" >&2
  exit 1
}

targets=()
profile=dist
sums_only=false
list_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || usage; targets+=("$2"); shift 2 ;;
    --target=*) targets+=("${1#--target=}"); shift ;;
    --profile) [ $# -ge 2 ] || usage; profile=$2; shift 2 ;;
    --sums) sums_only=true; shift ;;
    --list) list_only=true; shift ;;
    -h|--help) usage ;;
    *) echo "dist.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

host_os=$(uname -s)
if $list_only && [ ${#targets[@]} -eq 0 ]; then
  targets=("${LINUX_TARGETS[@]}" "${DARWIN_TARGETS[@]}")
fi
if [ ${#targets[@]} -eq 0 ]; then
  case "$host_os" in
    Linux) targets=("${LINUX_TARGETS[@]}") ;;
    Darwin) targets=("${DARWIN_TARGETS[@]}") ;;
    *) echo "dist.sh: no default targets on $host_os; name them with --target" >&2; exit 1 ;;
  esac
fi
for t in "${targets[@]}"; do
  case " ${LINUX_TARGETS[*]} ${DARWIN_TARGETS[*]} " in
    *" $t "*) ;;
    *) echo "dist.sh: '$t' is not a target we ship (${LINUX_TARGETS[*]} ${DARWIN_TARGETS[*]})" >&2; exit 1 ;;
  esac
  if ! $list_only && [ "$host_os" != Darwin ] && [[ "$t" == *-apple-darwin ]]; then
    echo "dist.sh: $t links against the macOS SDK's frameworks (Security, CoreFoundation), which only a Mac has:" >&2
    echo "  build it on macOS (the release workflow does); scripts/check-darwin.sh compiles it here." >&2
    exit 1
  fi
done

version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "dist.sh: no version in Cargo.toml" >&2; exit 1; }
# The names, in one place: the archive, its top folder, the binary in it.
stem_of() { echo "$NAME-$version-$1"; }
if $list_only; then
  for t in "${targets[@]}"; do
    printf '%s\t%s\n' "$(stem_of "$t").tar.gz" "$(stem_of "$t")/$NAME"
  done
  exit 0
fi
meta=$(cargo metadata --format-version 1 --no-deps --offline 2>/dev/null || cargo metadata --format-version 1 --no-deps)
target_dir=$(printf '%s\n' "$meta" |
  sed -n 's/.*"target_directory":"\(\([^"\\]\|\\.\)*\)".*/\1/p' | sed 's/\\\(.\)/\1/g')
out="$target_dir/distrib"
mkdir -p "$out"

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

write_sums() {
  (
    cd "$out"
    shopt -s nullglob
    archives=("$NAME-$version-"*.tar.gz)
    [ ${#archives[@]} -gt 0 ] || { echo "dist.sh: no archives of $version in $out" >&2; exit 1; }
    sha256 "${archives[@]}" > SHA256SUMS.tmp
    mv SHA256SUMS.tmp SHA256SUMS
  )
}

if $sums_only; then
  write_sums
  cat "$out/SHA256SUMS"
  exit 0
fi

commit=${GATEROUTER_SETUP_COMMIT:-}
if [ -z "$commit" ]; then
  if ! commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
    echo "dist.sh: not a git checkout: set GATEROUTER_SETUP_COMMIT to the commit this source is" >&2
    exit 1
  fi
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit-dirty"
  fi
fi
case "$commit" in
  *[!0-9a-zA-Z.+-]*) echo "dist.sh: GATEROUTER_SETUP_COMMIT '$commit' is not a commit id" >&2; exit 1 ;;
esac
export GATEROUTER_SETUP_COMMIT=$commit

# Reproducible archives where GNU tar is there: fixed order, owner and times.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
tar_flags=()
if tar --version 2>/dev/null | grep -q GNU; then
  tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch")
fi

installed=$(rustup target list --installed 2>/dev/null || true)
zig_bin=
for t in "${targets[@]}"; do
  if ! printf '%s\n' "$installed" | grep -qx "$t"; then
    echo "dist.sh: rustup target add $t" >&2
    rustup target add "$t" >&2
  fi
  start=$(date +%s)
  if [[ "$t" == *-apple-darwin ]]; then
    # On a Mac the system linker has the SDK; both arches cross-link there natively.
    nice -n "${DIST_NICE:-15}" cargo build --locked --profile "$profile" --target "$t" >&2
  else
    [ -n "$zig_bin" ] || zig_bin=$(bash scripts/zig-env.sh)
    PATH="$zig_bin:$PATH" nice -n "${DIST_NICE:-15}" \
      "$zig_bin/cargo-zigbuild" zigbuild --locked --profile "$profile" --target "$t" >&2
  fi
  bin="$target_dir/$t/$profile/$NAME"
  [ -x "$bin" ] || { echo "dist.sh: cargo built $t, but $bin is not there" >&2; exit 1; }

  stem=$(stem_of "$t")
  stage=$(mktemp -d "$out/.stage.XXXXXX")
  mkdir "$stage/$stem"
  cp "$bin" "$stage/$stem/$NAME"
  chmod 0755 "$stage/$stem/$NAME"
  cp README.md "$stage/$stem/"
  [ ! -f LICENSE ] || cp LICENSE "$stage/$stem/"
  tar ${tar_flags[@]+"${tar_flags[@]}"} -C "$stage" -cf - "$stem" | gzip -9n > "$out/$stem.tar.gz.tmp"
  mv "$out/$stem.tar.gz.tmp" "$out/$stem.tar.gz"
  rm -rf "$stage"
  echo "dist.sh: $out/$stem.tar.gz ($(($(date +%s) - start)) s)" >&2
done
write_sums
cat "$out/SHA256SUMS"
}
main "$@"
