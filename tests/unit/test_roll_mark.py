"""The roll mark: rolling.yml marks every volume while it takes nodes down, and every
other change of the pool refuses meanwhile (roll_mark, pool_lock.check_pool,
gluster_roll_mark, the preflights' filter, the health report)."""

import dataclasses
import re
from unittest import mock
from xml.etree import ElementTree

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_health import (
    gluster_health_prometheus,
    gluster_health_table,
)
from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_pool import gluster_pool_roll_refusal
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import gluster_processes
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import parse_volume_info
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import read_volume
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import check_pool
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.roll_mark import (
    OPTION,
    Mark,
    MarkError,
    mark_under_way,
    refusal,
    roll_under_way,
    rolls_under_way,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules import (
    gluster_peer,
    gluster_pool_info,
    gluster_roll_mark,
    gluster_volume,
)

from .module_harness import Expected, G, out, read, run_module

pytestmark = pytest.mark.usefixtures("on_node1")

VOLUMES = ["arb", "dist", "ec", "gv0"]


def volume_info(marks):
    """`volume info` of the four volumes of volume-info-all.xml, with {volume: mark value}."""
    text = out("volume-info-all.xml")
    for name, value in marks.items():
        start = text.index(f"<name>{name}</name>")
        at = text.index("<options>", start) + len("<options>")
        text = text[:at] + f"<option><name>{OPTION}</name><value>{value}</value></option>" + text[at:]
    return text


def marked(marks):
    return Expected([*G, "volume", "info"], 0, volume_info(marks))


def pool(fixture="pool-list-four.xml"):
    return read(["pool", "list"], fixture)


def volume_set(name, value):
    return Expected([*G, "volume", "set", name, OPTION, value], 0, out("volume-set.xml"))


# -- the mark's values ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "roll"),
    [(None, None), ("done", None), ("done 2026-12-kernel", None), ("rolling 2026-12-kernel", "2026-12-kernel")],
)
def test_a_roll_is_under_way_only_while_the_mark_says_rolling(value, roll):
    assert roll_under_way(value, "gv0") == roll


@pytest.mark.parametrize("value", ["", "rolling", "rolling a b c", "rolling a -b", "Rolling x", "weird", "rolling -x"])
def test_a_value_never_written_is_refused_saying_how_to_end_it(value):
    with pytest.raises(MarkError, match=f"gluster volume set gv0 {re.escape(OPTION)} done"):
        roll_under_way(value, "gv0")


def test_the_refusal_names_the_roll_its_volumes_and_both_ways_out():
    rolls = rolls_under_way([("gv0", {OPTION: "rolling r1"}), ("hv", {OPTION: "rolling r1"}), ("x", {})])
    assert rolls == {"r1": ["gv0", "hv"]}
    said = refusal(rolls)
    assert "roll r1 marked volumes gv0, hv" in said
    assert "rolling.yml -e rolling_id=r1" in said
    assert f"gluster volume set gv0 {OPTION} done; gluster volume set hv {OPTION} done;" in said
    assert "Nothing was changed" in said
    # The roll's own changes are not refused by its own mark; another roll's are.
    assert refusal(rolls, "r1") is None
    assert "roll r1" in refusal(rolls, "r2")
    assert refusal({}) is None


# -- the guard under the lock -----------------------------------------------------


class FakeModule:
    def __init__(self, params):
        self.params = {"lock_path": "/nonexistent/pool.lock", "pool_members": [], "pool_leaving": [], **params}
        self.check_mode = False

    def fail_json(self, **result):
        raise RuntimeError(result["msg"])


class FakeCli:
    def __init__(self, marks):
        self.marks = marks

    def volumes(self):
        return parse_volume_info(_root(volume_info(self.marks)))


def _root(text):
    return ElementTree.fromstring(text)


def test_the_guard_refuses_any_change_while_a_roll_is_under_way_and_lets_the_roll_through():
    cli = FakeCli({"gv0": "rolling r1"})
    with pytest.raises(RuntimeError, match="a rolling maintenance is under way on this pool: roll r1"):
        check_pool(FakeModule({}), cli)
    check_pool(FakeModule({}), cli, roll="r1")
    check_pool(FakeModule({}), FakeCli({"gv0": "done r1"}))


