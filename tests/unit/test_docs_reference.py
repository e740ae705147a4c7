"""The reference pages document every public resource and input: tables generated from the code, never stale.

docs/_hooks/reference.py (the mkdocs hook) builds each page's input and output tables from the Resource's signature
(a component's Args), the provider's check and diff; docs/reference/inputs.yml gives each input its description.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from pulumi_cluster_connect import components, dynamic_providers

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook", DOCS / "_hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


reference = _load_hook()
PUBLIC = sorted(
    [*dynamic_providers.__all__, *(name for name in components.__all__ if not name.endswith("Args"))],
)


def public_inputs(name: str) -> list[str]:
    """The inputs a user can pass, read here independently of the hook: signature or Args annotations."""
    if name in components.__all__:
        return list(getattr(components, f"{name}Args").__annotations__)
    parameters = inspect.signature(getattr(dynamic_providers, name).__init__).parameters
    return [p for p in parameters if p not in ("self", "resource_name", "opts")]


def rendered_rows(table: str) -> dict[str, list[str]]:
    """Input name -> the cells of its row, from a markdown table the hook wrote."""
    rows = {}
    for line in table.splitlines():
        match = re.match(r"\| <code>([\w<>]+)</code> \|", line)
        if match:
            rows[match.group(1).replace("<wbr>", "")] = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
    return rows


def test_every_public_resource_and_component_has_a_reference_page_in_the_nav() -> None:
    assert sorted(reference.TARGETS) == PUBLIC
    nav = (ROOT / "mkdocs.yml").read_text()
    for target in reference.TARGETS.values():
        assert (DOCS / target.page).is_file(), target.page
        assert f": {target.page}" in nav, f"{target.page} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("name", PUBLIC)
def test_each_reference_page_has_the_fixed_shape_and_its_markers(name: str) -> None:
    page = (DOCS / reference.TARGETS[name].page).read_text()
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    expected = ["What it does", "Example", "Inputs", "Outputs", "Id", "Timeouts", "Adoption"]
    assert [h for h in headings if h in expected] == expected, headings
    assert any(h.startswith(("IAM", "RBAC", "Permissions")) for h in headings), headings
    assert "Troubleshooting" in headings
    assert f"<!-- reference: inputs {name} -->" in page
    assert f"<!-- reference: outputs {name} -->" in page
    # The example is included from examples/ or from the library's own components, never copied by hand.
    included = re.findall(r"<!-- include: (examples/[\w-]+/__main__\.py) -->", page)
    assert included or f"<!-- reference: usage {name} -->" in page
    for path in included:
        assert (ROOT / path).is_file(), path


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_input_has_a_documented_row(name: str) -> None:
    table = reference.inputs_table(reference.TARGETS[name])
    rows = rendered_rows(table)
    assert list(rows) == public_inputs(name), "the table's rows are not the public inputs, in their order"
    for input_name, cells in rows.items():
        description = cells[4].split("<br>")[0]
        assert description.strip(), f"{name}.{input_name} has no description: add it to docs/reference/inputs.yml"


def test_the_descriptions_file_names_only_inputs_that_exist() -> None:
    written: dict[str, dict[str, Any]] = yaml.safe_load((DOCS / "reference" / "inputs.yml").read_text())
    assert set(written) <= set(PUBLIC)
    for name, entries in written.items():
        stale = set(entries) - set(public_inputs(name)) - {"outputs"}
        assert not stale, f"docs/reference/inputs.yml describes inputs {name} does not have: {sorted(stale)}"


def test_the_change_column_is_what_the_provider_diff_answers() -> None:
    rows = rendered_rows(reference.inputs_table(reference.TARGETS["FargateProfile"]))
    assert rows["tags"][3] == "updates in place"
    for replacing in ("cluster_name", "pod_execution_role_arn", "selectors", "fargate_profile_name", "subnet_ids"):
        assert rows[replacing][3] == "replaces", replacing
    version_rows = rendered_rows(reference.inputs_table(reference.TARGETS["ClusterVersion"]))
    assert version_rows["version"][3] == "updates in place"
    assert version_rows["cluster_name"][3] == "replaces"


def test_the_rules_are_the_check_messages_and_required_inputs_say_so() -> None:
    rows = rendered_rows(reference.inputs_table(reference.TARGETS["FargateProfile"]))
    assert rows["cluster_name"][2] == "required"
    assert "*check:* is required: the EKS cluster's name" in rows["cluster_name"][4]
    assert "must be an IAM role ARN" in rows["pod_execution_role_arn"][4]
    assert rows["timeout_seconds"][2] == "1800"  # fargate_profile.DEFAULT_TIMEOUT
    component_rows = rendered_rows(reference.inputs_table(reference.TARGETS["EksConnectedCluster"]))
    assert component_rows["kubeconfig"][2] == "required"  # from the component's argument check
    assert component_rows["role_arn"][2] != "required"


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_output_has_a_row(name: str) -> None:
    target = reference.TARGETS[name]
    cls = getattr(components if target.component else dynamic_providers, name)
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    statements = [*body.body, *(s for b in body.body if isinstance(b, ast.If) for s in b.body)]  # TYPE_CHECKING
    declared = [
        s.target.id
        for s in statements
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and "Output[" in ast.unparse(s.annotation)
    ]
    table = reference.outputs_table(target)
    assert declared, f"{name} declares no outputs?"
    for output in declared:
        assert f"| `{output}` |" in table, f"{name}.{output} has no row"


def test_a_page_renders_without_markers_left() -> None:
    page = (DOCS / reference.TARGETS["FargateProfile"].page).read_text()
    rendered = reference.render(page)
    assert "<!-- reference:" not in rendered
    assert '<div class="cc-inputs" markdown="1">' in rendered
    assert '```python title="examples/fargate/__main__.py"' in rendered
    assert (ROOT / "examples/fargate/__main__.py").read_text().splitlines()[0] in rendered
    usage = reference.render("<!-- reference: usage RegisteredCluster -->")
    assert "registered_cluster.RegisteredCluster(" in usage
    assert 'title="components/eks_connected_cluster.py' in usage
