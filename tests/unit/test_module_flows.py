"""Module flows with scripted gluster output (captured from real glusterd): which commands
run, in which order, and that check mode and refusals run nothing that changes the cluster."""

import re
from unittest import mock
from xml.etree import ElementTree

import pytest
from ansible.module_utils import basic

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import parse_rebalance_status
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_peer, gluster_volume, gluster_volume_info

from .module_harness import NO_ROLL, Expected, FakeClock, G, out, read, run_module

pytestmark = pytest.mark.usefixtures("on_node1")


GV0 = ["node1:/bricks/a/gv", "node2:/bricks/a/gv", "node3:/bricks/a/gv"]
GROW = [*GV0, "node4:/bricks/a/gv", "node1:/bricks/b/gv", "node2:/bricks/b/gv"]
READ_GV0 = [
    NO_ROLL,
    read(["volume", "info"], "volume-info-replicate.xml"),
    read(["pool", "list"], "pool-list-four.xml"),
]


def test_volume_expand_in_check_mode_reports_the_plan_and_runs_no_change():
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": GROW, "_ansible_check_mode": True},
        READ_GV0,
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    added = result.result["added_bricks"]
    assert sorted(added) == sorted(GROW[3:])
    assert len({b.split(":")[0] for b in added}) == 3
    assert result.result["commands"] == [
        [*G, "volume", "set", "gv0", "user.ganeti-gluster.rebalance", "pending fix-layout"],
        [*G, "volume", "add-brick", "gv0", "replica", "3", *added],
        [*G, "volume", "rebalance", "gv0", "fix-layout", "start"],
    ]


def test_volume_that_matches_is_left_alone():
    result = run_module(gluster_volume.main, {"name": "gv0", "state": "started", "replica": 3, "bricks": GV0}, READ_GV0)
    assert (result.failed, result.result["changed"], result.result["commands"]) == (False, False, [])


def test_volume_impossible_placement_fails_after_reading_only():
    result = run_module(
        gluster_volume.main,
        {
            "name": "gv0",
            "replica": 3,
            "bricks": [*GV0, "node4:/bricks/a/gv"],
        },
        READ_GV0,
    )
    assert result.failed and not result.result["changed"]
    assert result.result["msg"] == (
        "replica 3 needs bricks on 3 distinct hosts per set; the new bricks are on 1 host (node4); "
        "add 2 spare bricks on other hosts or 2 more nodes"
    )


def test_volume_layout_change_is_refused():
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "replica": 2, "bricks": GV0},
        [NO_ROLL, read(["volume", "info"], "volume-info-replicate.xml"), read(["pool", "list"], "pool-list-four.xml")],
    )
    assert result.failed
    assert "volume gv0 is replica 3; this module does not change a volume's layout" in result.result["msg"]


def test_brick_host_outside_the_pool_is_refused():
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "replica": 3, "bricks": [*GV0, "node9:/b", "node4:/b", "node2:/c"]},
        READ_GV0,
    )
    assert result.failed
    assert result.result["msg"].startswith("brick host node9 is not in the trusted pool")


def test_brick_host_disconnected_is_refused():
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "replica": 3, "bricks": GV0},
        [
            NO_ROLL,
            read(["volume", "info"], "volume-info-replicate.xml"),
            read(["pool", "list"], "pool-list-peer-down.xml"),
        ],
    )
    assert result.failed
    assert "brick host node2 is a peer but not in cluster (Peer in Cluster, disconnected)" in result.result["msg"]


