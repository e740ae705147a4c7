"""Register the cluster of a kubeconfig with Amazon EKS, apply the EKS Connector to it and wait until ACTIVE."""

import os
from pathlib import Path

import pulumi

from pulumi_cluster_connect.components import EksConnectedCluster, EksConnectedClusterArgs

config = pulumi.Config()

# The kubeconfig of the cluster to connect: the `kubeconfig` secret config, else the file $KUBECONFIG names.
kubeconfig = config.get_secret("kubeconfig") or pulumi.Output.secret(
    Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser().read_text()
)

args = EksConnectedClusterArgs(
    cluster_name=config.get("clusterName") or f"{pulumi.get_project()}-{pulumi.get_stack()}",
    kubeconfig=kubeconfig,
    connector_provider=config.get("connectorProvider") or "OTHER",
    console_access_arns=config.get_object("consoleAccessArns") or [],
    tags={"managed-by": "pulumi-cluster-connect"},
)
# Without `roleArn` the component creates the agent role with pulumi-aws (the aws plugin must be installed).
if config.get("roleArn"):
    args["role_arn"] = config.require("roleArn")
if config.get("connectorImage"):
    args["connector_image"] = config.require("connectorImage")
if config.get("agentImage"):
    args["agent_image"] = config.require("agentImage")

cluster = EksConnectedCluster("connected", args)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("arn", cluster.arn)
pulumi.export("status", cluster.status)
pulumi.export("activationExpiry", cluster.activation_expiry)
pulumi.export("roleArn", cluster.role_arn)
