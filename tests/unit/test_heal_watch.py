"""Waiting for heal on replaced bricks: every (state, observation) -> action of heal_watch,
then GlusterCli's heal trigger (no XML form; refused for a moment after a replace-brick)."""

from __future__ import annotations

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import paced
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    HEAL_TRIGGER_WAIT_SECONDS,
    GlusterCli,
    GlusterCliError,
    MigrationNode,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.heal_watch import (
    DONE,
    SPLIT_BRAIN,
    STALLED,
    TRIGGER_FULL,
    TRIGGER_INDEX,
    WAIT,
    HealSample,
    HealWatch,
)

from .test_gluster_cli import RecordingModule

# 6, then 8 (a stretch whose fewest is 8), then 7: the stretch of 7 ends at 400, progress.
RISE_THEN_FALL = [WAIT, TRIGGER_FULL, TRIGGER_INDEX, WAIT]
# Fewest 2 in every stretch: a crawl started again each minute, stalled at 300 s.
JITTER_TAIL = [
    TRIGGER_FULL,
    WAIT,
    WAIT,
    TRIGGER_INDEX,
    WAIT,
    WAIT,
    TRIGGER_INDEX,
    WAIT,
    WAIT,
    TRIGGER_INDEX,
    WAIT,
    WAIT,
    STALLED,
]


def watch():
    return HealWatch(started=0.0, retrigger_after=60, stall_after=300)