def test_create_runs_create_then_options_then_start():
    bricks = ["node1:/bricks/x", "node2:/bricks/x", "node3:/bricks/x"]
    create = [*G, "volume", "create", "new", "replica", "3", *bricks]
    result = run_module(
        gluster_volume.main,
        {"name": "new", "state": "started", "replica": 3, "bricks": bricks, "options": {"nfs.disable": True}},
        [
            NO_ROLL,
            read(["volume", "info"], "volume-info-replicate.xml"),
            read(["pool", "list"], "pool-list-four.xml"),
            Expected(create, 0, out("volume-info-none.xml")),
            Expected([*G, "volume", "set", "new", "nfs.disable", "on"], 0, out("volume-info-none.xml")),
            Expected([*G, "volume", "start", "new"], 0, out("volume-info-none.xml")),
            read(["volume", "info"], "volume-info-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True


def test_a_create_that_glusterd_refuses_fails_with_nothing_changed():
    bricks = ["node1:/bricks/x", "node2:/bricks/x", "node3:/bricks/x"]
    create = [*G, "volume", "create", "new", "replica", "3", *bricks]
    result = run_module(
        gluster_volume.main,
        {"name": "new", "replica": 3, "bricks": bricks},
        [
            NO_ROLL,
            read(["volume", "info"], "volume-info-replicate.xml"),
            read(["pool", "list"], "pool-list-four.xml"),
            Expected(create, 1, out("add-brick-same-host.xml")),
        ],
    )
    assert result.failed and "Multiple bricks of a replicate volume" in result.result["msg"]
    assert (result.result["changed"], result.result["commands"]) == (False, [create])


def test_a_marked_arbiter_brick_ends_its_new_set_in_add_brick():
    arb = ["node1:/bricks/c/gv", "node2:/bricks/c/gv", "node3:/bricks/c/gv"]
    # node1's small disk is the arbiter: sorted by name it would hold data.
    new = ["node4:/bricks/c/gv", "node2:/bricks/d/gv", "node1:/bricks/arb"]
    args = {
        "name": "arb",
        "replica": 3,
        "arbiter": 1,
        "bricks": arb + new,
        "arbiter_bricks": ["node1:/bricks/arb"],
        "rebalance": "none",
        "_ansible_check_mode": True,
    }
    reads = [NO_ROLL, read(["volume", "info"], "volume-info-arbiter.xml"), read(["pool", "list"], "pool-list-four.xml")]
    result = run_module(gluster_volume.main, args, reads)
    assert not result.failed, result.result
    (add,) = [c for c in result.result["commands"] if "add-brick" in c]
    assert add[-1] == "node1:/bricks/arb" and sorted(add[-3:]) == sorted(new)
    # A brick the task does not list cannot be marked.
    result = run_module(gluster_volume.main, {**args, "arbiter_bricks": ["node3:/bricks/x"]}, reads)
    assert result.failed and result.result["msg"].startswith(
        "arbiter_bricks lists bricks that are not in bricks: node3:/bricks/x"
    )


@pytest.fixture
def virt_group(tmp_path):
    """glusterd's group file `virt`, two of its options (the gv0 fixture has both set)."""
    (tmp_path / "virt").write_text("nfs.disable=on\nperformance.client-io-threads=off\n")
    with mock.patch.object(gluster_volume, "OPTION_GROUP_DIR", str(tmp_path)):
        yield tmp_path / "virt"


def test_an_option_group_is_compared_by_its_options_and_set_as_a_group(virt_group):
    args = {"name": "gv0", "replica": 3, "bricks": GV0, "options": {"group": "virt"}, "_ansible_check_mode": True}
    result = run_module(gluster_volume.main, args, READ_GV0)
    assert (result.failed, result.result["changed"], result.result["commands"]) == (False, False, [])
    # An option given besides the group is the given one's: the group alone would set it back.
    overridden = {**args, "options": {"group": "virt", "performance.client-io-threads": "on"}}
    virt_group.write_text("nfs.disable=off\nperformance.client-io-threads=off\n")
    result = run_module(gluster_volume.main, overridden, READ_GV0)
    assert result.result["commands"] == [
        [*G, "volume", "set", "gv0", "group", "virt"],
        [*G, "volume", "set", "gv0", "performance.client-io-threads", "on"],
    ]
    virt_group.write_text("nfs.disable=on\nperformance.client-io-threads=on\n")
    result = run_module(gluster_volume.main, args, READ_GV0)
    assert result.result["commands"] == [[*G, "volume", "set", "gv0", "group", "virt"]]
    # The group's options as they are, the given one differing: only the given one is set.
    result = run_module(gluster_volume.main, {**overridden, "options": {"group": "virt"}}, READ_GV0)
    assert result.result["commands"] == [[*G, "volume", "set", "gv0", "group", "virt"]]
    virt_group.write_text("nfs.disable=on\nperformance.client-io-threads=off\n")
    overridden["options"] = {"group": "virt", "performance.client-io-threads": "on"}
    result = run_module(gluster_volume.main, overridden, READ_GV0)
    assert result.result["commands"] == [[*G, "volume", "set", "gv0", "performance.client-io-threads", "on"]]


def test_options_are_set_before_new_bricks_are_added():
    args = {"name": "gv0", "state": "started", "replica": 3, "bricks": GROW, "_ansible_check_mode": True}
    result = run_module(gluster_volume.main, {**args, "options": {"cluster.quorum-type": "auto"}}, READ_GV0)
    assert [c[4:6] for c in result.result["commands"]] == [
        ["set", "gv0"],
        ["set", "gv0"],
        ["add-brick", "gv0"],
        ["rebalance", "gv0"],
    ]
    assert result.result["commands"][0][6:] == ["cluster.quorum-type", "auto"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "gv0", "options": {"quorum-type": "auto"}}, "option 'quorum-type': give its full name"),
        ({"name": "gv0", "options": {"group": "nosuch"}}, "option group 'nosuch': glusterd has no "),
        ({"name": "bad name", "bricks": GV0}, "volume name 'bad name' must be 1 to 64 letters"),
        ({"name": "gv0", "bricks": ["node1"]}, "brick 'node1' is not HOST:/absolute/path"),
        ({"name": "gv0", "replica": 2, "arbiter": 1, "bricks": GV0}, "arbiter 1 needs replica 3"),
        ({"name": "gv0", "disperse": 2, "redundancy": 1, "bricks": GV0}, "disperse must be 3 or more"),
        ({"name": "gv0", "disperse": 4, "redundancy": 2, "bricks": GV0}, "redundancy must be at least 1 and less"),
    ],
)
def test_volume_argument_errors_run_nothing(args, message):
    result = run_module(gluster_volume.main, args, [])
    assert result.failed
    assert message in result.result["msg"]


