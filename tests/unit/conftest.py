import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import ganeti_lock

from .module_harness import on_node1

# A fixture the module tests use.
__all__ = ["on_node1"]


@pytest.fixture(autouse=True)
def ganeti_lock_in_tmp(tmp_path, monkeypatch):
    """The Ganeti modules' lock under the test's own directory, never the machine's
    /var/lib/ganeti-gluster (a lab's hosts mount over it)."""
    path = str(tmp_path / "ganeti.lock")
    monkeypatch.setitem(ganeti_lock.LOCK_OPTIONS, "lock_path", {"type": "path", "default": path})
    return path
