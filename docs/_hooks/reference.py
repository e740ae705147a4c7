"""Reference tables generated from the code: each resource's inputs (signature, check, diff) and outputs.

A reference page names its resource in a marker, `<!-- reference: inputs FargateProfile -->` (or `outputs`,
`usage`: where the library's components construct it), and the mkdocs hook `on_page_markdown` replaces it;
`<!-- include: examples/fargate/__main__.py -->` includes an example program whole (a fenced snippet include
would be rewritten by ruff's Markdown formatting). Every column comes from the code except the
description, which comes from the input's docstring (components' Args) or from docs/reference/inputs.yml:
- name, type and whether it is required: the Resource's `__init__` signature (a component's Args TypedDict);
- the rule: the failures the provider's `check` (a component's argument check) reports for a missing value and
  for a value of the wrong kind, in the words it prints;
- replaces or updates: what the provider's `diff` answers when that input alone changes.
tests/unit/test_docs_reference.py fails when a public input has no description or a page lacks its markers.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import html
import importlib
import inspect
import io
import re
import textwrap
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTIONS = ROOT / "docs" / "reference" / "inputs.yml"
MARKER = re.compile(r"<!--\s*reference:\s*(inputs|outputs|usage)\s+(\w+)\s*-->")
INCLUDE = re.compile(r"<!--\s*include:\s*((?:examples|docs/performance)/[\w./-]+\.(?:py|md))\s*-->")
PACKAGE = "pulumi_cluster_connect"


@dataclasses.dataclass(frozen=True)
class Target:
    """A public resource or component and the page that documents it."""

    name: str
    module: str  # under pulumi_cluster_connect
    page: str  # under docs/
    component: bool = False

    @property
    def module_path(self) -> str:
        return f"{PACKAGE}.{self.module}"


TARGETS = {
    t.name: t
    for t in (
        Target("RegisteredCluster", "dynamic_providers.registered_cluster", "reference/registered-cluster.md"),
        Target("ConnectionWait", "dynamic_providers.connection_wait", "reference/connection-wait.md"),
        Target("FargateProfile", "dynamic_providers.fargate_profile", "reference/fargate-profile.md"),
        Target("ClusterVersion", "dynamic_providers.cluster_version", "reference/cluster-version.md"),
        Target("KubernetesManifest", "dynamic_providers.kubernetes_manifest", "reference/kubernetes-manifest.md"),
        Target("HelmRelease", "dynamic_providers.helm_release", "reference/helm-release.md"),
        Target("LoftClusterConnect", "dynamic_providers.loft_cluster_connect", "reference/loft-cluster-connect.md"),
        Target(
            "LoftClusterInitialized",
            "dynamic_providers.loft_cluster_initialized",
            "reference/loft-cluster-initialized.md",
        ),
        Target(
            "ServiceAccountKubeconfig",
            "dynamic_providers.service_account_kubeconfig",
            "reference/service-account-kubeconfig.md",
        ),
        Target("EksConnectedCluster", "components.eks_connected_cluster", "reference/eks-connected-cluster.md", True),
        Target(
            "LoftConnectedCluster", "components.loft_connected_cluster", "reference/loft-connected-cluster.md", True
        ),
    )
}


@dataclasses.dataclass
class Input:
    name: str
    type: str
    required: bool
    default: str
    change: str
    rules: list[str]
    description: str


@dataclasses.dataclass
class Output:
    name: str
    type: str
    description: str


# --- types --------------------------------------------------------------------------------------


def _unwrap(annotation: str, wrapper: str) -> str:
    """`annotation` without every `wrapper[...]` around a part of it (bracket-aware)."""
    while (start := annotation.find(wrapper + "[")) >= 0:
        depth, index = 0, start + len(wrapper)
        for index in range(start + len(wrapper), len(annotation)):
            if annotation[index] == "[":
                depth += 1
            elif annotation[index] == "]":
                depth -= 1
                if depth == 0:
                    break
        inner = annotation[start + len(wrapper) + 1 : index]
        annotation = annotation[:start] + inner + annotation[index + 1 :]
    return annotation


def readable_type(annotation: Any) -> str:
    """A type as users write the value: `pulumi.Input[...]`, `Required[...]` and `| None` dropped."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    for wrapper in ("pulumi.Input", "pulumi.Output", "NotRequired", "Required"):
        text = _unwrap(text, wrapper)
    text = re.sub(r"\s*\|\s*None\b", "", text)
    return text.replace("Sequence[", "list[").replace("Mapping[", "dict[")


# --- inputs -------------------------------------------------------------------------------------


