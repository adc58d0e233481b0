"""gluster_volume_drain's reading of a health report: what blocks a drain, and each set's space."""

from __future__ import annotations

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import BrickRef
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import assess
from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume_drain import blockers, set_states

from .test_health import GIB, Task, details, heal, peers, shd, volume


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
