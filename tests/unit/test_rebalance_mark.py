"""The rebalance mark (user.ganeti-gluster.rebalance): its transitions, every (state, observation)
pair, and gluster_volume's flows around it with scripted gluster output captured from real
glusterd (Gluster 10.3)."""

import re
from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterOpError, interpret
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.rebalance_mark import (
    FIX_LAYOUT,
    FULL,
    MAX_FULL_PASSES,
    NOT_STARTED,
    NOTHING,
    STILL_MOVING,
    Action,
    BricksAdded,
    MarkError,
    PassFinished,
    PassRunning,
    Settled,
    parse,
    step,
    value_of,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_volume

from .module_harness import NO_ROLL, Expected, FakeClock, G, out, read, run_module

MARK = "user.ganeti-gluster.rebalance"


pytestmark = pytest.mark.usefixtures("on_node1")


@pytest.fixture
def warnings():
    """The module's warnings, in order; and no sleeping while it polls."""
    said = []
    with (
        mock.patch.object(gluster_volume.AnsibleModule, "warn", lambda module, text: said.append(text)),
        mock.patch.object(gluster_volume.time, "sleep", lambda seconds: None),
    ):
        yield said


# -- the transitions ----------------------------------------------------------

LAST = MAX_FULL_PASSES
SET_FIX_LAYOUT, SET_FULL = "pending fix-layout", "pending full"

# Every state (what the mark owes) against every kind of observation.
TRANSITIONS = [
    # Nothing owed (no mark, or "done").
    (NOTHING, BricksAdded(None), Action(NOTHING)),
    (NOTHING, BricksAdded(FIX_LAYOUT), Action(FIX_LAYOUT, set_mark=SET_FIX_LAYOUT)),
    (NOTHING, BricksAdded(FULL), Action(FULL, set_mark=SET_FULL)),
    (NOTHING, PassRunning(), Action(NOTHING, wait=True)),
    (NOTHING, Settled(started=False), Action(NOTHING)),
    (NOTHING, Settled(started=True), Action(NOTHING)),
    (NOTHING, PassFinished(files=0, passes=1), Action(NOTHING)),
    (NOTHING, PassFinished(files=9, passes=1), Action(NOTHING)),
    (NOTHING, PassFinished(files=9, passes=LAST), Action(NOTHING)),
    # A fix-layout owed: a full rebalance pays it too; one pass pays it.
    (FIX_LAYOUT, BricksAdded(None), Action(FIX_LAYOUT)),
    (FIX_LAYOUT, BricksAdded(FIX_LAYOUT), Action(FIX_LAYOUT)),
    (FIX_LAYOUT, BricksAdded(FULL), Action(FULL, set_mark=SET_FULL)),
    (FIX_LAYOUT, PassRunning(), Action(FIX_LAYOUT, wait=True)),
    (FIX_LAYOUT, Settled(started=False), Action(FIX_LAYOUT, warning=NOT_STARTED)),
    (FIX_LAYOUT, Settled(started=True), Action(FIX_LAYOUT, start_pass=FIX_LAYOUT)),
    (FIX_LAYOUT, PassFinished(files=0, passes=1), Action(NOTHING, set_mark="done")),
    (FIX_LAYOUT, PassFinished(files=9, passes=1), Action(NOTHING, set_mark="done")),
    (FIX_LAYOUT, PassFinished(files=9, passes=LAST), Action(NOTHING, set_mark="done")),
    # A fix-layout pass that failed on some directory left their layouts without the new sets.
    (FIX_LAYOUT, PassFinished(files=0, passes=1, failures=3), Action(FIX_LAYOUT, start_pass=FIX_LAYOUT)),
    (FIX_LAYOUT, PassFinished(files=0, passes=LAST, failures=3), Action(FIX_LAYOUT, warning=STILL_MOVING)),
    # A full rebalance owed: passes until one moves nothing, at most LAST in a run.
    (FULL, BricksAdded(None), Action(FULL)),
    (FULL, BricksAdded(FIX_LAYOUT), Action(FULL)),
    (FULL, BricksAdded(FULL), Action(FULL)),
    (FULL, PassRunning(), Action(FULL, wait=True)),
    (FULL, Settled(started=False), Action(FULL, warning=NOT_STARTED)),
    (FULL, Settled(started=True), Action(FULL, start_pass=FULL)),
    (FULL, PassFinished(files=0, passes=1), Action(NOTHING, set_mark="done")),
    (FULL, PassFinished(files=0, passes=LAST), Action(NOTHING, set_mark="done")),
    (FULL, PassFinished(files=9, passes=1), Action(FULL, start_pass=FULL)),
    (FULL, PassFinished(files=9, passes=LAST - 1), Action(FULL, start_pass=FULL)),
    (FULL, PassFinished(files=9, passes=LAST), Action(FULL, warning=STILL_MOVING)),
    # A full pass that moved nothing but failed on some files has not shown every file in place.
    (FULL, PassFinished(files=0, passes=1, failures=2), Action(FULL, start_pass=FULL)),
    (FULL, PassFinished(files=0, passes=LAST, failures=2), Action(FULL, warning=STILL_MOVING)),
]


@pytest.mark.parametrize(("owed", "observation", "action"), TRANSITIONS)
def test_transition(owed, observation, action):
    assert step(owed, observation) == action


def test_the_table_covers_every_state_and_kind_of_observation():
    kinds = {type(o) for _owed, o, _action in TRANSITIONS}
    assert {(s, k) for s, _o, _a in TRANSITIONS for k in kinds} == {(s, type(o)) for s, o, _a in TRANSITIONS}
    assert {s for s, _o, _a in TRANSITIONS} == {NOTHING, FIX_LAYOUT, FULL}
    assert kinds == {BricksAdded, PassRunning, Settled, PassFinished}


def test_a_mark_is_set_only_to_a_value_it_may_take_and_that_says_what_is_owed():
    for owed, _observation, action in TRANSITIONS:
        if action.set_mark is not None:
            assert parse(action.set_mark, "gv0") == action.owed
            assert action.set_mark != value_of(owed)


@pytest.mark.parametrize(
    ("value", "owed"),
    [(None, NOTHING), ("done", NOTHING), ("pending fix-layout", FIX_LAYOUT), ("pending full", FULL)],
)
def test_parse_reads_every_value_the_module_writes(value, owed):
    assert parse(value, "gv0") == owed


@pytest.mark.parametrize("value", ["pending", "pending bogus", "weird", "Pending full", "pending  full", "", "none"])
def test_parse_refuses_any_other_value(value):
    with pytest.raises(MarkError, match=f"volume gv0 has {MARK} = {value!r}, which is not a value"):
        parse(value, "gv0")


def test_an_observation_of_another_kind_is_a_programming_error():
    with pytest.raises(TypeError):
        step(FULL, "files moved")


def test_glusterd_refuses_to_reset_the_mark():
    # Why `done` is a volume set and the error message does not suggest `volume reset`.
    argv = [*G, "volume", "reset", "gv0", MARK]
    with pytest.raises(GlusterOpError, match=f"Option {MARK} does not exist"):
        interpret(argv, 0, out("volume-reset-user-option.xml"), "")


# -- gluster_volume's flows around the mark ----------------------------------

# gv0: two replica 3 sets, started (captured on the lab).
GV0 = [
    "node1:/bricks/a/gv",
    "node2:/bricks/a/gv",
    "node3:/bricks/a/gv",
    "node4:/bricks/a/gv",
    "node1:/bricks/b/gv",
    "node2:/bricks/b/gv",
]
# A third set, in the order the planner gives it to gluster.
NEW_SET = ["node1:/bricks/c/gv", "node3:/bricks/b/gv", "node4:/bricks/b/gv"]
ADD_BRICK = [*G, "volume", "add-brick", "gv0", "replica", "3", *NEW_SET]
STATUS = [*G, "volume", "rebalance", "gv0", "status"]
START_FULL = [*G, "volume", "rebalance", "gv0", "start"]
START_FIX_LAYOUT = [*G, "volume", "rebalance", "gv0", "fix-layout", "start"]
SET_DONE = [*G, "volume", "set", "gv0", MARK, "done"]

# Captured on one glusterd: a full rebalance started, seen in progress, then
# completed having moved 1640 files. A second start of ours gets another task id.
FIRST_TASK = "84a62020-3002-41ab-a27d-5e305853543f"
OUR_TASK = "0b0c9f5e-5d1e-4f4e-9a57-6f7d1d3c2a10"
RUNNING = out("rebalance-status-in-progress.xml")
# gv0's hosts (volume-info-distributed-replicate.xml): a pass is over once each is listed completed.
GV0_HOSTS = [
    "5ce3b234-9c83-451b-861c-2a998baa4118",
    "c4a3ad5d-ff05-457b-9125-a67f64cca061",
    "e1bdcbc9-ad46-4cd2-b8f2-5b6903378063",
    "fe914dd2-ce0f-47d3-9991-22a1842eeb35",
]


def on_hosts(status, hosts):
    """`status` with its one node's row repeated for each glusterd UUID of `hosts`."""
    row = re.search(r"<node>.*?</node>", status, re.S).group(0)
    rows = "".join(re.sub(r"<id>[^<]*</id>", f"<id>{host}</id>", row) for host in hosts)
    return status.replace(row, rows)


MOVED_FILES = on_hosts(out("rebalance-status-completed-files.xml"), GV0_HOSTS)
OURS_STARTED = out("rebalance-start-full.xml").replace(FIRST_TASK, OUR_TASK)
OURS_MOVED_FILES = MOVED_FILES.replace(FIRST_TASK, OUR_TASK)
OURS_MOVED_NOTHING = OURS_MOVED_FILES.replace("<files>1640</files>", "<files>0</files>")
SET_OK = out("volume-set.xml")


def volume_info(mark=None):
    """gv0's `volume info`, with the mark set to `mark` (None: no mark)."""
    info = out("volume-info-distributed-replicate.xml")
    if mark is None:
        return info
    option = f"<option><name>{MARK}</name><value>{mark}</value></option>"
    return info.replace("<option>", option + "<option>", 1)


def bricks_online():
    """What wait_bricks_online reads: every brick's process online."""
    return [
        read(["volume", "status", "gv0"], "volume-status.xml"),
        read(["volume", "info"], "volume-info-distributed-replicate.xml"),
    ]


def owed_full_pass_reads():
    """What gluster_volume reads before the full pass the mark owes: volume info (the mark
    pending full), the pool, no rebalance on record, every brick online."""
    return [
        Expected([*G, "volume", "info"], 0, volume_info("pending full")),
        read(["pool", "list"], "pool-list-four.xml"),
        read(["volume", "rebalance", "gv0", "status"], "rebalance-status-not-started.xml"),
        *bricks_online(),
    ]


@pytest.mark.parametrize(
    ("mark", "sets"),
    [
        # The interrupted run owed a fix-layout; this one asks for full: the mark
        # says so, but only once the running pass is over.
        ("pending fix-layout", [[*G, "volume", "set", "gv0", MARK, "pending full"]]),
        # The mark already says what this run owes: no set.
        ("pending full", []),
    ],
)
def test_bricks_added_while_an_interrupted_pass_runs_wait_for_it_before_any_change(mark, sets, warnings):
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": [*GV0, *NEW_SET], "rebalance": "full"},
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, volume_info(mark)),
            read(["pool", "list"], "pool-list-four.xml"),
            # The interrupted run's pass goes on: nothing changes until it is over
            # (glusterd refuses add-brick meanwhile, and a volume set would change
            # the volfile under its rebalance processes).
            Expected(STATUS, 0, RUNNING),
            Expected(STATUS, 0, MOVED_FILES),
            *[Expected(argv, 0, SET_OK) for argv in sets],
            Expected(ADD_BRICK, 0, out("add-brick.xml")),
            *bricks_online(),
            Expected(START_FULL, 0, OURS_STARTED),
            Expected(STATUS, 0, OURS_MOVED_FILES),
            Expected(START_FULL, 0, OURS_STARTED),
            Expected(STATUS, 0, OURS_MOVED_NOTHING),
            Expected(SET_DONE, 0, SET_OK),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["added_bricks"] == NEW_SET
    assert result.result["rebalance"]["passes"] == 2
    assert result.result["rebalance"]["files"] == 0


