#!/usr/bin/env bash
# Checks the release archives scripts/dist.sh wrote (docs/distribution.md, "Checks"):
#
#   scripts/dist-check.sh [DIR]        # default: target/distrib
#
# For every archive of this version that SHA256SUMS lists: the sum matches; the archive holds
# exactly its top folder with the binary and README.md (and LICENSE when there is one); the
# archive and the binary are under 8 MB; `--version` names this version and the commit. For
# the Linux ones: `file` says statically linked, and the binary runs alone in an empty chroot
# (no libc, no /etc, no network: its own namespaces) and answers `--version` and an offline
# dry run of a fixture root, natively or, for the other CPU, under Debian's qemu-user-static.
# Then, where buildah installs (Debian), the Dockerfile is built for real (the distroless
# base swapped for a local copy of the files it brings) and the image's filesystem runs
# setup, doctor and a TLS probe in a chroot as the image's user.
#
# Not in every CI run (.ci/run): it needs the archives, minutes of cross building. The
# release workflow runs it. Needs root (chroot, apt-get): run it with sudo where you are not.
set -euo pipefail
# One function, read whole before it runs: editing this file during a long build cannot
# change what the running copy does next.
main() {
cd "$(dirname "$0")/.."

dir=${1:-target/distrib}
NAME=gaterouter-setup
MAX_BYTES=$((8 * 1000 * 1000))
KEY=sk-or-v1-distcheck-00000000000000000000
version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n 1)
host_os=$(uname -s)
host_arch=$(uname -m)
failures=0
checks=0

