#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from the k8s.io/kubernetes Go module, cached by version.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.33.13}"
CACHE_ROOT="${CLUSTER_CONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-cluster-connect}"
OUT="$CACHE_ROOT/kubernetes/$K8S_VERSION"

if [[ -x "$OUT/kube-apiserver" && -x "$OUT/kube-controller-manager" ]]; then
  echo "$OUT"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# The staging modules are replaced by local paths in k8s.io/kubernetes' own go.mod;
# a wrapper module points each one at its published v0.X.Y instead.
staging_version="v0.${K8S_VERSION#v1.}"
upstream_gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
{
  echo "module example.invalid/kube-build"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$upstream_gomod" \
    | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
GOFLAGS=-mod=mod go mod tidy >&2
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
mkdir -p "$OUT.tmp"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT.tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