def test_last_full_pass_that_still_moved_files_leaves_the_mark_pending(warnings):
    passes = MAX_FULL_PASSES
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": GV0, "rebalance": "full"},
        [
            NO_ROLL,
            *owed_full_pass_reads(),
            *[Expected(START_FULL, 0, OURS_STARTED), Expected(STATUS, 0, OURS_MOVED_FILES)] * passes,
            # No `volume set ... done`: the next run goes on with the passes.
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["rebalance"]["passes"] == passes
    assert result.result["rebalance"]["files"] == 1640
    assert warnings == [
        f"rebalance (full) of gv0 still moved 1640 files in pass {passes}, the last one a run makes; "
        f"{MARK} stays 'pending full', so the next run goes on with the passes"
    ]


def test_fix_layout_passes_that_keep_failing_leave_the_mark_pending(warnings):
    passes = MAX_FULL_PASSES
    started = out("rebalance-start-full.xml").replace(FIRST_TASK, OUR_TASK).replace("<op>1</op>", "<op>4</op>")
    failed_some = OURS_MOVED_NOTHING.replace("<failures>0</failures>", "<failures>3</failures>")
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": GV0},
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, volume_info("pending fix-layout")),
            read(["pool", "list"], "pool-list-four.xml"),
            read(["volume", "rebalance", "gv0", "status"], "rebalance-status-not-started.xml"),
            *bricks_online(),
            *[Expected(START_FIX_LAYOUT, 0, started), Expected(STATUS, 0, failed_some)] * passes,
            # No `volume set ... done`: the next run starts the fix-layout again.
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["rebalance"]["passes"] == passes
    assert warnings[-1] == (
        f"rebalance (fix-layout) of gv0 still failed on 3 entries in pass {passes}, the last one a run makes; "
        f"{MARK} stays 'pending fix-layout', so the next run goes on with the passes "
        "(/var/log/glusterfs/gv0-rebalance.log says why)"
    )


