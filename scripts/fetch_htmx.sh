#!/usr/bin/env bash
# Fetch htmx from the npm registry at a pinned version and check its integrity.
# The file is not committed: web/static/vendor/ is created here at setup time.
set -euo pipefail
VERSION=2.0.11
SHA256=d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
DEST="$(dirname "$0")/../web/static/vendor/htmx.min.js"
if [ -f "$DEST" ] && echo "$SHA256  $DEST" | sha256sum -c --quiet - 2>/dev/null; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v npm >/dev/null; then
  (cd "$tmp" && npm pack --silent "htmx.org@$VERSION" >/dev/null)
else
  # No npm: the same tarball straight from the npm registry (checked below all the same).
  echo "npm not found: fetching htmx.org-$VERSION.tgz from registry.npmjs.org" >&2
  curl -fsSL -o "$tmp/htmx.org-$VERSION.tgz" "https://registry.npmjs.org/htmx.org/-/htmx.org-$VERSION.tgz"
fi
tar -xzf "$tmp"/htmx.org-"$VERSION".tgz -C "$tmp" package/dist/htmx.min.js
echo "$SHA256  $tmp/package/dist/htmx.min.js" | sha256sum -c --quiet - || {
  echo "htmx $VERSION: checksum mismatch, refusing to install" >&2; exit 1; }
mkdir -p "$(dirname "$DEST")"
cp "$tmp/package/dist/htmx.min.js" "$DEST"
echo "htmx $VERSION installed (sha256 verified)"
