"""What a server-side apply would change on a live object: the paths of the fields that differ, and who set them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Fields every write changes, or that no apply of ours sets: never drift.
IGNORED = (
    ("metadata", "managedFields"),
    ("metadata", "resourceVersion"),
    ("metadata", "generation"),
    ("status",),
)
MAX_SHOWN = 5
MISSING = "missing"


def changed_paths(live: Mapping[str, Any], applied: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The paths where `applied` (a dry-run apply of what we declare, on top of `live`) differs from `live`.

    A dry-run apply with our field manager changes only the fields we set, so fields other managers set and we
    do not are never among them. Lists compare whole (their merge keys are the server's business)."""
    found: list[tuple[str, ...]] = []
    _walk(live, applied, (), found)
    return [path for path in found if not any(path[: len(ignored)] == ignored for ignored in IGNORED)]


def _walk(live: Any, applied: Any, path: tuple[str, ...], found: list[tuple[str, ...]]) -> None:
    if isinstance(live, Mapping) and isinstance(applied, Mapping):
        for key in sorted(set(live) | set(applied), key=str):
            _walk(live.get(key), applied.get(key), (*path, str(key)), found)
    elif live != applied:
        found.append(path)


def owners(managed_fields: Sequence[Mapping[str, Any]] | None, path: Sequence[str], ours: str) -> list[str]:
    """The field managers other than `ours` whose managed fields hold `path` (map fields only; a path into a
    list, whose entries managedFields keys by merge key, finds none)."""
    names = []
    for entry in managed_fields or []:
        node: Any = entry.get("fieldsV1")
        for key in path:
            node = node.get(f"f:{key}") if isinstance(node, Mapping) else None
        manager = str(entry.get("manager") or "")
        if node is not None and manager and manager != ours and manager not in names:
            names.append(manager)
    return names


def describe(paths: Sequence[Sequence[str]], managed_fields: Sequence[Mapping[str, Any]] | None, ours: str) -> str:
    """`changed: spec.replicas (set by kubectl), data.mode`: field names, never values (objects may be Secrets)."""
    shown = []
    for path in paths[:MAX_SHOWN]:
        by = owners(managed_fields, path, ours)
        shown.append(".".join(path) + (f" (set by {', '.join(by)})" if by else ""))
    more = f" and {len(paths) - MAX_SHOWN} more" if len(paths) > MAX_SHOWN else ""
    return f"changed: {', '.join(shown)}{more}"
