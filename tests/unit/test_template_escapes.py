"""No doubled backslash in a Jinja template that YAML does not unescape.

In a plain, folded or literal YAML scalar, `\\\\d` reaches Jinja as two backslashes, and
Ansible's templating keeps both: a regex `'^\\\\d{4}'` then looks for a backslash, and
never matches (rolling.yml had three such; found on the lab). In a double-quoted scalar
YAML makes them one. Character classes (`[0-9]`, `[|]`) need no escape at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
YAML_FILES = sorted(
    p
    for pattern in ("playbooks/**/*.yml", "roles/**/*.yml", "molecule/**/*.yml")
    for p in REPO.glob(pattern)
    if "/.venv" not in str(p)
)


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_templates_carry_no_doubled_backslash(path):
    found = [
        text
        for document in yaml.safe_load_all(path.read_text())
        for text in strings(document)
        if ("{{" in text or "{%" in text) and "\\\\" in text
    ]
    assert not found, f"a template with a doubled backslash (Jinja sees both): {found}"
