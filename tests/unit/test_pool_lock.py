"""The pool's lock (module_utils/pool_lock.py), on real files and real processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import LockBusy, pool_lock

HOLD = """
import sys, time
sys.path[:0] = {paths!r}
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.pool_lock import pool_lock
with pool_lock("run A: add-node.yml from ctl1", 5, {path!r}):
    print("held", flush=True)
    time.sleep(60)
"""


def holder(path):
    """A separate process that takes the lock and keeps it until killed."""
    code = HOLD.format(paths=sys.path, path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


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
    racers = [multiprocessing.Process(target=_take, args=(path, barrier, results)) for _ in range(6)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    outcomes = sorted(results.get(timeout=5) for _ in racers)
    assert outcomes == ["lost"] * 5 + ["won"]
