"""What GlusterCli asks again, for a bounded time: a command that finds glusterd's lock
taken, here (opErrno 30802) or on a peer; a rebalance or remove-brick status read that
reached a node's rebalance process as it exited."""

from __future__ import annotations

import time

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    BUSY_WAIT_SECONDS,
    REBALANCE_PROCESS_WAIT_SECONDS,
    GlusterCli,
    GlusterOpError,
    busy_pauses,
    lock_was_taken,
    rebalance_process_unanswered,
)

from .module_harness import out


class Module:
    """Just what GlusterCli uses of AnsibleModule: answers in order."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.ran = 0

    def get_bin_path(self, name, required=False):
        return f"/usr/sbin/{name}"

    def run_command(self, argv, check_rc, environ_update):
        self.ran += 1
        return 0, self.answers.pop(0), ""


def cli_for(answers):
    slept = []
    module = Module(answers)
    return GlusterCli(module, sleep=slept.append), module, slept


def test_a_busy_lock_is_waited_for_then_the_command_runs():
    cli, module, slept = cli_for([out("rebalance-start-busy.xml")] * 2 + [out("rebalance-start.xml")])
    root = cli.run("volume", "rebalance", "gv0", "start")
    assert root.findtext("opRet") == "0"
    assert module.ran == 3
    assert slept == [0.25, 0.5]


def test_a_lock_busy_for_too_long_fails_saying_so():
    pauses = busy_pauses()
    cli, module, slept = cli_for([out("rebalance-start-busy.xml")] * (len(pauses) + 1))
    with pytest.raises(GlusterOpError) as caught:
        cli.run("volume", "rebalance", "gv0", "start")
    assert caught.value.op_errno == 30802
    assert f"stayed taken for {BUSY_WAIT_SECONDS} s" in caught.value.message
    assert module.ran == len(pauses) + 1
    assert slept == pauses


@pytest.mark.parametrize("fixture", ["volume-status-peer-locked.xml", "volume-status-two-peers-locked.xml"])
def test_a_lock_held_on_a_peer_is_waited_for_too(fixture):
    cli, module, slept = cli_for([out(fixture), out("volume-status.xml")])
    root = cli.run("volume", "status", "gv0")
    assert root.findtext("opRet") == "0"
    assert module.ran == 2
    assert slept == [0.25]


@pytest.mark.parametrize(
    "errstr, busy",
    [
        ("Locking failed on node6. Please check log file for details.", True),
        ("Locking failed on node6. x\nLocking failed on node5. y", True),
        # The lock phase passed; a later phase failed: something may have been done.
        ("Locking failed on node6. x\nCommit failed on node5. y", False),
        ("Pre Validation failed on node1. Host node11 not connected", False),
        ("Unlocking failed on node6. Please check log file for details.", False),
        ("", False),
    ],
)
def test_only_lock_phase_failures_count_as_busy(errstr, busy):
    error = GlusterOpError("failed", op_errno=30800, op_errstr=errstr)
    assert lock_was_taken(error) is busy


def test_other_failures_are_not_tried_again():
    cli, module, slept = cli_for([out("add-brick-same-host.xml")])
    with pytest.raises(GlusterOpError):
        cli.run("volume", "add-brick", "gv0", "node1:/b")
    assert module.ran == 1
    assert slept == []


def test_the_pauses_back_off_and_stay_within_the_wait():
    pauses = busy_pauses(wait=10, first=0.25, longest=4)
    assert pauses == [0.25, 0.5, 1, 2, 4]
    assert sum(busy_pauses()) <= BUSY_WAIT_SECONDS
    assert max(busy_pauses()) == 4


@pytest.mark.parametrize("fixture", ["rebalance-status-process-exited.xml", "rebalance-status-peer-process-exited.xml"])
def test_a_status_read_that_reached_an_exiting_rebalance_process_is_asked_again(fixture):
    cli, module, slept = cli_for([out(fixture), out("rebalance-status-completed.xml")])
    assert cli.rebalance_status("gv0").completed
    assert module.ran == 2
    assert slept == [0.25]


def test_so_is_a_remove_brick_status_read():
    cli, module, slept = cli_for(
        [out("rebalance-status-peer-process-exited.xml"), out("rebalance-status-completed.xml")]
    )
    cli.remove_brick_status("gv0", ["node4:/bricks/a/gv"])
    assert module.ran == 2
    assert slept == [0.25]


# The advice names the peer whole, also when glusterd knows it by its FQDN.
@pytest.mark.parametrize("node", ["node1", "node1.lab.example"])
def test_a_rebalance_process_that_never_answers_fails_saying_where_to_look(node):
    answer = out("rebalance-status-peer-process-exited.xml").replace("on node1.", f"on {node}.")
    pauses = busy_pauses(wait=REBALANCE_PROCESS_WAIT_SECONDS)
    cli, module, slept = cli_for([answer] * (len(pauses) + 1))
    with pytest.raises(GlusterOpError) as caught:
        cli.rebalance_status("gv0")
    assert caught.value.op_errstr.startswith(f"Brick ops failed on {node}.")
    assert caught.value.message.endswith(
        f"It still failed after {REBALANCE_PROCESS_WAIT_SECONDS} s. "
        f"See /var/log/glusterfs/gv0-rebalance.log and glusterd.log on {node}."
    )
    assert str(caught.value) == caught.value.message
    assert module.ran == len(pauses) + 1
    assert slept == pauses


def test_commands_other_than_those_reads_are_not_asked_again_on_that_error():
    cli, module, slept = cli_for([out("rebalance-status-process-exited.xml")])
    with pytest.raises(GlusterOpError):
        cli.run("volume", "rebalance", "gv0", "stop")
    assert module.ran == 1
    assert slept == []


@pytest.mark.parametrize(
    "errstr, unanswered",
    [
        ("Glusterd Syncop Mgmt brick op 'Rebalance' failed. Please check brick log file for details.", True),
        ("Brick ops failed on node1. Glusterd Syncop Mgmt brick op 'Rebalance' failed. Please check", True),
        (
            "Brick ops failed on node1. Glusterd Syncop Mgmt brick op 'Rebalance' failed.\n"
            "Brick ops failed on node3. Glusterd Syncop Mgmt brick op 'Rebalance' failed.",
            True,
        ),
        # Another node failed otherwise: that failure stands.
        (
            "Brick ops failed on node1. Glusterd Syncop Mgmt brick op 'Rebalance' failed.\n"
            "Commit failed on node3. Volume gv0 does not exist",
            False,
        ),
        ("Glusterd Syncop Mgmt brick op 'Heal' failed. Please check glustershd log file for details.", False),
        ("Rebalance not started for volume gv0.", False),
        ("", False),
    ],
)
def test_only_rebalance_process_failures_count_as_unanswered(errstr, unanswered):
    error = GlusterOpError("failed", op_errno=30800, op_errstr=errstr)
    assert rebalance_process_unanswered(error) is unanswered


def test_a_read_with_a_deadline_gets_the_error_rather_than_a_pause_past_it():
    # The verify hook's runner bounds its whole read: the rebalance read is reported
    # unread, and the findings of the other reads are kept.
    cli, module, slept = cli_for([out("rebalance-status-process-exited.xml")])
    module.deadline = time.monotonic() + 0.1
    with pytest.raises(GlusterOpError) as caught:
        cli.rebalance_status("gv0")
    assert caught.value.message.endswith("See /var/log/glusterfs/gv0-rebalance.log and glusterd.log on this host.")
    assert (module.ran, slept) == (1, [])
