"""gluster_volume_heal with scripted gluster output (captured from real glusterd): it
starts a crawl only when something is to heal, waits until heal info shows nothing,
and refuses before any crawl when a watched brick is offline or in split-brain."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from unittest import mock

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import heal_wait
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterOpError,
    parse_volume_info,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_volume_heal

from .module_harness import Expected, ModuleExit, out, read, run_module

pytestmark = pytest.mark.usefixtures("on_node1")

HEAL = ["/usr/sbin/gluster", "--mode=script", "volume", "heal", "hv"]
POOL = read(["pool", "list"], "health-pool-list.xml")
INFO = read(["volume", "info"], "health-volume-info.xml")


def status(fixture):
    return read(["volume", "status", "hv"], fixture)


def summary(pending):
    """heal info summary of hv, all bricks connected, `pending` entries on each: the
    recorded healthy output with its counts set."""
    text = out("health-heal-summary-healthy.xml")
    for tag in ("totalNumberOfEntries", "numberOfEntriesInHealPending"):
        text = text.replace(f"<{tag}>0</{tag}>", f"<{tag}>{pending}</{tag}>")
    return Expected(["/usr/sbin/gluster", "--mode=script", "--xml", "volume", "heal", "hv", "info", "summary"], 0, text)


@pytest.fixture(autouse=True)
def no_pause():
    with mock.patch.object(heal_wait.time, "sleep", lambda seconds: None):
        yield


def test_nothing_to_heal_starts_no_crawl():
    result = run_module(
        gluster_volume_heal.main,
        {"hosts": ["node3"]},
        [POOL, INFO, status("health-status-healthy.xml"), INFO, summary(0)],
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"]) == (False, [])
    assert result.result["volumes"] == [{"name": "hv", "sets": [0], "entries": 0, "healed": True}]


def test_a_host_named_by_its_glusterd_uuid_is_watched_as_by_its_name():
    # node3's UUID: an inventory alias no peer answers to is not needed to find its sets.
    script = [POOL, INFO, status("health-status-healthy.xml"), INFO, summary(2), Expected(HEAL), INFO, summary(0)]
    result = run_module(gluster_volume_heal.main, {"hosts": ["d48889f2-f5d0-43b7-9d6f-58fa117bc5a4"]}, script)
    assert not result.failed, result.result
    assert result.result["volumes"] == [{"name": "hv", "sets": [0], "entries": 6, "healed": True}]


def test_check_mode_reports_the_crawl_and_starts_none():
    args = {"hosts": ["node3"], "_ansible_check_mode": True, "_ansible_diff": True}
    result = run_module(
        gluster_volume_heal.main, args, [POOL, INFO, status("health-status-healthy.xml"), INFO, summary(6)]
    )
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"]) == (True, [HEAL])
    assert result.result["diff"] == {"before": {"hv": 18}, "after": {"hv": 0}}


def test_pending_entries_start_the_crawl_and_the_wait_ends_at_zero():
    script = [
        POOL,
        INFO,
        status("health-status-healthy.xml"),
        INFO,
        summary(6),
        Expected(HEAL),
        INFO,
        summary(2),
        INFO,
        summary(0),
    ]
    result = run_module(gluster_volume_heal.main, {"volumes": ["hv"]}, script)
    assert not result.failed, result.result
    assert result.result["changed"] and result.result["commands"] == [HEAL]
    (wait,) = result.result["heal"]
    # 6 on each of the 3 bricks before the crawl; 2 on each at the wait's first read.
    assert result.result["volumes"] == [{"name": "hv", "sets": [0], "entries": 18, "healed": True}]
    assert (wait["volume"], wait["sets"], wait["entries_first"], wait["entries_fewest"]) == ("hv", [0], 6, 6)


@pytest.mark.parametrize("value", ["off", "disable", "False", "0"])
def test_a_self_heal_daemon_switched_off_is_refused_before_any_crawl_when_something_is_to_heal(value):
    text = out("health-volume-info.xml").replace(
        "<name>cluster.granular-entry-heal</name>", "<name>cluster.self-heal-daemon</name>"
    )
    switched_off = Expected(INFO.argv, 0, text.replace("<value>on</value>", f"<value>{value}</value>", 1))
    reads = [POOL, switched_off, status("health-status-healthy.xml"), INFO]
    result = run_module(gluster_volume_heal.main, {"hosts": ["node3"]}, [*reads, summary(2)])
    assert result.failed and result.result["commands"] == []
    assert result.result["msg"].startswith(
        f"the self-heal daemon of volume hv is switched off (cluster.self-heal-daemon {value}): glusterd "
    )
    # Nothing to heal: nothing to refuse.
    result = run_module(gluster_volume_heal.main, {"hosts": ["node3"]}, [*reads, summary(0)])
    assert not result.failed and not result.result["changed"]


def test_an_offline_brick_of_a_watched_set_is_refused_before_any_crawl():
    result = run_module(
        gluster_volume_heal.main, {"hosts": ["node2"]}, [POOL, INFO, status("health-status-heal-pending.xml")]
    )
    assert result.failed and result.result["commands"] == []
    assert result.result["msg"].startswith("bricks node3:/bricks/hv of volume hv are offline: heal cannot end")


def test_split_brain_is_refused_before_any_crawl():
    script = [
        POOL,
        INFO,
        status("health-status-split-brain.xml"),
        INFO,
        read(["volume", "heal", "hv", "info", "summary"], "health-heal-summary-split-brain.xml"),
    ]
    result = run_module(gluster_volume_heal.main, {}, script)
    assert result.failed and result.result["commands"] == []
    assert "entries in split-brain on sets 0" in result.result["msg"]


def test_a_host_that_is_no_peer_is_refused_by_name():
    result = run_module(gluster_volume_heal.main, {"hosts": ["node9"]}, [POOL])
    assert result.failed
    assert result.result["msg"] == (
        "node9: no peer of the pool by that name or address (the pool has localhost, node2, node3); "
        "name hosts as `gluster pool list` does"
    )


def test_an_unknown_volume_is_refused():
    result = run_module(gluster_volume_heal.main, {"volumes": ["gv9"]}, [POOL, INFO])
    assert result.failed and result.result["msg"] == "no volume gv9 in the pool (it has hv)"


@pytest.mark.parametrize("option", ["heal_stall_timeout", "heal_retrigger_after", "timeout"])
def test_a_wait_of_no_time_is_refused_before_any_read(option):
    result = run_module(gluster_volume_heal.main, {option: 0}, [])
    assert result.failed and result.result["msg"] == f"{option} must be a number of seconds above 0; nothing was done"


# What glfsheal prints when it cannot reach the volume (heal/src/glfs-heal.c, glfsh_xml_end):
# a host whose bricks or glusterd have just come back answers this for a while.
UNREACHED = Expected(
    summary(0).argv,
    1,
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput><healInfo><bricks/></healInfo>'
    "<opRet>-1</opRet><opErrno>107</opErrno>"
    "<opErrstr>Volume hv is not started (Or) All the bricks are not running.</opErrstr></cliOutput>",
)


@pytest.fixture
def clock():
    """time.monotonic as a counter that the wait's pauses move on."""
    now = [1000.0]
    with (
        mock.patch.object(heal_wait.time, "monotonic", lambda: now[0]),
        mock.patch.object(heal_wait.time, "sleep", lambda seconds: now.__setitem__(0, now[0] + seconds)),
    ):
        yield now