def test_peer_present_probes_only_the_missing_in_check_mode():
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node1", "node2", "node5"], "_ansible_check_mode": True, "_ansible_diff": True},
        [NO_ROLL, read(["pool", "list"], "pool-list-four.xml")],
    )
    assert not result.failed, result.result
    assert result.result["probed"] == ["node5"]
    assert result.result["commands"] == [[*G, "peer", "probe", "node5"]]
    assert result.result["diff"]["after"]["peers"] == ["node2", "node3", "node4", "node5"]


def test_peer_probe_then_wait_until_in_cluster():
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node2", "node3", "node4"]},
        [
            NO_ROLL,
            read(["pool", "list"], "pool-list-two.xml"),
            Expected([*G, "peer", "probe", "node3"], 0, out("peer-probe.xml")),
            Expected([*G, "peer", "probe", "node4"], 0, out("peer-probe.xml")),
            read(["pool", "list"], "pool-list-four.xml"),
        ],
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["probed"]) == (True, ["node3", "node4"])


def test_peer_disconnected_times_out_with_node_and_state():
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node2"], "timeout": 0},
        [NO_ROLL, read(["pool", "list"], "pool-list-peer-down.xml"), read(["pool", "list"], "pool-list-peer-down.xml")],
    )
    assert result.failed
    assert result.result["msg"].startswith("peers not in cluster after 0s (node2: Peer in Cluster, disconnected)")


def test_a_probe_whose_peer_never_connects_fails_saying_what_it_probed():
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node2", "node3"], "timeout": 0},
        [
            NO_ROLL,
            read(["pool", "list"], "pool-list-alone.xml"),
            Expected([*G, "peer", "probe", "node2"], 0, out("peer-probe.xml")),
            Expected([*G, "peer", "probe", "node3"], 0, out("peer-probe.xml")),
            read(["pool", "list"], "pool-list-peer-down.xml"),
        ],
    )
    assert result.failed and result.result["msg"].startswith("peers not in cluster after 0s")
    assert (result.result["changed"], result.result["probed"]) == (True, ["node2", "node3"])


