"""gluster_volume_drain's reading of a health report: what blocks a drain, and each set's space."""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import BrickRef
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.drain_plan import DrainPlan
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import HealEntries
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import assess
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.hosts import peer_of
from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume_drain import (
    blockers,
    bricks_diff,
    lost_blockers,
    quorum_losses,
    set_states,
    still_alive,
)

from .test_health import GIB, Task, details, heal, peers, shd, uuid, volume


def report_of(vol, **kwargs):
    kwargs.setdefault("details", details(vol))
    kwargs.setdefault("heal", heal(vol))
    kwargs.setdefault("daemons", shd([1, 2, 3]))
    return assess(vol, peers(3), **kwargs)


def test_a_healthy_volume_blocks_nothing_and_space_is_per_set():
    vol = volume([1, 2, 3, 1, 2, 3])
    report = report_of(vol, details=details(vol, free={"node2:/bricks/b2/brick": 20 * GIB}))
    assert blockers(report, peers(3), []) == []
    states = set_states(vol, report)
    assert [s.bricks[0] for s in states] == [
        BrickRef("node1", "/bricks/b1/brick"),
        BrickRef("node1", "/bricks/b2/brick"),
    ]
    # used: the fullest data brick; free: the emptiest.
    assert [(s.used, s.free) for s in states] == [(50 * GIB, 50 * GIB), (80 * GIB, 20 * GIB)]


def test_offline_bricks_heal_and_running_tasks_block_but_the_drains_own_migration_does_not():
    vol = volume([1, 2, 3, 1, 2, 3])
    offline = report_of(vol, details=details(vol, offline={"node3:/bricks/b1/brick"}))
    assert "node3:/bricks/b1/brick is offline" in blockers(offline, peers(3), [])
    pending = report_of(vol, heal=heal(vol, pending={"node1:/bricks/b1/brick": 2}))
    assert "node1:/bricks/b1/brick has 2 entries to heal" in blockers(pending, peers(3), [])
    own = ["node1:/bricks/b2/brick", "node2:/bricks/b2/brick", "node3:/bricks/b2/brick"]
    running = report_of(vol, tasks=[Task("Remove brick", "t", 1, "in progress", tuple(own))])
    assert blockers(running, peers(3), own) == []
    assert blockers(running, peers(3), []) == ["a remove brick is running (in progress)"]


def test_a_peer_not_in_the_cluster_blocks():
    vol = volume([1, 2, 3])
    pool = peers(3, down={"node3"})
    report = assess(
        vol, pool, details=[d for d in details(vol) if d.host != "node3"], heal=heal(vol), daemons=shd([1, 2])
    )
    found = blockers(report, pool, [])
    assert "peer node3 is Peer in Cluster, disconnected" in found
    assert "node3:/bricks/b1/brick is offline" in found


def test_an_uncommitted_remove_brick_of_other_bricks_blocks():
    vol = volume([1, 2, 3, 1, 2, 3])
    theirs = ["node1:/bricks/b1/brick", "node2:/bricks/b1/brick", "node3:/bricks/b1/brick"]
    done = report_of(vol, tasks=[Task("Remove brick", "t", 3, "completed", tuple(theirs))])
    found = blockers(done, peers(3), [], [b.name for b in vol.bricks])
    assert found == [f"a remove-brick of {', '.join(theirs)} was started and not committed; commit or stop it"]
    # Committed: its bricks are gone from the volume, and the task no longer matters.
    assert blockers(done, peers(3), [], ["node1:/bricks/b2/brick"]) == []


def dead_node3_report(vol, pending=None, split=None, offline=()):
    """node3 dead: its peer disconnected, its bricks not listed, heal info cannot reach them."""
    pool = peers(3, down={"node3"})
    dead = {b.name for b in vol.bricks if b.host == "node3"}
    report = assess(
        vol,
        pool,
        details=[d for d in details(vol, offline=offline) if d.host != "node3"],
        heal=heal(vol, pending=pending, split=split, unreached=dead),
        daemons=shd([1, 2]),
        options=vol.options,  # volume get shows what volume info does, and more
    )
    return report, pool


