"""gluster_pool_lock on real files: one run at a time, a bounded wait, expiry and breaking,
and races between real processes that try at the same moment."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.modules import gluster_pool_lock as pool_lock
from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_pool_lock import (
    EXPIRED,
    FORCE,
    KEEP,
    TAKE,
    WAIT,
    LockHeld,
    acquire,
    decide,
    release,
)

from .module_harness import run_module

NOW = 1_800_000_000


def holder(run_id, age=0, owner=None):
    return pool_lock.new_holder(owner or f"ctl pid 1 add-node.yml run {run_id}", run_id, "node1", NOW - age)


@pytest.mark.parametrize(
    ("current", "break_lock", "expire", "action"),
    [
        (None, False, 7200, TAKE),
        (None, True, 7200, TAKE),
        (holder("me"), False, 7200, KEEP),
        (holder("me", age=9000), True, 7200, KEEP),
        (holder("other"), False, 7200, WAIT),
        (holder("other", age=7199), False, 7200, WAIT),
        (holder("other", age=7200), False, 7200, EXPIRED),
        (holder("other", age=10**6), False, 0, WAIT),
        (holder("other"), True, 7200, FORCE),
        (holder("other"), True, 0, FORCE),
    ],
)
def test_decide_every_holder_and_setting(current, break_lock, expire, action):
    assert decide(current, "me", expire, break_lock, NOW) == action


def take(path, run_id, wait=0, expire=7200, break_lock=False, check_mode=False):
    return acquire(str(path), f"ctl pid 1 run {run_id}", run_id, "node1", wait, expire, break_lock, check_mode)


def on_disk(path):
    return json.loads(path.read_text())


def write_lock(path, run_id, age):
    since = int(time.time()) - age
    lock = {"owner": f"ctl9 pid 77 run {run_id}", "run_id": run_id, "since": since, "host": "node1"}
    path.write_text(json.dumps({**lock, "since_text": pool_lock.utc_text(since)}))
    return {**lock, "since_text": pool_lock.utc_text(since)}


def test_a_free_lock_is_taken_with_who_and_since_when(tmp_path):
    path = tmp_path / "lib" / "pool.lock"
    result = take(path, "r1")
    assert result["changed"] is True
    assert result["broken"] is None and result["waited"] == 0.0
    assert on_disk(path) == result["lock"]
    assert set(result["lock"]) == {"owner", "run_id", "since", "since_text", "host"}
    assert result["lock"]["run_id"] == "r1" and result["lock"]["owner"] == "ctl pid 1 run r1"
    assert abs(result["lock"]["since"] - time.time()) < 5
    assert result["lock"]["since_text"] == pool_lock.utc_text(result["lock"]["since"])
    assert oct(os.stat(path.parent).st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in path.parent.iterdir()) == ["pool.lock", "pool.lock.guard"]


def test_the_same_run_taking_it_again_changes_nothing(tmp_path):
    path = tmp_path / "pool.lock"
    first = take(path, "r1")
    again = take(path, "r1")
    assert again["changed"] is False
    assert again["lock"] == first["lock"] == on_disk(path)


def test_another_run_waits_then_fails_naming_the_holder_and_how_to_break_it(tmp_path):
    path = tmp_path / "pool.lock"
    held = write_lock(path, "r1", age=125)
    started = time.monotonic()
    with pytest.raises(LockHeld) as caught:
        take(path, "r2", wait=1)
    assert 1 <= time.monotonic() - started < 3
    assert caught.value.waited >= 1
    assert caught.value.holder == held
    msg = str(caught.value)
    assert f"the pool lock {path} on node1 is held by ctl9 pid 77 run r1 (run r1) since {held['since_text']}" in msg
    assert "(2m05s ago)" in msg or "(2m06s ago)" in msg
    assert "waited 1 s" in msg
    assert f"it expires at {pool_lock.utc_text(held['since'] + 7200)}" in msg
    assert "-e gluster_pool_break_lock=true" in msg
    assert f"remove {path} on node1 after checking that run is gone" in msg
    assert on_disk(path) == held


def test_a_waiting_run_gets_the_lock_when_the_holder_releases_it(tmp_path):
    path = tmp_path / "pool.lock"
    take(path, "r1")
    timer = threading.Timer(0.5, release, (str(path), "r1"))
    timer.start()
    try:
        result = take(path, "r2", wait=10)
    finally:
        timer.join()
    assert result["changed"] is True and result["lock"]["run_id"] == "r2"
    assert 0.4 <= result["waited"] < 5


def test_a_lock_older_than_expire_is_broken_with_a_warning_naming_its_holder(tmp_path):
    path = tmp_path / "pool.lock"
    stale = write_lock(path, "killed", age=7300)
    result = take(path, "r2")
    assert result["changed"] is True
    assert result["broken"] == stale
    assert on_disk(path)["run_id"] == "r2"
    (warning,) = result["warnings"]
    assert warning.startswith(f"broke the pool lock {path} held by ctl9 pid 77 run killed (run killed) since ")
    assert warning.endswith("it was older than expire (7200 s)")


def test_expire_0_never_breaks_a_lock(tmp_path):
    path = tmp_path / "pool.lock"
    held = write_lock(path, "old", age=10**6)
    with pytest.raises(LockHeld, match=r"it does not expire \(expire=0\)"):
        take(path, "r2", expire=0)
    assert on_disk(path) == held


def test_break_lock_takes_over_a_fresh_lock_with_a_warning(tmp_path):
    path = tmp_path / "pool.lock"
    held = write_lock(path, "r1", age=3)
    result = take(path, "r2", break_lock=True)
    assert result["changed"] is True and result["broken"] == held
    assert on_disk(path)["run_id"] == "r2"
    assert result["warnings"][0].endswith("break_lock is set")


def test_a_file_it_did_not_write_is_held_by_an_unknown_run_since_its_mtime(tmp_path):
    path = tmp_path / "pool.lock"
    path.write_text("half a lo")
    with pytest.raises(LockHeld, match=r"held by unknown \(the content of .* is not a lock this module wrote\)"):
        take(path, "r2")
    old = time.time() - 8000
    os.utime(path, (old, old))
    result = take(path, "r2")
    assert result["broken"]["since"] == int(old) and result["broken"]["run_id"] == ""
    assert on_disk(path)["run_id"] == "r2"


def test_release_removes_only_this_runs_lock(tmp_path):
    path = tmp_path / "pool.lock"
    take(path, "r1")
    other = release(str(path), "r2")
    assert other["changed"] is False
    assert other["lock"]["run_id"] == "r1" and on_disk(path)["run_id"] == "r1"
    (warning,) = other["warnings"]
    assert warning.startswith(f"left the pool lock {path} in place: it is held by ctl pid 1 run r1 (run r1) since ")
    assert warning.endswith("not by this run (r2)")
    mine = release(str(path), "r1")
    assert mine["changed"] is True and mine["lock"] is None and not path.exists()
    assert release(str(path), "r1")["changed"] is False
    assert release(str(tmp_path / "no-such-dir" / "pool.lock"), "r1")["changed"] is False


def test_check_mode_reports_and_creates_breaks_and_removes_nothing(tmp_path):
    path = tmp_path / "lib" / "pool.lock"
    free = take(path, "r1", check_mode=True)
    assert free["changed"] is True and free["lock"]["run_id"] == "r1"
    assert not path.parent.exists()

    path.parent.mkdir()
    held = write_lock(path, "r1", age=60)
    started = time.monotonic()
    busy = take(path, "r2", wait=30, check_mode=True)
    assert time.monotonic() - started < 1
    assert busy["changed"] is False and busy["lock"] == held and busy["waited"] == 0.0
    assert "a run would wait up to 30 s" in busy["warnings"][0]

    forced = take(path, "r2", break_lock=True, check_mode=True)
    assert forced["changed"] is True and forced["broken"] == held and forced["lock"]["run_id"] == "r2"
    assert forced["warnings"][0].startswith("would break")
    assert release(str(path), "r1", check_mode=True)["changed"] is True
    assert on_disk(path) == held
    assert sorted(p.name for p in path.parent.iterdir()) == ["pool.lock"]


# Races between real processes: each waits at a barrier, then tries at once.

PROCESSES = 8
ROUNDS = 6


def contend(path, run_id, barrier, results):
    barrier.wait()
    try:
        result = take(path, run_id)
        results.put((run_id, "won", result["broken"]))
    except LockHeld as exc:
        results.put((run_id, "lost", exc.holder["run_id"]))
    except Exception as exc:
        results.put((run_id, "error", repr(exc)))


def race(path):
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=contend, args=(path, f"run{i}", barrier, results)) for i in range(PROCESSES)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_of_processes_racing_for_a_free_lock_exactly_one_wins(tmp_path, round_):
    path = tmp_path / "pool.lock"
    outcomes = race(path)
    winners = [run for run, how, _ in outcomes if how == "won"]
    assert len(winners) == 1, outcomes
    assert all(named == winners[0] for _, how, named in outcomes if how == "lost"), outcomes
    assert on_disk(path)["run_id"] == winners[0]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_of_processes_racing_to_break_a_stale_lock_exactly_one_wins(tmp_path, round_):
    path = tmp_path / "pool.lock"
    stale = write_lock(path, "killed", age=9000)
    outcomes = race(path)
    winners = [(run, broken) for run, how, broken in outcomes if how == "won"]
    assert len(winners) == 1, outcomes
    ((winner, broken),) = winners
    assert broken == stale
    assert all(named == winner for _, how, named in outcomes if how == "lost"), outcomes
    assert on_disk(path)["run_id"] == winner


# Through AnsibleModule.


def test_module_takes_keeps_and_releases_the_lock(tmp_path):
    path = tmp_path / "pool.lock"
    args = {"path": str(path), "owner": "ctl1 pid 5 add-node.yml run u1", "run_id": "u1"}
    taken = run_module(pool_lock.main, args, [])
    assert not taken.failed, taken.result
    assert taken.result["changed"] is True and taken.result["lock"] == on_disk(path)
    assert taken.result["broken"] is None and taken.result["waited"] == 0.0

    kept = run_module(pool_lock.main, {**args, "_ansible_diff": True}, [])
    assert kept.result["changed"] is False
    assert kept.result["diff"] == {"before": {"lock": on_disk(path)}, "after": {"lock": on_disk(path)}}

    other = run_module(pool_lock.main, {**args, "run_id": "u2", "wait": 0}, [])
    assert other.failed
    assert other.result["msg"].startswith(f"the pool lock {path} on ")
    assert other.result["lock"]["run_id"] == "u1"

    released = run_module(pool_lock.main, {**args, "state": "absent"}, [])
    assert released.result["changed"] is True and released.result["lock"] is None
    assert not path.exists()


def test_module_refuses_empty_ids_and_negative_times(tmp_path):
    args = {"path": str(tmp_path / "pool.lock"), "owner": "o", "run_id": " "}
    assert run_module(pool_lock.main, args, []).result["msg"] == "run_id must not be empty"
    bad = run_module(pool_lock.main, {**args, "run_id": "u1", "wait": -1}, [])
    assert bad.failed and bad.result["msg"] == "wait and expire are 0 or more seconds, not wait=-1"
    assert not (tmp_path / "pool.lock").exists()