def test_a_detach_that_fails_half_way_reports_the_change_it_made():
    detach = [*G, "peer", "detach"]
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node3", "node4"], "state": "absent"},
        [
            NO_ROLL,
            read(["pool", "list"], "pool-list-four.xml"),
            read(["volume", "info"], "volume-info-none.xml"),
            Expected([*detach, "node3"], 0, out("peer-probe.xml")),
            Expected([*detach, "node4"], 1, out("peer-detach-hosting-bricks.xml")),
        ],
    )
    assert result.failed and "Peer node4 hosts one or more bricks" in result.result["msg"]
    assert (result.result["changed"], result.result["detached"]) == (True, ["node3"])
    assert result.result["commands"] == [[*detach, "node3"], [*detach, "node4"]]


def test_peer_absent_refuses_while_it_hosts_bricks():
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node4"], "state": "absent"},
        [
            NO_ROLL,
            read(["pool", "list"], "pool-list-four.xml"),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert result.failed
    assert result.result["msg"].startswith(
        "refusing to detach peers that host bricks: node4 hosts bricks of volume gv0 (node4:/bricks/a/gv)"
    )


def volume_info_of_gv0(rebalance_status):
    """gluster_volume_info of gv0 (distributed-replicate, every brick online), its rebalance
    status answered by `rebalance_status`."""
    return run_module(
        gluster_volume_info.main,
        {"name": "gv0"},
        [
            read(["pool", "list"], "pool-list-four.xml"),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
            read(["volume", "status", "gv0"], "volume-status.xml"),
            rebalance_status,
        ],
    )


def test_volume_info_reports_bricks_online_and_the_last_rebalance():
    result = volume_info_of_gv0(read(["volume", "rebalance", "gv0", "status"], "rebalance-status-completed.xml"))
    assert not result.failed and result.result["exists"]
    assert [b["online"] for b in result.result["bricks"]] == [True] * 6
    assert result.result["rebalance"]["status"] == "fix-layout completed"
    # The pool too, so that one call verifies a change.
    assert [p["in_cluster"] for p in result.result["peers"]] == [True] * 4


def test_volume_info_fails_on_a_rebalance_status_it_could_not_read_rather_than_report_none():
    refused = out("rebalance-status-not-started.xml").replace(
        "Rebalance not started for volume gv0.", "Commit failed on node3. Please check log file for details."
    )
    result = volume_info_of_gv0(Expected([*G, "volume", "rebalance", "gv0", "status"], 1, refused))
    assert result.failed and "Commit failed on node3" in result.result["msg"]


def test_volume_info_of_a_stopped_volume_reads_no_status():
    result = run_module(
        gluster_volume_info.main,
        {"name": "dist"},
        [read(["pool", "list"], "pool-list-four.xml"), read(["volume", "info"], "volume-info-all.xml")],
    )
    assert result.result["volume"]["status"] == "Created"
    assert [b["online"] for b in result.result["bricks"]] == [False, False]
    assert result.result["rebalance"] is None


def test_volume_info_of_a_missing_volume():
    result = run_module(
        gluster_volume_info.main,
        {"name": "nosuch"},
        [read(["pool", "list"], "pool-list-four.xml"), read(["volume", "info"], "volume-info-all.xml")],
    )
    assert result.result["exists"] is False and len(result.result["peers"]) == 4


def pending_rebalance_reads(mode):
    """What gluster_volume reads before a rebalance pass, after an interrupted run
    recorded one as pending: volume info (with the mark), pool, no rebalance on
    record, every brick online."""
    mark = f"<option><name>user.ganeti-gluster.rebalance</name><value>pending {mode}</value></option>"
    info = out("volume-info-distributed-replicate.xml").replace("<option>", mark + "<option>", 1)
    return [
        Expected([*G, "volume", "info"], 0, info),
        read(["pool", "list"], "pool-list-four.xml"),
        read(["volume", "rebalance", "gv0", "status"], "rebalance-status-not-started.xml"),
        read(["volume", "status", "gv0"], "volume-status.xml"),
        Expected([*G, "volume", "info"], 0, info),
    ]


# Captured on the lab: one node's rebalance process finished at once and its
# glusterd recorded it as failed; the other six completed. Its task id is made
# the one rebalance-start.xml started.
STARTED = out("rebalance-start.xml")
ONE_NODE_FAILED = out("rebalance-status-one-node-failed.xml").replace(
    "5da1917e-3167-4bcc-9282-4e8b8926fb2b", "fdd67b17-1535-4cfc-9052-2690b31582d4"
)
STATUS = [*G, "volume", "rebalance", "gv0", "status"]
# Before a pass is started again, every brick is seen online (so every brick host is
# connected, and glusterd refuses the start while a process of the last pass runs there).
BRICKS_ONLINE_AGAIN = [
    read(["volume", "status", "gv0"], "volume-status.xml"),
    read(["volume", "info"], "volume-info-distributed-replicate.xml"),
]


def test_rebalance_pass_a_node_reports_failed_is_started_again():
    start = [*G, "volume", "rebalance", "gv0", "fix-layout", "start"]
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "replica": 3, "bricks": GV0},
        [
            NO_ROLL,
            *pending_rebalance_reads("fix-layout"),
            Expected(start, 0, STARTED),
            Expected(STATUS, 0, ONE_NODE_FAILED),
            *BRICKS_ONLINE_AGAIN,
            Expected(start, 0, STARTED),
            read(["volume", "rebalance", "gv0", "status"], "rebalance-status-completed.xml"),
            Expected([*G, "volume", "set", "gv0", "user.ganeti-gluster.rebalance", "done"], 0, STARTED),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["rebalance"]["status"] == "fix-layout completed"
    assert result.result["rebalance"]["passes"] == 1


def test_rebalance_that_keeps_failing_names_the_node_and_leaves_the_mark_pending():
    start = [*G, "volume", "rebalance", "gv0", "start"]
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "replica": 3, "bricks": GV0},
        [
            NO_ROLL,
            *pending_rebalance_reads("full"),
            Expected(start, 0, STARTED),
            Expected(STATUS, 0, ONE_NODE_FAILED),
            *[*BRICKS_ONLINE_AGAIN, Expected(start, 0, STARTED), Expected(STATUS, 0, ONE_NODE_FAILED)] * 2,
        ],
    )
    assert result.failed and result.result["changed"]  # the passes ran
    assert result.result["msg"].startswith("rebalance of volume gv0 failed on localhost 3 times")
    assert result.result["rebalance"]["failed_nodes"] == ["localhost"]