fail() { echo "dist-check: FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "dist-check: ok: $*"; checks=$((checks + 1)); }
need() { command -v "$1" >/dev/null || { echo "dist-check: $1 is required" >&2; exit 1; }; }
bytes() { wc -c < "$1" | tr -d ' '; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  command -v apt-get >/dev/null || { echo "dist-check: needs ${missing[*]} (Debian/Ubuntu packages)" >&2; return 1; }
  echo "dist-check: apt-get install ${missing[*]}" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The commit every binary must name: the caller's, else this checkout's HEAD.
expect_commit=${EXPECT_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || true)}
[ -n "$expect_commit" ] || expect_commit='[0-9a-f]{7,40}'
version_re="^$NAME ${version//./\\.} \\(commit ${expect_commit}(-dirty)?\\)\$"

[ -f "$dir/SHA256SUMS" ] || { echo "dist-check: no $dir/SHA256SUMS: run scripts/dist.sh first" >&2; exit 1; }
if [ "$host_os" = Linux ]; then
  [ "$(id -u)" = 0 ] || { echo "dist-check: run as root (chroot, apt-get): sudo bash scripts/dist-check.sh" >&2; exit 1; }
  apt_install file qemu-user-static
fi
need file
need tar

# 1. The sums.
if (cd "$dir" && if command -v sha256sum >/dev/null; then sha256sum -c SHA256SUMS; else shasum -a 256 -c SHA256SUMS; fi) >&2; then
  ok "SHA256SUMS matches every archive it lists"
else
  fail "SHA256SUMS does not match"
fi
# (No mapfile: macOS's bash is 3.2.)
archives=()
while IFS= read -r a; do archives+=("$a"); done < <(awk '{print $2}' "$dir/SHA256SUMS" | sed 's/^\*//' | grep "^$NAME-$version-.*\.tar\.gz\$")
[ ${#archives[@]} -gt 0 ] || { echo "dist-check: SHA256SUMS lists no archive of $version" >&2; exit 1; }
for a in "$dir/$NAME-$version-"*.tar.gz; do
  printf '%s\n' "${archives[@]}" | grep -qxF "$(basename "$a")" || fail "$(basename "$a") is not in SHA256SUMS"
done

work=$(mktemp -d)
cleanup() {
  # A chroot's /proc is never mounted here, so the tree is plain files.
  rm -rf "$work"
}
trap cleanup EXIT

# Runs the binary at $1 (path inside the rootfs $2) alone in that rootfs: new mount, PID,
# IPC, UTS and network namespaces (no network at all), an empty environment.
run_in_root() {
  local rootfs=$1 arch=$2
  shift 2
  local runner=()
  if [ "$arch" != "$host_arch" ]; then
    local q="/usr/bin/qemu-$arch-static"
    [ -x "$q" ] || { echo "dist-check: no $q" >&2; return 127; }
    cp "$q" "$rootfs/qemu-static"
    runner=(/qemu-static)
  fi
  env -i NO_COLOR=1 "$(command -v unshare)" --mount --pid --ipc --uts --net --fork \
    "$(command -v chroot)" "$rootfs" ${runner[@]+"${runner[@]}"} "$@"
}

for name in "${archives[@]}"; do
  a="$dir/$name"
  stem=${name%.tar.gz}
  triple=${stem#"$NAME-$version-"}
  echo "dist-check: $name"
  size=$(bytes "$a")
  [ "$size" -lt "$MAX_BYTES" ] && ok "$triple: archive is $size bytes (< 8 MB)" || fail "$triple: archive is $size bytes (>= 8 MB)"

  expected=$(printf '%s\n' "$stem/" "$stem/$NAME" "$stem/README.md"; [ ! -f LICENSE ] || echo "$stem/LICENSE")
  listed=$(tar -tzf "$a" | sort)
  if [ "$listed" = "$(printf '%s\n' "$expected" | sort)" ]; then
    ok "$triple: holds $stem/ with $NAME and README.md only"
  else
    fail "$triple: contents are $(echo "$listed" | tr '\n' ' '), want $(echo "$expected" | tr '\n' ' ')"
  fi
  x="$work/$triple"
  mkdir -p "$x"
  tar -xzf "$a" -C "$x"
  bin="$x/$stem/$NAME"
  [ -x "$bin" ] || { fail "$triple: $stem/$NAME is not an executable file"; continue; }
  bsize=$(bytes "$bin")
  [ "$bsize" -lt "$MAX_BYTES" ] && ok "$triple: binary is $bsize bytes (< 8 MB)" || fail "$triple: binary is $bsize bytes (>= 8 MB)"
  what=$(file -b "$bin")

  case "$triple" in
    x86_64-*) arch=x86_64 ;;
    aarch64-*) arch=aarch64 ;;
  esac
  case "$triple" in
    *-linux-musl)
      case "$what" in
        *"statically linked"* | *"static-pie linked"*) ok "$triple: file: $what" ;;
        *) fail "$triple: not static: $what" ;;
      esac
      case "$arch:$what" in
        x86_64:*x86-64* | aarch64:*aarch64*) ;;
        *) fail "$triple: wrong CPU: $what" ;;
      esac
      [ "$host_os" = Linux ] || continue
      rootfs="$work/root-$triple"
      mkdir -p "$rootfs"
      cp "$bin" "$rootfs/$NAME"
      cp -R fixtures/roots/onboarded/input "$rootfs/state"
      [ "$arch" = "$host_arch" ] && how="an empty chroot" || how="an empty chroot under qemu-$arch-static"
      if v=$(run_in_root "$rootfs" "$arch" "/$NAME" --version 2>&1) && [[ "$v" =~ $version_re ]]; then
        ok "$triple: in $how, --version: $v"
      else
        fail "$triple: in $how, --version said '$v', want /$version_re/"
      fi
      if out=$(run_in_root "$rootfs" "$arch" "/$NAME" --offline --dry-run "$KEY" /state 2>&1) &&
        grep -q '^+++ b/openclaw.json' <<<"$out" && grep -q '"primary": "gaterouter/auto"' <<<"$out" &&
        ! grep -qF "$KEY" <<<"$out"; then
        ok "$triple: in $how, an offline dry run of a fixture root shows the diff (and not the key)"
      else
        fail "$triple: in $how, the dry run failed: $out"
      fi
      if diff -r fixtures/roots/onboarded/input "$rootfs/state" >/dev/null; then
        ok "$triple: the dry run wrote nothing"
      else
        fail "$triple: the dry run changed the fixture root"
      fi
      ;;
    *-apple-darwin)
      case "$arch:$what" in
        x86_64:*Mach-O*x86_64* | aarch64:*Mach-O*arm64*) ok "$triple: file: $what" ;;
        *) fail "$triple: not a $arch Mach-O executable: $what" ;;
      esac
      # The host's own CPU only: Rosetta may be absent on the runner.
      [ "$host_os" = Darwin ] && { [ "$arch" = "$host_arch" ] || [ "$arch:$host_arch" = aarch64:arm64 ]; } || continue
      if v=$("$bin" --version 2>&1) && [[ "$v" =~ $version_re ]]; then
        ok "$triple: --version: $v"
      else
        fail "$triple: --version said '$v', want /$version_re/"
      fi
      cp -R fixtures/roots/onboarded/input "$work/state-$triple"
      if out=$(env -i NO_COLOR=1 "$bin" --offline --dry-run "$KEY" "$work/state-$triple" 2>&1) &&
        grep -q '^+++ b/openclaw.json' <<<"$out"; then
        ok "$triple: an offline dry run of a fixture root shows the diff"
      else
        fail "$triple: the dry run failed: $out"
      fi
      ;;
    *) fail "$triple: not a target dist-check knows" ;;
  esac
done

# 2. The image: build the Dockerfile, run its filesystem.
if [ "$host_os" = Linux ] && [ "${DIST_CHECK_IMAGE:-1}" != 0 ]; then
  bash scripts/image-check.sh "$dir" "$version_re" || failures=$((failures + 1))
fi

echo "dist-check: archives: $checks passed, $failures failed"
[ "$failures" -eq 0 ]
}
main "$@"
