"""Removing Ganeti nodes: the plan (ganeti_node.remove_plan), the failover targets and
their memory, the proof that a node declared dead is dead, and the parsers of the
lists they read (formats as Ganeti 3.0's cli.FormatQueryResult prints them with
--separator and --units=m: Y/N, sizes in MiB, "?" no answer, "*" offline)."""

from __future__ import annotations

import errno
import socket
from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.ganeti_cli import (
    Instance,
    Node,
    NodeState,
    node_offline_args,
    parse_instance_list,
    parse_node_states,
    tcp_answer,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules.ganeti_node import (
    node_addresses,
    place_instances,
    proof_of_death,
    remove_plan,
)

NODES = [
    Node("node1", True, False, True, "10.77.0.11", "10.77.0.11"),
    Node("node2", True, False, False, "10.77.0.12", "10.77.0.12"),
    Node("node3", False, True, False, "10.77.0.13", "10.77.0.13"),  # offline
    Node("node4", False, False, False, "10.77.0.14", "10.88.0.14"),  # its own secondary network
]
BOOT = "0c5a4f1e-2d6b-4f7a-9e3c-5b8d1a2f6e90"


def state(name, free=4096, offline=False, drained=False, vm_capable=True, answers=True):
    return NodeState(name, offline, drained, vm_capable, BOOT if answers and not offline else None, free)


STATES = [state("node1"), state("node2"), state("node3", None, offline=True), state("node4")]


def instance(name, pnode, template="gluster", snodes=(), running=True, admin_up=True, min_memory=128, max_memory=0):
    """max_memory: its minmem unless given (the instance then takes no more than it needs)."""
    max_memory = min_memory if max_memory == 0 else max_memory
    return Instance(name, pnode, tuple(snodes), template, running, admin_up, min_memory, max_memory)


def moves(failovers):
    return [(i.name, src, dst) for i, src, dst in failovers]


def test_the_instance_list_is_parsed():
    text = (
        "inst1|node4||gluster|Y|up|128|256\ninst2|node1|node2,node3|drbd|N|down|1024|2048\n"
        "inst3|node3||gluster|?|up|-|-\n"
    )
    assert parse_instance_list(text) == [
        instance("inst1", "node4", max_memory=256),
        instance(
            "inst2",
            "node1",
            "drbd",
            ("node2", "node3"),
            running=False,
            admin_up=False,
            min_memory=1024,
            max_memory=2048,
        ),
        instance("inst3", "node3", running=False, min_memory=None),
    ]
    with pytest.raises(ValueError, match=r"printed '1\.0G' for the minmem of inst1, not a number of MiB"):
        parse_instance_list("inst1|node4||gluster|Y|up|1.0G|1.0G\n")


def test_the_live_node_list_says_who_answered():
    text = (
        f"node1|N|N|Y|{BOOT}|3712\n"
        "node2|N|Y|Y|5e1d0a9c-7b3f-4c2e-8a6d-1f9b0c3e7d24|3650\n"
        "node3|N|N|Y|?|?\n"  # its ganeti-noded did not answer the master
        "node4|Y|N|Y|*|*\n"  # marked offline: not asked
        "node5|N|N|N|9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d|?\n"  # not vm_capable: no hypervisor data
    )
    assert parse_node_states(text) == [
        NodeState("node1", False, False, True, BOOT, 3712),
        NodeState("node2", False, True, True, "5e1d0a9c-7b3f-4c2e-8a6d-1f9b0c3e7d24", 3650),
        NodeState("node3", False, False, True, None, None),
        NodeState("node4", True, False, True, None, None),
        NodeState("node5", False, False, False, "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", None),
    ]
    with pytest.raises(ValueError, match="not 6 fields"):
        parse_node_states("node1|N|N|Y|?\n")


def test_a_node_with_instances_is_refused_without_evacuate():
    failovers, refusals = remove_plan([NODES[3]], [instance("inst1", "node4")], evacuate=False)
    assert failovers == []
    assert refusals == [
        "node4 is the primary node of inst1: move it first, or run with ganeti_evacuate=true "
        "(it fails such instances over to other nodes)"
    ]


def test_evacuate_spreads_shared_storage_instances_over_the_nodes_that_can_take_them():
    instances = [instance("a", "node4"), instance("b", "node4"), instance("c", "node4"), instance("d", "node1")]
    failovers, refusals = remove_plan([NODES[3]], instances, evacuate=True, states=STATES)
    assert refusals == []
    assert moves(failovers) == [("a", "node4", "node1"), ("b", "node4", "node2"), ("c", "node4", "node1")]


def test_the_master_local_storage_and_secondaries_are_refused():
    instances = [instance("local", "node4", "plain"), instance("mirrored", "node1", "drbd", ("node4",))]
    _failovers, refusals = remove_plan([NODES[0], NODES[3]], instances, evacuate=True, states=STATES)
    assert len(refusals) == 4 and refusals[0].startswith("node1 is the master")
    assert any(r.startswith("mirrored has its secondary on node4") for r in refusals)
    assert any(r.startswith("local (plain) cannot fail over off node4") for r in refusals)


def test_a_dead_nodes_instances_fail_over_only_when_asked_by_the_dead_switch():
    dead = [NODES[3]]
    inst1 = instance("inst1", "node4", running=False)
    _failovers, refusals = remove_plan(dead, [inst1], evacuate=False, dead=True, states=STATES)
    assert refusals == [
        "node4 is the primary node of inst1: run with ganeti_failover_dead=true to fail it over to another node, "
        "once you are sure node4 is down (an instance still running there would share its disks with the "
        "failed-over one)"
    ]
    failovers, refusals = remove_plan(dead, [inst1], evacuate=True, dead=True, states=STATES)
    assert refusals == [] and moves(failovers) == [("inst1", "node4", "node1")]


def test_an_offline_nodes_instances_fail_over_only_off_a_node_proven_dead():
    offline = [NODES[2]]
    failovers, refusals = remove_plan(offline, [instance("inst1", "node3")], evacuate=True, states=STATES)
    assert failovers == []
    assert refusals == [
        "node3 is marked offline in Ganeti, so a failover of inst1 would not stop it there first: if node3 is "
        "dead, replace it with replace-node.yml (which proves it dead first); if it runs, mark it online "
        "(gnt-node modify -O no node3) and run again"
    ]
    failovers, refusals = remove_plan(offline, [instance("inst1", "node3")], evacuate=True, dead=True, states=STATES)
    assert refusals == [] and moves(failovers) == [("inst1", "node3", "node1")]


def test_drained_offline_not_vm_capable_and_silent_nodes_take_nothing():
    states = [
        state("node1", drained=True),
        state("node2", vm_capable=False),
        state("node3", offline=True),
        state("node4"),
        state("node5", None, answers=False),
    ]
    failovers, refusals = remove_plan([NODES[3]], [instance("inst1", "node4")], evacuate=True, states=states)
    assert failovers == []
    assert refusals == [
        "no node can take inst1: node1 is drained; node2 is not vm_capable; node3 is offline; "
        "node5's ganeti-noded does not answer the master"
    ]


def test_targets_receive_no_more_than_their_free_memory_covers():
    targets = [state("node1", 1000), state("node2", 600)]
    big = instance("big", "node4", min_memory=700)
    mid = instance("mid", "node4", min_memory=500)
    small = instance("small", "node4", min_memory=250)
    placed, shortages = place_instances([small, mid, big], targets)
    # Largest first onto the most room: big on node1 (300 left), mid on node2 (100 left), small on node1.
    assert (placed, shortages) == ({"big": "node1", "mid": "node2", "small": "node1"}, [])


def test_a_tighter_packing_is_tried_when_spreading_leaves_an_instance_out():
    # Spread: 6 on node1 (4 left), 5 on node2 (1 left), the second 5 fits nowhere; tight: 6 on node2, 5 and 5 on node1.
    targets = [state("node1", 10), state("node2", 6)]
    moving = [instance("a", "node4", min_memory=5), instance("b", "node4", min_memory=6)]
    moving.append(instance("c", "node4", min_memory=5))
    placed, shortages = place_instances(moving, targets)
    assert shortages == [] and placed == {"b": "node2", "a": "node1", "c": "node1"}


def test_an_evacuation_that_does_not_fit_is_refused_saying_what_is_short():
    states = [state("node1", 1024), state("node2", 300), state("node3", offline=True), state("node4")]
    instances = [instance("web", "node4", min_memory=768), instance("db", "node4", min_memory=512)]
    failovers, refusals = remove_plan([NODES[3]], instances, evacuate=True, states=states)
    assert refusals == [
        "db needs 512 MiB free on its new node (its maxmem: Ganeti starts it with up to that much, and the guest "
        "may use all of it) and no node has that much left once the others are placed (node1 256 MiB, node2 300 "
        "MiB): free memory there, or move instances elsewhere first; a guest that gives memory back (a balloon "
        "driver) needs only its minmem: failover_memory=minmem"
    ]
    assert moves(failovers) == [("web", "node4", "node1")]


def test_an_instance_that_stays_down_needs_no_memory_as_in_ganeti():
    # Ganeti checks the target's memory only for an instance it starts (admin state up).
    states = [state("node1", 100), state("node2", 100), state("node4")]
    instances = [instance("off1", "node4", running=False, admin_up=False, min_memory=4096)]
    instances.append(instance("off2", "node4", running=False, admin_up=False, min_memory=4096))
    failovers, refusals = remove_plan([NODES[3]], instances, evacuate=True, states=states)
    assert refusals == [] and moves(failovers) == [("off1", "node4", "node1"), ("off2", "node4", "node2")]


def test_an_instance_without_the_memory_figure_asked_for_is_refused():
    odd = instance("odd", "node4", min_memory=None, max_memory=512)
    _failovers, refusals = remove_plan([NODES[3]], [odd], evacuate=True, states=STATES, memory="minmem")
    assert refusals == ["Ganeti gives no minmem for odd, so its new node's memory cannot be checked"]
    odd = instance("odd", "node4", max_memory=None)
    _failovers, refusals = remove_plan([NODES[3]], [odd], evacuate=True, states=STATES)
    assert refusals == ["Ganeti gives no maxmem for odd, so its new node's memory cannot be checked"]


def test_each_target_holds_every_guest_it_receives_at_its_maxmem_unless_told_minmem():
    # Ganeti checks 256 MiB free for each, but starts each with up to 1024 MiB, which a guest may use.
    states = [state("node1", 1536), state("node2", offline=True), state("node4")]
    web, db = (instance(n, "node4", min_memory=256, max_memory=1024) for n in ("web", "db"))
    failovers, refusals = remove_plan([NODES[3]], [web, db], evacuate=True, states=states)
    assert moves(failovers) == [("web", "node4", "node1")]
    assert refusals == [
        "db needs 1024 MiB free on its new node (its maxmem: Ganeti starts it with up to that much, and the guest "
        "may use all of it) and no node has that much left once the others are placed (node1 512 MiB): free memory "
        "there, or move instances elsewhere first; a guest that gives memory back (a balloon driver) needs only its "
        "minmem: failover_memory=minmem"
    ]
    failovers, refusals = remove_plan([NODES[3]], [web, db], evacuate=True, states=states, memory="minmem")
    assert refusals == [] and moves(failovers) == [("web", "node4", "node1"), ("db", "node4", "node1")]


def test_a_live_node_whose_noded_does_not_answer_is_refused_before_any_failover():
    # Ganeti's failover would stop at the shutdown there, after the failovers before it.
    states = [state("node1"), state("node2"), state("node4", answers=False)]
    failovers, refusals = remove_plan([NODES[3]], [instance("inst1", "node4")], evacuate=True, states=states)
    assert refusals == [
        "node4's ganeti-noded does not answer the master, so a failover could not stop its instances there: start "
        "it (systemctl start ganeti), or, if the host is dead, replace it with replace-node.yml"
    ]
    # Proven dead instead, its instances fail over without a shutdown there.
    failovers, refusals = remove_plan([NODES[3]], [instance("inst1", "node4")], evacuate=True, dead=True, states=states)
    assert refusals == [] and moves(failovers) == [("inst1", "node4", "node1")]


def test_a_dead_node_is_marked_offline_with_auto_promote():
    assert node_offline_args("node4") == ["gnt-node", "modify", "--offline=yes", "--auto-promote", "node4"]


# -- proof of death ----------------------------------------------------------------------

SILENT = {"10.77.0.13": None}
NODE3 = Node("node3", False, False, False, "10.77.0.13", "10.77.0.13")


def test_a_node_that_answers_nothing_is_accepted_as_dead_with_what_was_seen():
    refusals, seen = proof_of_death(
        [NODE3],
        {"node3": state("node3", None, answers=False)},
        [instance("inst2", "node3", running=False)],
        {"node3": SILENT},
        1811,
    )
    assert refusals == []
    assert seen == {"node3": ["its ganeti-noded does not answer the master", "10.77.0.13 does not answer on port 1811"]}


@pytest.mark.parametrize(
    ("node_state", "instances", "answers", "sign"),
    [
        (state("node3"), [], SILENT, f"its ganeti-noded answers the master (boot id {BOOT})"),
        (
            state("node3", answers=False),
            [instance("inst2", "node3"), instance("inst3", "node3"), instance("inst9", "node1")],
            SILENT,
            "Ganeti reports inst2, inst3 running there",
        ),
        (
            state("node3", answers=False),
            [],
            {"10.77.0.13": "accepted"},
            "10.77.0.13 accepts connections on ganeti-noded's port 1811",
        ),
        (
            state("node3", answers=False),
            [],
            {"10.77.0.13": "refused"},
            "10.77.0.13 answers (port 1811 refused the connection: the host is up)",
        ),
    ],
    ids=["noded-answers", "instance-runs", "port-accepts", "host-resets"],
)
def test_any_sign_of_life_refuses_a_node_declared_dead(node_state, instances, answers, sign):
    refusals, seen = proof_of_death([NODE3], {"node3": node_state}, instances, {"node3": answers}, 1811)
    assert refusals == [
        f"node3 is declared dead but is not: {sign}. A cut management network is not a power cut, and an "
        "instance still running there would share its disks with its failed-over self: check the host's power "
        "and its out-of-band console (IPMI, iLO, iDRAC), power it off there and confirm that it stays off, then "
        "run again (a host that runs leaves with remove-node.yml; a new host that took one of its addresses must give "
        "it up until the dead node is removed)"
    ]
    assert seen["node3"][0] == sign


def test_a_node_already_offline_is_checked_on_its_port_since_ganeti_no_longer_asks_it():
    node4 = NODES[3]  # primary 10.77.0.14, secondary 10.88.0.14
    offline = state("node4", offline=True)
    refusals, seen = proof_of_death(
        [node4], {"node4": offline}, [], {"node4": {"10.77.0.14": None, "10.88.0.14": None}}, 1811
    )
    assert refusals == []
    assert seen["node4"] == [
        "marked offline: Ganeti no longer asks it",
        "10.77.0.14 does not answer on port 1811",
        "10.88.0.14 does not answer on port 1811",
    ]
    # Cut off its management network, it still answers on the secondary one.
    refusals, _checks = proof_of_death(
        [node4], {"node4": offline}, [], {"node4": {"10.77.0.14": None, "10.88.0.14": "accepted"}}, 1811
    )
    assert len(refusals) == 1 and "10.88.0.14 accepts connections on ganeti-noded's port 1811" in refusals[0]


def test_both_addresses_are_probed_once_each():
    assert node_addresses(NODES[3]) == ["10.77.0.14", "10.88.0.14"]
    assert node_addresses(NODES[0]) == ["10.77.0.11"]


def test_tcp_answer_tells_a_listener_from_a_reset():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert tcp_answer("127.0.0.1", port, timeout=2) == "accepted"
    # The port just closed: the kernel resets the connection.
    assert tcp_answer("127.0.0.1", port, timeout=2) == "refused"


@pytest.mark.parametrize(
    "error",
    [TimeoutError("timed out"), OSError(errno.EHOSTUNREACH, "No route to host"), OSError(errno.ENETUNREACH, "x")],
    ids=["timeout", "no-route", "no-network"],
)
def test_tcp_answer_is_none_when_nothing_answers(error):
    # A lost host answers nothing: the connect times out, or ARP finds no one (no route).
    with mock.patch.object(socket, "create_connection", side_effect=error):
        assert tcp_answer("10.77.0.13", 1811) is None
