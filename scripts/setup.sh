#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine, and nothing when it is already there:
# Debian's redis-server and chromium (with fonts for screenshots), then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium fonts-liberation)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.rpa-lock-stamp ] || ! cmp -s package-lock.json node_modules/.rpa-lock-stamp; then
  echo "setup: npm ci" >&2
  # The registry mirror here lacks msgpackr-extract's macOS/Windows builds (404), so the lock file
  # cannot list them and npm 11's ci refuses it; install from the same lock file instead.
  if ! npm ci --no-audit --no-fund >&2 2>/tmp/rpa-npm-ci.log; then
    echo "setup: npm ci refused the lock file ($(grep -m1 'Missing' /tmp/rpa-npm-ci.log || echo 'see /tmp/rpa-npm-ci.log')); npm install --no-save" >&2
    npm install --no-audit --no-fund --no-save >&2
  fi
  cp package-lock.json node_modules/.rpa-lock-stamp
fi

# Schemathesis (PyPI) for the API fuzz test, in a venv of its own so the system Python stays as it was.
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x .cache/venv/bin/st ] || ! .cache/venv/bin/pip show schemathesis 2>/dev/null | grep -qx "Version: $SCHEMATHESIS_VERSION"; then
  echo "setup: schemathesis $SCHEMATHESIS_VERSION into .cache/venv" >&2
  mkdir -p .cache
  python3 -m venv .cache/venv >&2
  .cache/venv/bin/pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
