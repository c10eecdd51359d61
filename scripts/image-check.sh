#!/usr/bin/env bash
# Builds the repository's Dockerfile from the release archives and runs the image's
# filesystem (docs/distribution.md, "Container image"); called by scripts/dist-check.sh:
#
#   scripts/image-check.sh DIR VERSION_REGEX
#
# No Docker engine runs on this machine, so buildah (Debian's, daemonless) builds the
# Dockerfile itself: the same ARG/FROM/ADD/COPY stages, per platform. Its one substitution is
# the base: gcr.io/distroless/static-debian12:nonroot cannot be pulled here, so BASE is a local
# image with the files that base brings and the binary needs (Debian's CA bundle at
# /etc/ssl/certs/ca-certificates.crt, /etc/passwd and /etc/group with nonroot 65532, /tmp,
# /home/nonroot, USER 65532). Then, in a chroot of the built image's filesystem, as the
# image's user, its ENTRYPOINT: --version; setup of a fixture root and doctor (what the init
# container runs); a probe over TLS to a loopback server whose CA is in the bundle (the key
# is rejected: the handshake worked), and the same without that CA (a TLS failure): the
# binary trusts exactly the bundle where distroless keeps it. Not checked: the real
# distroless layers, BuildKit itself, a multi-platform push.
set -euo pipefail
# One function, read whole before it runs: editing this file during a long build cannot
# change what the running copy does next.
main() {
cd "$(dirname "$0")/.."

dir=$1
version_re=$2
NAME=gaterouter-setup
KEY=sk-or-v1-imagecheck-0000000000000000000
version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n 1)
host_arch=$(uname -m)
failures=0
fail() { echo "image-check: FAIL: $*" >&2; failures=$((failures + 1)); }
passed=0
ok() { echo "image-check: ok: $*"; passed=$((passed + 1)); }

missing=()
for p in buildah openssl ca-certificates python3; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "image-check: apt-get install ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  buildah "${B[@]}" rm --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
B=(--root "$work/store" --runroot "$work/run" --storage-driver vfs)
trap cleanup EXIT
export BUILDAH_ISOLATION=chroot

# A CA and a server certificate for 127.0.0.1, for the TLS probe.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dist-check-ca \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
  -keyout "$work/srv.key" -out "$work/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$work/ext"
openssl x509 -req -in "$work/srv.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/ext" -out "$work/srv.pem" 2>/dev/null

# The stand-in for the distroless base.
base="$work/base"
mkdir -p "$base/etc/ssl/certs" "$base/tmp" "$base/home/nonroot"
cat /etc/ssl/certs/ca-certificates.crt "$work/ca.pem" > "$base/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$base/etc/group"
cat > "$base/Containerfile" <<'EOF'
FROM scratch
COPY etc /etc
COPY --chmod=1777 tmp /tmp
COPY --chown=65532:65532 home /home
USER 65532:65532
WORKDIR /home/nonroot
EOF

# The build context the release workflow gives docker buildx: the repository (whose
# .dockerignore keeps only target/distrib/*.tar.gz).
ctx="$work/ctx"
mkdir -p "$ctx/target/distrib"
cp Dockerfile .dockerignore "$ctx/"
cp "$dir/$NAME-$version-"*-linux-musl.tar.gz "$ctx/target/distrib/"

