#!/usr/bin/env bash
# Chromium for the browser tests (tests/browser, Playwright drives it): Debian's package, never a
# download by `playwright install`. Does nothing when it is already there.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
echo "== installing Debian's chromium for the browser tests"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
test -x "$CHROMIUM" || { echo "chromium is still missing at $CHROMIUM" >&2; exit 1; }
