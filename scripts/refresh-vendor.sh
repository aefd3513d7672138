#!/usr/bin/env bash
# Refreshes the vendored third-party files from the npm registry. Today that is axe-core,
# which the browser tests in frontend/e2e inject into each page to check accessibility.
# Usage: scripts/refresh-vendor.sh [axe-core version]   (default: the latest)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/frontend/e2e/testdata/axe"
version="${1:-latest}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
tarball="$(npm pack --silent "axe-core@$version")"
tar xzf "$tarball"
got="$(node -p 'require("./package/package.json").version')"
licence="$(node -p 'require("./package/package.json").license')"
mkdir -p "$dest"
cp package/axe.min.js package/LICENSE "$dest/"
cat > "$dest/VERSION" <<NOTE
axe-core $got (npm registry, \`npm pack axe-core\`), licence $licence (LICENSE beside this file).
Refresh with scripts/refresh-vendor.sh. Used only by the end-to-end tests; never served.
NOTE
echo "refresh-vendor: axe-core $got ($licence) in ${dest#$root/}"