# A TLS server on loopback that rejects every key: a 401 proves the handshake worked.
port_file="$work/port"
python3 - "$work/srv.pem" "$work/srv.key" "$port_file" <<'EOF' &
import http.server, ssl, sys, json
class H(http.server.BaseHTTPRequestHandler):
    def reply(self):
        n = int(self.headers.get("content-length") or 0)
        if n: self.rfile.read(n)
        body = json.dumps({"error": {"message": "invalid api key"}}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = reply
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(sys.argv[3], "w").write(str(srv.server_address[1]))
srv.timeout = 60
import threading, time
threading.Thread(target=srv.serve_forever, daemon=True).start()
time.sleep(600)
EOF
server_pid=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")

for platform in amd64 arm64; do
  case $platform in amd64) arch=x86_64 ;; arm64) arch=aarch64 ;; esac
  [ -f "$ctx/target/distrib/$NAME-$version-$arch-unknown-linux-musl.tar.gz" ] || continue
  img=localhost/$NAME:$version-$platform
  # The base per platform, as distroless publishes one per platform; never pulled.
  buildah "${B[@]}" build --quiet --pull=never --platform "linux/$platform" -f "$base/Containerfile" \
    -t "localhost/distroless-standin:$platform" "$base" >/dev/null
  if ! buildah "${B[@]}" build --quiet --pull=never --platform "linux/$platform" \
    --build-arg "BASE=localhost/distroless-standin:$platform" --build-arg "VERSION=$version" \
    -t "$img" "$ctx" >"$work/build.log" 2>&1; then
    fail "linux/$platform: buildah build: $(cat "$work/build.log")"
    continue
  fi
  ok "linux/$platform: the Dockerfile builds (buildah, base swapped for the stand-in)"
  buildah "${B[@]}" inspect --type image "$img" > "$work/inspect.json"
  mapfile -t entry < <(python3 -c 'import json,sys; [print(a) for a in json.load(open(sys.argv[1]))["OCIv1"]["config"]["Entrypoint"]]' "$work/inspect.json")
  user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["OCIv1"]["config"].get("User",""))' "$work/inspect.json")
  ctr=$(buildah "${B[@]}" from --pull=never "$img")
  mnt=$(buildah "${B[@]}" mount "$ctr")
  rootfs="$work/rootfs-$platform"
  cp -a "$mnt" "$rootfs"
  buildah "${B[@]}" umount "$ctr" >/dev/null
  # What the Dockerfile adds to its base: the binary and nothing else.
  added=$(cd "$rootfs" && find . -path ./etc -prune -o -path ./tmp -prune -o -path ./home -prune -o -type f -print | sort)
  if [ "$added" = "./usr/local/bin/$NAME" ]; then
    ok "linux/$platform: adds /usr/local/bin/$NAME only; entrypoint ${entry[*]}, user '$user'"
  else
    fail "linux/$platform: adds $(echo "$added" | tr '\n' ' ')"
  fi
  runner=()
  if [ "$arch" != "$host_arch" ]; then
    cp "/usr/bin/qemu-$arch-static" "$rootfs/qemu-static"
    runner=(/qemu-static)
  fi
  in_image() {
    env -i NO_COLOR=1 HOME=/home/nonroot "$@"
  }
  unshare_net=("$(command -v unshare)" --net)
  as=("$(command -v chroot)" --userspec="${user:-0:0}" "$rootfs" ${runner[@]+"${runner[@]}"} "${entry[@]}")
  if v=$(in_image "${unshare_net[@]}" "${as[@]}" --version 2>&1) && [[ "$v" =~ $version_re ]]; then
    ok "linux/$platform: ENTRYPOINT --version: $v"
  else
    fail "linux/$platform: ENTRYPOINT --version said '$v'"
  fi
  cp -R fixtures/roots/onboarded/input "$rootfs/state"
  chown -R "${user:-0:0}" "$rootfs/state"
  if out=$(in_image "${unshare_net[@]}" "${as[@]}" --offline --yes --quiet "$KEY" /state 2>&1) &&
    out2=$(in_image "${unshare_net[@]}" "${as[@]}" doctor /state 2>&1) &&
    grep -qx "GATEROUTER_API_KEY=$KEY" "$rootfs/state/.env" &&
    [ -z "$(find "$rootfs/state" ! -user "${user%%:*}")" ]; then
    ok "linux/$platform: ENTRYPOINT sets up a root as user $user (files stay its own), doctor says healthy"
  else
    fail "linux/$platform: setup then doctor in the image: ${out:-} ${out2:-}"
  fi
  url="https://127.0.0.1:$port/openai/v1"
  out=$(in_image GATEROUTER_API_KEY="$KEY" "${as[@]}" probe --base-url "$url" --timeout 5 2>&1 || true)
  if grep -q "rejected the API key" <<<"$out"; then
    ok "linux/$platform: TLS to a server whose CA is in /etc/ssl/certs/ca-certificates.crt: handshake ok (key rejected, as served)"
  else
    fail "linux/$platform: TLS probe with the CA in the bundle: $out"
  fi
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  out=$(in_image GATEROUTER_API_KEY="$KEY" "${as[@]}" probe --base-url "$url" --timeout 5 2>&1 || true)
  if grep -q "TLS connection failed" <<<"$out"; then
    ok "linux/$platform: without that CA in the bundle the same probe is a TLS failure"
  else
    fail "linux/$platform: TLS probe without the CA: $out"
  fi
  buildah "${B[@]}" rm "$ctr" >/dev/null
done

echo "image-check: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
}
main "$@"