def test_a_rebalance_process_that_gluster_cli_waited_for_in_vain_fails_the_wait_at_once():
    # GlusterCli asks again itself (unit-tested in test_gluster_busy); here it gives up at once.
    start = [*G, "volume", "rebalance", "gv0", "fix-layout", "start"]
    with (
        mock.patch.object(gluster_volume.time, "sleep", lambda seconds: None),
        mock.patch(
            "ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli.busy_pauses",
            lambda **wait: [],
        ),
    ):
        result = run_module(
            gluster_volume.main,
            {"name": "gv0", "replica": 3, "bricks": GV0},
            [
                NO_ROLL,
                *pending_rebalance_reads("fix-layout"),
                Expected(start, 0, STARTED),
                read(["volume", "rebalance", "gv0", "status"], "rebalance-status-peer-process-exited.xml"),
            ],
        )
    assert result.failed
    assert "Brick ops failed on node1" in result.result["msg"]
    assert "gv0-rebalance.log and glusterd.log on node1" in result.result["msg"]


# The CLI leaves out a node whose rebalance process has not started or did not answer,
# and says completed for the others: node4 (a brick host) is not listed.
NODE4_UNLISTED = re.sub(
    r"<node>(?:(?!</node>).)*<nodeName>node4</nodeName>.*?</node>",
    "",
    out("rebalance-status-completed.xml"),
    flags=re.DOTALL,
)
FIX_LAYOUT_START = [*G, "volume", "rebalance", "gv0", "fix-layout", "start"]


