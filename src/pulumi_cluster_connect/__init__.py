"""pulumi-cluster-connect: EKS Connector, Fargate profiles, EKS upgrades and Loft connections for `pulumi up`."""

__version__ = "0.1.0"
