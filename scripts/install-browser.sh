#!/usr/bin/env bash
# Install Debian's Chromium for the dashboard end-to-end test, once. Playwright drives it
# through executablePath; no browser is downloaded by Playwright itself.
set -u
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || true
fi
command -v chromium >/dev/null 2>&1 || echo "install-browser: chromium could not be installed; the dashboard test will fail" >&2
exit 0
