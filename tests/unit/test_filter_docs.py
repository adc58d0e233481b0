"""Every filter has its documentation (plugins/filter/NAME.yml, which ansible-doc reads), and the
documentation says the arguments the filter takes: the same names, in the same order, required
exactly when they have no default."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from ansible_collections.ganeti_gluster.cluster.plugins.filter import (
    ganeti_nodes,
    gluster_drain,
    gluster_health,
    gluster_pool,
    rolling,
)

ROOT = Path(__file__).resolve().parents[2]
FILTER_DIR = ROOT / "plugins" / "filter"
# Arguments for the tests' stand-ins, not for templates.
UNDOCUMENTED = {"resolve"}
FILTERS = {
    name: function
    for module in (ganeti_nodes, gluster_drain, gluster_health, gluster_pool, rolling)
    for name, function in module.FilterModule().filters().items()
}


# A released version (changelogs/changelog.yaml) or the one being made (galaxy.yml).
VERSIONS = {
    *yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"],
    yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"],
}


def test_every_documentation_file_is_a_filter():
    assert sorted(p.stem for p in FILTER_DIR.glob("*.yml")) == sorted(FILTERS)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_the_documentation_says_the_arguments(name):
    doc = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())
    documentation = doc["DOCUMENTATION"]
    assert documentation["name"] == name
    assert str(documentation["version_added"]) in VERSIONS
    assert doc["EXAMPLES"].count(f"ganeti_gluster.cluster.{name}") >= 1
    assert "_value" in doc["RETURN"]

    parameters = [p for p in inspect.signature(FILTERS[name]).parameters.values() if p.name not in UNDOCUMENTED]
    names = ["_input"] + [p.name for p in parameters[1:]]
    options = documentation["options"]
    assert list(options) == names
    positional = [n.strip() for n in documentation["positional"].split(",")]
    assert positional == names[: len(positional)]
    assert options["_input"]["required"] is True  # what the filter is applied to, always given
    for option, parameter in zip(names[1:], parameters[1:], strict=True):
        has_default = parameter.default is not inspect.Parameter.empty
        assert bool(options[option].get("required")) == (not has_default), option
        if has_default and parameter.default is not None and "default" in options[option]:
            assert options[option]["default"] == parameter.default, option
