"""EksConnectedCluster: register a Kubernetes cluster with EKS, apply the connector, wait until ACTIVE."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws
import yaml
from pulumi.output import UNKNOWN

from pulumi_cluster_connect._plumbing import arguments, credentials, inputs, kube
from pulumi_cluster_connect.dynamic_providers import connection_wait, kubernetes_manifest, registered_cluster

from . import connector_manifest

TYPE_TOKEN = "cluster-connect:index:EksConnectedCluster"
DEFAULT_WAIT_TIMEOUT = 600.0
CLUSTER_NAME_TAG = "eks-connector/cluster-name"


class EksConnectedClusterArgs(TypedDict, total=False):
    """Arguments of EksConnectedCluster; only `kubeconfig` and `connector_provider` are required."""

    cluster_name: pulumi.Input[str]
    """The name of the cluster in EKS (1-100 letters, digits, '-', '_'); defaults to the component's name."""
    kubeconfig: pulumi.Input[str | Mapping[str, Any]]
    """A kubeconfig with cluster-admin rights on the cluster to connect, as YAML text or as a map (as pulumi-eks
    outputs it); kept secret."""
    connector_provider: pulumi.Input[str]
    """Where the cluster runs: EKS_ANYWHERE, ANTHOS, GKE, AKS, OPENSHIFT, TANZU, RANCHER, EC2 or OTHER."""
    role_arn: pulumi.Input[str]
    """The IAM role the connector agent assumes; when absent the component creates it (trust ssm.amazonaws.com,
    the AmazonEKSConnectorAgentPolicy statements) with pulumi-aws, as eksctl does."""
    console_access_arns: pulumi.Input[Sequence[pulumi.Input[str]]]
    """IAM user or role ARNs allowed to see the cluster in the EKS console (STS assumed-role ARNs are turned
    into their role ARN). None: no impersonation is granted."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """Tags of the registration (create-time: a change re-registers) and of the created role."""
    region: pulumi.Input[str]
    """The AWS region to register in; defaults to `aws:region`, then the environment."""
    connector_image: pulumi.Input[str]
    """Override of the eks-connector image (init container and proxy), e.g. from a mirror."""
    agent_image: pulumi.Input[str]
    """Override of the amazon-ssm-agent image, e.g. from a mirror."""
    wait_for_active: bool
    """Wait until EKS reports the cluster ACTIVE (default True); fails early when the activation expired."""
    timeout_seconds: float
    """How long to wait for ACTIVE (default 600)."""
    profile: pulumi.Input[str]
    """The AWS profile whose credentials the registration and the wait use (else `aws:profile`, else the ambient
    chain); the agent role, made with pulumi-aws, follows the component's `opts.provider` as any pulumi-aws
    resource does."""
    assume_roles: credentials.AssumeRoles
    """Roles assumed in order, in pulumi-aws's shape (`role_arn`, `session_name`, `external_id`, `duration_seconds`,
    ...), to reach the account the cluster is registered in; see docs/guides/accounts-and-roles.md."""


def agent_trust_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def agent_policy(partition: str) -> str:
    """The inline AmazonEKSConnectorAgentPolicy."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "SsmControlChannel",
                    "Effect": "Allow",
                    "Action": ["ssmmessages:CreateControlChannel"],
                    "Resource": f"arn:{partition}:eks:*:*:cluster/*",
                },
                {
                    "Sid": "ssmDataplaneOperations",
                    "Effect": "Allow",
                    "Action": [
                        "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenDataChannel",
                        "ssmmessages:OpenControlChannel",
                    ],
                    "Resource": "*",
                },
            ],
        }
    )


def partition_of(region: str | None) -> str:
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _validate(name: str, args: Mapping[str, Any]) -> None:
    """Reject bad arguments before any resource is made: every problem at once, as pulumi.InputPropertiesError.
    Values still unknown (Outputs) are checked by the providers, before any API call."""
    checked = arguments.Arguments("EksConnectedCluster", name, args, list(EksConnectedClusterArgs.__annotations__))
    registration = {"cluster_name": name, "role_arn": UNKNOWN, **checked.values}
    checked.failures += registered_cluster.check_inputs(registration)
    kube.check_kubeconfig(checked.values, "kubeconfig", checked.failures)
    arns = checked.values.get("console_access_arns")
    if arns is not None and not inputs.is_unknown(arns):
        if not isinstance(arns, list):
            checked.fail(
                "console_access_arns", f"must be a list of IAM user or role ARNs, got {inputs.type_name(arns)}"
            )
        for index, arn in enumerate(arns if isinstance(arns, list) else []):
            if inputs.is_unknown(arn):
                continue
            try:
                connector_manifest.canonical_principal(arn if isinstance(arn, str) else "")
            except ValueError:
                checked.fail(
                    f"console_access_arns[{index}]",
                    f"must be an IAM user or role ARN (or an STS assumed-role ARN){inputs.got(arn)}",
                )
    for key in ("connector_image", "agent_image"):
        inputs.check_string(checked.values, key, checked.failures)
    inputs.check_bool(checked.values, "wait_for_active", checked.failures)
    inputs.check_timeout(checked.values, checked.failures)
    checked.raise_if_any()


