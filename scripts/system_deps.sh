#!/usr/bin/env bash
# Debian packages the portal needs: a CJK font for PDFs (WeasyPrint), HarfBuzz's font
# subsetter (without it WeasyPrint falls back to fontTools: 1.7 s a PDF with the CJK font,
# against 0.05 s with it), poppler-utils to look at PDFs in tests, and — for the test suite
# (--test) — Debian's chromium-headless-shell (tests/conftest.py says why); for the benchmark
# (--bench) — wrk.
# Installs what is missing when running as root; otherwise says what to install.
set -euo pipefail
want=(fonts-wqy-zenhei libharfbuzz-subset0 poppler-utils)
case "${1:-}" in
  --test) want+=(chromium-headless-shell) ;;  # the browser tests drive Debian's headless Chromium
  --bench) want=(wrk) ;;           # make bench: the load generator
esac
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: missing Debian packages (${missing[*]}); install them with: sudo apt-get install ${missing[*]}" >&2
fi