def test_a_dead_hosts_bricks_and_peer_and_the_heal_they_owe_do_not_block_its_replacement():
    vol = volume([1, 2, 3])
    report, pool = dead_node3_report(vol, pending={"node1:/bricks/b1/brick": 7})
    assert lost_blockers(report, pool, {uuid(3)}, [], "node3") == []
    # For a drain of a host that runs, all of that blocks.
    assert len(blockers(report, pool, [])) >= 3


def test_anything_else_wrong_blocks_a_replacement():
    vol = volume([1, 2, 3, 1, 2, 3])
    report, pool = dead_node3_report(
        vol,
        pending={"node1:/bricks/b2/brick": 2},
        split={"node2:/bricks/b1/brick": 1},
        offline={"node1:/bricks/b2/brick"},
    )
    found = lost_blockers(report, pool, {uuid(3)}, [], "node3")
    assert found[:2] == ["node2:/bricks/b1/brick has 1 entries in split-brain", "node1:/bricks/b2/brick is offline"]
    assert [f for f in found[2:] if "split-brain" not in f] == []
    # Heal pending on a set that holds neither a dead brick nor a replacing one blocks.
    vol = volume([1, 2, 4, 1, 2, 3])
    report = assess(
        vol,
        peers(4, down={"node3"}),
        details=[d for d in details(vol) if d.host != "node3"],
        heal=heal(vol, pending={"node4:/bricks/b1/brick": 3}, unreached={"node3:/bricks/b2/brick"}),
        daemons=shd([1, 2, 4]),
    )
    assert lost_blockers(report, peers(4, down={"node3"}), {uuid(3)}, []) == [
        "node4:/bricks/b1/brick has 3 entries to heal"
    ]
    # ... unless that set is the one an interrupted run gave a replacing brick.
    assert lost_blockers(report, peers(4, down={"node3"}), {uuid(3)}, [0]) == []


def test_a_set_without_an_online_data_brick_outside_the_dead_host_is_refused():
    vol = volume([1, 3])
    report, pool = dead_node3_report(vol, offline={"node1:/bricks/b1/brick"})
    found = lost_blockers(report, pool, {uuid(3)}, [], "node3")
    assert "set 0 has no online data brick outside node3" in found


def test_a_host_given_as_dead_that_is_alive_is_caught_at_the_moment_of_acting():
    vol = volume([1, 2, 3])
    alive = report_of(vol)
    assert still_alive(alive, peers(3), {uuid(3)}) == [
        "peer node3 is connected",
        "brick node3:/bricks/b1/brick is online",
    ]
    report, pool = dead_node3_report(vol)
    assert still_alive(report, pool, {uuid(3)}) == []


def test_a_host_is_found_by_any_name_the_pool_lists_for_it_never_by_its_first_label():
    # The pool lists node3 by its FQDN first and its short name as another name.
    fqdn = "node3.lab.example"
    pool = [replace(p, hostname=fqdn, hostnames=(fqdn, "node3")) if p.hostname == "node3" else p for p in peers(3)]
    assert peer_of("node3", pool, resolve=False).uuid == uuid(3)
    assert peer_of("NODE3.lab.example.", pool, resolve=False).uuid == uuid(3)
    assert peer_of("node3.other.example", pool, resolve=False) is None
    assert peer_of("node9", peers(3), resolve=False) is None


def test_a_replacement_needs_the_self_heal_daemon_beside_each_brick_its_set_keeps():
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.drain_plan import DrainPlan
    from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume_drain import Drain

    vol = volume([1, 2, 3])
    plan = DrainPlan(replace=[(0, BrickRef("node3", "/bricks/b1/brick"), BrickRef("node4", "/bricks/b1/brick"))])
    # The dead host's daemon is gone with it: that is no reason to refuse.
    report, _pool = dead_node3_report(vol)
    assert Drain.heal_blockers(report, plan) == []
    pool = peers(3, down={"node3"})
    stopped = assess(
        vol,
        pool,
        details=[d for d in details(vol) if d.host != "node3"],
        heal=heal(vol, unreached={"node3:/bricks/b1/brick"}),
        daemons=shd([1, 2], off={2}),
    )
    assert Drain.heal_blockers(stopped, plan) == [
        "the self-heal daemon is not running on node2, which holds bricks of a set to heal (gluster volume start "
        "gv0 force starts it again, and leaves what runs as it is)"
    ]
    assert Drain.heal_blockers(stopped, DrainPlan()) == []


