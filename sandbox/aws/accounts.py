"""Several AWS accounts in the sandbox: clients acting in an account, roles trusting another, profiles to reach them.

moto keeps one set of backends per account: a request acts in the account of its signing key (an assumed role's
session keys, an IAM user's keys), or in the one the `x-moto-account-id` header names. The default identity (the
sandbox's dummy keys) is moto's default account, 123456789012: the hub of a hub-and-spoke setup.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ACCOUNT_HEADER = "x-moto-account-id"
HUB_ACCOUNT = "123456789012"


def client(service: str, account: str, endpoint: str | None = None, region: str | None = None) -> Any:
    """A boto3 client whose every request acts in `account`."""
    import boto3

    made: Any = boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint or os.environ["AWS_ENDPOINT_URL"],
        region_name=region or os.environ.get("AWS_REGION") or "us-west-2",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "sandbox"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "sandbox-secret-key"),
    )
    made.meta.events.register(
        "before-sign.*.*", lambda request, **_: request.headers.__setitem__(ACCOUNT_HEADER, account)
    )
    return made


def trust_policy(principals: list[str], external_id: str | None = None) -> str:
    """A role trust policy letting `principals` (account ids, root or role ARNs) assume it, with an external id."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def role(
    account: str, name: str, trusted: list[str], external_id: str | None = None, endpoint: str | None = None
) -> str:
    """A role in `account` that `trusted` may assume (made when missing); its ARN."""
    iam = client("iam", account, endpoint)
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        made = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(trusted, external_id))
        return str(made["Role"]["Arn"])


def user_keys(account: str, name: str, endpoint: str | None = None) -> tuple[str, str]:
    """Access keys of a new IAM user in `account`: requests signed with them act there."""
    iam = client("iam", account, endpoint)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def write_profiles(path: Path, profiles: dict[str, dict[str, str]]) -> Path:
    """An AWS config file with these profiles (`role_arn` + `credential_source`, or keys), for AWS_CONFIG_FILE."""
    lines = []
    for name, settings in profiles.items():
        lines.append(f"[profile {name}]")
        lines += [f"{key} = {value}" for key, value in settings.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path


DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
HUB_ROLE, SPOKE_ROLE = "platform-hub", "platform-deployer"
EXTERNAL_ID = "platform-stack-7f3a"


def seed_account(account: str, cluster: str | None = None, endpoint: str | None = None) -> dict[str, Any]:
    """The seeded VPC and roles (sandbox.seed) in `account`, and an EKS cluster of that name on them."""
    from .. import seed

    clients = seed.Clients(*(client(name, account, endpoint) for name in ("ec2", "iam", "eks")))
    seeded = seed.seed(clients)
    if cluster is not None:
        clients.eks.create_cluster(
            name=cluster, roleArn=seeded["clusterRoleArn"], resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]}
        )
    return seeded


def hub_and_spoke(folder: Path, cluster: str = "apps", endpoint: str | None = None) -> dict[str, Any]:
    """Three spoke accounts the hub identity (the sandbox's keys) reaches three ways:

    - dev (111111111111): the profile `dev`, a role trusting the hub account (`credential_source = Environment`);
    - staging (222222222222): the profile `staging`, an IAM user's keys in that account;
    - prod (333333333333): no profile; `assume_roles` through the hub's own role `platform-hub`, then the prod role,
      which trusts only that role and asks an external id.
    Dev and staging each get an EKS cluster named `cluster`; prod its seeded roles. Returns the config file path,
    the seeded values per account and the prod chain."""
    hub_role = role(HUB_ACCOUNT, HUB_ROLE, [HUB_ACCOUNT], endpoint=endpoint)
    dev_role = role(DEV, SPOKE_ROLE, [f"arn:aws:iam::{HUB_ACCOUNT}:root"], endpoint=endpoint)
    prod_role = role(PROD, SPOKE_ROLE, [hub_role], EXTERNAL_ID, endpoint=endpoint)
    key_id, secret = user_keys(STAGING, "platform-stack", endpoint)
    config = write_profiles(
        folder / "aws-config",
        {
            "dev": {"role_arn": dev_role, "credential_source": "Environment", "role_session_name": "platform-dev"},
            "staging": {"aws_access_key_id": key_id, "aws_secret_access_key": secret},
        },
    )
    seeded = {
        DEV: seed_account(DEV, cluster, endpoint),
        STAGING: seed_account(STAGING, cluster, endpoint),
        PROD: seed_account(PROD, None, endpoint),
    }
    chain = [
        {"role_arn": hub_role, "session_name": "platform"},
        {"role_arn": prod_role, "session_name": "platform", "external_id": EXTERNAL_ID},
    ]
    return {"config_file": config, "seeded": seeded, "prod_chain": chain, "hub_role": hub_role, "prod_role": prod_role}