def test_the_guard_refuses_a_mark_it_cannot_read():
    with pytest.raises(RuntimeError, match="not a value this project writes"):
        check_pool(FakeModule({}), FakeCli({"gv0": "maybe"}), roll="r1")


def test_a_volume_change_is_refused_before_anything_else_is_read():
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "replica": 3, "bricks": ["node1:/b", "node2:/b", "node3:/b"]},
        [marked({"gv0": "rolling r1", "arb": "rolling r1"})],
    )
    assert result.failed
    assert "roll r1 marked volumes arb, gv0" in result.result["msg"]


def test_a_probe_is_refused_too():
    result = run_module(gluster_peer.main, {"nodes": ["node5"]}, [marked({"dist": "rolling r1"})])
    assert result.failed
    assert result.result["msg"].startswith("a rolling maintenance is under way on this pool: roll r1")


# -- gluster_roll_mark ------------------------------------------------------------


def test_present_marks_every_volume_not_yet_marked_by_this_roll():
    marks = {"arb": "rolling r1", "dist": "done r0"}
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "_ansible_diff": True},
        [marked(marks), marked(marks), pool(), *(volume_set(v, "rolling r1") for v in ["dist", "ec", "gv0"])],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["volumes"] == ["dist", "ec", "gv0"]
    assert result.result["marks"] == {v: "rolling r1" for v in VOLUMES}
    assert result.result["diff"] == {
        "before": {"dist": "done r0", "ec": None, "gv0": None},
        "after": {"dist": "rolling r1", "ec": "rolling r1", "gv0": "rolling r1"},
    }


def test_present_in_check_mode_sets_nothing_and_says_what_it_would():
    result = run_module(
        gluster_roll_mark.main, {"roll": "r1", "_ansible_check_mode": True}, [marked({}), marked({}), pool()]
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True
    assert result.result["commands"] == [[*G, "volume", "set", v, OPTION, "rolling r1"] for v in VOLUMES]


def test_present_again_changes_nothing():
    marks = {v: "rolling r1" for v in VOLUMES}
    result = run_module(gluster_roll_mark.main, {"roll": "r1"}, [marked(marks), marked(marks), pool()])
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"]) == (False, [])


def test_another_roll_under_way_is_refused_before_any_set():
    result = run_module(gluster_roll_mark.main, {"roll": "r2"}, [marked({"gv0": "rolling r1"})])
    assert result.failed
    assert "roll r1 marked volume gv0" in result.result["msg"]


def test_absent_ends_only_this_rolls_mark():
    marks = {"arb": "rolling r1", "gv0": "rolling r1", "dist": "done r0"}
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "state": "absent"},
        [marked(marks), marked(marks), pool(), volume_set("arb", "done r1"), volume_set("gv0", "done r1")],
    )
    assert not result.failed, result.result
    assert result.result["volumes"] == ["arb", "gv0"]
    assert result.result["marks"] == {"arb": "done r1", "dist": "done r0", "ec": None, "gv0": "done r1"}


def test_present_claims_a_roll_no_run_holds_and_keeps_its_own_claim():
    marks = {v: "rolling r1" for v in VOLUMES}
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "run": "runA"},
        [marked(marks), marked(marks), pool(), *(volume_set(v, "rolling r1 runA") for v in VOLUMES)],
    )
    assert not result.failed, result.result
    assert result.result["marks"] == {v: "rolling r1 runA" for v in VOLUMES}
    mine = {v: "rolling r1 runA" for v in VOLUMES}
    again = run_module(gluster_roll_mark.main, {"roll": "r1", "run": "runA"}, [marked(mine), marked(mine), pool()])
    assert (again.failed, again.result["changed"]) == (False, False)