def test_heal_info_failing_for_a_while_during_the_wait_is_read_again(clock):
    before = [POOL, INFO, status("health-status-healthy.xml"), INFO, summary(6), Expected(HEAL)]
    script = [*before, INFO, UNREACHED, INFO, UNREACHED, INFO, summary(2), INFO, summary(0)]
    result = run_module(gluster_volume_heal.main, {"volumes": ["hv"]}, script)
    assert not result.failed, result.result
    assert result.result["volumes"] == [{"name": "hv", "sets": [0], "entries": 18, "healed": True}]


def test_heal_info_failing_past_the_grace_fails_the_wait_with_its_error(clock):
    cli = mock.Mock()
    cli.volume.return_value = parse_volume_info(ET.fromstring(INFO.stdout))[0]
    cli.heal_summary.side_effect = GlusterOpError("gluster volume heal hv info summary failed: not running.")
    failures = []

    def fail(msg):
        failures.append((clock[0], msg))
        raise ModuleExit({"msg": msg}, failed=True)

    waiter = heal_wait.HealWaiter(mock.Mock(), cli, [], [], fail, 60, 900, 3600)
    with pytest.raises(ModuleExit):
        waiter.wait("hv", [0])
    ((failed_at, msg),) = failures
    # The first read failed at 1000 s: given up 120 s later, within one pause (5 s at most).
    assert heal_wait.READ_FAILURE_GRACE_SECONDS <= failed_at - 1000 < heal_wait.READ_FAILURE_GRACE_SECONDS + 5
    assert msg.startswith(
        "heal of set 0 of volume hv after the replacement: gluster volume heal hv info summary failed: not "
        "running. It still failed after 12"
    )
    assert msg.endswith("The next run waits for the same heal (gluster volume heal hv info shows where it is).")
    assert cli.trigger_heal.call_count == 1


def test_the_read_before_any_crawl_is_read_again_too(clock):
    # Right after a host's bricks came back (rolling.yml): glfsheal cannot reach them yet.
    before = [POOL, INFO, status("health-status-healthy.xml"), INFO, UNREACHED, INFO, summary(0)]
    result = run_module(gluster_volume_heal.main, {"hosts": ["node3"]}, before)
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"]) == (False, [])


def test_heal_that_does_not_move_is_started_again_by_the_index_crawl_never_a_full_one():
    # The bricks were only down: what they missed is in the index. A full crawl would walk
    # every file of every brick of a production pool.
    script = [POOL, INFO, status("health-status-healthy.xml"), INFO, summary(6), Expected(HEAL)]
    script += [INFO, summary(6), INFO, summary(6), Expected(HEAL), INFO, summary(0)]
    clock = iter(range(0, 100000, 40))
    with mock.patch.object(heal_wait.time, "monotonic", lambda: next(clock)):
        result = run_module(gluster_volume_heal.main, {"volumes": ["hv"]}, script)
    assert not result.failed, result.result
    assert result.result["commands"] == [HEAL, HEAL]
    assert result.result["heal"][0]["retriggered"] == 1


def stopped(text):
    return text.replace("<status>1</status>", "<status>2</status>", 1).replace("Started", "Stopped", 1)


def test_a_stopped_volume_is_skipped_with_a_warning_unless_named():
    info = Expected(INFO.argv, 0, stopped(out("health-volume-info.xml")))
    said = []
    with mock.patch.object(gluster_volume_heal.AnsibleModule, "warn", lambda module, text: said.append(text)):
        result = run_module(gluster_volume_heal.main, {"hosts": ["node3"]}, [POOL, info])
    assert not result.failed, result.result
    assert (result.result["changed"], result.result["commands"], result.result["volumes"]) == (False, [], [])
    assert said == [
        "volume hv is not started: not healed now; once started (gluster volume start hv), see gluster "
        "volume heal hv info"
    ]
    result = run_module(gluster_volume_heal.main, {"volumes": ["hv"]}, [POOL, info])
    assert result.failed and result.result["msg"] == "volume hv is not started; start it (gluster volume start hv)"
