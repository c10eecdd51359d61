#!/usr/bin/env bash
# The release files' checks that are cheap enough for every CI run (scripts/test.sh calls
# this): actionlint on .github/workflows, hadolint on the Dockerfile, and the Darwin compile
# check (scripts/check-darwin.sh). The archives themselves are built and run by
# scripts/dist.sh and scripts/dist-check.sh, in the release workflow.
set -euo pipefail
cd "$(dirname "$0")/.."
lint=$(bash scripts/lint-env.sh)
"$lint/actionlint" -no-color .github/workflows/*.yml
"$lint/hadolint" --no-color Dockerfile
bash scripts/check-darwin.sh