def test_a_second_run_of_the_roll_is_refused_before_any_set_naming_the_takeover():
    marks = {"gv0": "rolling r1 runA", "arb": "rolling r1"}
    result = run_module(gluster_roll_mark.main, {"roll": "r1", "run": "runB"}, [marked(marks), marked(marks)])
    assert result.failed
    assert result.result["held_by"] == {"gv0": "runA"}
    assert "roll r1 is held by another run of it, runA (volume gv0" in result.result["msg"]
    assert "Nothing was changed" in result.result["msg"]
    assert "-e rolling_takeover=runA" in result.result["msg"]


def test_a_takeover_replaces_only_the_run_it_names():
    marks = {"gv0": "rolling r1 runA", "arb": "rolling r1 runA"}
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "run": "runB", "takeover": ["runA"]},
        [marked(marks), marked(marks), pool(), *(volume_set(v, "rolling r1 runB") for v in VOLUMES)],
    )
    assert not result.failed, result.result
    assert result.result["marks"] == {v: "rolling r1 runB" for v in VOLUMES}
    wrong = run_module(
        gluster_roll_mark.main, {"roll": "r1", "run": "runB", "takeover": ["runC"]}, [marked(marks), marked(marks)]
    )
    assert wrong.failed
    assert wrong.result["held_by"] == {"arb": "runA", "gv0": "runA"}


def test_the_refusal_names_every_run_to_take_over():
    marks = {"gv0": "rolling r1 runA", "arb": "rolling r1 runC"}
    result = run_module(gluster_roll_mark.main, {"roll": "r1", "run": "runB"}, [marked(marks), marked(marks)])
    assert result.failed
    assert "-e rolling_takeover=runA,runC" in result.result["msg"]


def test_no_mark_changes_while_a_peer_is_down_and_a_refusal_still_refuses():
    marks = {v: "rolling r1 runA" for v in VOLUMES}
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "run": "runB", "takeover": ["runA"]},
        [marked(marks), marked(marks), pool("pool-list-peer-down.xml")],
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"]) == (False, [])
    assert result.result["deferred"] and result.result["marks"] == marks
    refused = run_module(gluster_roll_mark.main, {"roll": "r1", "run": "runB"}, [marked(marks), marked(marks)])
    assert refused.failed and "held by another run of it, runA" in refused.result["msg"]


def test_a_refusal_names_the_runs_already_given_with_those_still_to_take_over():
    marks = {"gv0": "rolling r1 runA", "arb": "rolling r1 runC"}
    result = run_module(
        gluster_roll_mark.main, {"roll": "r1", "run": "runB", "takeover": ["runA"]}, [marked(marks), marked(marks)]
    )
    assert result.failed
    assert result.result["held_by"] == {"arb": "runC"}
    assert "-e rolling_takeover=runA,runC" in result.result["msg"]


def test_released_lets_go_of_this_runs_claim_and_leaves_another_runs():
    marks = {"gv0": "rolling r1 runA", "arb": "rolling r1 runB", "dist": "done r0"}
    with mock.patch("ansible.module_utils.basic.AnsibleModule.warn") as warn:
        result = run_module(
            gluster_roll_mark.main,
            {"roll": "r1", "run": "runA", "state": "released"},
            [marked(marks), marked(marks), pool(), volume_set("gv0", "rolling r1")],
        )
    assert not result.failed, result.result
    assert result.result["volumes"] == ["gv0"]
    assert result.result["held_by"] == {"arb": "runB"}
    assert result.result["marks"] == {"arb": "rolling r1 runB", "dist": "done r0", "ec": None, "gv0": "rolling r1"}
    assert "held by another run of it, runB" in warn.call_args.args[0]


def test_absent_ends_the_roll_held_by_this_run_or_by_none_and_not_another_runs():
    marks = {"gv0": "rolling r1 runA", "arb": "rolling r1", "dist": "rolling r1 runB"}
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "run": "runA", "state": "absent"},
        [marked(marks), marked(marks), pool(), volume_set("arb", "done r1"), volume_set("gv0", "done r1")],
    )
    assert not result.failed, result.result
    assert result.result["volumes"] == ["arb", "gv0"]
    assert result.result["held_by"] == {"dist": "runB"}