@pytest.mark.parametrize(
    ("samples", "actions"),
    [
        # Nothing left: done, even on the first read.
        ([(0.0, HealSample(0))], [DONE]),
        # Falling entries are progress: no trigger, then done.
        ([(1, HealSample(40)), (61, HealSample(30)), (121, HealSample(10)), (150, HealSample(0))], [WAIT] * 3 + [DONE]),
        # A brick heal info cannot reach is never done, and not progress.
        ([(1, HealSample(None)), (2, HealSample(0))], [WAIT, DONE]),
        # Entry heal lists the files it creates: the lowest count of a stretch falling below
        # the stretch before is progress, though still above the fewest seen...
        ([(1, HealSample(6)), (100, HealSample(8)), (250, HealSample(7)), (400, HealSample(7))], RISE_THEN_FALL),
        # ... but entries a client's writes keep coming and going are not (read every 20 s).
        ([(t, HealSample(2 + (t // 20) % 2)) for t in range(0, 320, 20)], [WAIT] * 3 + JITTER_TAIL),
        # No progress for retrigger_after: a full crawl first, then index crawls.
        (
            [(1, HealSample(5)), (61, HealSample(5)), (100, HealSample(5)), (121, HealSample(5))],
            [WAIT, TRIGGER_FULL, WAIT, TRIGGER_INDEX],
        ),
        # Entries stay but the new bricks fill (a large file heals in blocks): progress.
        (
            [(1, HealSample(1, 0, 100)), (50, HealSample(1, 0, 200)), (100, HealSample(1, 0, 300))],
            [WAIT, WAIT, WAIT],
        ),
        # Nothing moves for stall_after: stalled, whatever was triggered.
        (
            [(1, HealSample(5, 0, 100)), (61, HealSample(5, 0, 100)), (301, HealSample(6, 0, 100))],
            [WAIT, TRIGGER_FULL, STALLED],
        ),
        # Split-brain ends the wait at once.
        ([(1, HealSample(3, 1))], [SPLIT_BRAIN]),
    ],
)
def test_each_observation_gives_its_action(samples, actions):
    w = watch()
    assert [w.observe(t, s) for t, s in samples] == actions


def test_the_progress_report_keeps_the_numbers_a_failure_gives():
    w = watch()
    for t, s in [(1, HealSample(49, 0, 10)), (61, HealSample(49, 0, 10)), (80, HealSample(20, 0, 500))]:
        w.observe(t, s)
    assert w.progress(90) == {
        "seconds": 90,
        "entries_first": 49,
        "entries_fewest": 20,
        "healed_bytes": 500,
        "retriggered": 1,
        "seconds_without_progress": 10,
    }


NOT_READY = (
    1,
    "",
    "Launching heal operation to perform index self heal on volume gv0 has been unsuccessful:\n"
    "Glusterd Syncop Mgmt brick op 'Heal' failed. Please check glustershd log file for details.\n",
)
LAUNCHED = (
    0,
    "Launching heal operation to perform index self heal on volume gv0 has been successful \n"
    "Use heal info commands to check status.\n",
    "",
)


def test_the_trigger_runs_without_xml_and_waits_out_daemons_switching_graphs():
    slept = []
    module = RecordingModule([NOT_READY, NOT_READY, LAUNCHED])
    GlusterCli(module, sleep=slept.append).trigger_heal("gv0")
    assert [argv for argv, _kw in module.calls] == [["/usr/sbin/gluster", "--mode=script", "volume", "heal", "gv0"]] * 3
    assert slept == [0.25, 0.5]


def test_a_full_crawl_is_asked_by_its_word():
    module = RecordingModule([LAUNCHED])
    GlusterCli(module, sleep=lambda s: None).trigger_heal("gv0", full=True)
    argvs = [argv for argv, _kwargs in module.calls]
    assert argvs == [["/usr/sbin/gluster", "--mode=script", "volume", "heal", "gv0", "full"]]


def test_another_failure_is_raised_at_once_and_one_that_lasts_after_the_wait():
    module = RecordingModule([(1, "", "Volume gv1 does not exist\n")])
    with pytest.raises(GlusterCliError, match="gluster volume heal gv0 failed \\(exit 1\\): Volume gv1 does not exist"):
        GlusterCli(module, sleep=lambda s: None).trigger_heal("gv0")
    assert len(module.calls) == 1
    module = RecordingModule([NOT_READY] * 100)
    with pytest.raises(GlusterCliError, match=f"still failed after {HEAL_TRIGGER_WAIT_SECONDS} s"):
        GlusterCli(module, sleep=lambda s: None).trigger_heal("gv0")


def test_a_migration_row_carries_the_nodes_uuid():
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
        interpret,
        parse_remove_brick_status,
    )

    from .module_harness import out

    root = interpret(
        ["gluster", "--mode=script", "--xml", "x"], 0, out("remove-brick-failures-remove-brick-status.xml"), ""
    )
    assert parse_remove_brick_status(root) == [
        MigrationNode("node2", "3c74e68e-e20f-4644-b58b-b3dd8944990b", 3, "completed", 15, 3, 0)
    ]


def test_the_heal_mark_owes_only_bricks_still_in_the_volume():
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.heal_watch import heal_mark, owed_heal

    volume_bricks = ["n1:/a", "n2:/a", "n4:/s"]
    assert heal_mark(["n4:/s"]) == "pending n4:/s" and heal_mark([]) == "done"
    assert owed_heal("pending n4:/s,n5:/s", volume_bricks) == ["n4:/s"]
    # A run that died before its replace-brick: the brick is in no set, nothing is owed.
    assert owed_heal("pending n5:/s", volume_bricks) == []
    assert owed_heal("done", volume_bricks) == [] and owed_heal(None, volume_bricks) == []


def test_a_daemon_that_misses_a_brick_for_a_moment_is_asked_again():
    commit_failed = (
        1,
        "",
        "Launching heal operation to perform index self heal on volume gv0 has been unsuccessful:\n"
        "Commit failed on node3. Please check log file for details.\n",
    )
    slept = []
    module = RecordingModule([commit_failed, LAUNCHED])
    GlusterCli(module, sleep=slept.append).trigger_heal("gv0")
    assert len(module.calls) == 2 and slept == [0.25]


def test_paced_pauses_are_a_share_of_the_wait_so_far_within_their_bounds():
    now = [100.0]
    pauses = paced(0.25, 5.0, share=0.1, clock=lambda: now[0])
    seen = []
    for waited in (0.0, 1.0, 2.5, 8.0, 30.0, 50.0, 3600.0):
        now[0] = 100.0 + waited
        seen.append(next(pauses))
    # A heal done after 8 s is seen within 0.8 s; doubling pauses (4 s by then) could add 4 s.
    assert seen == [0.25, 0.25, 0.25, 0.8, 3.0, 5.0, 5.0]


def test_paced_counts_from_its_call_a_slow_first_read_included():
    now = [0.0]
    pauses = paced(0.25, 5.0, share=0.1, clock=lambda: now[0])
    now[0] = 30.0  # the first heal info read took 30 s
    assert next(pauses) == 3.0
