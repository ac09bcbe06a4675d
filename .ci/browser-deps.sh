#!/usr/bin/env bash
# Install headless Chromium for tests/test_browser.py (Debian's packages; Playwright drives it
# through executable_path=/usr/bin/chromium, so `playwright install` is never needed).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "browser-deps: /usr/bin/chromium present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
test -x /usr/bin/chromium
echo "browser-deps: installed $(/usr/bin/chromium --version)"
