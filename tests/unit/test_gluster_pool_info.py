from pathlib import Path

from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_pool_info

from .module_harness import Expected, run_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gluster"
POOL_LIST = ["/usr/sbin/gluster", "--mode=script", "--xml", "pool", "list"]


def test_reports_peers_with_this_host_first():
    stdout = (FIXTURES / "pool-list-peer-down.xml").read_text()
    out = run_module(gluster_pool_info.main, {}, [Expected(POOL_LIST, 0, stdout)])
    assert not out.failed
    assert out.result["changed"] is False
    peers = out.result["peers"]
    assert [p["hostname"] for p in peers] == ["localhost", "node2", "node3", "node4"]
    assert out.result["local_uuid"] == peers[0]["uuid"]
    assert peers[1]["in_cluster"] is False and peers[1]["state"] == 3


def test_glusterd_down_fails_with_the_cli_message():
    stdout = (FIXTURES / "glusterd-down.txt").read_text()
    out = run_module(gluster_pool_info.main, {}, [Expected(POOL_LIST, 1, stdout)])
    assert out.failed
    assert "Connection failed" in out.result["msg"]
    assert out.result["cmd"] == POOL_LIST
    assert out.result["rc"] == 1
