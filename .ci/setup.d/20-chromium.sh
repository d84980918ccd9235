#!/usr/bin/env bash
# Headless Chromium and chromedriver for the `browser` tests in tests/e2e/ (driven with
# Playwright for Python through the system browser; no browser download).
# Idempotent and quiet: does nothing when the packages are installed already.
set -euo pipefail
# fonts-noto-cjk: without a CJK font the Chinese page renders as boxes in the screenshots.
PACKAGES=(chromium chromium-driver fonts-noto-cjk)
installed=$(dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" 2>/dev/null | grep -c '^install ok installed$' || true)
if [ "${installed}" -eq "${#PACKAGES[@]}" ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
