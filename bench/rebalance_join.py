#!/usr/bin/python3
"""Time a join with a `full` rebalance of real data against the bare gluster CLI.

Each run boots two 4-host labs in turn, and on each builds the same pool
(site.yml, not timed): gv0, replica 3 on node1 to node3, then writes FILES
files of FILE_MB MiB (distinct contents) through a FUSE mount on node1. Then:

- join: `add-node.yml -e add_nodes=node4` with `gluster_pool_rebalance: full`,
  node4's brick completed by spare bricks on node1 and node2 (brick
  preparation, probe, add-brick, rebalance passes until one moves nothing);
- floor, on the other lab: the same join by hand, one direct command per step:
  start glusterd, mkfs.xfs + mount + mkdir for the three bricks, peer probe,
  wait for Peer in Cluster, add-brick, then `rebalance start` and wait, again
  until a pass moves nothing (the converged floor). The time at the end of
  the first pass is the one-pass floor. Its status is polled at the module's
  pace (from 0.25 s, doubling to 2 s): each `rebalance status` is a
  transaction that asks every node's rebalance process.

After the floor's first pass (clock stopped) and after each join, every file is
read back through a fresh client mount on node3 and checked against its md5:
the report says how many were unreadable or wrong.

    bench/rebalance_join.py [--runs 3] [--files 121] [--file-mb 16]   (as root, no lab running)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from commands import history
from join import LAB, REPO, bare_join, build_pool, gluster, lab_up, on, playbook, sh, spare_inventory, start

from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.cli_common import backoff
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    GlusterOpError,
    parse_rebalance_status,
    rebalance_process_unanswered,
)
from ansible_collections.ganeti_gluster.cluster.plugins.modules.gluster_volume import POLL_SECONDS

INVENTORY = spare_inventory(["node4"], "full")
NEW_BRICKS = (("node4", 0, "/bricks/b1"), ("node1", 1, "/bricks/b2"), ("node2", 1, "/bricks/b2"))
SUMS = "/var/tmp/bench-sums"
PASS_TIMEOUT = 600


def write_data(files, file_mb):
    """FILES distinct files on gv0 (one random seed, each prefixed by its number), and their md5s."""
    on(
        "node1",
        f"mkdir -p /mnt/bench && mount -t glusterfs node1:/gv0 /mnt/bench && mkdir /mnt/bench/data"
        f" && head -c {file_mb}M /dev/urandom > /var/tmp/seed"
        f" && for i in $(seq 1 {files}); do {{ echo $i; cat /var/tmp/seed; }} > /mnt/bench/data/f$i; done"
        f" && cd /mnt/bench/data && md5sum f* > {SUMS} && cd / && umount /mnt/bench",
    )
    return sh(LAB, "exec", "node1", "--", "cat", SUMS).stdout


def unreadable(sums):
    """Files that a fresh client mount on node3 cannot read or reads wrong."""
    proc = subprocess.run(
        [LAB, "exec", "node3", "--", "sh", "-c",
         "mkdir -p /mnt/check && mount -t glusterfs node3:/gv0 /mnt/check && cd /mnt/check/data"
         f" && {{ printf %s '{sums}' | md5sum -c --quiet; rc=$?; cd /; umount /mnt/check; exit $rc; }}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    # md5sum -c exits 1 when files fail: "fN: FAILED" (wrong contents) or "fN: FAILED open or read".
    if proc.returncode not in (0, 1):
        sys.exit(f"bench: the check through a fresh mount did not run (exit {proc.returncode}): {proc.stderr}")
    return sum(1 for line in proc.stdout.splitlines() if ": FAILED" in line)


def rebalance_status():
    """The aggregate rebalance status, or None while a node's process is starting or exiting."""
    try:
        return parse_rebalance_status(gluster("node1", "volume", "rebalance", "gv0", "status"))
    except GlusterOpError as exc:
        if rebalance_process_unanswered(exc) or "not started" in (exc.op_errstr or ""):
            return None
        raise


