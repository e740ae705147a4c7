"""The create protocol every resource follows, written once: look, meet what exists, create, say what was left.

A create that is re-run after a crash must find what its first run made and take it over, must never take over
what belongs to someone else unless told to, and must say truthfully what it leaves behind when it fails. The
steps, in order:

1. Look: is there already an object of the name this resource asks for?
2. Meet it (`meet`): ours (it carries this resource's owner mark) is adopted, or made way for when it cannot be
   used as is (failed, or its inputs differ from ours and cannot be changed); anyone else's is refused with one
   sentence (`refused`) unless `adopt_existing=True`; one being deleted is waited out.
3. Create with the request token of this resource and generation (`ownership.request_token`): a retried create
   replays the first answer; an answer that turns out to be replayed from an earlier create whose object is gone
   (`Replayed`) is asked again with the next generation's token. An "already exists" answer means someone made
   it since the look: look again.
4. A create that fails after the service accepted it says what it left and where (`left_in_place`, `deleted`,
   `left_as_it_was`).

Each resource supplies a small `Adapter` over its service module (see DEVELOPING.md); `create` runs the steps.
The modules that speak to a service (`fargate_profiles`, `registrations`, ...) know nothing of this protocol.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from . import errors, ownership, progress

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

MAX_LOOKS = 25
"""How many times a create looks again (what it met kept appearing, changing or vanishing) before it gives up."""
MAX_GENERATIONS = 20
"""How many request-token generations a create tries while the service replays answers of gone objects."""

CLAIM_KEY = f"{ownership.MARK_PREFIX}claim"
"""A mark whose value the create that last took an object over chose (the state keeps it as the `claim` output): a
delete whose state holds another claim leaves the object alone, as it belongs to the replacement that took it."""


def new_claim() -> str:
    return secrets.token_hex(8)


class Whose(enum.Enum):
    OURS = "ours"
    ANOTHER_RESOURCES = "another resource's"
    UNMARKED = "unmarked"


def whose(marks: Mapping[str, Any] | None, identity: str) -> Whose:
    """Whose an existing object is, from its marks (EKS tags, Kubernetes annotations, Helm release labels)."""
    owner = ownership.owner_of(marks)
    if owner is None:
        return Whose.UNMARKED
    return Whose.OURS if identity and owner == ownership.owner_mark(identity) else Whose.ANOTHER_RESOURCES


@dataclass(frozen=True)
class Existing:
    """What a look found, as the protocol needs to see it.

    `marks`: the object's tags, annotations or labels. `status`: the service's word for its state. `going`: it is
    being deleted. `unfit`: why it cannot be used as is (failed, inputs that differ and cannot be changed), None
    when it can. `details`: the service's own description, for the adapter."""

    marks: Mapping[str, Any]
    status: str | None = None
    going: bool = False
    unfit: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class Meeting(enum.Enum):
    ADOPT = "adopt"
    MAKE_WAY = "make way"
    WAIT_GONE = "wait until gone"


@dataclass(frozen=True)
class Words:
    """How a resource's refusals read: `what` names the object ("Fargate profile web on cluster prod"), `exists`
    says it exists in the service's terms, `mark` names the kind of mark (tag, annotation, label), `adopt_note`
    adds a condition to adopting, `otherwise` offers the way out that is not adopting, and `unfit_remedy` says
    what to do about someone else's object that cannot be adopted as is."""

    what: str
    exists: str = "already exists"
    mark: str = "tag"
    adopt_note: str = ""
    otherwise: str = "choose another name"
    unfit_remedy: str = "make the inputs match it, or delete it and let this resource create it"


def refused(
    words: Words, marks: Mapping[str, Any] | None, *, whose_it_is: str | None = None
) -> errors.ClusterConnectError:
    """The one sentence for someone else's object met by a create without `adopt_existing`. `whose_it_is` says
    whose it is in the service's own terms where its marks cannot ("was installed by another stack")."""
    owner = ownership.owner_of(marks)
    whose_it_is = whose_it_is or (
        f"is another resource's ({words.mark} {ownership.OWNER_KEY}={owner})"
        if owner
        else "is not made by pulumi-cluster-connect"
    )
    return errors.ClusterConnectError(
        f"{words.what} {words.exists} and {whose_it_is}. Nothing was changed. To manage it with this resource, "
        f"set `adopt_existing=True` on it{words.adopt_note}; or {words.otherwise}"
    )


def cannot_adopt(words: Words, why: str) -> errors.ClusterConnectError:
    return errors.ClusterConnectError(f"cannot adopt {words.what}: {why}. Nothing was changed: {words.unfit_remedy}")