def _descriptions() -> dict[str, dict[str, dict[str, str]]]:
    loaded = yaml.safe_load(DESCRIPTIONS.read_text())
    return loaded if isinstance(loaded, dict) else {}


def _attribute_docstrings(cls: type) -> dict[str, str]:
    """The string literal written under each annotated attribute of `cls` (its TYPE_CHECKING block included)."""
    source = textwrap.dedent(inspect.getsource(cls))
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef)
    found: dict[str, str] = {}

    def walk(body: list[ast.stmt]) -> None:
        for statement, following in zip(body, [*body[1:], None], strict=True):
            if isinstance(statement, ast.If):
                walk(statement.body)
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            doc = ""
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                doc = " ".join(following.value.value.split())
            found[statement.target.id] = doc

    walk(node.body)
    return found


def _annotated_attributes(cls: type) -> dict[str, str]:
    """Every annotated attribute of `cls` (its TYPE_CHECKING block included) with its annotation's source."""
    source = textwrap.dedent(inspect.getsource(cls))
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef)
    found: dict[str, str] = {}

    def walk(body: list[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, ast.If):
                walk(statement.body)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                found[statement.target.id] = ast.unparse(statement.annotation)

    walk(node.body)
    return found


def _probe_value(type_text: str, which: int) -> Any:
    """A value of the input's kind, two different ones for `which` 0 and 1."""
    if type_text.startswith(("list", "Sequence")):
        return [f"value-{which}"]
    if type_text.startswith(("dict", "Mapping")):
        return {"key": f"value-{which}"}
    if type_text == "bool":
        return bool(which)
    if type_text in ("float", "int"):
        return float(30 + which)
    return f"value-{which}"


def _wrong_value(type_text: str) -> Any:
    """A value of another kind than the input takes, to read the check's rule for its kind."""
    if type_text.startswith(("list", "Sequence", "dict", "Mapping")):
        return 12345.0
    if type_text in ("bool", "float", "int"):
        return "a string"
    return 12345.0


def _reason(text: str) -> str:
    return re.sub(r",? \(?got [^)]*\)?$|, got (a |an )?\w+$", "", text).strip()


Check = Callable[[dict[str, Any]], list[tuple[str, str]]]


def _failures_of(check: Check, props: dict[str, Any], key: str) -> list[str]:
    return [_reason(reason) for prop, reason in check(props) if prop.split("[")[0].split(".")[0] == key]


def _provider_check(provider: Any) -> Check:
    def check(props: dict[str, Any]) -> list[tuple[str, str]]:
        result = provider.check({}, props)
        return [(f.property, f.reason) for f in result.failures or []]

    return check


def _component_check(module: Any, name: str) -> Check:
    validate = module._validate

    def check(props: dict[str, Any]) -> list[tuple[str, str]]:
        try:
            validate(name, props)
        except Exception as err:  # the component's ArgumentsError: one entry per property in `errors`
            entries = getattr(err, "errors", None) or []
            return [(str(e["property_path"]), str(e["reason"])) for e in entries]
        return []

    return check


def _default_in_code(module: Any, name: str) -> str:
    """The module's `DEFAULT_<NAME>` constant (`DEFAULT_TIMEOUT` or `DEFAULT_WAIT_TIMEOUT` for timeout_seconds)."""
    candidates = [f"DEFAULT_{name.upper()}"]
    if name == "timeout_seconds":
        candidates += ["DEFAULT_TIMEOUT", "DEFAULT_WAIT_TIMEOUT"]
    for candidate in candidates:
        value = getattr(module, candidate, None)
        if isinstance(value, float) and name == "timeout_seconds":
            return f"{value:g}"
        if isinstance(value, (str, int, float)):
            return f"`{value}`" if isinstance(value, str) else str(value)
    return ""


def _change_of(provider: Any, key: str, type_text: str) -> str:
    """What the provider's diff answers when `key` alone changes."""
    olds = {key: _probe_value(type_text, 0)}
    news = {key: _probe_value(type_text, 1)}
    with contextlib.redirect_stderr(io.StringIO()):  # a diff's progress lines are for `pulumi preview`, not the build
        result = provider.diff("id", olds, news)
    if key in (result.replaces or []):
        return "replaces"
    if result.changes:
        return "updates in place"
    return "not compared"


def _parameters(target: Target) -> list[tuple[str, str, bool]]:
    """(name, type, required) of each public input, in the order the code declares them."""
    module = importlib.import_module(target.module_path)
    if target.component:
        args = getattr(module, f"{target.name}Args")
        raw = _annotated_attributes(args)
        required: frozenset[str] = getattr(args, "__required_keys__", frozenset())
        return [(name, readable_type(raw[name]), name in required) for name in raw]
    cls = getattr(module, target.name)
    found = []
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[2:]:
        if parameter.name == "opts":
            continue
        found.append(
            (parameter.name, readable_type(parameter.annotation), parameter.default is inspect.Parameter.empty)
        )
    return found


def inputs_of(target: Target) -> list[Input]:
    """Every public input of `target`, with the columns of its reference table."""
    module = importlib.import_module(target.module_path)
    written = _descriptions().get(target.name, {})
    documented: dict[str, str] = {}
    provider: Any = None
    if target.component:
        documented = _attribute_docstrings(getattr(module, f"{target.name}Args"))
        check = _component_check(module, "example")
    else:
        provider = getattr(module, f"{target.name}Provider")()
        check = _provider_check(provider)
    missing_all = check({})
    rows = []
    for name, type_text, declared_required in _parameters(target):
        entry = written.get(name) or {}
        found = [_reason(reason) for prop, reason in missing_all if prop == name]
        found += _failures_of(check, {name: _wrong_value(type_text)}, name)
        rules = list(dict.fromkeys(found))  # each once, in the order check reports them
        # An Args TypedDict is total=False: for a component, the argument check says what is required.
        required = declared_required or (target.component and any(prop == name for prop, _ in missing_all))
        change = _change_of(provider, name, type_text) if provider is not None else str(entry.get("change", ""))
        rows.append(
            Input(
                name=name,
                type=type_text,
                required=required,
                default="required" if required else str(entry.get("default") or _default_in_code(module, name)),
                change=change,
                rules=rules,
                description=str(entry.get("description") or documented.get(name) or ""),
            )
        )
    return rows


def outputs_of(target: Target) -> list[Output]:
    """The public outputs: a Resource's annotated `pulumi.Output` attributes, a component's too."""
    module = importlib.import_module(target.module_path)
    cls = getattr(module, target.name)
    written = _descriptions().get(target.name, {}).get("outputs", {})
    documented = _attribute_docstrings(cls)
    return [
        Output(name, readable_type(annotation), str(written.get(name) or documented.get(name) or ""))
        for name, annotation in _annotated_attributes(cls).items()
        if "Output[" in annotation
    ]


# --- markdown -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _name(name: str) -> str:
    """An input's name as code that may break after an underscore (long names would widen the table)."""
    return f"<code>{name.replace('_', '_<wbr>')}</code>"


def inputs_table(target: Target) -> str:
    lines = [
        '<div class="cc-inputs" markdown="1">',
        "",
        "| Input | Type | Default | A change | Description and rules |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in inputs_of(target):
        rules = "".join(f"<br>*check:* {_cell(html.escape(rule, quote=False))}" for rule in row.rules)
        lines.append(
            f"| {_name(row.name)} | `{_cell(row.type)}` | {_cell(row.default) or '—'} | {row.change or '—'} "
            f"| {_cell(row.description)}{rules} |"
        )
    lines += ["", "</div>"]
    return "\n".join(lines)


def outputs_table(target: Target) -> str:
    lines = ['<div class="cc-outputs" markdown="1">', "", "| Output | Type | Description |", "| --- | --- | --- |"]
    for row in outputs_of(target):
        lines.append(f"| `{row.name}` | `{_cell(row.type)}` | {_cell(row.description) or '—'} |")
    lines += ["", "</div>"]
    return "\n".join(lines)


def usage_in_code(target: Target) -> str:
    """Where the library's own components construct `target`: each call, as the code has it."""
    blocks = []
    for path in sorted((ROOT / "components").glob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == target.name:
                segment = ast.get_source_segment(source, node, padded=True) or ""
                blocks.append(
                    f'```python title="components/{path.name}, line {node.lineno}"\n{textwrap.dedent(segment)}\n```'
                )
    return "\n\n".join(blocks)


def included(path: str) -> str:
    """An example program from examples/, whole, as a code block titled with its path; a table a benchmark wrote
    (docs/performance/*.md), as it is. A missing file fails the build."""
    source = (ROOT / path).read_text()
    if path.endswith(".md"):
        return source
    return f'```python title="{path}"\n{source.rstrip()}\n```'


def render(markdown: str) -> str:
    """`markdown` with every reference marker replaced by what the code says, every include by the file."""

    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        target = TARGETS[name]
        if kind == "inputs":
            return inputs_table(target)
        if kind == "outputs":
            return outputs_table(target)
        return usage_in_code(target)

    return INCLUDE.sub(lambda match: included(match.group(1)), MARKER.sub(replace, markdown))


def on_page_markdown(markdown: str, **_: Any) -> str:
    """The mkdocs hook."""
    return render(markdown)


if typing.TYPE_CHECKING:
    _: Mapping[str, Target] = TARGETS