@pytest.mark.parametrize(
    ("value", "mark"),
    [("rolling r1 runA", Mark("r1", "runA")), ("rolling r1", Mark("r1")), ("done r1", None), (None, None)],
)
def test_the_mark_names_the_roll_and_the_run_that_holds_it(value, mark):
    assert mark_under_way(value, "gv0") == mark


def test_the_guard_checks_the_members_first_then_the_marks():
    result = run_module(
        gluster_roll_mark.main,
        {"roll": "r1", "state": "absent", "pool_members": ["3a6b9bdc-1bd4-4fdd-8fd9-0c2e2e5e4e31"]},
        [read(["pool", "list"], "pool-list-four.xml")],
    )
    assert result.failed
    assert "is not one of the members this run planned with" in result.result["msg"]


@pytest.mark.parametrize("roll", ["", "two words", "-x", "a" * 129])
def test_a_roll_id_that_is_no_id_runs_nothing(roll):
    result = run_module(gluster_roll_mark.main, {"roll": roll}, [])
    assert result.failed
    assert "is no roll id" in result.result["msg"]


@pytest.mark.parametrize("args", [{"run": "two words"}, {"takeover": ["ok", "-x"]}])
def test_a_run_id_that_is_no_id_runs_nothing(args):
    result = run_module(gluster_roll_mark.main, {"roll": "r1", **args}, [])
    assert result.failed
    assert "is no run id" in result.result["msg"]


# -- what operators and preflights read -------------------------------------------


def test_the_preflights_filter_refuses_while_a_roll_is_under_way_on_any_volume():
    assert gluster_pool_roll_refusal(None) == ""
    assert gluster_pool_roll_refusal({}) == ""
    assert gluster_pool_roll_refusal({"gv0": "done r1"}) == ""
    said = gluster_pool_roll_refusal({"gv0": "done r1", "hv": "rolling r1"})
    assert said.startswith("a rolling maintenance is under way on this pool: roll r1 marked volume hv")
    assert "not a value this project writes" in gluster_pool_roll_refusal({"gv0": "?"})


def test_health_names_the_roll_under_way_without_changing_the_verdict():
    volume = next(v for v in parse_volume_info(_root(volume_info({"gv0": "rolling r1"}))) if v.name == "gv0")
    stopped = dataclasses.replace(volume, status=2, status_str="Stopped")
    report = read_volume(None, stopped, [])
    assert report["rolling"] == "r1"
    result = {"verdict": report["verdict"], "volumes": [report], "peers": []}
    assert "rolling maintenance under way: roll r1" in gluster_health_table(result)
    metrics = gluster_health_prometheus(result, "c1", timestamp=0)
    assert 'gluster_volume_rolling{cluster_id="c1",volume="gv0"} 1' in metrics


def test_health_finds_a_mark_it_never_writes_degraded():
    volume = next(v for v in parse_volume_info(_root(volume_info({"gv0": "maybe"}))) if v.name == "gv0")
    report = read_volume(None, dataclasses.replace(volume, status=2, status_str="Stopped"), [])
    assert report["rolling"] is None
    assert [f["severity"] for f in report["findings"] if "not a value this project writes" in f["reason"]] == [
        "degraded"
    ]


def test_the_pool_view_carries_each_volumes_mark(tmp_path):
    ip = Expected(["/usr/sbin/ip", "-json", "address", "show"], 0, "[]")
    with mock.patch.object(gluster_processes, "SYSTEMD_RUN_DIR", str(tmp_path / "no-systemd")):
        result = run_module(
            gluster_pool_info.main,
            {},
            [ip, read(["pool", "list"], "pool-list-four.xml"), marked({"gv0": "rolling r1", "ec": "done r0"})],
        )
    assert not result.failed, result.result
    assert result.result["roll_marks"] == {"gv0": "rolling r1", "ec": "done r0"}
    assert gluster_pool_roll_refusal(result.result["roll_marks"]).startswith(
        "a rolling maintenance is under way on this pool: roll r1 marked volume gv0"
    )
