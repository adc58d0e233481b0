"""The health rules (module_utils/health.py), one case per rule, on volumes built here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    Brick,
    BrickDetail,
    Daemon,
    HealCount,
    Peer,
    Rebalance,
    Task,
    Volume,
    VolumeOptions,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import (
    DEGRADED,
    HEALTHY,
    UNSAFE,
    assess,
    has_quorum,
    peer_problems,
    server_quorum,
    set_quorum,
)

GIB = 1 << 30


def uuid(n):
    return f"00000000-0000-0000-0000-{n:012d}"


def peers(count, down=()):
    local = [Peer(uuid(1), "localhost", ("localhost",), True, None, None)]
    others = [
        Peer(uuid(n), f"node{n}", (f"node{n}",), f"node{n}" not in down, 3, "Peer in Cluster")
        for n in range(2, count + 1)
    ]
    return local + others


def volume(hosts, set_size=3, disperse=0, redundancy=0, started=True):
    bricks = tuple(
        Brick(f"node{h}:/bricks/b{i // len(set(hosts)) + 1}/brick", uuid(h), False) for i, h in enumerate(hosts)
    )
    return Volume(
        name="gv0",
        id="11111111-2222-3333-4444-555555555555",
        status=1 if started else 2,
        status_str="Started" if started else "Stopped",
        type_str="Disperse" if disperse else ("Replicate" if set_size > 1 else "Distribute"),
        brick_count=len(bricks),
        dist_count=len(bricks) // set_size,
        replica_count=0 if disperse else set_size,
        arbiter_count=0,
        disperse_count=disperse,
        redundancy_count=redundancy,
        bricks=bricks,
        options={},
    )


def details(vol, offline=(), free=None):
    free = free or {}
    return [
        BrickDetail(
            b.host, b.path, b.host_uuid, b.name not in offline, 100 * GIB, free.get(b.name, 50 * GIB), 1000, 900
        )
        for b in vol.bricks
    ]


def heal(vol, pending=None, split=None, unreached=()):
    pending, split = pending or {}, split or {}
    return [
        HealCount(b.name, b.host_uuid, "Transport endpoint is not connected", None, None, None, None)
        if b.name in unreached
        else HealCount(
            b.name, b.host_uuid, "Connected", pending.get(b.name, 0), pending.get(b.name, 0), split.get(b.name, 0), 0
        )
        for b in vol.bricks
    ]


def shd(hosts, off=()):
    return [Daemon("Self-heal Daemon", uuid(h), h not in off) for h in hosts]


def report(vol=None, pool=None, **kwargs):
    vol = vol or volume([1, 2, 3])
    kwargs.setdefault("details", details(vol))
    kwargs.setdefault("heal", heal(vol))
    kwargs.setdefault("daemons", shd(sorted({int(b.host[4:]) for b in vol.bricks})))
    return assess(vol, pool or peers(3), **kwargs)


def reasons(result, severity):
    return [f"{f['subject']}: {f['reason']}" for f in result["findings"] if f["severity"] == severity]


def test_a_clean_replica_volume_is_healthy():
    result = report()
    assert result["verdict"] == HEALTHY, result["findings"]
    assert [s["in_quorum"] for s in result["sets"]] == [True]


def test_one_brick_down_of_three_is_degraded():
    vol = volume([1, 2, 3])
    result = report(vol, details=details(vol, offline={"node3:/bricks/b1/brick"}))
    assert result["verdict"] == DEGRADED
    assert reasons(result, DEGRADED) == ["node3:/bricks/b1/brick: brick offline (its brick process is not running)"]


def test_two_bricks_down_of_three_lose_quorum():
    vol = volume([1, 2, 3])
    result = report(vol, details=details(vol, offline={"node2:/bricks/b1/brick", "node3:/bricks/b1/brick"}))
    assert result["verdict"] == UNSAFE
    assert "1 of 3 bricks online, 2 needed" in reasons(result, UNSAFE)[0]


def test_a_brick_of_a_disconnected_peer_is_offline_and_the_peer_is_reported():
    vol = volume([1, 2, 3])
    listed = [d for d in details(vol) if d.host != "node2"]
    result = report(
        vol, pool=peers(3, down={"node2"}), details=listed, heal=heal(vol, unreached={"node2:/bricks/b1/brick"})
    )
    assert result["verdict"] == DEGRADED
    assert set(reasons(result, DEGRADED)) == {
        "node2:/bricks/b1/brick: brick offline (its peer is disconnected)",
        "node2: peer Peer in Cluster, disconnected",
    }
    node2 = next(b for b in result["bricks"] if b["host"] == "node2")
    assert node2["heal_reached"] is False and node2["heal_pending"] is None


def test_heal_pending_is_degraded_and_unsafe_on_a_set_being_changed():
    vol = volume([1, 2, 3])
    counts = heal(vol, pending={"node1:/bricks/b1/brick": 4})
    assert report(vol, heal=counts)["verdict"] == DEGRADED
    touched = report(vol, heal=counts, touching=["node3"])
    assert touched["verdict"] == UNSAFE
    assert "4 entries still to heal on a set this run changes" in reasons(touched, UNSAFE)[0]


def test_an_online_brick_heal_info_could_not_count_is_unsafe_only_on_a_set_being_changed():
    vol = volume([1, 2, 3])
    counts = heal(vol, unreached={"node1:/bricks/b1/brick"})
    assert report(vol, heal=counts)["verdict"] == DEGRADED
    touched = report(vol, heal=counts, touching=["node3"])
    assert touched["verdict"] == UNSAFE
    assert reasons(touched, UNSAFE) == [
        "set 0 (node1:/bricks/b1/brick, node2:/bricks/b1/brick, node3:/bricks/b1/brick): heal info could not count "
        "node1:/bricks/b1/brick, on a set this run changes: whether entries are still to heal there is unknown; "
        "see gluster volume heal gv0 info, then run again"
    ]


def test_split_brain_is_unsafe():
    vol = volume([1, 2, 3])
    result = report(vol, heal=heal(vol, split={"node1:/bricks/b1/brick": 1, "node2:/bricks/b1/brick": 1}))
    assert result["verdict"] == UNSAFE
    assert len(reasons(result, UNSAFE)) == 2


def test_a_stopped_volume_is_unsafe():
    result = report(volume([1, 2, 3], started=False), details=[], heal=None, daemons=[])
    assert result["verdict"] == UNSAFE
    assert reasons(result, UNSAFE) == ["gv0: volume gv0 is Stopped: no client can use it"]


def test_a_self_heal_daemon_down_on_a_connected_peer_is_degraded():
    result = report(daemons=shd([1, 2, 3], off={3}))
    assert reasons(result, DEGRADED) == [
        "node3: self-heal daemon not running (gluster volume start gv0 force starts it again)"
    ]


@pytest.mark.parametrize(
    ("number", "status", "failures", "want"),
    [
        (1, "in progress", 0, ["gv0: rebalance in progress"]),
        (5, "fix-layout in progress", 0, ["gv0: rebalance fix-layout in progress"]),
        (4, "failed", 0, ["gv0: the last rebalance failed"]),
        (8, "fix-layout failed", 0, ["gv0: the last rebalance fix-layout failed"]),
        (3, "completed", 3, ["gv0: the last rebalance failed to move 3 files"]),
        (3, "completed", 0, []),
    ],
)
def test_rebalance_tasks(number, status, failures, want):
    vol = volume([1, 2, 3, 1, 2, 3])
    task = Task("Rebalance", "t-1", number, status, ())
    rebalance = Rebalance("t-1", 3, status, failures, files=10)
    result = report(vol, tasks=[task], rebalance=rebalance)
    assert reasons(result, DEGRADED) == want
    assert result["tasks"][0]["files"] == 10


def test_a_brick_short_of_space_is_degraded():
    vol = volume([1, 2, 3])
    result = report(vol, details=details(vol, free={"node2:/bricks/b1/brick": 5 * GIB}))
    assert reasons(result, DEGRADED) == ["node2:/bricks/b1/brick: 5.0% space free, below 10%"]


def test_a_distribute_brick_offline_is_unsafe():
    vol = volume([1, 2], set_size=1)
    result = report(vol, details=details(vol, offline={"node2:/bricks/b1/brick"}), heal=None, daemons=[])
    assert result["verdict"] == UNSAFE
    assert result["self_heal"] == []


def test_server_quorum_lost_is_unsafe():
    vol = volume([1, 2, 3])
    pool = peers(3, down={"node2", "node3"})
    options = {"cluster.server-quorum-type": "server", "cluster.server-quorum-ratio": "51"}
    listed = [d for d in details(vol) if d.host == "node1"]
    result = report(vol, pool=pool, details=listed, options=options)
    assert "gv0: server quorum lost: 1 of 3 peers active" in reasons(result, UNSAFE)


@pytest.mark.parametrize(
    ("size", "kind", "options", "redundancy", "online", "want"),
    [
        (3, "replicate", {}, 0, [True, True, False], True),
        (3, "replicate", {}, 0, [True, False, False], False),
        (2, "replicate", {"cluster.quorum-type": "auto"}, 0, [True, False], True),  # half, with the first brick
        (2, "replicate", {"cluster.quorum-type": "auto"}, 0, [False, True], False),
        (
            2,
            "replicate",
            VolumeOptions({"cluster.quorum-type": "none"}, {"cluster.quorum-type"}),
            0,
            [False, True],
            True,
        ),
        # Left at its default, AFR uses auto on more than 2 bricks, though `volume get` prints none.
        (
            4,
            "replicate",
            VolumeOptions({"cluster.quorum-type": "none"}, {"cluster.quorum-type"}),
            0,
            [True] + [False] * 3,
            False,
        ),
        (3, "replicate", {"cluster.quorum-type": "fixed", "cluster.quorum-count": "3"}, 0, [True, True, False], False),
        (3, "replicate", {"cluster.quorum-type": "none"}, 0, [True, False, False], True),
        (3, "disperse", {}, 1, [True, True, False], True),
        (3, "disperse", {}, 1, [True, False, False], False),
        (6, "disperse", {"disperse.quorum-count": "5"}, 2, [True] * 4 + [False] * 2, False),
        (1, "distribute", {}, 0, [False], False),
    ],
)
def test_set_quorum(size, kind, options, redundancy, online, want):
    quorum = set_quorum(size, kind, options, redundancy)
    assert has_quorum(online, quorum, kind, options) is want


def test_server_quorum_counts_this_host():
    assert server_quorum(peers(3, down={"node3"}), {"cluster.server-quorum-type": "server"})[1:] == (True, 2, 3)
    assert server_quorum(peers(4, down={"node3", "node4"}), {"cluster.server-quorum-type": "server"})[1:] == (
        False,
        2,
        4,
    )


# -- the recorded states (tests/fixtures/gluster/capture_health.py): gluster_volume_health end to end --

from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_volume_health  # noqa: E402

from .module_harness import read, run_module  # noqa: E402


def recorded(state, pool="health-pool-list.xml"):
    """The commands gluster_volume_health runs for volume hv, answered as recorded in `state`."""
    return [
        read(["pool", "list"], pool),
        read(["volume", "info"], "health-volume-info.xml"),
        read(["volume", "get", "hv", "all"], "health-volume-get.xml"),
        read(["volume", "status", "hv", "detail"], f"health-status-detail-{state}.xml"),
        read(["volume", "status", "hv"], f"health-status-{state}.xml"),
        read(["volume", "heal", "hv", "info", "summary"], f"health-heal-summary-{state}.xml"),
    ]


def module_findings(result):
    return sorted((f["severity"], f["subject"], f["reason"]) for v in result["volumes"] for f in v["findings"])


def test_recorded_healthy_volume():
    result = run_module(gluster_volume_health.main, {"volumes": ["hv"]}, recorded("healthy")).result
    assert (result["verdict"], result["reasons"], result["changed"]) == ("healthy", [], False)
    (volume,) = result["volumes"]
    assert [b["online"] for b in volume["bricks"]] == [True, True, True]
    assert [d["online"] for d in volume["self_heal"]] == [True, True, True]
    assert volume["bricks"][0]["size_total"] > 0 and volume["bricks"][0]["free_percent"] > 10


def test_recorded_killed_brick():
    result = run_module(gluster_volume_health.main, {"volumes": ["hv"]}, recorded("brick-killed")).result
    assert result["verdict"] == "degraded"
    assert ("degraded", "node3:/bricks/hv", "brick offline (its brick process is not running)") in module_findings(
        result
    )


def test_recorded_heal_pending_counts_and_the_unreachable_brick():
    result = run_module(
        gluster_volume_health.main, {"volumes": ["hv"], "touching": ["node3:/bricks/hv"]}, recorded("heal-pending")
    ).result
    (volume,) = result["volumes"]
    assert [(b["heal_pending"], b["heal_reached"]) for b in volume["bricks"]] == [(6, True), (6, True), (None, False)]
    assert result["verdict"] == "unsafe"  # entries to heal on the set this run would change
    assert "12 entries still to heal on a set this run changes; wait for heal" in [
        r for _severity, _subject, r in module_findings(result)
    ]


def test_recorded_peer_down():
    result = run_module(
        gluster_volume_health.main, {"volumes": ["hv"]}, recorded("peer-down", "health-pool-list-peer-down.xml")
    ).result
    assert result["verdict"] == "degraded"
    subjects = {s for _severity, s, _reason in module_findings(result)}
    assert {"node2", "node2:/bricks/hv"} <= subjects
    node2 = next(b for b in result["volumes"][0]["bricks"] if b["host"] == "node2")
    assert (node2["online"], node2["listed"], node2["heal_reached"]) == (False, False, False)


def test_recorded_split_brain():
    result = run_module(gluster_volume_health.main, {"volumes": ["hv"]}, recorded("split-brain")).result
    assert result["verdict"] == "unsafe"
    split = [s for sev, s, r in module_findings(result) if sev == "unsafe" and "split-brain" in r]
    assert split == ["node1:/bricks/hv", "node2:/bricks/hv", "node3:/bricks/hv"]


REMOVE_BRICK_FAILURES = "remove-brick-failures"


def test_recorded_remove_brick_that_left_files_on_the_brick_it_removes():
    # Recorded (capture.py): node2's brick of the distribute volume dist removed while three files
    # on it were immutable; the migration completed with 3 failures, and the task waits for a commit.
    commands = [
        read(["pool", "list"], f"{REMOVE_BRICK_FAILURES}-pool-list.xml"),
        read(["volume", "info"], f"{REMOVE_BRICK_FAILURES}-volume-info.xml"),
        read(["volume", "get", "dist", "all"], f"{REMOVE_BRICK_FAILURES}-volume-get.xml"),
        read(["volume", "status", "dist", "detail"], f"{REMOVE_BRICK_FAILURES}-status-detail.xml"),
        read(["volume", "status", "dist"], f"{REMOVE_BRICK_FAILURES}-status.xml"),
        read(
            ["volume", "remove-brick", "dist", "node2:/bricks/e/gv", "status"],
            f"{REMOVE_BRICK_FAILURES}-remove-brick-status.xml",
        ),
    ]
    result = run_module(gluster_volume_health.main, {"volumes": ["dist"]}, commands).result
    assert result["verdict"] == "degraded"
    assert result["reasons"] == [
        "dist: the remove-brick of node2:/bricks/e/gv left 3 files on those bricks (3 failed, 0 skipped): gluster "
        "refuses to commit it, and a forced commit would take them out of the volume; dist-rebalance.log on node2 "
        "says why"
    ]
    (task,) = result["volumes"][0]["tasks"]
    assert (task["type"], task["status"], task["running"], task["bricks"]) == (
        "Remove brick",
        "completed",
        False,
        ["node2:/bricks/e/gv"],
    )
    assert (task["files"], task["failures"], task["skipped"], task["failed_nodes"]) == (15, 3, 0, ["node2"])


@pytest.mark.parametrize(
    ("number", "status", "reads_migration", "left"),
    [(1, "in progress", False, False), (3, "completed", True, True), (4, "stopped", True, False)],
)
def test_a_remove_brick_is_asked_for_its_counts_once_it_no_longer_runs(number, status, reads_migration, left):
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import MigrationNode
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import read_volume

    vol = volume([1, 2, 3, 1, 2, 3])
    leaving = tuple(b.name for b in vol.bricks[3:])
    cli = FakeCli(vol, [Task("Remove brick", "t-2", number, status, leaving)])
    asked = []

    def remove_brick_status(name, bricks):
        asked.append(tuple(bricks))
        return [
            MigrationNode("node2", "uuid-2", number, status, 5, 0, 2),
            MigrationNode("node3", "uuid-3", number, status, 4, 0, 0),
        ]

    cli.remove_brick_status = remove_brick_status
    result = read_volume(cli, vol, peers(3))
    assert asked == ([leaving] if reads_migration else [])
    (task,) = result["tasks"]
    assert task.get("skipped") == (2 if reads_migration else None)
    # Only a completed one says what it left: a stopped one never tried some files.
    assert [r for r in reasons(result, DEGRADED) if "left 2 files" in r] == (
        [
            "gv0: the remove-brick of node1:/bricks/b2/brick, node2:/bricks/b2/brick, node3:/bricks/b2/brick "
            "left 2 files on those bricks (0 failed, 2 skipped): gluster refuses to commit it, and a forced commit "
            "would take them out of the volume; gv0-rebalance.log on node2 says why"
        ]
        if left
        else []
    )


def test_an_unknown_volume_is_refused_before_reading_it():
    outcome = run_module(
        gluster_volume_health.main,
        {"volumes": ["nosuch"]},
        [read(["pool", "list"], "health-pool-list.xml"), read(["volume", "info"], "health-volume-info.xml")],
    )
    assert outcome.failed and outcome.result["msg"] == "no volume nosuch in the pool (volumes: hv)"


def test_the_table_and_the_metrics_of_a_recorded_state():
    from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_health import (
        gluster_health_prometheus,
        gluster_health_table,
    )

    result = run_module(gluster_volume_health.main, {"volumes": ["hv"]}, recorded("heal-pending")).result
    table = gluster_health_table(result).splitlines()
    assert table[0] == "verdict: DEGRADED"
    assert "volume hv (Replicate, Started): DEGRADED" in table
    node3 = next(line for line in table if line.strip().startswith("node3:/bricks/hv"))
    assert node3.split()[1:3] == ["0", "NO"] and "unreachable" in node3

    text = gluster_health_prometheus(result, cluster_id="c1")
    samples = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            name_labels, value = line.rsplit(" ", 1)
            samples[name_labels] = float(value)
    assert samples['gluster_health_verdict{cluster_id="c1",volume="hv"}'] == 1
    heal = {k: v for k, v in samples.items() if k.startswith("gluster_volume_heal_count")}
    assert heal == {
        'gluster_volume_heal_count{cluster_id="c1",volume="hv",host="node1",brick_path="/bricks/hv"}': 6,
        'gluster_volume_heal_count{cluster_id="c1",volume="hv",host="node2",brick_path="/bricks/hv"}': 6,
    }
    assert samples['gluster_brick_up{cluster_id="c1",volume="hv",host="node3",brick_path="/bricks/hv"}'] == 0
    assert text.count("# TYPE ") == text.count("# HELP ")


def test_a_brick_whose_status_was_not_read_is_neither_up_nor_down_in_the_table_and_the_metrics():
    from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_health import (
        gluster_health_prometheus,
        gluster_health_table,
    )

    result = run_module(gluster_volume_health.main, {"volumes": ["hv"]}, recorded("healthy")).result
    volume = {**result["volumes"][0], "bricks": [{**b, "online": None} for b in result["volumes"][0]["bricks"]]}
    unread = {**result, "volumes": [volume]}
    rows = [line.split() for line in gluster_health_table(unread).splitlines() if line.strip().startswith("node")]
    assert rows and all(row[2] == "?" for row in rows)
    text = gluster_health_prometheus(unread, cluster_id="c1")
    assert "gluster_brick_up" not in text and "gluster_volume_up" in text


def test_the_table_names_what_could_not_be_read_and_nodes_a_roll_left_drained():
    from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_health import gluster_health_table

    result = run_module(gluster_volume_health.main, {"volumes": ["hv"]}, recorded("healthy")).result
    report = {**result, "not_read": ["node4: unreachable"], "left_drained_by_roll": ["node3.example.com"]}
    tail = gluster_health_table(report).splitlines()[-2:]
    assert tail[0] == "not read: node4: unreachable"
    assert tail[1].startswith("Ganeti node node3.example.com: drained by a roll that did not finish")
    assert "drained" not in gluster_health_table(result)


class FakeCli:
    """read_volume's reads, answered from objects; records which it ran."""

    def __init__(self, vol, tasks):
        self.vol, self.tasks, self.ran = vol, tasks, []

    def __getattr__(self, name):
        answers = {
            "volume_options": {},
            "volume_status_detail": details(self.vol),
            "volume_status_daemons": (shd([1, 2, 3]), self.tasks),
            "heal_summary": heal(self.vol),
            "rebalance_status": Rebalance("t-1", 3, "completed", 0, files=4),
        }

        def read(name_=name):
            self.ran.append(name_)
            return answers[name_]

        return lambda volume_name: read()


