#!/usr/bin/env bash
# Installs ansible-core from PyPI into a virtual environment in a cache directory outside the
# work tree, once, and prints the path of its bin/ directory (ansible-playbook lives there).
#
#   scripts/ansible-env.sh        # install if missing; print the bin directory
#
# Why a cache: like OpenClaw's validator, a virtualenv does not belong in the repository, and
# re-creating it on every test run would cost a minute of the suite.
set -euo pipefail

ANSIBLE_CORE_SPEC="${ANSIBLE_CORE_SPEC:-ansible-core>=2.16,<2.19}"
CACHE="${GATEROUTER_ANSIBLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gaterouter-setup/ansible}"
PY="${PYTHON:-python3}"

if [ ! -x "$CACHE/bin/ansible-playbook" ]; then
  command -v "$PY" >/dev/null || { echo "ansible-env: $PY is required" >&2; exit 1; }
  rm -rf "$CACHE"
  mkdir -p "$(dirname "$CACHE")"
  "$PY" -m venv "$CACHE" >&2
  "$CACHE/bin/pip" install --quiet --disable-pip-version-check "$ANSIBLE_CORE_SPEC" >&2
fi
echo "$CACHE/bin"
