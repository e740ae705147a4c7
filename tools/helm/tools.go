//go:build tools

// Package tools pins the Helm CLI that installs the vCluster Platform agent in the tests and the demo.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