@pytest.mark.parametrize(
    ("number", "status", "reads_rebalance"),
    [(1, "in progress", False), (5, "fix-layout in progress", False), (3, "completed", True)],
)
def test_a_running_pass_is_not_asked_for_its_counts(number, status, reads_rebalance):
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import read_volume

    vol = volume([1, 2, 3, 1, 2, 3])
    cli = FakeCli(vol, [Task("Rebalance", "t-1", number, status, ())])
    result = read_volume(cli, vol, peers(3))
    assert ("rebalance_status" in cli.ran) is reads_rebalance
    assert result["tasks"][0]["status"] == status


def test_a_read_that_fails_is_unsafe_and_the_rest_is_kept():
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import GlusterOpError
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import read_volume

    vol = volume([1, 2, 3])
    cli = FakeCli(vol, [])

    def fails(name):
        raise GlusterOpError("x", op_errstr="All the bricks are not running")

    cli.heal_summary = fails
    result = read_volume(cli, vol, peers(3))
    assert result["verdict"] == UNSAFE
    assert reasons(result, UNSAFE) == ["gv0: heal info could not be read: All the bricks are not running"]
    assert [b["online"] for b in result["bricks"]] == [True, True, True]


def test_bricks_of_unknown_state_make_no_offline_finding():
    result = report(details=None)
    assert [b["online"] for b in result["bricks"]] == [None, None, None]
    assert result["verdict"] == HEALTHY and result["sets"][0]["in_quorum"] is None