def test_the_unlisted_node_fixture_lists_every_brick_host_but_node4():
    assert "<nodeName>node4</nodeName>" not in NODE4_UNLISTED
    assert NODE4_UNLISTED.count("<node>") == out("rebalance-status-completed.xml").count("<node>") - 1


def run_fix_layout_pass(statuses, after=(), step=gluster_volume.UNLISTED_GRACE / 2):
    """gluster_volume paying an owed fix-layout on gv0: one start, then `statuses` read in
    turn, then the commands `after`; the fake clock moves on `step` s per poll."""
    with (
        mock.patch.object(gluster_volume, "time", FakeClock(step=step)),
        mock.patch.object(basic.AnsibleModule, "warn") as warn,
    ):
        result = run_module(
            gluster_volume.main,
            {"name": "gv0", "replica": 3, "bricks": GROW},
            [
                NO_ROLL,
                *pending_rebalance_reads("fix-layout"),
                Expected(FIX_LAYOUT_START, 0, STARTED),
                *[Expected(STATUS, 0, status) for status in statuses],
                *after,
            ],
        )
    return result, [call.args[0] for call in warn.call_args_list]


PASS_DONE = [
    read(["volume", "rebalance", "gv0", "status"], "rebalance-status-completed.xml"),
    Expected([*G, "volume", "set", "gv0", "user.ganeti-gluster.rebalance", "done"], 0, STARTED),
    read(["volume", "info"], "volume-info-distributed-replicate.xml"),
]
# A pass started again: every brick seen online first, then the start.
START_AGAIN = [*BRICKS_ONLINE_AGAIN, Expected(FIX_LAYOUT_START, 0, STARTED)]


def test_a_brick_host_listed_late_is_waited_for_within_the_grace():
    result, warned = run_fix_layout_pass([NODE4_UNLISTED], after=PASS_DONE)
    assert not result.failed, result.result
    assert warned == []


def test_a_brick_host_never_listed_gets_the_pass_started_again_naming_it():
    unlisted_for_the_grace = [NODE4_UNLISTED] * 3  # at 0, 1/2 and 1 grace
    result, warned = run_fix_layout_pass(unlisted_for_the_grace, after=[*START_AGAIN, *PASS_DONE])
    assert not result.failed, result.result
    assert result.result["rebalance"]["passes"] == 1
    [warning] = warned
    assert "not listed on node4" in warning and "starting it again" in warning


def test_a_brick_host_that_stays_unlisted_fails_the_run_naming_it_with_the_mark_pending():
    again = [*START_AGAIN, *[Expected(STATUS, 0, NODE4_UNLISTED)] * 3]
    result, _warned = run_fix_layout_pass([NODE4_UNLISTED] * 3, after=again * (gluster_volume.PASS_ATTEMPTS - 1))
    assert result.failed
    assert result.result["msg"].startswith(
        f"rebalance of volume gv0 was not listed on node4 for {gluster_volume.UNLISTED_GRACE}s"
    )
    assert f"{gluster_volume.PASS_ATTEMPTS} times" in result.result["msg"]
    # The script holds no `volume set ... done` (the harness fails on any command it does
    # not hold): the mark stays pending for the next run.


# Made from the recording: no node listed at all, so the CLI's aggregate is its
# "not started" (cli-xml-output.c); and node2 listed still running while node4 is not.
NONE_LISTED = re.sub(r"<node>.*?</node>", "", out("rebalance-status-completed.xml"), flags=re.DOTALL).replace(
    "<status>7</status>\n      <statusStr>fix-layout completed</statusStr>",
    "<status>0</status>\n      <statusStr>not started</statusStr>",
)
NODE2_RUNNING_NODE4_UNLISTED = re.sub(
    r"(<nodeName>node2</nodeName>.*?)<status>7</status>\s*<statusStr>fix-layout completed</statusStr>",
    r"\1<status>5</status><statusStr>fix-layout in progress</statusStr>",
    NODE4_UNLISTED,
    count=1,
    flags=re.DOTALL,
)


