from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import gluster_processes
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_pool_info

from .module_harness import Expected, run_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gluster"
POOL_LIST = ["/usr/sbin/gluster", "--mode=script", "--xml", "pool", "list"]
VOLUME_INFO = ["/usr/sbin/gluster", "--mode=script", "--xml", "volume", "info"]
VOLUMES = (FIXTURES / "volume-info-all.xml").read_text()
IP_ADDRESSES = Expected(
    ["/usr/sbin/ip", "-json", "address", "show"], 0, (FIXTURES.parent / "ip-address-show.json").read_text()
)


@pytest.fixture(autouse=True)
def without_systemd(tmp_path):
    """The machine running the tests may or may not boot with systemd: these hosts do not."""
    with mock.patch.object(gluster_processes, "SYSTEMD_RUN_DIR", str(tmp_path / "no-systemd")):
        yield


def test_reports_peers_with_this_host_first():
    stdout = (FIXTURES / "pool-list-peer-down.xml").read_text()
    with mock.patch.object(gluster_pool_info, "addresses", {"node2": {"10.77.0.12"}}.get):
        out = run_module(
            gluster_pool_info.main,
            {},
            [IP_ADDRESSES, Expected(POOL_LIST, 0, stdout), Expected(VOLUME_INFO, 0, VOLUMES)],
        )
    assert not out.failed
    assert out.result["changed"] is False
    peers = out.result["peers"]
    assert [p["hostname"] for p in peers] == ["localhost", "node2", "node3", "node4"]
    assert out.result["local_uuid"] == peers[0]["uuid"]
    assert peers[1]["in_cluster"] is False and peers[1]["state"] == 3
    # Who this host is, and what the peers' names resolve to here: how the role tells hosts apart.
    assert out.result["host"]["addresses"] == ["10.77.0.12"]
    assert (peers[0]["addresses"], peers[1]["addresses"], peers[2]["addresses"]) == ([], ["10.77.0.12"], [])
    # Which bricks each peer holds, in any volume: a peer with none holds no data.
    assert [len(p["bricks"]) for p in peers] == [5, 5, 3, 1]
    assert all(b.count(":") == 2 for p in peers for b in p["bricks"])  # VOLUME:HOST:PATH


def test_glusterd_down_fails_with_the_cli_message():
    stdout = (FIXTURES / "glusterd-down.txt").read_text()
    out = run_module(gluster_pool_info.main, {}, [IP_ADDRESSES, Expected(POOL_LIST, 1, stdout)])
    assert out.failed
    assert out.result["host"]["addresses"] == ["10.77.0.12"]  # also without glusterd
    assert "Connection failed" in out.result["msg"]
    assert out.result["cmd"] == POOL_LIST
    assert out.result["rc"] == 1


def test_reports_whether_glusterd_is_installed_and_enabled_under_systemd(tmp_path):
    # What the role reads instead of gathering facts: it starts, enables or installs nothing here.
    (tmp_path / "systemd").mkdir()
    is_enabled = Expected(["/usr/sbin/systemctl", "--quiet", "is-enabled", "glusterd.service"], 0)
    stdout = (FIXTURES / "pool-list-peer-down.xml").read_text()
    (tmp_path / "comm").write_text("systemd\n")
    with (
        mock.patch.object(gluster_processes, "SYSTEMD_RUN_DIR", str(tmp_path / "systemd")),
        mock.patch.object(gluster_processes, "PID1_NAME", str(tmp_path / "comm")),
    ):
        out = run_module(
            gluster_pool_info.main,
            {},
            [IP_ADDRESSES, is_enabled, Expected(POOL_LIST, 0, stdout), Expected(VOLUME_INFO, 0, VOLUMES)],
        )
    assert out.result["daemon"] == {"installed": True, "systemd": True, "enabled": True}


def test_a_host_without_gluster_says_so_with_its_names():
    out = run_module(gluster_pool_info.main, {}, [IP_ADDRESSES], bins={"gluster": None, "glusterd": None})
    assert out.failed and "GlusterFS is not installed" in out.result["msg"]
    assert out.result["host"]["addresses"] == ["10.77.0.12"]
    assert out.result["daemon"]["systemd"] is False and out.result["daemon"]["enabled"] is None


def test_a_container_that_sees_the_hosts_systemd_is_not_under_systemd(tmp_path):
    # /run/systemd/system bind-mounted from the host, but PID 1 is not systemd: no unit is touched.
    (tmp_path / "systemd").mkdir()
    (tmp_path / "comm").write_text("bash\n")
    stdout = (FIXTURES / "pool-list-peer-down.xml").read_text()
    with (
        mock.patch.object(gluster_processes, "SYSTEMD_RUN_DIR", str(tmp_path / "systemd")),
        mock.patch.object(gluster_processes, "PID1_NAME", str(tmp_path / "comm")),
    ):
        reads = [IP_ADDRESSES, Expected(POOL_LIST, 0, stdout), Expected(VOLUME_INFO, 0, VOLUMES)]
        out = run_module(gluster_pool_info.main, {}, reads)
    assert out.result["daemon"]["systemd"] is False and out.result["daemon"]["enabled"] is None