def test_a_self_heal_daemon_switched_off_is_one_finding():
    result = report(daemons=[], options={"cluster.self-heal-daemon": "off"})
    assert reasons(result, DEGRADED) == [
        "gv0: self-heal daemon disabled (cluster.self-heal-daemon off): files heal only when accessed"
    ]


def test_server_quorum_counts_only_peers_in_the_cluster():
    pool = peers(4, down={"node4"})
    rejected = Peer(uuid(3), "node3", ("node3",), True, 6, "Peer Rejected")
    pool = [p if p.hostname != "node3" else rejected for p in pool]
    options = {"cluster.server-quorum-type": "server", "cluster.server-quorum-ratio": "51"}
    assert server_quorum(pool, options) == (True, True, 2, 3)
    assert server_quorum(peers(3), {**options, "cluster.server-quorum-ratio": "50.5"})[1:] == (True, 3, 3)


def test_the_peers_are_judged_on_their_own_too():
    # What the module reports when every volume is left out (skip_stopped): no volume judges them then.
    pool = peers(4, down={"node4"})
    pool[2] = Peer(uuid(3), "node3", ("node3",), True, 6, "Peer Rejected")
    assert peer_problems(pool) == [
        ("node3", "peer Peer Rejected, connected"),
        ("node4", "peer Peer in Cluster, disconnected"),
    ]
    assert peer_problems(peers(3)) == []