class EksConnectedCluster(pulumi.ComponentResource):
    """A cluster registered with EKS, its connector applied, and (by default) seen ACTIVE.

    Children: the agent role and policy (only without `role_arn`), `<name>-registration` (RegisteredCluster),
    `<name>-connector` (KubernetesManifest: connector and console access), `<name>-connection` (ConnectionWait).
    Destroy removes the Kubernetes objects (the whole namespace), then the registration, then the role.
    """

    cluster_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    status: pulumi.Output[str]
    """ACTIVE once waited for; without the wait, the registration's status (PENDING)."""
    activation_id: pulumi.Output[str]
    activation_expiry: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    applied: pulumi.Output[list[str]]
    """The Kubernetes objects applied, `apiVersion/kind/namespace/name`."""

    def __init__(self, name: str, args: EksConnectedClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        # An aws.Provider in `opts` serves the pulumi-aws children (the agent role); ours need the route as inputs.
        has_route = args.get("profile") is not None or args.get("assume_roles") is not None
        credentials.refuse_aws_provider("EksConnectedCluster", name, opts, allowed=has_route, component=True)
        profile, assume_roles = args.get("profile"), args.get("assume_roles")
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = args.get("region")
        tags = args.get("tags")
        cluster_name = args.get("cluster_name", name)

        role_arn: pulumi.Input[str]
        registration_deps: list[pulumi.Resource] = []
        if args.get("role_arn") is not None:
            role_arn = args["role_arn"]
            self.agent_role: aws.iam.Role | None = None
        else:
            role_tags = pulumi.Output.all(pulumi.Output.from_input(tags or {}), cluster_name).apply(
                lambda parts: {**parts[0], CLUSTER_NAME_TAG: parts[1]}
            )
            self.agent_role = aws.iam.Role(
                f"{name}-agent-role",
                assume_role_policy=agent_trust_policy(),
                description="Assumed by the EKS Connector agent (through SSM) of a registered cluster",
                tags=role_tags,
                opts=child,
            )
            chosen_region = region if region is not None else pulumi.Config("aws").get("region")
            policy = aws.iam.RolePolicy(
                f"{name}-agent-policy",
                role=self.agent_role.id,
                policy=pulumi.Output.from_input(chosen_region).apply(lambda r: agent_policy(partition_of(r))),
                opts=child,
            )
            role_arn = self.agent_role.arn
            registration_deps.append(policy)

        registration = registered_cluster.RegisteredCluster(
            f"{name}-registration",
            cluster_name=cluster_name,
            connector_provider=args["connector_provider"],
            role_arn=role_arn,
            tags=tags,
            region=region,
            profile=profile,
            assume_roles=assume_roles,
            opts=pulumi.ResourceOptions(parent=self, depends_on=registration_deps),
        )
        objects = pulumi.Output.all(
            activation_id=registration.activation_id,
            activation_code=registration.activation_code,
            region=registration.region,
            console_access_arns=args.get("console_access_arns") or [],
            connector_image=args.get("connector_image"),
            agent_image=args.get("agent_image"),
        ).apply(lambda values: connector_manifest.render(**values))
        # As YAML text, because numbers in an object list reach a dynamic provider as floats (replicas: 2.0).
        manifest = kubernetes_manifest.KubernetesManifest(
            f"{name}-connector",
            kubeconfig=args["kubeconfig"],
            yaml=objects.apply(lambda objs: yaml.safe_dump_all(objs, sort_keys=False)),
            opts=child,
        )
        status: pulumi.Output[str] = registration.status
        if args.get("wait_for_active", True):
            connection = connection_wait.ConnectionWait(
                f"{name}-connection",
                cluster_name=registration.cluster_name,
                activation_id=registration.activation_id,
                region=registration.region,
                timeout_seconds=args.get("timeout_seconds", DEFAULT_WAIT_TIMEOUT),
                profile=profile,
                assume_roles=assume_roles,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[manifest]),
            )
            status = connection.status

        self.registration = registration
        self.manifest = manifest
        self.cluster_name = registration.cluster_name
        self.arn = registration.arn
        self.status = status
        self.activation_id = registration.activation_id
        self.activation_expiry = registration.activation_expiry
        self.role_arn = pulumi.Output.from_input(role_arn)
        self.applied = manifest.applied
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "arn": self.arn,
                "status": self.status,
                "activation_id": self.activation_id,
                "activation_expiry": self.activation_expiry,
                "role_arn": self.role_arn,
                "applied": self.applied,
            }
        )