def meet(existing: Existing, identity: str, adopt_existing: bool, words: Words) -> Meeting:
    """What a create does with an object it found (reported as a progress line), or the refusal it raises."""
    if existing.going:
        progress.report(f"{words.what} is being deleted; waiting until it is gone")
        return Meeting.WAIT_GONE
    owner = whose(existing.marks, identity)
    if owner is not Whose.OURS and not adopt_existing:
        raise refused(words, existing.marks)
    if existing.unfit and owner is not Whose.OURS:
        raise cannot_adopt(words, existing.unfit)
    if existing.unfit:
        progress.report(
            f"{words.what} was left by an interrupted run of this resource, but {existing.unfit}: replacing it"
        )
        return Meeting.MAKE_WAY
    source = "left by an interrupted run of this resource" if owner is Whose.OURS else "adopt_existing=True"
    state = f", {existing.status}" if existing.status else ""
    progress.report(f"{words.what} exists ({source}{state}): adopting it")
    return Meeting.ADOPT


class Replayed(Exception):
    """The service answered a create with the answer of an earlier create with this request token, whose object is
    gone since: the create is asked again with the next generation's token. (Never reaches the user.)"""


class AlreadyExists(Exception):
    """The create met an object made since the look: the next look says whose it is. (Never reaches the user.)"""


class Adapter(Protocol[T_co]):
    """What a resource tells the protocol: its words, who it is, and the verbs of its service module."""

    words: Words
    identity: str
    adopt_existing: bool

    def look(self, first: bool) -> Existing | None:
        """The object of the name this create asks for, None when there is none. `first`: the first look of this
        create, which an adapter may answer from a cheaper listing."""
        ...

    def adopt(self, existing: Existing) -> T_co:
        """Take the object over (mark it as ours, with a new claim where the resource keeps one)."""
        ...

    def make_way(self, existing: Existing) -> None:
        """Delete our unfit object and wait until it is gone."""
        ...

    def wait_gone(self, existing: Existing) -> None: ...

    def create(self, generation: int) -> T_co:
        """Ask the service to create it, with the request token of this generation where the service takes one
        (`ownership.request_token(identity, request, generation)`); raise AlreadyExists or Replayed."""
        ...


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What `create` left: the adapter's answer, whether it was made now (False: taken over), and the request token
    generation it used."""

    answer: T
    made: bool
    generation: int


def create(adapter: Adapter[T], generation: int = 0) -> Outcome[T]:
    """Leave an object of the name the resource asks for that is ours: made now, or taken over. Someone else's
    object fails the create before anything is changed."""
    for looks in range(MAX_LOOKS):
        existing = adapter.look(first=looks == 0)
        if existing is not None:
            meeting = meet(existing, adapter.identity, adapter.adopt_existing, adapter.words)
            if meeting is Meeting.ADOPT:
                return Outcome(adapter.adopt(existing), made=False, generation=generation)
            if meeting is Meeting.MAKE_WAY:
                adapter.make_way(existing)
            else:
                adapter.wait_gone(existing)
            continue
        try:
            return Outcome(adapter.create(generation), made=True, generation=generation)
        except AlreadyExists:
            continue
        except Replayed:
            generation += 1
            if generation >= MAX_GENERATIONS:
                break
    raise kept_changing(adapter.words.what)


def kept_changing(what: str) -> errors.ClusterConnectError:
    return errors.ClusterConnectError(f"could not create {what}: it kept changing while being created")


def left_in_place(
    err: Exception, what: str, accepted_by: str, state: str = "left in place"
) -> errors.ClusterConnectError:
    """A create that failed after the service accepted it: the object stays, marked as ours; the next up adopts it."""
    return errors.ClusterConnectError(
        f"{err}. {accepted_by} accepted {what}: it is {state}, marked as this resource's, and the next "
        "`pulumi up` adopts it"
    )


def deleted(err: Exception, what: str, accepted_by: str, undone: str = "deleted") -> errors.ClusterConnectError:
    """A create that failed after the service accepted it, and that removed what it made."""
    return errors.ClusterConnectError(f"{err}. {accepted_by} accepted {what}: it was {undone} again")


def left_as_it_was(err: Exception, what: str, state: str = "left as it was") -> errors.ClusterConnectError:
    """A create that failed on an object it adopted: it existed before, so it is not deleted."""
    return errors.ClusterConnectError(
        f"{err}. {what} existed before this create: it is {state}, and the next `pulumi up` adopts it again"
    )
