//go:build tools

// Package tools pins the Kubernetes control plane that the tests and the sandbox build from source.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
