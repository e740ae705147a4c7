#!/usr/bin/env bash
# Prints a directory holding the pinned Helm CLI, built from Go modules once per version.
set -euo pipefail

HELM_VERSION="v3.22.0"  # keep in step with go.mod
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${CLUSTER_CONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-cluster-connect}"
OUT="$CACHE_ROOT/helm/$HELM_VERSION"

pinned() {
  [[ -x "$1/helm" ]] && [[ "$("$1/helm" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]
}

# A helm on PATH at the pinned version is used as it is.
if on_path="$(command -v helm 2>/dev/null)" && pinned "$(dirname "$on_path")"; then
  dirname "$on_path"
  exit 0
fi
if pinned "$OUT"; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$CACHE_ROOT/helm"
# Two test sessions starting at once build once: the second waits here, then finds the binary.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/helm/.build.lock"
  flock 9
  if pinned "$OUT"; then
    echo "$OUT"
    exit 0
  fi
fi

echo "building Helm $HELM_VERSION from Go modules (first run on this machine only)..." >&2
cd "$here"
# Helm's own Makefile derives the Kubernetes version it assumes from client-go (v0.N -> 1.N); so do we.
client_go="$(go list -f '{{.Version}}' -m k8s.io/client-go)"
kube_minor="$(echo "$client_go" | cut -d. -f2)"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for package in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags="$ldflags -X $package.k8sVersionMajor=1 -X $package.k8sVersionMinor=$kube_minor"
done
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT.tmp/helm" helm.sh/helm/v3/cmd/helm >&2
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
