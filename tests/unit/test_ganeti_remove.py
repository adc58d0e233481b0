"""Removing Ganeti nodes: the plan (ganeti_node.remove_plan) and the instance list parser."""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    Instance,
    Node,
    node_offline_args,
    parse_instance_list,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules.ganeti_node import remove_plan

NODES = [
    Node("node1", True, False, True),
    Node("node2", True, False, False),
    Node("node3", False, True, False),  # offline
    Node("node4", False, False, False),
]


def instance(name, pnode, template="gluster", snodes=(), running=True, admin_up=True):
    return Instance(name, pnode, tuple(snodes), template, running, admin_up)


def test_the_instance_list_is_parsed():
    text = "inst1|node4||gluster|Y|up\ninst2|node1|node2, node3|drbd|N|down\ninst3|node3||gluster|*|up\n"
    assert parse_instance_list(text) == [
        instance("inst1", "node4"),
        instance("inst2", "node1", "drbd", ("node2", "node3"), running=False, admin_up=False),
        instance("inst3", "node3", running=False),
    ]


def test_a_node_with_instances_is_refused_without_evacuate():
    failovers, refusals = remove_plan([NODES[3]], NODES, [instance("inst1", "node4")], evacuate=False)
    assert failovers == []
    assert refusals == [
        "node4 is the primary node of inst1: move it first, or run with ganeti_evacuate=true "
        "(it fails such instances over to other nodes)"
    ]


def test_evacuate_fails_shared_storage_instances_over_to_online_nodes_in_turn():
    instances = [instance("a", "node4"), instance("b", "node4"), instance("c", "node4"), instance("d", "node1")]
    failovers, refusals = remove_plan([NODES[3]], NODES, instances, evacuate=True)
    assert refusals == []
    assert [(i.name, src, dst) for i, src, dst in failovers] == [
        ("a", "node4", "node1"),
        ("b", "node4", "node2"),
        ("c", "node4", "node1"),
    ]


def test_the_master_local_storage_and_secondaries_are_refused():
    instances = [instance("local", "node4", "plain"), instance("mirrored", "node1", "drbd", ("node4",))]
    _, refusals = remove_plan([NODES[0], NODES[3]], NODES, instances, evacuate=True)
    assert len(refusals) == 4 and refusals[0].startswith("node1 is the master")
    assert any(r.startswith("mirrored has its secondary on node4") for r in refusals)
    assert any(r.startswith("local (plain) cannot fail over off node4") for r in refusals)


def test_a_dead_nodes_instances_fail_over_only_when_asked_by_the_dead_switch():
    dead = [NODES[3]]
    _, refusals = remove_plan(dead, NODES, [instance("inst1", "node4", running=False)], evacuate=False, dead=True)
    assert refusals == [
        "node4 is the primary node of inst1: run with ganeti_failover_dead=true to fail it over to another node, "
        "once you are sure node4 is down (an instance still running there would share its disks with the "
        "failed-over one)"
    ]
    failovers, refusals = remove_plan(
        dead, NODES, [instance("inst1", "node4", running=False)], evacuate=True, dead=True
    )
    assert refusals == [] and [(i.name, src, dst) for i, src, dst in failovers] == [("inst1", "node4", "node1")]


def test_a_dead_node_is_marked_offline_with_auto_promote():
    assert node_offline_args("node4") == ["gnt-node", "modify", "--offline=yes", "--auto-promote", "node4"]
