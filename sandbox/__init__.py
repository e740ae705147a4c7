"""The local sandbox: AWS endpoint (EKS, IAM, STS, EC2), Kubernetes control plane, simulated agents, Loft double."""

if __name__ != "pulumi_cluster_connect.sandbox":
    # One import name only: the sandbox is part of the installed package, never a bare `sandbox`.
    raise ImportError(f"import this package as pulumi_cluster_connect.sandbox, not as {__name__}")
