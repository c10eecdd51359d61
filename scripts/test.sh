#!/usr/bin/env bash
# The whole test suite, as the README and .ci/run run it: installs OpenClaw's own config
# validator, ansible-core and verdaccio once (cached outside the repo), then every unit, golden and end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/openclaw-validator.sh >/dev/null
# ansible-core in a cached virtualenv, for tests/ansible.rs (the Ansible collection).
bash scripts/ansible-env.sh >/dev/null
# The release workflow and Dockerfile linted, the macOS targets compiled (not linked): about
# 2 minutes the first time, seconds after (BENCHMARKS.md, "Distribution").
bash scripts/dist-lint.sh
# verdaccio, a private npm registry on 127.0.0.1, for tests/distribution/npm_install.rs (the npm package).
bash scripts/npm-registry.sh >/dev/null
cargo test --all-targets "$@"
