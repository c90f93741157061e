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
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}" >/dev/null; fi
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt
eval "$(bash .ci/postgres.sh)"
export RESCUE_TEST_CHROMIUM=/usr/bin/chromium
python3 -m pytest "$@"
