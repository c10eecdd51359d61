# The gaterouter-setup image: the static musl binary of the release archives on a distroless
# base (no shell, no libc; CA certificates for GateRouter's TLS, /etc/passwd, /tmp).
# No compiler runs here: the binary is the one scripts/dist.sh built and
# scripts/dist-check.sh tested. Build it after `bash scripts/dist.sh`:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t gaterouter-setup:0.1.0 .
#
# Runs as distroless's nonroot user (65532): give it the OpenClaw files' owner with --user
# (docker run --user "$(id -u):$(id -g)" …, runAsUser in Kubernetes), so that it can write
# there and every file it creates belongs to OpenClaw; as root it would write files OpenClaw
# cannot read. See docs/ci.md.

# The crate's version, whose archives are added (tests/distribution/channels.rs keeps it in step).
ARG VERSION=0.1.0
# The base; scripts/dist-check.sh swaps in a local copy of the same files to test offline.
ARG BASE=gcr.io/distroless/static-debian12:nonroot
ARG TARGETARCH

# ADD unpacks a local tar archive: one stage per platform, picked by TARGETARCH.
FROM scratch AS unpack-amd64
ARG VERSION
ADD target/distrib/gaterouter-setup-${VERSION}-x86_64-unknown-linux-musl.tar.gz /unpack/

FROM scratch AS unpack-arm64
ARG VERSION
ADD target/distrib/gaterouter-setup-${VERSION}-aarch64-unknown-linux-musl.tar.gz /unpack/

# A stage of this file, not an image to tag (hadolint takes it for one).
# hadolint ignore=DL3006
FROM unpack-${TARGETARCH} AS unpack

FROM ${BASE}
ARG VERSION
LABEL org.opencontainers.image.title="gaterouter-setup" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/gaterouter/gaterouter-setup" \
      org.opencontainers.image.licenses="MIT"
COPY --from=unpack /unpack/gaterouter-setup-${VERSION}-*/gaterouter-setup /usr/local/bin/gaterouter-setup
ENTRYPOINT ["/usr/local/bin/gaterouter-setup"]
CMD ["--help"]