def test_a_set_an_earlier_run_replaced_into_is_owed_its_heal_and_spares_match_by_uuid():
    from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume_drain import Drain

    vol = volume([1, 2, 4, 1, 2, 3])
    vol = replace(vol, options={"user.ganeti-gluster.heal": "pending node4:/bricks/b1/brick"})
    # The same host and path as a brick of the volume, by another name: not free.
    keys = {"node3.example.com:/bricks/b2/brick": uuid(3), "node3:/bricks/b9/brick": uuid(3)}
    spares = [BrickRef("node3.example.com", "/bricks/b2/brick"), BrickRef("node3", "/bricks/b9/brick")]
    owed, free, healing = Drain.placed(vol, spares, keys)
    assert owed == ["node4:/bricks/b1/brick"] and healing == [0]
    assert free == [BrickRef("node3", "/bricks/b9/brick")]


# -- the module end to end on a recorded healthy replica 3 volume (hv on node1-3) --

from unittest import mock  # noqa: E402

import pytest  # noqa: E402

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import hosts  # noqa: E402
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_volume_drain  # noqa: E402

from .module_harness import NO_ROLL, run_module  # noqa: E402
from .test_health import recorded  # noqa: E402

SPARE = "node4:/bricks/s"
CHECKED = {"replace": [{"set": 0, "old": "node3:/bricks/hv", "new": SPARE}], "remove_sets": []}


def drain_in_check_mode(**args):
    """node3 drained from hv onto SPARE (a host not yet a peer: check mode plans it)."""
    pool_list, volume_info, *health = recorded("healthy")
    with mock.patch.object(hosts, "addresses", lambda name: set()):
        return run_module(
            gluster_volume_drain.main,
            {"name": "hv", "hosts": ["node3"], "spares": [SPARE], "_ansible_check_mode": True, **args},
            # The drain reads the volume before the pool.
            [NO_ROLL, volume_info, pool_list, *health],
        )


def test_the_checked_plan_and_enough_room_let_the_drain_go_on_and_the_bricks_sizes_are_returned():
    result = drain_in_check_mode(checked_plan=CHECKED, spare_room={SPARE: 1 << 40})
    assert not result.failed, result.result
    assert result.result["plan"]["replace"] == CHECKED["replace"]
    assert [b["set"] for b in result.result["bricks"]] == [0, 0, 0]
    assert all(b["size_total"] > b["size_free"] > 0 for b in result.result["bricks"])
    assert result.result["commands"][-1][3:8] == ["volume", "replace-brick", "hv", "node3:/bricks/hv", SPARE]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"checked_plan": {**CHECKED, "replace": [{**CHECKED["replace"][0], "new": "node5:/bricks/s"}]}},
            "is not the one checked before: now replace node3:/bricks/hv by node4:/bricks/s in set 0; no longer "
            "replace node3:/bricks/hv by node5:/bricks/s in set 0",
        ),
        ({"spare_room": {SPARE: 1}}, "spare node4:/bricks/s has room for 1 B, less than the"),
    ],
)
def test_a_plan_other_than_the_checked_one_or_a_spare_grown_too_small_is_refused_before_any_change(args, message):
    result = drain_in_check_mode(**args)
    assert result.failed and message in result.result["msg"], result.result
    assert "Nothing was changed" in result.result["msg"]
    assert result.result["commands"] == []


def test_a_live_drain_always_waits_for_each_heal():
    result = run_module(gluster_volume_drain.main, {"name": "hv", "hosts": ["node3"], "wait_heal": False}, [])
    assert result.failed and "wait_heal=false goes with lost=true only" in result.result["msg"], result.result
    assert result.result["commands"] == []


def listing(vol, files, status=None):
    """`heal info`'s entries: brick name -> {gfid: path}; node3's bricks not reached;
    status: brick name -> its status, when not "Connected"."""
    return [
        HealEntries(b.name, b.host_uuid, (status or {}).get(b.name, "Connected"), files.get(b.name, {}))
        if b.host != "node3"
        else HealEntries(b.name, "-", "Transport endpoint is not connected", {})
        for b in vol.bricks
    ]


