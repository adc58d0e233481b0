"""gluster_peer probes every missing node, even after one answers "already in peer list"
(issue 9: the list reported as `probed` was the list the loop walked and shrank)."""

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_peer

from .module_harness import NO_ROLL, Expected, G, out, run_module

pytestmark = pytest.mark.usefixtures("on_node1")


def probe(node, fixture):
    return Expected([*G, "peer", "probe", node], 0, out(fixture))


@pytest.mark.parametrize(
    ("answers", "new"),
    [
        (["peer-probe-already.xml", "peer-probe.xml", "peer-probe.xml"], ["node3", "node4"]),
        (["peer-probe.xml", "peer-probe-already.xml", "peer-probe.xml"], ["node2", "node4"]),
        (["peer-probe-already.xml", "peer-probe-already.xml", "peer-probe.xml"], ["node4"]),
    ],
)
def test_every_missing_node_is_probed_and_only_the_new_ones_are_reported(answers, new):
    nodes = ["node2", "node3", "node4"]
    result = run_module(
        gluster_peer.main,
        {"nodes": nodes},
        [
            NO_ROLL,
            Expected([*G, "pool", "list"], 0, out("pool-list-alone.xml")),
            *(probe(node, answer) for node, answer in zip(nodes, answers, strict=True)),
            Expected([*G, "pool", "list"], 0, out("pool-list-four.xml")),
        ],
    )
    assert not result.failed, result.result
    assert result.result["probed"] == new
    assert result.result["changed"] is True
    assert result.result["commands"] == [[*G, "peer", "probe", n] for n in nodes]


def test_nothing_new_when_every_node_was_a_peer_under_another_name():
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node2", "node3"]},
        [
            NO_ROLL,
            Expected([*G, "pool", "list"], 0, out("pool-list-alone.xml")),
            probe("node2", "peer-probe-already.xml"),
            probe("node3", "peer-probe-already.xml"),
            Expected([*G, "pool", "list"], 0, out("pool-list-four.xml")),
        ],
    )
    assert not result.failed, result.result
    assert (result.result["probed"], result.result["changed"]) == ([], False)
