"""The create protocol (_plumbing/protocol.py) over an in-memory service: who is adopted, refused, made way for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pulumi_cluster_connect._plumbing import errors, ownership, progress, protocol

pytestmark = pytest.mark.unit

ME, SOMEONE = "proj/dev/Kind::me", "proj/dev/Kind::someone"


@dataclass
class Shelf:
    """A service holding at most one object per name; tokens replay their first answer while it lives."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    serial: int = 0


@dataclass
class ShelfAdapter:
    shelf: Shelf
    identity: str = ME
    adopt_existing: bool = False
    name: str = "thing"
    words: protocol.Words = field(default_factory=lambda: protocol.Words(what="Thing thing"))

    def look(self, first: bool) -> protocol.Existing | None:
        self.shelf.calls.append("look")
        found = self.shelf.objects.get(self.name)
        if found is None:
            return None
        return protocol.Existing(
            marks=found["marks"], status=found["status"], going=found["status"] == "DELETING", unfit=found.get("unfit")
        )

    def adopt(self, existing: protocol.Existing) -> str:
        self.shelf.calls.append("adopt")
        self.shelf.objects[self.name]["marks"] = {ownership.OWNER_KEY: ownership.owner_mark(self.identity)}
        return str(self.shelf.objects[self.name]["id"])

    def make_way(self, existing: protocol.Existing) -> None:
        self.shelf.calls.append("make way")
        del self.shelf.objects[self.name]

    def wait_gone(self, existing: protocol.Existing) -> None:
        self.shelf.calls.append("wait gone")
        del self.shelf.objects[self.name]

    def create(self, generation: int) -> str:
        token = ownership.request_token(self.identity, {"name": self.name}, generation)
        self.shelf.calls.append(f"create g{generation}")
        if token in self.shelf.answered:
            made = self.shelf.answered[token]
            if self.shelf.objects.get(self.name, {}).get("id") != made:
                raise protocol.Replayed()
            return made
        if self.name in self.shelf.objects:
            raise protocol.AlreadyExists()
        self.shelf.serial += 1
        made = f"id-{self.shelf.serial}"
        self.shelf.objects[self.name] = {"id": made, "status": "ACTIVE", "marks": self.marks()}
        self.shelf.answered[token] = made
        return made

    def marks(self) -> dict[str, str]:
        return {ownership.OWNER_KEY: ownership.owner_mark(self.identity)}