def test_an_arbiter_that_blames_the_surviving_data_brick_refuses_the_replacement():
    # node1 data, node2 arbiter, node3 (dead) data. Changed while node1 was down and not
    # healed since: the arbiter lists the root and disk0, which node1 does not.
    vol = volume([1, 2, 3])
    arbiter = replace(vol.bricks[1], is_arbiter=True)
    vol = replace(vol, bricks=(vol.bricks[0], arbiter, vol.bricks[2]), arbiter_count=1)
    pool = peers(3, down={"node3"})
    state = {
        "details": [d for d in details(vol) if d.host != "node3"],
        "heal": heal(vol, pending={"node2:/bricks/b1/brick": 2}, unreached={"node3:/bricks/b1/brick"}),
        "daemons": shd([1, 2]),
    }
    root = "00000000-0000-0000-0000-000000000001"
    behind = assess(vol, pool, **state, listing=listing(vol, {arbiter.name: {root: "/", "g-1": "/disk0"}}))
    (found,) = lost_blockers(behind, pool, {uuid(3)}, [], "node3")
    assert found.startswith(
        "node2:/bricks/b1/brick: the arbiter lists 2 entries for heal that node1:/bricks/b1/brick does not (/, "
        "/disk0): it blames node1:/bricks/b1/brick for them, so what changed in them while node1:/bricks/b1/brick "
        "was down may be on node3:/bricks/b1/brick alone, which is offline (heal info cannot tell data from "
        "metadata). Gluster serves no read of such a file until it is back (the root among them: no client can "
        "use volume gv0)."
    ), found
    # Changed after node3 died: both blame node3 and list the same entries.
    both = {arbiter.name: {"g-1": "/disk0"}, vol.bricks[0].name: {"g-1": "<gfid:g-1>"}}
    assert lost_blockers(assess(vol, pool, **state, listing=listing(vol, both)), pool, {uuid(3)}, [], "node3") == []
    # Not read (no arbiter set at risk): nothing to say.
    assert lost_blockers(assess(vol, pool, **state), pool, {uuid(3)}, [], "node3") == []
    # One entry; the arbiter's listing cut short: refused, and said so.
    partial = {arbiter.name: "Failed to process entries completely. (Transport endpoint is not connected)"}
    cut = assess(vol, pool, **state, listing=listing(vol, {arbiter.name: {"g-2": "/d/disk3"}}, partial))
    (found,) = lost_blockers(cut, pool, {uuid(3)}, [], "node3")
    assert "the arbiter lists 1 entry for heal that node1:/bricks/b1/brick does not (/d/disk3)" in found
    assert found.endswith(f"(some listings were incomplete: {arbiter.name}: {partial[arbiter.name]})"), found
    # Nothing listed, but not completely: unknown, so unsafe.
    (found,) = lost_blockers(
        assess(vol, pool, **state, listing=listing(vol, {}, partial)), pool, {uuid(3)}, [], "node3"
    )
    assert found.startswith(
        "node2:/bricks/b1/brick: heal info could not list every entry of this arbiter or of node1:/bricks/b1/brick"
    ), found


