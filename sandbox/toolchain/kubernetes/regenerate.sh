#!/usr/bin/env bash
# Rewrites go.mod/go.sum for another Kubernetes version: staging replaces derived from that version's go.mod.
set -euo pipefail
K8S_VERSION="${1:?usage: regenerate.sh v1.X.Y}"
cd "$(dirname "${BASH_SOURCE[0]}")"
staging_version="v0.${K8S_VERSION#v1.}"
upstream_gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
{
  echo "module github.com/pulumi-cluster-connect/tools/kubernetes"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  # k8s.io/kubernetes replaces its staging modules with local paths; point each at its published v0.X.Y.
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$upstream_gomod" \
    | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
} > go.mod
rm -f go.sum
GOFLAGS=-mod=mod go mod tidy
sed -i "s/^K8S_VERSION=.*/K8S_VERSION=\"$K8S_VERSION\"  # written by regenerate.sh/" build.sh
