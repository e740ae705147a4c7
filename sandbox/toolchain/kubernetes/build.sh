#!/usr/bin/env bash
# Prints a directory holding kube-apiserver and kube-controller-manager, built from Go modules once per version.
set -euo pipefail

K8S_VERSION="v1.33.13"  # written by regenerate.sh
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${CLUSTER_CONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-cluster-connect}"
OUT="$CACHE_ROOT/kubernetes/$K8S_VERSION"

if [[ -x "$OUT/kube-apiserver" && -x "$OUT/kube-controller-manager" ]]; then
  echo "$OUT"
  exit 0
fi

if ! command -v go >/dev/null; then
  echo "kube-apiserver $K8S_VERSION is not built yet and building it needs Go 1.24+ on PATH (once per machine);" >&2
  echo "or set CLUSTER_CONNECT_KUBE_BIN to a folder with kube-apiserver and kube-controller-manager," >&2
  echo "or start the sandbox on an existing cluster: cluster-connect sandbox up --kubeconfig FILE" >&2
  exit 3
fi
echo "building kube-apiserver and kube-controller-manager $K8S_VERSION from Go modules (first run only)..." >&2
cd "$here"
minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
