#!/usr/bin/env bash
# Headless Chromium for the browser tests (the HTML report, the live serving page), from
# Debian's packages. Installs only when running as root and chromium is missing; otherwise the
# browser tests skip with a reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: chromium not found and cannot apt-get it here; browser tests will skip" >&2
    exit 0
fi
echo "install-browser: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || echo "install-browser: apt-get update failed" >&2
apt-get install -y -qq chromium >/dev/null || echo "install-browser: could not install chromium" >&2