def test_a_set_with_two_bricks_on_one_host_is_unsafe_whatever_names_they_carry():
    # node3's second brick was added as node3.example.com: one glusterd UUID, two names.
    vol = volume([1, 2, 3])
    second = Brick("node3.example.com:/bricks/b2/brick", uuid(3), False)
    vol = replace(vol, bricks=(vol.bricks[0], second, vol.bricks[2]))
    result = assess(vol, peers(3), details=details(vol), heal=heal(vol), daemons=shd([1, 2, 3]))
    assert result["verdict"] == UNSAFE
    assert reasons(result, UNSAFE) == [
        "set 0 (node1:/bricks/b1/brick, node3.example.com:/bricks/b2/brick, node3:/bricks/b1/brick): more than one "
        "of its bricks is on one host (node3, node3.example.com, by glusterd UUID): losing that host loses them "
        "together; replace one of them by a brick on another host"
    ]


def test_a_disperse_set_with_no_more_bricks_on_one_host_than_it_can_lose_is_degraded_not_unsafe():
    # disperse 4+2 on four hosts, two bricks on each of node1 and node2.
    spread = volume([1, 1, 2, 2, 3, 4], set_size=6, disperse=6, redundancy=2)
    result = assess(spread, peers(4), details=details(spread), heal=heal(spread), daemons=shd([1, 2, 3, 4]))
    assert result["verdict"] == DEGRADED
    assert reasons(result, DEGRADED)[0].endswith("losing that host uses up 2 of the 2 bricks the set can lose")
    # Three on one host: more than it can lose.
    packed = volume([1, 1, 1, 2, 3, 4], set_size=6, disperse=6, redundancy=2)
    result = assess(packed, peers(4), details=details(packed), heal=heal(packed), daemons=shd([1, 2, 3, 4]))
    assert result["verdict"] == UNSAFE


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        ("replicate", {"cluster.self-heal-daemon": "off"}, ("cluster.self-heal-daemon", "off")),
        ("replicate", {"cluster.self-heal-daemon": "disable"}, ("cluster.self-heal-daemon", "disable")),
        ("replicate", {"cluster.self-heal-daemon": "False"}, ("cluster.self-heal-daemon", "False")),
        ("replicate", {"cluster.self-heal-daemon": "on"}, None),
        ("replicate", {}, None),
        ("disperse", {"cluster.disperse-self-heal-daemon": "0"}, ("cluster.disperse-self-heal-daemon", "0")),
        ("disperse", {"cluster.self-heal-daemon": "off"}, None),
        ("distribute", {"cluster.self-heal-daemon": "off"}, None),
    ],
)
def test_the_self_heal_switch_is_read_as_glusterd_reads_a_boolean(kind, options, expected):
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import self_heal_switched_off

    assert self_heal_switched_off(kind, options) == expected


