#!/bin/sh
# CTest's debug_page_browser: installs playwright-core (npm ci, from
# package-lock.json) if it is missing, then runs the browser test of
# /debug/gofer.
#   tests/browser/run.sh GOFER_BINARY NODE NPM CHROMIUM
# NODE, NPM and CHROMIUM are what CMake found; "…-NOTFOUND" fails the test
# with what to install (scripts/lib.sh's BUILD_PACKAGES and TEST_PACKAGES have
# them for CI).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
gofer=${1:?usage: run.sh GOFER_BINARY NODE NPM CHROMIUM}
node=${2:-node}
npm=${3:-npm}
chromium=${4:-/usr/bin/chromium}

missing=""
case "$node" in *NOTFOUND) missing="$missing, node (Debian package nodejs)" ;; esac
case "$npm" in *NOTFOUND) missing="$missing, npm (Debian package npm)" ;; esac
case "$chromium" in *NOTFOUND) missing="$missing, chromium (Debian package chromium)" ;; esac
if [ -n "$missing" ]; then
  echo "debug_page_browser: not found when CMake configured this build: ${missing#, }." >&2
  echo "Install them (scripts/run-tests does, through TEST_PACKAGES in scripts/lib.sh:" >&2
  echo "  sudo apt-get install nodejs npm chromium), then configure again (cmake --preset ...)." >&2
  exit 1
fi
if [ ! -x "$gofer" ]; then
  echo "debug_page_browser: no gofer binary at $gofer (build the gofer target)" >&2
  exit 1
fi

# Several builds' tests may start at once: one npm ci at a time (the lock is
# taken on package.json itself, so no lock file is left behind).
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  flock "$here/package.json" sh -c '
    [ -f "$1/node_modules/playwright-core/package.json" ] ||
      "$2" ci --prefix "$1" --no-audit --no-fund' sh "$here" "$npm"
fi

GOFER_BIN=$gofer CHROMIUM=$chromium exec "$node" --test "$here/debug_page.test.mjs"
