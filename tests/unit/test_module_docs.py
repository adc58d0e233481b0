"""Every module's DOCUMENTATION, EXAMPLES and RETURN is YAML that names the module: a
fast check before ansible-test sanity's (validate-modules compares them with the
argument spec, and reports a broken string only as "no documentation")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

MODULE_DIR = Path(__file__).resolve().parents[2] / "plugins" / "modules"
MODULES = sorted(p.stem for p in MODULE_DIR.glob("*.py") if p.stem != "__init__")


def documentation_strings(name):
    tree = ast.parse((MODULE_DIR / f"{name}.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")
    }


@pytest.mark.parametrize("name", MODULES)
def test_the_documentation_is_yaml_naming_the_module(name):
    strings = documentation_strings(name)
    assert sorted(strings) == ["DOCUMENTATION", "EXAMPLES", "RETURN"]
    documentation = yaml.safe_load(strings["DOCUMENTATION"])
    assert documentation["module"] == name
    assert documentation["short_description"] and documentation["description"]
    assert f"ganeti_gluster.cluster.{name}" in strings["EXAMPLES"]
    yaml.safe_load(strings["EXAMPLES"])
    assert isinstance(yaml.safe_load(strings["RETURN"]) or {}, dict)
