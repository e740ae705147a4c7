#!/usr/bin/env bash
# Builds, for an experiment only, the pinned Pulumi engine without the two log lines that record every property
# value crossing an RPC ("Marshaling/Unmarshaling property for RPC", which the engine's automatic log keeps at every
# verbosity), and prints the binary's path. Compare previews with it:
#
#     .venv/bin/python bench/preview.py --engine "$(bash bench/engine_without_property_log.sh)"
#
# Needs Go and the Go module proxy, as `make engine` does; about 45 s on two cores once the modules are cached.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(sed -n 's/^PULUMI_VERSION="\(v[0-9.]*\)".*/\1/p' "$here/tools/pulumi/build.sh")"
CACHE_ROOT="${CLUSTER_CONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-cluster-connect}"
out="$CACHE_ROOT/pulumi-without-property-log/$version"
if [[ -x "$out/pulumi" ]]; then
  echo "$out/pulumi"
  exit 0
fi

echo "building the Pulumi engine $version without its property-value log lines..." >&2
cd "$here/tools/pulumi"
go mod download github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
# The pkg module's go.mod replaces the sdk module with ../sdk: copy both side by side, writable.
cp -r "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/pkg/v3)" "$out.tmp/pkg"
cp -r "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)" "$out.tmp/sdk"
chmod -R u+w "$out.tmp"
for source in "$out.tmp/pkg/resource/plugin/rpc.go" "$out.tmp/sdk/go/common/resource/plugin/rpc.go"; do
  before="$(grep -c 'property for RPC\[%s\]: %s=%v' "$source")"
  [[ "$before" == 2 ]] || { echo "expected 2 property-value log lines in $source, found $before" >&2; exit 1; }
  sed -i 's/^\(\s*\)logging\.V(9)\.Infof("\(Marshaling\|Unmarshaling\) property for RPC\[%s\]: %s=%v", opts\.Label, key, v)$/\1_ = v/' "$source"
  [[ "$(grep -c 'property for RPC\[%s\]: %s=%v' "$source")" == 0 ]] || { echo "could not remove them from $source" >&2; exit 1; }
done
cd "$out.tmp/pkg"
version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version+nopropertylog"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $version_flag" -o "$out.tmp/pulumi" ./cmd/pulumi
mkdir -p "$out" && mv "$out.tmp/pulumi" "$out/pulumi" && rm -rf "$out.tmp"
echo "$out/pulumi"
