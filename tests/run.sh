#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, start PostgreSQL, run every test.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}" >/dev/null; fi
fi
# a virtual environment of the project (Debian refuses system-wide pip installs); packages the system
# already has at the pinned versions are reused, the rest are installed into it
[ -x .venv/bin/python ] || python3 -m venv --system-site-packages .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
if [ "${RESCUE_LINT:-}" = 1 ]; then  # CI: lint and format checks first
  .venv/bin/python -m ruff check .
  .venv/bin/python -m ruff format --check .
fi
eval "$(bash .ci/postgres.sh)"
if [ "${RESCUE_TEST_POSTGRES_STARTED:-}" = 1 ]; then
  trap 'bash .ci/postgres.sh stop >/dev/null 2>&1 || true' EXIT  # stop the server this run started
fi
export RESCUE_TEST_CHROMIUM=/usr/bin/chromium
.venv/bin/python -m pytest "$@"
