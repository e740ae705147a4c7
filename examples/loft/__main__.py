"""Connect the cluster of a kubeconfig to Loft v3 (ClusterConnect) or vCluster Platform v4 (the agent, by Helm)."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from pulumi_cluster_connect.components import LoftConnectedCluster, LoftConnectedClusterArgs

config = pulumi.Config()
# Against the sandbox, `eval "$(cluster-connect sandbox env)"` sets LOFT_URL, LOFT_ACCESS_KEY and KUBECONFIG
# (and LOFT_CHART_REPOSITORY, the agent chart's repository, which the sandbox serves as a mirror would).
loft_url = config.get("loftUrl") or os.environ["LOFT_URL"]
configured_key = config.get_secret("loftAccessKey")
access_key = configured_key if configured_key is not None else pulumi.Output.secret(os.environ["LOFT_ACCESS_KEY"])
kubeconfig_path = Path(config.get("kubeconfigPath") or os.environ["KUBECONFIG"]).expanduser()

args: LoftConnectedClusterArgs = {
    "loft_url": loft_url,
    "access_key": access_key,
    "cluster_name": config.get("clusterName") or "dev",
    "kubeconfig": pulumi.Output.secret(kubeconfig_path.read_text()),
    "display_name": config.get("displayName") or "Development",
}
if config.get("mode"):
    args["mode"] = config.require("mode")
if config.get("ownerTeam"):
    args["owner"] = {"team": config.require("ownerTeam")}
if config.get("loftCaData"):
    args["ca_data"] = config.require("loftCaData")
# vCluster Platform v4 only: where the agent chart comes from (default https://charts.loft.sh at the platform's
# own version), for mirrors and air-gapped sites.
chart_repository = config.get("agentChartRepository") or os.environ.get("LOFT_CHART_REPOSITORY")
if chart_repository:
    args["agent_chart_repository"] = chart_repository
if config.get("agentChartRepositoryCaData"):
    args["agent_chart_repository_ca_data"] = config.require("agentChartRepositoryCaData")
if config.get("agentChartVersion"):
    args["agent_chart_version"] = config.require("agentChartVersion")

cluster = LoftConnectedCluster(pulumi.get_stack(), args)

pulumi.export("cluster_name", cluster.cluster_name)
pulumi.export("phase", cluster.phase)
pulumi.export("mode", cluster.mode)
