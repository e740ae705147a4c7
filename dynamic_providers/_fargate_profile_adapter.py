"""FargateProfile's side of the create protocol: the service's verbs as protocol.Adapter, and its words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi_cluster_connect._plumbing import errors, ownership, protocol
from pulumi_cluster_connect._plumbing import fargate_profiles as profiles

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient


def words(what: str) -> protocol.Words:
    return protocol.Words(
        what,
        adopt_note=" (its inputs must match the profile: profiles cannot be changed)",
        otherwise="choose another fargate_profile_name",
        unfit_remedy="Fargate profiles cannot be changed, so make the inputs match the profile, or delete it and "
        "let this resource create it",
    )


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags as the user gave them: our owner and claim tags are never shown as a difference."""
    return {k: v for k, v in ownership.without_mark(tags).items() if k != protocol.CLAIM_KEY}


def confirm_made(answer: Mapping[str, Any]) -> Callable[[Mapping[str, Any] | None], None]:
    """The first look after a create must find the profile EKS answered with (one look instead of a describe right
    after the create): no profile, or another one, means EKS replayed the answer of an earlier create with this
    request token, whose profile is gone since."""
    arn = answer.get("fargateProfileArn")

    def confirm(profile: Mapping[str, Any] | None) -> None:
        if profile is None or profile.get("fargateProfileArn") != arn:
            raise protocol.Replayed(f"{arn} is gone")

    return confirm


@dataclass
class ProfileCreation:
    """One create of a profile: the client, what it asks for, until when (monotonic). Answers the profile as
    EKS described it (taken over) or as it answered the create (made now)."""

    eks: EKSClient
    props: Mapping[str, Any]
    what: str
    deadline: float
    identity: str = field(init=False)
    adopt_existing: bool = field(init=False)
    words: protocol.Words = field(init=False)
    request: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.identity = str(self.props.get(ownership.IDENTITY) or "")
        self.adopt_existing = ownership.adopting(self.props)
        self.words = words(self.what)
        self.request = profiles.create_request(self.props, self.identity)

    @property
    def cluster(self) -> str:
        return str(self.request["clusterName"])

    @property
    def name(self) -> str:
        return str(self.request["fargateProfileName"])

    def look(self, first: bool) -> protocol.Existing | None:
        if first and not profiles.may_exist(self.eks, self.cluster, self.name):
            return None
        profile = profiles.find_patiently(self.eks, self.cluster, self.name, self.what, profiles.left(self.deadline))
        if profile is None:
            return None
        status = str(profile.get("status"))
        unfit = f"it is {status}" if status in profiles.FAILED else None
        mismatched = profiles.differences(profile, self.request)
        if mismatched:
            unfit = f"its {', '.join(mismatched)} differ from the inputs"
        return protocol.Existing(
            marks=dict(profile.get("tags") or {}),
            status=status,
            going=status == "DELETING",
            unfit=unfit,
            details=profile,
        )

    def adopt(self, existing: protocol.Existing) -> dict[str, Any]:
        """Tag the profile as ours, with the inputs' tags and a new claim."""
        wanted = {**self.request["tags"], protocol.CLAIM_KEY: protocol.new_claim()}
        profiles.retag(self.eks, str(existing.details["fargateProfileArn"]), existing.marks, wanted)
        return dict(existing.details)

    def make_way(self, existing: protocol.Existing) -> None:
        profiles.delete_and_wait(self.eks, self.cluster, self.name, self.what, profiles.left(self.deadline))

    def wait_gone(self, existing: protocol.Existing) -> None:
        profiles.wait_gone(self.eks, self.cluster, self.name, self.what, profiles.left(self.deadline), joined=True)

    def create(self, generation: int) -> dict[str, Any]:
        token = ownership.request_token(self.identity, self.request, generation)
        try:
            return profiles.create(self.eks, self.request, token, self.what, profiles.left(self.deadline))
        except errors.AwsApiError as err:
            if "already exists" in err.message:
                raise protocol.AlreadyExists(self.what) from err  # made since we looked: the next look says whose
            raise
