#!/usr/bin/python3
"""Time the role's decisions over a synthetic large pool: 100 peers, 300 bricks.

No lab: every host's view of the pool (as gluster_pool_info returns it) and the
volume (as gluster_volume_info returns it) are built in memory in the shape the
modules return, for a replica 3 volume of 100 sets (3 bricks per host, every set
on 3 distinct hosts). Then,
each timed on its own, median of --runs:

- plan: gluster_pool_plan over the 100 views, 3 new hosts joining;
- bricks: gluster_pool_bricks (every host's declared bricks matched to the volume's);
- placement: gluster_pool_placement of the 3 new hosts' 9 bricks into sets;
- drain: plan_drain of one host's 3 bricks (replace onto spares on 3 other hosts);
- health: assess of the 300-brick volume (the rules, without the reads).

    bench/scale.py [--runs 7] [--peers 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collections"))

from ansible_collections.ganeti_gluster.cluster.plugins.filter.gluster_pool import (
    gluster_pool_bricks,
    gluster_pool_placement,
    gluster_pool_plan,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.brick_placement import BrickRef
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.drain_plan import (
    SetState,
    plan_drain,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.gluster_cli import (
    Brick,
    BrickDetail,
    HealCount,
    Peer,
    Volume,
)
from ansible_collections.ganeti_gluster.cluster.plugins.module_utils.health import assess

PATHS = ("/bricks/b1/brick", "/bricks/b2/brick", "/bricks/b3/brick")
GIB = 1 << 30


def uuid(n):
    return f"00000000-0000-0000-0000-{n:012d}"


def pool(peers):
    """Every host's view: itself and the others, all Peer in Cluster."""
    hosts = [f"node{n}" for n in range(1, peers + 1)]

    def entry(n, local):
        name = "localhost" if local else f"node{n}"
        bricks = [f"gv0:node{n}:{p}" for p in PATHS]
        return {
            "hostname": name,
            "hostnames": [name],
            "uuid": uuid(n),
            "state": 3,
            "connected": True,
            "state_str": "Peer in Cluster",
            "local": local,
            "in_cluster": True,
            "bricks": bricks,
        }

    views = {
        f"node{me}": {
            "failed": False,
            "local_uuid": uuid(me),
            "peers": [entry(n, n == me) for n in range(1, peers + 1)],
        }
        for me in range(1, peers + 1)
    }
    return hosts, views


def volume_bricks(peers):
    """Every host's 3 bricks, path by path, in sets of 3 consecutive ones: each set on 3
    distinct hosts (across a path's end too, for as long as there are 3 or more peers)."""
    bricks = [(f"node{n}:{path}", uuid(n)) for path in PATHS for n in range(1, peers + 1)]
    return bricks[: len(bricks) - len(bricks) % 3]


def timed(runs, what):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = what()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--peers", type=int, default=100)
    args = parser.parse_args()
    peers = args.peers
    hosts, views = pool(peers)
    new = [f"node{n}" for n in range(peers + 1, peers + 4)]
    for host in new:
        views[host] = {"failed": True, "msg": "no glusterd"}
    everyone = hosts + new
    bricks = volume_bricks(peers)
    rows = []

    seconds, plan = timed(args.runs, lambda: gluster_pool_plan(views, everyone, new, resolve=lambda name: set()))
    assert not plan["errors"] and len(plan["members"]) == peers and plan["joining"] == new, plan["errors"]
    rows.append(("plan", seconds, f"{len(plan['members'])} members, {len(plan['joining'])} joining"))

    declared = {h: [{"path": p} for p in PATHS] for h in everyone}
    volume = [{"name": name, "host_uuid": host_uuid} for name, host_uuid in bricks]
    seconds, matched = timed(args.runs, lambda: gluster_pool_bricks(declared, plan, volume))
    rows.append(("bricks", seconds, f"{len(matched['all'])} bricks, {len(bricks)} in the volume"))

    layout = {"replica": 3, "arbiter": 0, "disperse": 0, "redundancy": 0}
    new_bricks = [b for b in matched["all"] if b.split(":")[0] in new]
    seconds, placed = timed(args.runs, lambda: gluster_pool_placement(new_bricks, layout))
    assert placed["error"] is None, placed["error"]
    rows.append(("placement", seconds, f"{len(placed['sets'])} new sets"))

    states = [
        SetState(tuple(BrickRef.parse(name) for name, _ in bricks[i : i + 3]), 50 * GIB, 50 * GIB)
        for i in range(0, len(bricks), 3)
    ]
    spares = [BrickRef(f"node{n}", "/bricks/spare/brick") for n in range(4, 10)]
    seconds, drained = timed(args.runs, lambda: plan_drain(states, {"node1"}, spares))
    rows.append(("drain", seconds, f"{len(drained.replace)} bricks replaced"))

    vol = Volume(
        name="gv0",
        id=uuid(0),
        status=1,
        status_str="Started",
        type_str="Distributed-Replicate",
        brick_count=len(bricks),
        dist_count=len(bricks) // 3,
        replica_count=3,
        arbiter_count=0,
        disperse_count=0,
        redundancy_count=0,
        bricks=tuple(Brick(name, u, False) for name, u in bricks),
        options={},
    )
    pool_list = [Peer(uuid(1), "localhost", ("localhost",), True, None, None)] + [
        Peer(uuid(n), f"node{n}", (f"node{n}",), True, 3, "Peer in Cluster") for n in range(2, peers + 1)
    ]
    details = [BrickDetail(b.host, b.path, b.host_uuid, True, 100 * GIB, 50 * GIB, 1000, 900) for b in vol.bricks]
    heal = [HealCount(b.name, b.host_uuid, "Connected", 0, 0, 0, 0) for b in vol.bricks]
    seconds, report = timed(args.runs, lambda: assess(vol, pool_list, details=details, heal=heal))
    rows.append(("health", seconds, f"{len(report['bricks'])} bricks, {len(report['sets'])} sets"))

    print(f"{peers} peers, {len(bricks)} bricks, median of {args.runs} runs")
    for what, seconds, detail in rows:
        print(f"{what:10} {seconds * 1000:8.1f} ms  {detail}")


if __name__ == "__main__":
    main()
