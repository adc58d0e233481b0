"""gluster_op_version against recorded `gluster --xml` output."""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_op_version

from .module_harness import Expected, G, out, read, run_module

GET_OP_VERSION = ["volume", "get", "all", "cluster.op-version"]
GET_MAX = ["volume", "get", "all", "cluster.max-op-version"]


def versions(current, maximum):
    """The two reads, the pool at `current` with every peer supporting `maximum`."""
    return [
        Expected([*G, *GET_OP_VERSION], 0, out("op-version.xml").replace("100000", str(current))),
        Expected([*G, *GET_MAX], 0, out("max-op-version.xml").replace("100000", str(maximum))),
    ]


def set_to(version):
    return Expected([*G, "volume", "set", "all", "cluster.op-version", str(version)], 0, out("volume-set.xml"))


POOL = read(["pool", "list"], "pool-list-four.xml")


def test_a_pool_behind_its_peers_is_raised_to_the_maximum_with_a_diff():
    result = run_module(
        gluster_op_version.main, {"_ansible_diff": True}, [POOL, *versions(90000, 100000), set_to(100000)]
    )
    assert not result.failed
    assert result.result["changed"] is True
    assert (result.result["previous_op_version"], result.result["op_version"]) == (90000, 100000)
    assert result.result["diff"] == {"before": {"cluster.op-version": 90000}, "after": {"cluster.op-version": 100000}}


def test_a_pool_at_the_maximum_is_left_alone():
    result = run_module(gluster_op_version.main, {}, [POOL, *versions(100000, 100000)])
    assert not result.failed
    assert result.result["changed"] is False
    assert result.result["commands"] == []


def test_check_mode_says_what_it_would_set_and_sets_nothing():
    result = run_module(gluster_op_version.main, {"_ansible_check_mode": True}, [POOL, *versions(90000, 100000)])
    assert result.result["changed"] is True
    assert result.result["commands"] == [[*G, "volume", "set", "all", "cluster.op-version", "100000"]]


def test_a_number_is_reached_and_never_lowered():
    raised = run_module(
        gluster_op_version.main, {"op_version": "95000"}, [POOL, *versions(90000, 100000), set_to(95000)]
    )
    assert raised.result["op_version"] == 95000
    kept = run_module(gluster_op_version.main, {"op_version": "90000"}, [POOL, *versions(95000, 100000)])
    assert (kept.result["changed"], kept.result["op_version"]) == (False, 95000)


def test_a_number_above_what_the_peers_support_is_refused_before_any_change():
    result = run_module(gluster_op_version.main, {"op_version": "110000"}, [POOL, *versions(90000, 100000)])
    assert result.failed
    assert "above cluster.max-op-version 100000" in result.result["msg"]


def test_a_disconnected_peer_is_refused_before_anything_else_is_read():
    result = run_module(gluster_op_version.main, {}, [read(["pool", "list"], "pool-list-peer-down.xml")])
    assert result.failed
    assert "not a connected member of the pool" in result.result["msg"]
    assert result.result["commands"] == []


def test_a_connected_peer_that_is_not_in_the_pool_is_refused():
    # glusterd would leave a rejected peer out of both the maximum and the raise.
    rejected = out("pool-list-four.xml").replace("<state>3</state>", "<state>7</state>", 1)
    rejected = rejected.replace("<stateStr>Peer in Cluster</stateStr>", "<stateStr>Peer Rejected</stateStr>", 1)
    assert "Peer Rejected" in rejected
    result = run_module(gluster_op_version.main, {}, [Expected([*G, "pool", "list"], 0, rejected)])
    assert result.failed
    assert "(Peer Rejected, connected): not a connected member of the pool" in result.result["msg"]
    assert result.result["commands"] == []
