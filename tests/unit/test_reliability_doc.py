"""docs/reliability.md is the tables the lab tests run, not a separate story."""

import importlib.machinery
import importlib.util

from tests.conftest import REPO


def test_reliability_doc_matches_the_tests_tables():
    loader = importlib.machinery.SourceFileLoader("reliability_doc", str(REPO / "scripts" / "reliability-doc"))
    spec = importlib.util.spec_from_loader("reliability_doc", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    assert (REPO / "docs" / "reliability.md").read_text() == module.render(), (
        "docs/reliability.md is stale: run scripts/reliability-doc > docs/reliability.md"
    )
