"""The pool's lock (module_utils/pool_lock.py), on real files and real processes; its guard and
the hand-over, pure and through the modules that take the lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import time

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils import pool_lock as pool_lock_module
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import Peer
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import (
    LockBusy,
    check_pool,
    guard_problem,
    hand_over_in_force,
    hand_over_path,
    held_by,
    holds_path,
    pool_lock,
    read_hand_over,
    read_holds,
    write_hand_over,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_peer, gluster_volume

from .module_harness import NO_ROLL, Expected, G, holder, out, read, run_module


def test_a_free_lock_is_taken_and_names_its_holder_while_held(tmp_path):
    path = tmp_path / "sub" / "pool.lock"
    with pool_lock("run B", 0, str(path)) as held:
        assert json.loads(path.read_text()) == held
        assert held["owner"] == "run B" and held["pid"] == os.getpid()
    assert path.read_text() == ""  # released: no stale note
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_a_busy_lock_waits_then_refuses_naming_the_holder(tmp_path):
    path = tmp_path / "pool.lock"
    proc = holder(path)
    try:
        started = time.monotonic()
        with pytest.raises(LockBusy) as caught, pool_lock("run B", 1, str(path)):
            pytest.fail("took a lock another process holds")
        assert 1 <= time.monotonic() - started < 3
        assert caught.value.holder["pid"] == proc.pid
        assert f"another run changes the pool: run A: add-node.yml from ctl1 (pid {proc.pid}, since" in str(
            caught.value
        )
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_holds_nothing(tmp_path):
    path = tmp_path / "pool.lock"
    proc = holder(path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Its note is still in the file, but the kernel let go of its lock with the process.
    assert json.loads(path.read_text())["pid"] == proc.pid
    with pool_lock("run B", 0, str(path)) as held:
        assert held["owner"] == "run B"


def test_a_waiting_run_gets_the_lock_when_the_holder_ends(tmp_path):
    path = tmp_path / "pool.lock"
    proc = holder(path)
    try:
        subprocess.Popen(["sh", "-c", f"sleep 0.5; kill {proc.pid}"])
        with pool_lock("run B", 10, str(path)) as held:
            assert held["owner"] == "run B"
    finally:
        proc.kill()
        proc.wait()


def _take(path, barrier, results):
    barrier.wait()
    try:
        with pool_lock(f"racer {os.getpid()}", 0, path):
            results.put("won")
            time.sleep(1)
    except LockBusy:
        results.put("lost")


def test_of_runs_that_try_at_the_same_moment_exactly_one_wins(tmp_path):
    path = str(tmp_path / "pool.lock")
    barrier, results = multiprocessing.Barrier(6), multiprocessing.Queue()
    racers = [multiprocessing.Process(target=_take, args=(path, barrier, results)) for _racer in range(6)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    outcomes = sorted(results.get(timeout=5) for _racer in racers)
    assert outcomes == ["lost"] * 5 + ["won"]


# -- the guard and the hand-over (one lock for every run) ----------------------------

LOCAL = "5ce3b234-9c83-451b-861c-2a998baa4118"  # this host in pool-list-four.xml
NODE2, NODE3, NODE4 = (
    "e1bdcbc9-ad46-4cd2-b8f2-5b6903378063",
    "c4a3ad5d-ff05-457b-9125-a67f64cca061",
    "fe914dd2-ce0f-47d3-9991-22a1842eeb35",
)
FOUR = [LOCAL, NODE2, NODE3, NODE4]


def peers_of(local, *others):
    return [
        Peer(local, "localhost", (), True, None, None),
        *(Peer(uuid, f"host-{uuid[:4]}", (), True, 3, "Peer in Cluster") for uuid in others),
    ]


def test_a_host_that_still_sees_the_planned_pool_may_act():
    assert guard_problem(peers_of(LOCAL, NODE2, NODE3, NODE4), FOUR) is None
    # A host another run joined since is no reason to stop: the run works from the pool as it is.
    assert guard_problem(peers_of(LOCAL, NODE2, NODE3, NODE4, "99"), FOUR) is None


def test_a_host_another_run_detached_refuses_instead_of_starting_a_second_pool():
    problem = guard_problem(peers_of(LOCAL), FOUR)
    assert problem.startswith(f"this host (glusterd UUID {LOCAL}) no longer sees 3 of the members this run planned")
    assert "its glusterd knows no peer any more: another run detached this host from the pool" in problem
    assert problem.endswith("Nothing was changed; run again: it plans from the pool as it is")


def test_a_planned_member_another_run_detached_refuses_naming_it():
    problem = guard_problem(peers_of(LOCAL, NODE2, NODE4), FOUR)
    assert f"no longer sees 1 of the members this run planned with ({NODE3})" in problem
    assert "another run detached them, or this host, since this run read the pool" in problem


def test_a_host_the_run_did_not_plan_for_refuses():
    problem = guard_problem(peers_of(NODE4, LOCAL, NODE2, NODE3), [LOCAL, NODE2, NODE3])
    assert problem.startswith(f"this host (glusterd UUID {NODE4}) is not one of the members this run planned with")


def test_a_host_that_hands_the_pool_over_refuses_every_run_but_one_that_takes_it_out(tmp_path):
    lock = str(tmp_path / "pool.lock")
    peers = peers_of(LOCAL, NODE2, NODE3, NODE4)
    record = write_hand_over(lock, LOCAL, peers, "remove-node.yml by ops@ctl1")
    assert read_hand_over(lock) == record
    assert record["pool"] == sorted([NODE2, NODE3, NODE4]) and record["host_uuid"] == LOCAL
    assert hand_over_in_force(record, peers)
    problem = guard_problem(peers, FOUR, (), record, hand_over_path(lock))
    assert problem.startswith(
        f"this host leaves the pool: remove-node.yml by ops@ctl1 handed the pool over here at {record['since_text']}"
    )
    assert problem.endswith(f"If that run was abandoned and this host stays, remove {lock}.leaving")
    # A re-run of the drain that takes it out may still act from it.
    assert guard_problem(peers, FOUR, [LOCAL], record, hand_over_path(lock)) is None


def test_a_hand_over_is_spent_once_the_host_is_out_of_that_pool(tmp_path):
    lock = str(tmp_path / "pool.lock")
    record = write_hand_over(lock, LOCAL, peers_of(LOCAL, NODE2, NODE3), "a drain")
    assert not hand_over_in_force(record, peers_of(LOCAL))  # detached: glusterd forgot every peer
    assert not hand_over_in_force(record, peers_of(LOCAL, "77", "88"))  # since joined to another pool
    assert not hand_over_in_force(record, peers_of("66", NODE2, NODE3))  # another glusterd (reinstalled)
    assert hand_over_in_force(record, peers_of(LOCAL, NODE3))  # one peer of it left: not detached yet
    assert read_hand_over(str(tmp_path / "none.lock")) is None


def test_a_hand_over_record_that_cannot_be_read_refuses(tmp_path):
    lock = str(tmp_path / "pool.lock")
    (tmp_path / "pool.lock.leaving").write_text("{truncated")
    record = read_hand_over(lock)
    assert record == {"unreadable": "{truncated"}
    problem = guard_problem(peers_of(LOCAL, NODE2), [LOCAL, NODE2], (), record, hand_over_path(lock))
    assert problem.startswith(f"{lock}.leaving holds a hand-over this module cannot read")


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params = {"lock_path": "/nonexistent/pool.lock", "pool_leaving": [], **params}
        self.check_mode = check_mode

    def fail_json(self, **result):
        raise RuntimeError(result["msg"])


class FakeCli:
    def __init__(self, peers, volumes=()):
        self.peers, self.reads, self._volumes = peers, 0, list(volumes)

    def pool_list(self):
        self.reads += 1
        return self.peers

    def volumes(self):
        return self._volumes


def test_the_guard_reads_no_pool_list_without_a_plan():
    cli = FakeCli(peers_of(LOCAL))
    check_pool(FakeModule({"pool_members": []}), cli)
    assert cli.reads == 0


def test_the_guard_drops_a_spent_hand_over_but_not_in_check_mode(tmp_path):
    lock = str(tmp_path / "pool.lock")
    write_hand_over(lock, LOCAL, peers_of(LOCAL, NODE2), "a drain")
    # This host is in another pool now (NODE3, NODE4): the record is spent.
    now = peers_of(LOCAL, NODE3, NODE4)
    check_pool(FakeModule({"pool_members": [LOCAL, NODE3], "lock_path": lock}, check_mode=True), FakeCli(now))
    assert read_hand_over(lock) is not None
    check_pool(FakeModule({"pool_members": [LOCAL, NODE3], "lock_path": lock}), FakeCli(now))
    assert read_hand_over(lock) is None


def test_the_guard_fails_the_module_naming_why():
    with pytest.raises(RuntimeError, match="another run detached this host from the pool"):
        check_pool(FakeModule({"pool_members": FOUR}), FakeCli(peers_of(LOCAL)))


# The modules: the guard runs under the lock, before anything else is read or changed.

GUARD = {"pool_members": FOUR}


def pool_list(fixture):
    return Expected([*G, "pool", "list"], 0, out(fixture))


@pytest.mark.usefixtures("on_node1")
def test_a_probe_from_a_host_another_run_detached_probes_nothing(tmp_path):
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node5"], **GUARD, "lock_path": str(tmp_path / "pool.lock")},
        [pool_list("pool-list-alone.xml")],
    )
    assert result.failed
    assert "another run detached this host from the pool" in result.result["msg"]


@pytest.mark.usefixtures("on_node1")
def test_a_volume_step_from_a_host_that_hands_over_changes_nothing(tmp_path):
    lock = str(tmp_path / "pool.lock")
    write_hand_over(lock, LOCAL, peers_of(LOCAL, NODE2, NODE3, NODE4), "remove-node.yml")
    result = run_module(
        gluster_volume.main,
        {"name": "gv0", "bricks": ["node5:/bricks/b1/brick"], **GUARD, "lock_path": lock},
        [pool_list("pool-list-four.xml")],
    )
    assert result.failed
    assert result.result["msg"].startswith("this host leaves the pool: remove-node.yml handed the pool over here")


@pytest.mark.usefixtures("on_node1")
def test_the_leaving_acting_member_hands_over_once_then_changes_nothing(tmp_path):
    lock = str(tmp_path / "pool.lock")
    args = {"nodes": ["node1"], "state": "leaving", **GUARD, "pool_leaving": [LOCAL], "lock_path": lock}
    args["lock_owner"] = "remove-node.yml by ops"
    first = run_module(
        gluster_peer.main,
        args,
        [
            pool_list("pool-list-four.xml"),
            NO_ROLL,
            pool_list("pool-list-four.xml"),
            read(["volume", "info"], "volume-info-none.xml"),
        ],
    )
    assert not first.failed, first.result
    assert first.result["changed"] is True and first.result["detached"] == [] and first.result["commands"] == []
    assert first.result["handed_over"] == read_hand_over(lock)
    assert read_hand_over(lock)["owner"] == "remove-node.yml by ops"
    # A re-run of the drain finds it handed over: nothing to do, and the guard lets it through.
    again = run_module(
        gluster_peer.main, args, [pool_list("pool-list-four.xml"), NO_ROLL, pool_list("pool-list-four.xml")]
    )
    assert not again.failed, again.result
    assert again.result["changed"] is False and again.result["handed_over"] == first.result["handed_over"]


@pytest.mark.usefixtures("on_node1")
def test_a_hand_over_in_check_mode_records_nothing(tmp_path):
    lock = str(tmp_path / "pool.lock")
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node1"], "state": "leaving", "lock_path": lock, "_ansible_check_mode": True},
        [NO_ROLL, pool_list("pool-list-four.xml"), read(["volume", "info"], "volume-info-none.xml")],
    )
    assert not result.failed, result.result
    assert result.result["changed"] is True and result.result["handed_over"] is None
    assert read_hand_over(lock) is None


@pytest.mark.usefixtures("on_node1")
def test_no_hand_over_while_this_host_holds_bricks(tmp_path):
    lock = str(tmp_path / "pool.lock")
    result = run_module(
        gluster_peer.main,
        {"nodes": ["node1"], "state": "leaving", "lock_path": lock},
        [NO_ROLL, pool_list("pool-list-four.xml"), read(["volume", "info"], "volume-info-distributed-replicate.xml")],
    )
    assert result.failed
    assert result.result["msg"].startswith(
        "refusing to hand the pool over from this host while it holds bricks: volume gv0 (node1:/bricks/a/gv"
    )
    assert read_hand_over(lock) is None


@pytest.mark.usefixtures("on_node1")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"nodes": ["node1", "node4"], "state": "absent"},
            "node1 is the host this module runs on; glusterd detaches a peer only from another member",
        ),
        (
            {"nodes": ["node4"], "state": "leaving"},
            "state=leaving runs on the host that leaves and names it alone; nodes names node4. Nothing",
        ),
        (
            {"nodes": ["node1", "node4"], "state": "leaving"},
            "nodes names node4 besides this host",
        ),
    ],
)
def test_a_host_cannot_detach_itself_nor_hand_over_another_and_nothing_runs(args, message):
    result = run_module(gluster_peer.main, args, [])
    assert result.failed
    assert message in result.result["msg"]


def test_each_hold_is_logged_when_it_ends_in_order(tmp_path):
    path = str(tmp_path / "pool.lock")
    with pool_lock("run A", 0, path) as first:
        pass
    with pool_lock("run B", 0, path):
        assert [h["owner"] for h in read_holds(path)] == ["run A"]  # logged when it ends
    holds = read_holds(path)
    assert [h["owner"] for h in holds] == ["run A", "run B"]
    assert holds[0]["pid"] == first["pid"] == os.getpid()
    assert holds[0]["since"] <= holds[0]["until"] <= holds[1]["since"] <= holds[1]["until"]


def test_the_hold_log_keeps_its_newer_half_once_it_is_full(tmp_path, monkeypatch):
    path = str(tmp_path / "pool.lock")
    monkeypatch.setattr(pool_lock_module, "HOLDS_MAX_BYTES", 600)
    for number in range(12):
        with pool_lock(f"run {number}", 0, path):
            pass
    owners = [h["owner"] for h in read_holds(path)]
    assert owners[-1] == "run 11" and "run 0" not in owners
    assert os.path.getsize(holds_path(path)) < 1200


def test_a_hold_the_guard_refused_is_logged_as_refused(tmp_path, monkeypatch):
    path = str(tmp_path / "pool.lock")
    monkeypatch.setattr(pool_lock_module, "GlusterCli", lambda module: FakeCli(peers_of(LOCAL)))
    module = FakeModule({"pool_members": FOUR, "lock_path": path, "lock_owner": "join of node5", "lock_wait": 0})
    with pytest.raises(RuntimeError, match="another run detached this host"), held_by(module):
        pytest.fail("acted from a host another run detached")
    (hold,) = read_holds(path)
    assert hold["owner"] == "join of node5"
    assert hold["refused"].startswith(f"this host (glusterd UUID {LOCAL}) no longer sees 3 of the members")
    # The lock was let go all the same.
    with pool_lock("run B", 0, path):
        pass


def test_a_hold_the_guard_lets_through_is_held_until_the_block_ends(tmp_path, monkeypatch):
    path = str(tmp_path / "pool.lock")
    monkeypatch.setattr(pool_lock_module, "GlusterCli", lambda module: FakeCli(peers_of(LOCAL, NODE2, NODE3, NODE4)))
    module = FakeModule({"pool_members": FOUR, "lock_path": path, "lock_owner": "drain of node4", "lock_wait": 0})
    # The second lock is tried while the module holds the first.
    with held_by(module), pytest.raises(LockBusy), pool_lock("another run", 0, path):
        pytest.fail("took a lock held by the module")
    assert [(h["owner"], "refused" in h) for h in read_holds(path)] == [("drain of node4", False)]