def bare_pass(previous_task):
    """One `rebalance start` (a full pass), waited for at the module's pace; its status. A pass
    that a node's glusterd records as failed with no failed file (its process ended within a
    second and raced its own disconnect) is started again, as gluster_volume does."""
    for _ in range(3):
        gluster("node1", "volume", "rebalance", "gv0", "start")
        deadline = time.monotonic() + PASS_TIMEOUT
        pauses = backoff(*POLL_SECONDS)
        while True:
            status = rebalance_status()
            if status is not None and status.task_id != previous_task and (status.completed or status.failed):
                break
            if time.monotonic() > deadline:
                sys.exit(f"bench: a bare rebalance pass did not end in {PASS_TIMEOUT} s: {status}")
            time.sleep(next(pauses))
        if status.completed:
            return status
        if status.failures:
            break
        previous_task = status.task_id
    sys.exit(f"bench: a bare rebalance pass failed: {status}")


def floor(devices, sums):
    """The join by hand: (one-pass time, converged time, passes, files unreadable after one pass)."""
    started = time.perf_counter()
    bare_join("node4", [(host, devices[host][index], mount) for host, index, mount in NEW_BRICKS])
    status = bare_pass(None)
    one_pass = time.perf_counter() - started
    lost_after_one = unreadable(sums)
    paused = time.perf_counter() - started - one_pass
    passes = 1
    while status.files:
        status = bare_pass(status.task_id)
        passes += 1
    return one_pass, time.perf_counter() - started - paused, passes, lost_after_one


def rebalance_starts():
    """`volume rebalance gv0 start` commands in the members' cmd_history.log."""
    return sum(
        1
        for host in ("node1", "node2", "node3")
        for command in history(host)
        if command.startswith("volume rebalance gv0 start")
    )


def one_lab(inventory, files, file_mb, measure):
    devices = lab_up(4)
    try:
        build_pool(inventory, "--limit", "node1,node2,node3")
        sums = write_data(files, file_mb)
        return measure(devices, sums)
    finally:
        sh(LAB, "down")


def join(inventory):
    def measure(devices, sums):
        before = rebalance_starts()
        took = playbook([inventory], REPO / "playbooks" / "add-node.yml", "-e", "add_nodes=node4")
        return took, rebalance_starts() - before, unreadable(sums)

    return measure


def main():
    args = start(__doc__, files=121, file_mb=16)
    joins, floors = [], []
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as inventory:
        inventory.write(INVENTORY)
        inventory.flush()
        for run in range(args.runs):
            # Alternate which goes first, so neither always meets a warmer page cache.
            order = ("join", "floor") if run % 2 == 0 else ("floor", "join")
            for kind in order:
                if kind == "join":
                    joins.append(one_lab(inventory.name, args.files, args.file_mb, join(inventory.name)))
                else:
                    floors.append(one_lab(inventory.name, args.files, args.file_mb, floor))
    one_pass = [f[0] for f in floors]
    converged = [f[1] for f in floors]
    took = [j[0] for j in joins]
    f1, fc, j = statistics.median(one_pass), statistics.median(converged), statistics.median(took)
    print(f"runs: {args.runs}, data: {args.files} files of {args.file_mb} MiB")
    print(f"floor, one pass: median {f1:.1f}s  {sorted(round(x, 1) for x in one_pass)}")
    print(
        f"floor, passes until one moves nothing: median {fc:.1f}s  {sorted(round(x, 1) for x in converged)}"
        f"  passes {[f[2] for f in floors]}"
    )
    print(f"files unreadable after one bare pass: {[f[3] for f in floors]}")
    print(
        f"add-node.yml join, full rebalance: median {j:.1f}s  {sorted(round(x, 1) for x in took)}"
        f"  = {j / fc:.2f}x converged floor, {j / f1:.2f}x one-pass floor"
        f"  passes {[x[1] for x in joins]}  files unreadable after {[x[2] for x in joins]}"
    )


if __name__ == "__main__":
    main()
