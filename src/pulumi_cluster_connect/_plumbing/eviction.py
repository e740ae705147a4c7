"""Draining pods through the Eviction API: PodDisruptionBudgets honoured, replacements waited for, within a timeout.

`drain(kubeconfig, labels, what, timeout)` evicts every pod that carries `labels` (all namespaces), as often as
it takes: an eviction a budget refuses (429) is tried again with backoff, and the progress lines and the timeout's
error name the budget (the PodDisruptionBudgets of the pod's namespace whose selector matches it) with its
`disruptionsAllowed`. A pod that no controller recreates is named before it is evicted. The drain ends when no pod
carries the labels any more (terminating ones included: they are ours to finish, not the caller's next step's) and
every ReplicaSet and StatefulSet that owned an evicted pod has its replicas ready again. Budgets decide how many pods
go at once, as for `kubectl drain`: without a budget, every pod is evicted in the first round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import kube, polling, progress

if TYPE_CHECKING:
    import lightkube

# Controllers whose replicas are counted back before a drain ends; others (a Job, a DaemonSet) are not waited for.
WAITED_KINDS = ("ReplicaSet", "StatefulSet")
RETRY = polling.Backoff(first=0.5, factor=1.5, cap=5.0)
REFUSED = 429


@dataclass
class Drained:
    """What a drain did: pods evicted (`namespace/name`), and those among them that nothing recreates."""

    evicted: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels, matchExpressions) selects `labels`; an empty selector
    selects everything, as a policy/v1 PodDisruptionBudget's does."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _controller(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    for owner in meta.get("ownerReferences") or []:
        if owner.get("controller"):
            return str(owner.get("kind")), str(owner.get("name"))
    return None


class _Drain:
    """One drain's memory across its rounds."""

    def __init__(
        self,
        client: lightkube.Client,
        server: str,
        labels: Mapping[str, str | None],
        what: str,
        only: Callable[[lightkube.Client, dict[str, Any]], bool] | None = None,
    ) -> None:
        self.client, self.server, self.what, self.only = client, server, what, only
        self.labels: dict[str, Any] = dict(labels)
        self.result = Drained()
        self.owners: set[tuple[str, str, str]] = set()  # (namespace, kind, name) of evicted pods' controllers
        self.named: set[str] = set()

    def _pods(self) -> list[dict[str, Any]]:
        from lightkube.resources.core_v1 import Pod

        with kube.translated_errors(f"list the pods of {self.what}", self.server):
            pods = [pod.to_dict() for pod in self.client.list(Pod, namespace="*", labels=self.labels)]
            return [pod for pod in pods if self.only is None or self.only(self.client, pod)]

    def budgets(self, namespace: str, labels: Mapping[str, str]) -> list[str]:
        """The budgets that cover a pod, as `namespace/name (N disruptions allowed)`."""
        from lightkube.resources.policy_v1 import PodDisruptionBudget

        with kube.translated_errors(f"list the PodDisruptionBudgets of namespace {namespace}", self.server):
            found = [b.to_dict() for b in self.client.list(PodDisruptionBudget, namespace=namespace)]
        named = []
        for budget in found:
            if selector_matches((budget.get("spec") or {}).get("selector"), labels):
                allowed = (budget.get("status") or {}).get("disruptionsAllowed", 0)
                named.append(
                    f"PodDisruptionBudget {namespace}/{budget['metadata']['name']} ({allowed} disruptions allowed)"
                )
        return named

    def _evict(self, namespace: str, name: str) -> bool:
        """Ask to evict a pod; False when a budget refuses now (429), True when evicted or already gone."""
        from lightkube.core.exceptions import ApiError
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.core_v1 import PodEviction

        eviction = PodEviction(metadata=ObjectMeta(name=name, namespace=namespace))
        with kube.translated_errors(f"evict pod {namespace}/{name}", self.server):
            try:
                self.client.create(eviction, name, namespace=namespace)
            except ApiError as err:
                if err.status.code == 404:
                    return True
                if err.status.code == REFUSED:
                    return False
                raise
        return True

    def _owners_ready(self) -> list[str]:
        """The controllers of evicted pods whose replicas are not all ready yet."""
        from lightkube.core.exceptions import ApiError
        from lightkube.resources.apps_v1 import ReplicaSet, StatefulSet

        waiting = []
        for namespace, kind, name in sorted(self.owners):
            resource = ReplicaSet if kind == "ReplicaSet" else StatefulSet
            with kube.translated_errors(f"read {kind} {namespace}/{name}", self.server):
                try:
                    found = self.client.get(resource, name, namespace=namespace).to_dict()  # type: ignore[attr-defined]
                except ApiError as err:
                    if err.status.code == 404:
                        continue  # deleted meanwhile (a rollout finished): nothing to wait for
                    raise
            wanted = (found.get("spec") or {}).get("replicas", 1)
            ready = (found.get("status") or {}).get("readyReplicas", 0)
            if ready < wanted:
                waiting.append(f"{kind} {namespace}/{name} {ready}/{wanted} ready")
        return waiting

    def round(self) -> str:
        """Evict what is left; the state: empty once done, else what is waited for (budgets named)."""
        pods = self._pods()
        refused: dict[str, list[str]] = {}
        terminating = evicted_now = 0
        for pod in pods:
            meta = pod["metadata"]
            namespace, name = meta["namespace"], meta["name"]
            key = f"{namespace}/{name}"
            if meta.get("deletionTimestamp"):
                terminating += 1
                continue
            owner = _controller(meta)
            if owner is None and key not in self.named:
                self.named.add(key)
                self.result.unmanaged.append(key)
                progress.report(f"{self.what}: pod {key} has no controller: nothing recreates it once evicted")
            if self._evict(namespace, name):
                evicted_now += 1
                if key not in self.result.evicted:
                    self.result.evicted.append(key)
                if owner is not None and owner[0] in WAITED_KINDS:
                    self.owners.add((namespace, *owner))
            else:
                budgets = self.budgets(namespace, meta.get("labels") or {}) or ["a PodDisruptionBudget"]
                for budget in budgets:
                    refused.setdefault(budget, []).append(key)
        parts = [f"{budget} refuses evicting {', '.join(sorted(keys))}" for budget, keys in sorted(refused.items())]
        if evicted_now:
            parts.append(f"{evicted_now} pod(s) evicted")
        if terminating:
            parts.append(f"{terminating} pod(s) terminating")
        if not pods:
            parts += [f"waiting for {owner}" for owner in self._owners_ready()]
        return "; ".join(parts)


def drain(
    kubeconfig: kube.Kubeconfig,
    labels: Mapping[str, str | None],
    what: str,
    timeout: float,
    *,
    only: Callable[[lightkube.Client, dict[str, Any]], bool] | None = None,
) -> Drained:
    """Evict every pod carrying `labels` (a None value: the label, any value) and, given `only`, for which it
    holds, honouring budgets, until none is left and their controllers' replicas are ready again; WaitTimeout
    (naming the budgets that refused) after `timeout` seconds, Cancelled on Ctrl-C."""
    state = _Drain(kube.client(kubeconfig), kube.server_of(kubeconfig), labels, what, only)
    polling.wait_for(
        f"draining {what}",
        state.round,
        state_of=lambda left: left or "drained",
        done=lambda left: not left,
        timeout=timeout,
        backoff=RETRY,
    )
    return state.result


def names(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys)) or "none"