ARBITER = "arbiter-blames-survivor"


def recorded_arbiter(*listings):
    """Recorded (capture_arbiter.py): volume av, node1 and node2 data, node3 the arbiter;
    written while node2's brick was down, then node1's brick killed before any heal."""
    return [
        read(["pool", "list"], f"{ARBITER}-pool-list.xml"),
        read(["volume", "info"], f"{ARBITER}-volume-info.xml"),
        read(["volume", "get", "av", "all"], f"{ARBITER}-volume-get.xml"),
        read(["volume", "status", "av", "detail"], f"{ARBITER}-status-detail.xml"),
        read(["volume", "status", "av"], f"{ARBITER}-status.xml"),
        read(["volume", "heal", "av", "info", "summary"], f"{ARBITER}-heal-summary.xml"),
        *(read(["volume", "heal", "av", "info"], name) for name in listings),
    ]


def test_recorded_arbiter_that_blames_the_only_online_data_brick_is_unsafe():
    listing = f"{ARBITER}-heal-info.xml"
    result = run_module(gluster_volume_health.main, {"volumes": ["av"]}, recorded_arbiter(listing, listing)).result
    assert result["verdict"] == "unsafe"
    (orphans,) = [(s, r) for sev, s, r in module_findings(result) if sev == "unsafe"]
    assert orphans[0] == "node3:/bricks/av"
    assert orphans[1].startswith(
        "the arbiter lists 3 entries for heal that node2:/bricks/av does not (/, /disk0, /disk2): it blames "
        "node2:/bricks/av for them, so what changed in them while node2:/bricks/av was down may be on "
        "node1:/bricks/av alone, which is offline (heal info cannot tell data from metadata). Gluster serves no "
        "read of such a file until it is back (the root among them: no client can use volume av). Bring "
        "node1:/bricks/av's host back"
    ), orphans[1]