@pytest.fixture
def reported(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    lines: list[str] = []
    monkeypatch.setattr(progress, "report", lines.append)
    return lines


def test_nothing_there_is_made_with_generation_zero() -> None:
    shelf = Shelf()
    outcome = protocol.create(ShelfAdapter(shelf))
    assert (outcome.answer, outcome.made, outcome.generation) == ("id-1", True, 0)
    assert shelf.calls == ["look", "create g0"]


def test_ours_from_an_interrupted_run_is_adopted_unchanged(reported: list[str]) -> None:
    shelf = Shelf()
    protocol.create(ShelfAdapter(shelf))
    outcome = protocol.create(ShelfAdapter(shelf))
    assert (outcome.answer, outcome.made) == ("id-1", False)
    assert reported == ["Thing thing exists (left by an interrupted run of this resource, ACTIVE): adopting it"]


def test_another_resources_object_is_refused_before_anything_changes() -> None:
    shelf = Shelf()
    protocol.create(ShelfAdapter(shelf, identity=SOMEONE))
    before = dict(shelf.objects["thing"])
    with pytest.raises(errors.ClusterConnectError) as refused:
        protocol.create(ShelfAdapter(shelf))
    mark = ownership.owner_mark(SOMEONE)
    assert str(refused.value) == (
        f"Thing thing already exists and is another resource's (tag {ownership.OWNER_KEY}={mark}). Nothing was "
        "changed. To manage it with this resource, set `adopt_existing=True` on it; or choose another name"
    )
    assert shelf.objects["thing"] == before and shelf.calls[-1] == "look"


def test_an_unmarked_object_is_refused_and_adopted_when_asked() -> None:
    shelf = Shelf(objects={"thing": {"id": "theirs", "status": "ACTIVE", "marks": {}}})
    with pytest.raises(
        errors.ClusterConnectError, match=r"is not made by pulumi-cluster-connect\. Nothing was changed"
    ):
        protocol.create(ShelfAdapter(shelf))
    outcome = protocol.create(ShelfAdapter(shelf, adopt_existing=True))
    assert (outcome.answer, outcome.made) == ("theirs", False)
    assert protocol.whose(shelf.objects["thing"]["marks"], ME) is protocol.Whose.OURS


def test_ours_but_unfit_is_made_way_for_and_someone_elses_unfit_is_not_adopted(reported: list[str]) -> None:
    mine = {
        "id": "old",
        "status": "CREATE_FAILED",
        "unfit": "it is CREATE_FAILED",
        "marks": ShelfAdapter(Shelf()).marks(),
    }
    shelf = Shelf(objects={"thing": mine})
    outcome = protocol.create(ShelfAdapter(shelf))
    assert outcome.made and "make way" in shelf.calls
    assert "but it is CREATE_FAILED: replacing it" in reported[0]

    theirs = {"id": "x", "status": "CREATE_FAILED", "unfit": "it is CREATE_FAILED", "marks": {}}
    shelf = Shelf(objects={"thing": theirs})
    with pytest.raises(errors.ClusterConnectError, match=r"^cannot adopt Thing thing: it is CREATE_FAILED\. Nothing"):
        protocol.create(ShelfAdapter(shelf, adopt_existing=True))
    assert shelf.objects["thing"] is theirs


def test_an_object_being_deleted_is_waited_out_then_made_anew() -> None:
    shelf = Shelf(objects={"thing": {"id": "old", "status": "DELETING", "marks": {}}})
    outcome = protocol.create(ShelfAdapter(shelf))
    assert shelf.calls == ["look", "wait gone", "look", "create g0"] and outcome.made


def test_a_replayed_answer_of_a_gone_object_moves_to_the_next_generation() -> None:
    shelf = Shelf()
    protocol.create(ShelfAdapter(shelf))
    del shelf.objects["thing"]  # deleted out of band; the service still remembers the token's answer
    outcome = protocol.create(ShelfAdapter(shelf))
    assert (outcome.answer, outcome.generation) == ("id-2", 1)
    assert shelf.calls[-4:] == ["look", "create g0", "look", "create g1"]


def test_an_object_made_between_look_and_create_is_met_at_the_next_look() -> None:
    shelf = Shelf()
    adapter = ShelfAdapter(shelf)
    looks = 0

    def racing_look(first: bool) -> protocol.Existing | None:
        nonlocal looks
        looks += 1
        if looks == 1:
            shelf.objects["thing"] = {"id": "racer", "status": "ACTIVE", "marks": {}}
            return None
        return ShelfAdapter.look(adapter, first)

    adapter.look = racing_look  # type: ignore[method-assign]
    with pytest.raises(errors.ClusterConnectError, match="not made by pulumi-cluster-connect"):
        protocol.create(adapter)


def test_an_object_that_never_settles_gives_up_with_a_sentence() -> None:
    shelf = Shelf()
    adapter = ShelfAdapter(shelf)
    adapter.look = lambda first: protocol.Existing(marks={}, going=True)  # type: ignore[method-assign]
    adapter.wait_gone = lambda existing: None  # type: ignore[method-assign]
    with pytest.raises(errors.ClusterConnectError, match="could not create Thing thing: it kept changing"):
        protocol.create(adapter)


def test_what_was_left_is_said_one_way() -> None:
    failed = RuntimeError("timed out")
    assert str(protocol.left_in_place(failed, "profile web", "EKS")) == (
        "timed out. EKS accepted profile web: it is left in place, marked as this resource's, and the next "
        "`pulumi up` adopts it"
    )
    assert str(protocol.deleted(failed, "cluster a", "Loft", undone="disconnected")) == (
        "timed out. Loft accepted cluster a: it was disconnected again"
    )
    assert "existed before this create: it is left connected as it was, and the next `pulumi up` adopts it again" in (
        str(protocol.left_as_it_was(failed, "Loft cluster a", state="left connected as it was"))
    )
