#!/usr/bin/env bash
# Prints a directory holding a Pulumi engine and our Python language host, building them from Go modules once.
#   tools/pulumi/build.sh            the pinned engine (the whole test suite runs on it)
#   tools/pulumi/build.sh v3.X.Y     another engine, e.g. the newest for the compatibility suite (`make compat`)
set -euo pipefail

PULUMI_VERSION="v3.259.0"  # keep in step with pyproject.toml's pulumi pin and go.mod
version="${1:-$PULUMI_VERSION}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${CLUSTER_CONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-cluster-connect}"
OUT="$CACHE_ROOT/pulumi/$version"
plugins=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

# The language host is rebuilt (seconds, not the engine's minutes) when its source changed since the build.
host_digest() { cat "$here/language-python/main.go" "$here/go.mod" | sha256sum | cut -c1-16; }

complete() {
  local dir="$1" p
  for p in "${plugins[@]}"; do [[ -x "$dir/$p" ]] || return 1; done
  [[ "$("$dir/pulumi" version 2>/dev/null)" == "$version" ]]
}

# A pulumi on PATH at that version, with its plugins beside it, is used as it is.
if on_path="$(command -v pulumi 2>/dev/null)" && [[ "$(dirname "$on_path")" != "$OUT" ]] && complete "$(dirname "$on_path")"; then
  dirname "$on_path"
  exit 0
fi
if complete "$OUT" && [[ "$(cat "$OUT/.host" 2>/dev/null)" == "$(host_digest)" ]]; then
  echo "$OUT"
  exit 0
fi

module="$here"
if [[ "$version" != "$PULUMI_VERSION" ]]; then
  # Another engine: this module with pkg/v3 and sdk/v3 at that version (their go.mod's only non-local replace is
  # the clipboard one, which go.mod already repeats); our language host builds against that sdk/v3.
  module="$CACHE_ROOT/pulumi/module-$version"
  rm -rf "$module" && mkdir -p "$module"
  cp -r "$here/go.mod" "$here/go.sum" "$here/tools.go" "$here/language-python" "$module/"
  (cd "$module" && go get "github.com/pulumi/pulumi/pkg/v3@$version" "github.com/pulumi/pulumi/sdk/v3@$version" >&2)
fi
cd "$module"
if complete "$OUT"; then
  echo "rebuilding our Python language host for the Pulumi engine $version..." >&2
  CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w -X main.version=${version#v}" -o "$OUT/pulumi-language-python.tmp" ./language-python
  mv "$OUT/pulumi-language-python.tmp" "$OUT/pulumi-language-python"
  host_digest > "$OUT/.host"
  echo "$OUT"
  exit 0
fi

echo "building the Pulumi engine $version from Go modules (first run on this machine only)..." >&2
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w $version_flag" -o "$OUT.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w -X main.version=${version#v}" -o "$OUT.tmp/pulumi-language-python" ./language-python
sdk_dir="$(go list -mod=mod -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
# Files in the module cache are read-only: copy them out and make them executable.
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$OUT.tmp/"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$OUT.tmp/"
host_digest > "$OUT.tmp/.host"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