def test_a_set_whose_client_quorum_died_with_the_host_is_named_with_what_its_running_clients_need():
    # Replica 2, node3's brick first: under quorum-type auto the set took no write since.
    first = replace(volume([3, 1], set_size=2), options={"cluster.quorum-type": "auto"})
    losses = quorum_losses(dead_node3_report(first)[0], {uuid(3)}, "node3")
    assert list(losses) == [0]
    assert losses[0].startswith(
        "set 0 of volume gv0 has had no client quorum since node3 died (cluster.quorum-type auto: 1 of 2 bricks "
        "online, 2 needed, or the first alone)"
    )
    assert "gnt-instance reboot --type=full" in losses[0]
    # Gluster's default for replica 2 (none), node3 second, or replica 3: quorum held.
    assert quorum_losses(dead_node3_report(replace(first, options={}))[0], {uuid(3)}, "node3") == {}
    second = replace(volume([1, 3], set_size=2), options={"cluster.quorum-type": "auto"})
    assert quorum_losses(dead_node3_report(second)[0], {uuid(3)}, "node3") == {}
    three = volume([3, 1, 2])
    assert quorum_losses(dead_node3_report(three)[0], {uuid(3)}, "node3") == {}
    fixed = replace(three, options={"cluster.quorum-type": "fixed", "cluster.quorum-count": "3"})
    assert (
        "(cluster.quorum-type fixed: 2 of 3 bricks online, 3 needed)"
        in quorum_losses(dead_node3_report(fixed)[0], {uuid(3)}, "node3")[0]
    )
    # A disperse set is no replica set (and its replacement is refused anyway).
    disperse = volume([3, 1, 2], disperse=3, redundancy=1)
    assert quorum_losses(dead_node3_report(disperse)[0], {uuid(3)}, "node3") == {}


def test_a_live_drain_that_leaves_one_data_copy_during_heal_says_so():
    from types import SimpleNamespace

    from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume_drain import single_copy_warnings

    vol = volume([1, 2, 3])
    arbiter = replace(vol.bricks[1], is_arbiter=True)
    with_arbiter = replace(vol, bricks=(vol.bricks[0], arbiter, vol.bricks[2]), arbiter_count=1)
    leaving = BrickRef.parse("node3:/bricks/b1/brick")
    plan = SimpleNamespace(replace=[(0, leaving, BrickRef.parse("node4:/s"))])
    assert single_copy_warnings(report_of(with_arbiter), plan) == [
        "set 0 keeps one copy of its data (node1:/bricks/b1/brick) until heal fills node4:/s: keep "
        "node3:/bricks/b1/brick's disk as it is until then"
    ]
    # Replica 3: two data copies stay.
    assert single_copy_warnings(report_of(vol), plan) == []


def test_the_diff_shows_the_bricks_replaced_and_the_sets_removed():
    vol = volume([1, 2, 3, 1, 2, 3])
    spare = BrickRef("node4", "/bricks/s1/brick")
    plan = DrainPlan(
        replace=[(0, BrickRef("node3", "/bricks/b1/brick"), spare)],
        remove_sets=[(1, [BrickRef(f"node{h}", "/bricks/b2/brick") for h in (1, 2, 3)])],
    )
    diff = bricks_diff(vol, plan)
    assert diff["before"] == "".join(f"{b.name}\n" for b in vol.bricks)
    assert diff["after"] == "node1:/bricks/b1/brick\nnode2:/bricks/b1/brick\nnode4:/bricks/s1/brick\n"
    assert diff["before_header"] == diff["after_header"] == "volume gv0 bricks"


def test_a_replacement_that_does_not_wait_for_heal_waits_for_its_new_bricks_to_be_online():
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import BrickStatus
    from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume_drain import Drain

    from .module_harness import FakeClock

    def status(new_online):
        return [
            BrickStatus("node1", "/bricks/hv", uuid(1), True, 101),
            BrickStatus("node4.example.com", "/bricks/s", uuid(4), new_online, 104 if new_online else None),
        ]

    drain = Drain.__new__(Drain)
    drain.cli = mock.Mock()
    drain.fail = mock.Mock(side_effect=RuntimeError)
    # The spare named by its short name, the status by the peer's FQDN: matched by UUID and path.
    keys = {SPARE: uuid(4)}
    drain.cli.volume_status.side_effect = [status(False), status(False), status(True)]
    with mock.patch.object(gluster_volume_drain, "time", FakeClock(step=1)):
        drain.wait_online("hv", [SPARE], keys)
    assert drain.cli.volume_status.call_count == 3 and not drain.fail.called

    drain.cli.volume_status.side_effect = None
    drain.cli.volume_status.return_value = status(False)
    with mock.patch.object(gluster_volume_drain, "time", FakeClock(step=7)), pytest.raises(RuntimeError):
        drain.wait_online("hv", [SPARE], keys)
    message = drain.fail.call_args.args[0]
    assert message.startswith(f"the new bricks {SPARE} of volume hv are not online 60 s after their replace-brick")