def test_the_test_statuses_say_what_they_are_made_to():

    none = parse_rebalance_status(ElementTree.fromstring(NONE_LISTED))
    assert (none.status, none.completed_nodes) == (0, frozenset())
    running = parse_rebalance_status(ElementTree.fromstring(NODE2_RUNNING_NODE4_UNLISTED))
    assert running.running and "fe914dd2-ce0f-47d3-9991-22a1842eeb35" not in running.completed_nodes


def test_a_pass_that_no_node_lists_is_started_again_after_the_grace():
    result, warned = run_fix_layout_pass([NONE_LISTED] * 3, after=[*START_AGAIN, *PASS_DONE])
    assert not result.failed, result.result
    [warning] = warned
    assert "not listed on node1, node2, node3, node4" in warning


def test_the_grace_does_not_run_while_a_listed_node_still_runs():
    # Four grace periods long node2 runs and node4 is not listed: nothing is started again.
    result, warned = run_fix_layout_pass([NODE2_RUNNING_NODE4_UNLISTED] * 8, after=PASS_DONE)
    assert not result.failed, result.result
    assert warned == []


def test_a_start_again_that_glusterd_refuses_fails_naming_both_causes():
    # glusterd's words when a process of the last pass still runs (glusterd_defrag_start_validate).
    refused = (
        out("rebalance-start-busy.xml")
        .replace("<opErrno>30802</opErrno>", "<opErrno>0</opErrno>")
        .replace(
            "Another transaction is in progress. Please try again after some time.",
            "Rebalance on gv0 is already started",
        )
    )
    result, warned = run_fix_layout_pass(
        [NODE4_UNLISTED] * 3, after=[*BRICKS_ONLINE_AGAIN, Expected(FIX_LAYOUT_START, 1, refused)]
    )
    assert result.failed
    assert "was not listed on node4" in result.result["msg"]
    assert "glusterd refused to start it again" in result.result["msg"]
    assert "already started" in result.result["msg"]
    [warning] = warned
    assert "starting it again" in warning


def test_a_pass_that_glusterd_shows_another_task_for_all_the_grace_names_that_task():
    other = out("rebalance-status-completed.xml").replace(
        "fdd67b17-1535-4cfc-9052-2690b31582d4", "5da1917e-3167-4bcc-9282-4e8b8926fb2b"
    )
    result, warned = run_fix_layout_pass([other] * 3, after=[*START_AGAIN, *PASS_DONE])
    assert not result.failed, result.result
    [warning] = warned
    assert "showed task 5da1917e-3167-4bcc-9282-4e8b8926fb2b instead" in warning


def test_rebalance_status_that_fails_right_after_the_start_is_asked_again():
    # Seen on the lab: "Brick ops failed on node2" from `rebalance status` while
    # that node's restarted rebalance process came up.
    start = [*G, "volume", "rebalance", "gv0", "fix-layout", "start"]
    with mock.patch.object(gluster_volume.time, "sleep", lambda seconds: None):
        result = run_module(
            gluster_volume.main,
            {"name": "gv0", "replica": 3, "bricks": GV0},
            [
                NO_ROLL,
                *pending_rebalance_reads("fix-layout"),
                Expected(start, 0, STARTED),
                read(["volume", "rebalance", "gv0", "status"], "rebalance-status-not-started.xml"),
                read(["volume", "rebalance", "gv0", "status"], "rebalance-status-completed.xml"),
                Expected([*G, "volume", "set", "gv0", "user.ganeti-gluster.rebalance", "done"], 0, STARTED),
                read(["volume", "info"], "volume-info-distributed-replicate.xml"),
            ],
        )
    assert not result.failed, result.result
    assert result.result["rebalance"]["status"] == "fix-layout completed"
