#!/usr/bin/env bash
# Prints a directory holding the pinned Pulumi engine and Python plugins, building them from Go modules once.
set -euo pipefail

PULUMI_VERSION="v3.259.0"  # keep in step with pyproject.toml's pulumi pin and go.mod
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${CLUSTER_CONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-cluster-connect}"
OUT="$CACHE_ROOT/pulumi/$PULUMI_VERSION"
plugins=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

complete() {
  local dir="$1" p
  for p in "${plugins[@]}"; do [[ -x "$dir/$p" ]] || return 1; done
  [[ "$("$dir/pulumi" version 2>/dev/null)" == "$PULUMI_VERSION" ]]
}

# A pulumi on PATH at the pinned version, with its plugins beside it, is used as it is.
if on_path="$(command -v pulumi 2>/dev/null)" && complete "$(dirname "$on_path")"; then
  dirname "$on_path"
  exit 0
fi
if complete "$OUT"; then
  echo "$OUT"
  exit 0
fi

echo "building the Pulumi engine $PULUMI_VERSION from Go modules (first run on this machine only)..." >&2
cd "$here"
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $version_flag" -o "$OUT.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${PULUMI_VERSION#v}" -o "$OUT.tmp/pulumi-language-python" ./language-python
sdk_dir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
# Files in the module cache are read-only: copy them out and make them executable.
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$OUT.tmp/"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$OUT.tmp/"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