@pytest.mark.parametrize("mark", ["pending", "pending bogus", "weird", "Pending full", ""])
def test_unknown_mark_fails_clearly_before_anything_changes(mark, warnings):
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": [*GV0, *NEW_SET], "rebalance": "full"},
        [NO_ROLL, Expected([*G, "volume", "info"], 0, volume_info(mark))],
    )
    assert result.failed
    assert result.result["msg"] == (
        f"volume gv0 has {MARK} = {mark!r}, which is not a value this module writes: it takes "
        "'done' (no rebalance owed), 'pending fix-layout' or 'pending full' (the rebalance an interrupted "
        f"run still owes). Set the one that is true, for example: gluster volume set gv0 {MARK} done "
        f"(glusterd refuses `gluster volume reset gv0 {MARK}`: it resets only options it knows)"
    )
    assert result.result["commands"] == []


def test_a_run_with_nothing_owed_and_nothing_to_add_sets_no_mark():
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": GV0, "rebalance": "full"},
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, volume_info("done")),
            read(["pool", "list"], "pool-list-four.xml"),
        ],
    )
    assert (result.failed, result.result["changed"], result.result["commands"]) == (False, False, [])


def test_check_mode_with_the_mark_already_pending_reports_no_set():
    result = run_module(
        gluster_volume.main,
        {
            "name": "gv0",
            "state": "started",
            "replica": 3,
            "bricks": [*GV0, *NEW_SET],
            "rebalance": "full",
            "_ansible_check_mode": True,
        },
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, volume_info("pending full")),
            read(["pool", "list"], "pool-list-four.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["commands"] == [ADD_BRICK, START_FULL]


def test_a_pass_is_waited_for_until_every_host_with_bricks_is_listed_completed(warnings):
    # The CLI leaves out a node whose rebalance process has not started yet and calls
    # the others' pass completed (seen on the lab: a join's new host started late).
    one_row = out("rebalance-status-completed-files.xml").replace(FIRST_TASK, OUR_TASK)
    without_last = on_hosts(one_row.replace("<files>1640</files>", "<files>0</files>"), GV0_HOSTS[:3])
    with mock.patch.object(gluster_volume.time, "sleep", lambda seconds: None):
        result = run_module(
            gluster_volume.main,
            {"name": "gv0", "state": "started", "replica": 3, "bricks": GV0, "rebalance": "full"},
            [
                NO_ROLL,
                *owed_full_pass_reads(),
                Expected(START_FULL, 0, OURS_STARTED),
                Expected(STATUS, 0, without_last),
                Expected(STATUS, 0, OURS_MOVED_NOTHING),
                Expected(SET_DONE, 0, SET_OK),
                read(["volume", "info"], "volume-info-distributed-replicate.xml"),
            ],
        )
    assert not result.failed, result.result
    assert result.result["rebalance"]["passes"] == 1


def test_a_mark_owed_on_a_volume_of_one_set_is_marked_done_with_a_warning(warnings):
    # An add-brick that glusterd refused after the mark was set, or a volume drained back to
    # one set: glusterd refuses a rebalance there ("not a distribute volume"), so every run failed.
    GV0_ONE_SET = ["node1:/bricks/a/gv", "node2:/bricks/a/gv", "node3:/bricks/a/gv"]
    info = out("volume-info-replicate.xml")
    marked = info.replace(
        "<option>", f"<option><name>{MARK}</name><value>pending fix-layout</value></option><option>", 1
    )
    assert marked != info
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "state": "started", "replica": 3, "bricks": GV0_ONE_SET},
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, marked),
            read(["pool", "list"], "pool-list-four.xml"),
            Expected(SET_DONE, 0, SET_OK),
            read(["volume", "info"], "volume-info-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["commands"] == [SET_DONE]
    assert warnings == [
        f"volume gv0 has one set: the rebalance {MARK} owed (fix-layout) has nothing to spread; it is marked done"
    ]


# rebalance_background_after: a caller with a time limit (the node-add hook) gets its run back.
OURS_RUNNING = on_hosts(RUNNING, GV0_HOSTS).replace(FIRST_TASK, OUR_TASK)
GROW_FULL = {"name": "gv0", "state": "started", "replica": 3, "bricks": [*GV0, *NEW_SET], "rebalance": "full"}
# A full pass an earlier run left owed, still running at each of three reads.
EARLIER_PASS_RUNS_ON = [
    NO_ROLL,
    Expected([*G, "volume", "info"], 0, volume_info("pending full")),
    read(["pool", "list"], "pool-list-four.xml"),
    *[Expected(STATUS, 0, RUNNING)] * 3,
]
# GROW_FULL on gv0 with no rebalance owed nor running, up to its add-brick.
GROW_FULL_ADDS = [
    NO_ROLL,
    Expected([*G, "volume", "info"], 0, volume_info("done")),
    read(["pool", "list"], "pool-list-four.xml"),
    read(["volume", "rebalance", "gv0", "status"], "rebalance-status-not-started.xml"),
    Expected([*G, "volume", "set", "gv0", MARK, "pending full"], 0, SET_OK),
    Expected(ADD_BRICK, 0, out("add-brick.xml")),
]


@pytest.fixture
def clock(warnings):
    """gluster_volume's time: each poll's pause moves it on 1 s."""
    with mock.patch.object(gluster_volume, "time", FakeClock(step=1)):
        yield


def test_a_pass_still_running_when_the_time_is_up_goes_on_in_the_background_with_the_mark_pending(warnings, clock):
    result = run_module(
        gluster_volume.main,
        {**GROW_FULL, "rebalance_background_after": 1},
        [
            *GROW_FULL_ADDS,
            *bricks_online(),
            Expected(START_FULL, 0, OURS_STARTED),
            # At 0 s the pass runs, at 1 s too, and the time is up: no `set ... done`, no second pass.
            Expected(STATUS, 0, OURS_RUNNING),
            Expected(STATUS, 0, OURS_RUNNING),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["added_bricks"] == NEW_SET
    rebalance = result.result["rebalance"]
    assert (rebalance["in_background"], rebalance["passes"], rebalance["task_id"]) == (True, 0, OUR_TASK)
    assert rebalance["status"] == "in progress"
    [said] = warnings
    assert "stopped waiting" in said and "stays 'pending full'" in said


def test_no_pass_is_started_once_the_time_is_up(warnings):
    result = run_module(
        gluster_volume.main,
        {**GROW_FULL, "rebalance_background_after": 0},
        [
            *GROW_FULL_ADDS,
            # No wait for the bricks to come online either: no pass is started.
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["rebalance"]["status"] == "not started"
    assert result.result["rebalance"]["in_background"] is True


def test_an_earlier_pass_still_running_when_the_time_is_up_fails_a_change_before_it_is_made(warnings, clock):
    result = run_module(
        gluster_volume.main,
        {**GROW_FULL, "rebalance_background_after": 1},
        [
            *EARLIER_PASS_RUNS_ON,
        ],
    )
    assert result.failed
    assert result.result["msg"].startswith("a rebalance pass of volume gv0 from an earlier run still runs")
    assert "Nothing was changed" in result.result["msg"]
    assert result.result["commands"] == []


def test_a_run_with_nothing_to_change_leaves_an_earlier_pass_in_the_background(warnings, clock):
    # A second hook join in a row, of a node without bricks: the pass of the first still runs.
    result = run_module(
        gluster_volume.main,
        {**GROW_FULL, "bricks": GV0, "rebalance_background_after": 1},
        [
            *EARLIER_PASS_RUNS_ON,
        ],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is False
    assert result.result["rebalance"]["in_background"] is True
    assert result.result["rebalance"]["task_id"] == FIRST_TASK


def test_an_earlier_pass_that_no_node_lists_any_more_is_over_for_the_wait_before_a_change(warnings):
    # Seen running, then listed by no node (the CLI then says "not started"): nothing runs.
    none_listed = re.sub(r"<node>.*?</node>", "", RUNNING, flags=re.S).replace(
        "<statusStr>in progress</statusStr>", "<statusStr>not started</statusStr>"
    )
    none_listed = re.sub(r"(<aggregate>.*?)<status>1</status>", r"\1<status>0</status>", none_listed, flags=re.S)
    result = run_module(
        gluster_volume.main,
        {**GROW_FULL, "rebalance_background_after": 600},
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, volume_info("pending full")),
            read(["pool", "list"], "pool-list-four.xml"),
            Expected(STATUS, 0, RUNNING),
            Expected(STATUS, 0, none_listed),
            Expected(ADD_BRICK, 0, out("add-brick.xml")),
            *bricks_online(),
            Expected(START_FULL, 0, OURS_STARTED),
            Expected(STATUS, 0, OURS_MOVED_NOTHING),
            Expected(SET_DONE, 0, SET_OK),
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    assert result.result["rebalance"]["passes"] == 1


def test_a_pass_not_started_again_once_the_time_is_up_says_why_the_last_one_was_to_be(warnings, clock):
    failed = OURS_MOVED_NOTHING.replace("<status>3</status>", "<status>4</status>").replace(
        "<statusStr>completed</statusStr>", "<statusStr>failed</statusStr>"
    )
    result = run_module(
        gluster_volume.main,
        {**GROW_FULL, "bricks": GV0, "rebalance_background_after": 0.5},
        [
            NO_ROLL,
            Expected([*G, "volume", "info"], 0, volume_info("pending full")),
            read(["pool", "list"], "pool-list-four.xml"),
            read(["volume", "rebalance", "gv0", "status"], "rebalance-status-not-started.xml"),
            *bricks_online(),
            Expected(START_FULL, 0, OURS_STARTED),
            Expected(STATUS, 0, OURS_RUNNING),  # at 0 s; the time is up at 0.5 s
            Expected(STATUS, 0, failed),  # at 1 s, failed: not started again
            read(["volume", "info"], "volume-info-distributed-replicate.xml"),
        ],
    )
    assert not result.failed, result.result
    rebalance = result.result["rebalance"]
    assert rebalance["in_background"] is True and rebalance["passes"] == 0
    assert rebalance["status"].startswith("not started again (the last failed on ")