def test_an_entry_on_the_arbiter_alone_in_the_first_listing_only_is_no_orphan():
    # glfsheal lists the data brick before the arbiter: an entry changed in between shows
    # on the arbiter alone; the second listing has it on the data brick too.
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import HealEntries
    from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import read_volume

    vol = volume([1, 2, 3])
    vol = replace(vol, bricks=(vol.bricks[0], vol.bricks[1], replace(vol.bricks[2], is_arbiter=True)), arbiter_count=1)
    cli = FakeCli(vol, [])
    cli.volume_status_detail = lambda name: details(vol, offline={"node1:/bricks/b1/brick"})
    cli.heal_summary = lambda name: heal(vol, pending={"node2:/bricks/b1/brick": 1, "node3:/bricks/b1/brick": 1})
    arbiter, data = vol.bricks[2], vol.bricks[1]
    reads = [
        [
            HealEntries(data.name, data.host_uuid, "Connected", {}),
            HealEntries(arbiter.name, arbiter.host_uuid, "Connected", {"g": "/disk0"}),
        ],
        [
            HealEntries(data.name, data.host_uuid, "Connected", {"g": "/disk0"}),
            HealEntries(arbiter.name, arbiter.host_uuid, "Connected", {"g": "/disk0"}),
        ],
    ]
    cli.heal_entries = lambda name: reads.pop(0)
    result = read_volume(cli, vol, peers(3))
    assert reads == [] and result["verdict"] == DEGRADED, result["findings"]
    # Both data bricks offline: the quorum finding says it, and the entries are not read.
    cli.volume_status_detail = lambda name: details(vol, offline={"node1:/bricks/b1/brick", "node2:/bricks/b1/brick"})
    cli.heal_entries = None
    both = read_volume(cli, vol, peers(3))
    assert [f["subject"] for f in both["findings"] if f["severity"] == UNSAFE] == [
        "set 0 (" + ", ".join(b.name for b in vol.bricks) + ")"
    ], both["findings"]
    # A set with every data brick online, or no arbiter: heal info's entries are not read.
    for offline in (set(), {"node3:/bricks/b1/brick"}):
        cli.volume_status_detail = lambda name, offline=offline: details(vol, offline=offline)
        cli.heal_entries = None
        assert read_volume(cli, vol, peers(3))["verdict"] != UNSAFE
